-- The rollup and retention benchmarks' database (bench/rollup.sh): telemetry with the bench's
-- catalog, a generator of realistic days of events, and the plain side of a refresh: a rollup
-- table without the mechanism. (The plain side of retention, an unpartitioned copy of the
-- events, is made by bench/rollup.sh once the days are stored.)
-- Variables: :catalog (bench/catalog.json), :mix (JSON: the event types' name, shape, weight).
CREATE EXTENSION telemetry CASCADE;
-- page_viewed kept at a sample rate of 0.1 (its events weigh 10), so that the rollups' weighted
-- count is not their raw count, and bench/rollup.sh's checks tell one from the other.
SELECT count(*) AS event_types FROM telemetry.load_catalog(jsonb_set(:'catalog'::jsonb, '{events}',
    (SELECT jsonb_agg(CASE WHEN e ->> 'name' = 'page_viewed' THEN e || '{"sample_rate": 0.1}' ELSE e END)
     FROM jsonb_array_elements(:'catalog'::jsonb -> 'events') AS e)));

-- 1,000 slots, each an event type (as many slots as its weight in the bench's mix, out of 125,
-- times 8) with a property document of its shape (~300 bytes, as bench/setup.sql makes them).
SELECT setseed(0.17) AS seeded \gset
CREATE TABLE bench_rollup_slots AS
SELECT row_number() OVER (ORDER BY m.name, copy) AS slot, m.name, t.version,
       CASE WHEN m.name = 'page_viewed' THEN 10 ELSE 1 END::real AS sample_weight,
       CASE m.shape
         WHEN 'stream' THEN jsonb_build_object('streamType', 'partner', 'model', 'gpt-4o-mini-2024-07-18',
              'inputTokens', 200 + (random() * 3800)::int, 'outputTokens', 20 + (random() * 880)::int,
              'latencyMs', 300 + (random() * 8700)::int, 'scenarioId', 'sc-' || (1 + (random() * 499)::int),
              'scenarioSlug', 'salary-negotiation-advanced', 'source', 'web', 'retryable', false, 'region', 'eu-west-1',
              'title', 'Practice round with the partner model')
         WHEN 'page' THEN jsonb_build_object('path', '/app/lessons/' || (1 + (random() * 299)::int) || '/exercises/' || (1 + (random() * 39)::int),
              'referrer', 'https://www.example.com/blog/how-to-practice-for-interviews', 'viewport', '1440x900', 'locale', 'en-GB',
              'durationMs', (random() * 600000)::int, 'visible', true, 'scrollDepth', (random() * 100)::int,
              'experiment', 'onboarding-v2', 'userAgent', 'Mozilla/5.0 (X11; Linux x86_64) Firefox/133.0')
         WHEN 'commerce' THEN jsonb_build_object('orderId', 'ord_' || (100000 + (random() * 899999)::int), 'plan', 'pro', 'currency', 'EUR',
              'amountCents', 500 + (random() * 99400)::int, 'items', 1 + (random() * 8)::int, 'coupon', NULL, 'paymentMethod', 'card',
              'country', 'FR', 'firstPurchase', false, 'channel', 'organic', 'invoiceNumber', 'INV-2026-' || (random() * 999999)::int,
              'billingPeriod', 'monthly')
         ELSE jsonb_build_object('component', 'ingest-worker', 'code', 'E_UPSTREAM_TIMEOUT', 'recoverable', true,
              'attempt', 1 + (random() * 4)::int, 'queueDepth', (random() * 5000)::int, 'latencyMs', 300 + (random() * 8700)::int,
              'host', 'worker-3.internal.example.net', 'version', '2026.11.2', 'message', 'upstream timed out after three retries; will try again')
       END AS properties
FROM jsonb_to_recordset(:'mix'::jsonb) AS m(name text, shape text, weight int)
JOIN telemetry.event_types t USING (name),
     generate_series(1, m.weight * 8) AS copy;
DO $$
BEGIN
    IF (SELECT count(*) <> 1000 OR count(DISTINCT name) <> 20 FROM bench_rollup_slots) THEN
        RAISE EXCEPTION 'bench_rollup_slots: expected 1,000 slots over the 20 event types of the mix';
    END IF;
END
$$;

-- One UTC day of events, as a product sends them: users belong to tenants (50 tenants, the
-- first holding 30 % of the users), a few thousand users a day, heavy users sending more,
-- a user's day in up to four sessions, events spread over the day in time order.
CREATE FUNCTION bench_rollup_day(p_day date, p_events integer)
RETURNS TABLE (occurred_at timestamptz, received_at timestamptz, tenant_id uuid, event_id uuid, sample_weight real,
               flags smallint, name text, user_id text, session_id text, source text, schema_version text, properties jsonb)
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM setseed(((p_day - date '2000-01-01') % 9973) / 9973.0);
    RETURN QUERY
    SELECT e.occurred_at, e.occurred_at + interval '2 seconds',
           ('6a1f0c3e-0000-4000-8000-0000000000' || CASE WHEN e.u % 10 < 3 THEN 10 ELSE 11 + e.u % 49 END)::uuid,
           gen_random_uuid(), s.sample_weight, 0::smallint, s.name, 'user-' || e.u,
           'session-' || to_char(p_day, 'YYYYMMDD') || '-' || e.u || '-' || extract(hour FROM e.occurred_at AT TIME ZONE 'UTC')::int / 6,
           'server', s.version, s.properties
    FROM (SELECT i, 1 + (4999 * power(random(), 2))::int AS u, 1 + floor(random() * 1000)::int AS slot,
                 (p_day::timestamp AT TIME ZONE 'UTC') + (i - 0.5) * (86400.0 / p_events) * interval '1 second' AS occurred_at
          FROM generate_series(1, p_events) AS i) e
    JOIN bench_rollup_slots s USING (slot)
    ORDER BY e.i;
END
$$;

-- Stores the days p_first..p_last, committing each: CALL outside a transaction block.
CREATE PROCEDURE bench_rollup_fill(p_first date, p_last date, p_events integer)
LANGUAGE plpgsql AS $$
DECLARE
    d date := p_first;
BEGIN
    WHILE d <= p_last LOOP
        INSERT INTO telemetry.events (occurred_at, received_at, tenant_id, event_id, sample_weight, flags, name, user_id,
                                      session_id, source, schema_version, properties)
        SELECT * FROM bench_rollup_day(d, p_events);
        COMMIT;
        d := d + 1;
    END LOOP;
END
$$;

-- The plain side of a refresh: the same cells, computed by a plain GROUP BY into a table with
-- daily_rollups' key and index (the HyperLogLog sketch aside, which plain PostgreSQL lacks).
CREATE TABLE bench_rollup_plain (
    tenant_id     uuid        NOT NULL,
    day           date        NOT NULL,
    name          text        NOT NULL,
    events        numeric     NOT NULL,
    raw_events    bigint      NOT NULL,
    users         bigint      NOT NULL,
    sessions      bigint      NOT NULL,
    refreshed_at  timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, day, name)
);
CREATE INDEX bench_rollup_plain_day ON bench_rollup_plain (day);
