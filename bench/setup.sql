-- The benchmark database: telemetry with the benchmark's catalog, and the design documents'
-- own way side by side (001's events table with its indexes, and a PL/pgSQL logEvent).
CREATE EXTENSION telemetry CASCADE;
\set catalog `cat catalog.json`
SELECT count(*) AS event_types FROM telemetry.load_catalog(:'catalog');

-- The plain table of the design documents, with their indexes.
\ir diy_events.sql

-- The DIY logEvent: checks the name against the allowed set and the payload size, then inserts.
CREATE TABLE bench_diy_event_names (name text PRIMARY KEY);
INSERT INTO bench_diy_event_names SELECT name FROM telemetry.event_types;
CREATE FUNCTION bench_log_event(p_tenant uuid, p_name text, p_data jsonb, p_user text, p_session text)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM bench_diy_event_names WHERE name = p_name) THEN
        RAISE EXCEPTION 'unknown event name';
    END IF;
    IF octet_length(p_data::text) > 2048 THEN
        RAISE EXCEPTION 'payload larger than 2 KB';
    END IF;
    INSERT INTO bench_diy_events (tenant_id, name, properties, user_id, session_id)
    VALUES (p_tenant, p_name, p_data, p_user, p_session);
END
$$;

-- Client batches for the batch measurements: :batches batches of 1,000 events, deterministic.
SELECT setseed(0.31) AS seeded \gset
CREATE TABLE bench_batch_events AS
SELECT b AS batch, i AS position,
       ('6a1f0c3e-0000-4000-8000-0000000000' || CASE WHEN b % 10 < 3 THEN 10 ELSE 11 + b % 49 END)::uuid AS tenant_id,
       e.name,
       CASE e.shape
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
       END AS properties,
       'user-' || (1 + (random() * 9999)::int) AS user_id,
       'session-' || (1 + (random() * 199999)::int) AS session_id,
       -- event ids as clients make them: UUIDv7-shaped, unique per event
       ('0192d5b4-' || lpad(to_hex(b), 4, '0') || '-7' || lpad(to_hex(i), 3, '0') || '-8000-' || lpad(to_hex(b * 1000 + i), 12, '0'))::uuid AS event_id
FROM generate_series(1, :batches) AS b, generate_series(1, 1000) AS i,
     LATERAL (SELECT name,
                     CASE WHEN schema -> 'properties' ? 'streamType' THEN 'stream'
                          WHEN schema -> 'properties' ? 'path' THEN 'page'
                          WHEN schema -> 'properties' ? 'orderId' THEN 'commerce' ELSE 'ops' END AS shape
              FROM telemetry.event_types ORDER BY name OFFSET ((b * 7919 + i * 104729) % 20) LIMIT 1) e;
SELECT count(*) AS batch_events, round(avg(length(properties::text))) AS avg_property_bytes FROM bench_batch_events;

-- The application role every measurement connects as, on both sides: not a superuser, so
-- track() and track_batch() check its tenant access on every call (docs/security.md), as they
-- would for a real application. It ingests for the bench's 50 tenants: service access.
CREATE ROLE bench_app LOGIN;
GRANT ALL ON ALL TABLES IN SCHEMA public TO bench_app;
GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO bench_app;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA public TO bench_app;
SELECT telemetry.grant_tenant_access('bench_app', NULL, 'service') AS bench_app_ingests;
-- Their twins under the policy allow for undeclared personal data: what detection costs is
-- track() there against track() for the bench's tenants (redact, the default).
SELECT count(telemetry.set_pii_policy(('6a1f0c3e-0000-4000-8000-0000000001' || t)::uuid, 'allow')) AS allow_tenants
FROM generate_series(10, 59) AS t;
