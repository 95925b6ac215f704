-- Personal data and the size limit on every write path (docs/pii.md, "Policy" and "Every write
-- path"): track() and track_batch() apply the tenant's policy for undeclared PII; the trigger
-- check_written_event applies the same to rows written by INSERT, COPY, INSERT ... ON CONFLICT
-- DO UPDATE, UPDATE and MERGE. The same row gives the same stored row by either path; the size
-- limit holds exactly at the boundary everywhere; a second pass (a restore without
-- telemetry.restoring, an UPDATE) never rewrites twice. Messages name the path and the
-- detector, never the value.
-- Each test file starts from a fresh extension, so it does not depend on the others.
DROP EXTENSION telemetry;
CREATE EXTENSION telemetry;
SET timezone = 'UTC';

CREATE FUNCTION pg_temp.outcome(statement text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    state text; message text; hint text;
BEGIN
    EXECUTE statement;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, message = MESSAGE_TEXT, hint = PG_EXCEPTION_HINT;
    RETURN state || ': ' || message;
END $$;

-- signup declares plan; phone is x-pii redact, email hash, password reject. small has a limit
-- of 100 bytes of canonical JSON.
SELECT telemetry.load_catalog('{"events": [
  {"name": "signup", "schema": {"type": "object", "properties": {
      "plan": {"type": "string"},
      "phone": {"type": "string", "x-pii": "redact"},
      "email": {"type": "string", "x-pii": "hash"},
      "password": {"type": "string", "x-pii": "reject"},
      "note": {"type": "string"}}}},
  {"name": "small", "max_bytes": 100},
  {"name": "support_ticket"}]}');
SELECT telemetry.create_partitions(now(), 1, 1) >= 0 AS partitions_made;
SELECT telemetry.create_partitions('2026-01-01', 0, 0) >= 0 AS partition_for_copy;  -- COPY needs a literal time
-- Hashes are keyed with a random per-database key: shown masked, compared where it matters.
CREATE FUNCTION pg_temp.masked(value text) RETURNS text LANGUAGE sql IMMUTABLE
AS $$ SELECT regexp_replace(value, 'h1:[A-Za-z0-9_-]{22}', 'h1:<hash>', 'g') $$;
CREATE TEMP TABLE counters_before AS SELECT * FROM telemetry.pii_counters();
\set tenant '''00000000-0000-4000-8000-0000000000a1'''
\set other '''00000000-0000-4000-8000-0000000000a2'''
SELECT partition AS today FROM telemetry.partitions() WHERE day = (now() AT TIME ZONE 'UTC')::date \gset

-- 1. The default, redact: an undeclared e-mail address in a declared property and in an
--    undeclared one, a card number sent as a JSON number, a phone number in an array, a
--    person's name under an undeclared key; the declared phone redacted (x-pii), the declared
--    e-mail hashed (x-pii), a user id that is an e-mail address hashed; nothing else changes.
SELECT telemetry.track(:tenant::uuid, 'signup',
  '{"plan": "pro", "note": "write to jane.doe@example.com", "phone": "+1 415 555 2671",
    "email": "jane.doe@example.com", "ref": 4111111111111111, "first_name": "Jane",
    "extra": {"contacts": ["ok", "+44 20 7946 0958"], "version": "10.2.3.4", "count": 3}}',
  'Jane.Doe@Example.com', 'session-1') IS NOT NULL AS tracked;
SELECT pg_temp.masked(user_id) AS user_id, session_id, flags, pg_temp.masked(properties::text) AS properties,
       user_id = properties ->> 'email' AS same_hash_as_declared_email
FROM telemetry.events ORDER BY id;

-- 2. The same event by INSERT: the trigger stores the same row (properties, ids, flags).
INSERT INTO telemetry.events (occurred_at, received_at, tenant_id, event_id, name, user_id, session_id, source,
                              schema_version, properties)
VALUES (now(), now(), :tenant, gen_random_uuid(), 'signup', 'Jane.Doe@Example.com', 'session-1', 'server', '1-0-0',
  '{"plan": "pro", "note": "write to jane.doe@example.com", "phone": "+1 415 555 2671",
    "email": "jane.doe@example.com", "ref": 4111111111111111, "first_name": "Jane",
    "extra": {"contacts": ["ok", "+44 20 7946 0958"], "version": "10.2.3.4", "count": 3}}');
SELECT count(DISTINCT (user_id, session_id, flags, properties)) AS distinct_rows, count(*) AS rows
FROM telemetry.events;

-- 3. A second pass changes nothing: the stored row written again as it is (what a restore
--    without telemetry.restoring does), and an UPDATE that leaves the checked columns alone.
INSERT INTO telemetry.events (occurred_at, received_at, tenant_id, event_id, name, user_id, session_id, source,
                              schema_version, flags, properties)
SELECT occurred_at, received_at, tenant_id, gen_random_uuid(), name, user_id, session_id, 'restored',
       schema_version, flags, properties
FROM telemetry.events WHERE id = (SELECT min(id) FROM telemetry.events);
UPDATE telemetry.events SET properties = properties || '{}', received_at = received_at;
SELECT count(DISTINCT (user_id, session_id, flags, properties)) AS distinct_rows, count(*) AS rows
FROM telemetry.events;

-- 4. UPDATE and MERGE that bring personal data are rewritten too; COPY and ON CONFLICT DO
--    UPDATE likewise.
UPDATE telemetry.events SET properties = properties || '{"note": "call +44 20 7946 0958"}'
WHERE source = 'restored';
SELECT source, properties -> 'note' AS note FROM telemetry.events WHERE source = 'restored';
MERGE INTO telemetry.events e
USING (VALUES ('merged', '{"plan": "free", "note": "ssn 123-45-6789"}'::jsonb)) AS s(source, properties)
ON e.source = s.source
WHEN NOT MATCHED THEN INSERT (occurred_at, received_at, tenant_id, event_id, name, source, schema_version, properties)
    VALUES (now(), now(), :tenant, gen_random_uuid(), 'signup', s.source, '1-0-0', s.properties);
MERGE INTO telemetry.events e
USING (VALUES ('merged', '{"plan": "free", "note": "key sk_live_4eC39HqLyjWDarjtT1zdp7dc"}'::jsonb)) AS s(source, properties)
ON e.source = s.source
WHEN MATCHED THEN UPDATE SET properties = s.properties;
COPY telemetry.events (occurred_at, received_at, tenant_id, event_id, name, user_id, source, schema_version, properties) FROM stdin;
2026-01-01 00:00:00+00	2026-01-01 00:00:00+00	00000000-0000-4000-8000-0000000000a1	6f1c1f7e-0000-4000-8000-000000000001	support_ticket	u-7	copied	1-0-0	{"body": "my IBAN is DE89 3704 0044 0532 0130 00", "priority": 2}
\.
UPDATE telemetry.events SET occurred_at = now() WHERE source = 'copied';
INSERT INTO :today AS e (occurred_at, received_at, tenant_id, event_id, name, id, source, schema_version, properties)
SELECT occurred_at, received_at, tenant_id, event_id, name, id, 'upserted', schema_version,
       '{"note": "from 192.168.10.20"}'
FROM telemetry.events WHERE source = 'merged'
ON CONFLICT (tenant_id, occurred_at, id) DO UPDATE SET properties = excluded.properties, source = excluded.source;
SELECT source, flags, user_id, properties FROM telemetry.events WHERE source IN ('merged', 'copied', 'upserted') ORDER BY source;

-- 5. The tenant's policy, per tenant and per event type: reject refuses (track() with an
--    error naming the path and detector; track_batch() per event, the rest of the batch
--    stored; the trigger likewise), hash, drop and allow.
SELECT telemetry.set_pii_policy(:other::uuid, 'reject');
SELECT telemetry.set_pii_policy(:other::uuid, 'hash', 'support_ticket');
SELECT tenant_id, event_type, undeclared_pii FROM telemetry.pii_policies ORDER BY event_type;
SELECT rule, pg_temp.outcome(statement) FROM (VALUES
  ('track, reject', $$SELECT telemetry.track('00000000-0000-4000-8000-0000000000a2', 'signup', '{"note": "jane@example.com"}')$$),
  ('track, reject in a nested array', $$SELECT telemetry.track('00000000-0000-4000-8000-0000000000a2', 'signup', '{"extra": [{"to": ["+1 415 555 2671"]}]}')$$),
  ('track, reject a user id', $$SELECT telemetry.track('00000000-0000-4000-8000-0000000000a2', 'signup', '{}', 'jane@example.com')$$),
  ('track, reject a session id', $$SELECT telemetry.track('00000000-0000-4000-8000-0000000000a2', 'signup', '{}', 'u1', 'jane@example.com')$$),
  ('track, reject a key', $$SELECT telemetry.track('00000000-0000-4000-8000-0000000000a2', 'signup', '{"jane@example.com": 1}')$$),
  ('track, declared x-pii is the catalog''s', $$SELECT telemetry.track('00000000-0000-4000-8000-0000000000a2', 'signup', '{"phone": "+1 415 555 2671"}')$$),
  ('track, x-pii reject', $$SELECT telemetry.track('00000000-0000-4000-8000-0000000000a2', 'signup', '{"password": "hunter2"}')$$),
  ('INSERT, reject', $$INSERT INTO telemetry.events (occurred_at, received_at, tenant_id, event_id, name, source, schema_version, properties)
                       VALUES (now(), now(), '00000000-0000-4000-8000-0000000000a2', gen_random_uuid(), 'signup', 'raw', '1-0-0', '{"note": "jane@example.com"}')$$),
  ('INSERT, x-pii reject', $$INSERT INTO telemetry.events (occurred_at, received_at, tenant_id, event_id, name, source, schema_version, properties)
                       VALUES (now(), now(), '00000000-0000-4000-8000-0000000000a1', gen_random_uuid(), 'signup', 'raw', '1-0-0', '{"password": "hunter2"}')$$),
  ('INSERT, not an object', $$INSERT INTO telemetry.events (occurred_at, received_at, tenant_id, event_id, name, source, schema_version, properties)
                       VALUES (now(), now(), '00000000-0000-4000-8000-0000000000a1', gen_random_uuid(), 'signup', 'raw', '1-0-0', '[1]')$$),
  ('UPDATE in a redact tenant', $$UPDATE telemetry.events SET properties = '{"note": "jane@example.com"}' WHERE source = 'copied'$$),
  ('UPDATE into a reject tenant', $$UPDATE telemetry.events SET tenant_id = '00000000-0000-4000-8000-0000000000a2', name = 'signup', properties = properties || '{"to": "jane@example.com"}' WHERE source = 'copied'$$),
  ('track, hash for this type', $$SELECT telemetry.track('00000000-0000-4000-8000-0000000000a2', 'support_ticket', '{"body": "jane@example.com", "n": 1}')$$)
) AS t(rule, statement);
SELECT tenant_id, name, properties FROM telemetry.events WHERE source = 'copied';
SELECT b.status, b.reason FROM telemetry.track_batch(:other::uuid,
  '[{"name": "signup", "properties": {"note": "fine"}},
    {"name": "signup", "properties": {"note": "mail jane@example.com"}},
    {"name": "signup", "user_id": "+44 20 7946 0958"}]') b ORDER BY b.index;
SELECT name, flags, pg_temp.masked(properties::text) AS properties FROM telemetry.events WHERE tenant_id = :other::uuid ORDER BY id;
SELECT telemetry.set_pii_policy(:other::uuid, 'drop');
SELECT telemetry.track(:other::uuid, 'signup', '{"note": "jane@example.com", "plan": "pro", "jane@example.com": 1, "list": ["a", "jane@example.com", "b"]}', 'jane@example.com') IS NOT NULL AS tracked;
SELECT telemetry.set_pii_policy(:other::uuid, 'allow');
SELECT telemetry.track(:other::uuid, 'signup', '{"note": "jane@example.com"}', 'jane@example.com') IS NOT NULL AS tracked;
SELECT pg_temp.masked(user_id) AS user_id, flags, properties FROM telemetry.events WHERE tenant_id = :other::uuid ORDER BY id DESC LIMIT 2;
-- NULL removes a setting; bad arguments.
SELECT telemetry.set_pii_policy(:other::uuid, NULL, 'support_ticket');
SELECT event_type, undeclared_pii FROM telemetry.pii_policies ORDER BY event_type;
SELECT rule, pg_temp.outcome(statement) FROM (VALUES
  ('unknown action', $$SELECT telemetry.set_pii_policy('00000000-0000-4000-8000-0000000000a2', 'mask')$$),
  ('bad type name', $$SELECT telemetry.set_pii_policy('00000000-0000-4000-8000-0000000000a2', 'hash', 'Bad Name')$$),
  ('NULL tenant', $$SELECT telemetry.set_pii_policy(NULL, 'hash')$$)
) AS t(rule, statement);

-- 6. The size limit, exactly at the boundary on every path: small allows 100 bytes of
--    canonical JSON; {"s":"<n x>"} is 8 + n bytes. What is measured is what is stored: after
--    redaction ("[redacted:email]" is longer than "a@b.co").
SELECT path, pg_temp.outcome(format(statement, repeat('x', 92))) AS at_limit,
       pg_temp.outcome(format(statement, repeat('x', 93))) AS one_over
FROM (VALUES
  ('track', $$SELECT telemetry.track('00000000-0000-4000-8000-0000000000a1', 'small', '{"s": "%s"}')$$),
  ('INSERT', $$INSERT INTO telemetry.events (occurred_at, received_at, tenant_id, event_id, name, source, schema_version, properties)
               VALUES (now(), now(), '00000000-0000-4000-8000-0000000000a1', gen_random_uuid(), 'small', 'raw', '1-0-0', '{"s": "%s"}')$$),
  ('UPDATE', $$UPDATE telemetry.events SET properties = '{"s": "%s"}' WHERE id = (SELECT max(id) FROM telemetry.events WHERE name = 'small')$$),
  ('MERGE', $$MERGE INTO telemetry.events e USING (VALUES (1)) s(x) ON false
              WHEN NOT MATCHED THEN INSERT (occurred_at, received_at, tenant_id, event_id, name, source, schema_version, properties)
              VALUES (now(), now(), '00000000-0000-4000-8000-0000000000a1', gen_random_uuid(), 'small', 'raw', '1-0-0', '{"s": "%s"}')$$)
) AS t(path, statement);
-- INSERT ... ON CONFLICT DO UPDATE, on today's partition (the parent has no unique index).
SELECT n, pg_temp.outcome(format($$INSERT INTO %s AS e (occurred_at, received_at, tenant_id, event_id, name, id, source,
                                                      schema_version, properties)
    SELECT occurred_at, received_at, tenant_id, event_id, name, id, source, schema_version, '{}'
    FROM telemetry.events WHERE name = 'small' ORDER BY id LIMIT 1
    ON CONFLICT (tenant_id, occurred_at, id) DO UPDATE SET properties = jsonb_build_object('s', %L)$$,
    :'today', repeat('x', n))) AS on_conflict_do_update
FROM (VALUES (92), (93)) AS v(n);
-- COPY: 92 x fits, 93 x is refused (and the COPY with it).
COPY telemetry.events (occurred_at, received_at, tenant_id, event_id, name, source, schema_version, properties) FROM stdin;
2026-01-01 00:00:00+00	2026-01-01 00:00:00+00	00000000-0000-4000-8000-0000000000a1	6f1c1f7e-0000-4000-8000-000000000003	small	copied	1-0-0	{"s": "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}
\.
COPY telemetry.events (occurred_at, received_at, tenant_id, event_id, name, source, schema_version, properties) FROM stdin;
2026-01-01 00:00:00+00	2026-01-01 00:00:00+00	00000000-0000-4000-8000-0000000000a1	6f1c1f7e-0000-4000-8000-000000000004	small	copied	1-0-0	{"s": "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}
\.
SELECT count(*) AS copied_at_the_limit FROM telemetry.events WHERE name = 'small' AND source = 'copied';
SELECT n, b.status, b.reason
FROM (VALUES (92), (93)) AS v(n),
     telemetry.track_batch(:tenant::uuid, format('[{"name": "small", "properties": {"s": "%s"}}]', repeat('x', n))::jsonb) b;
-- {"s":"a@b.co","t":"<n x>"} is 21 + n bytes as sent, 31 + n once redacted.
SELECT pg_temp.outcome($$SELECT telemetry.track('00000000-0000-4000-8000-0000000000a1', 'small', '{"s": "a@b.co", "t": "$$ || repeat('x', 69) || $$"}')$$) AS redacted_at_limit,
       pg_temp.outcome($$SELECT telemetry.track('00000000-0000-4000-8000-0000000000a1', 'small', '{"s": "a@b.co", "t": "$$ || repeat('x', 70) || $$"}')$$) AS redacted_one_over;
-- An unknown type by INSERT: the default limit (2048), and every value undeclared.
SELECT pg_temp.outcome(format($$INSERT INTO telemetry.events (occurred_at, received_at, tenant_id, event_id, name, source, schema_version, properties)
               VALUES (now(), now(), '00000000-0000-4000-8000-0000000000a1', gen_random_uuid(), 'retired_event', 'raw', '1-0-0', '{"s": "%s"}')$$, repeat('x', n))) AS outcome
FROM (VALUES (2040), (2041)) AS v(n);

-- 7. While telemetry.restoring is on (a restore), rows pass as they are.
SET telemetry.restoring = on;
INSERT INTO telemetry.events (occurred_at, received_at, tenant_id, event_id, name, source, schema_version, properties)
VALUES (now(), now(), :tenant, gen_random_uuid(), 'retired_event', 'restore', '1-0-0', '{"note": "jane@example.com"}');
RESET telemetry.restoring;
SELECT flags, properties FROM telemetry.events WHERE source = 'restore';

-- 8. Erasure finds a user whose id was stored as its keyed hash.
SELECT events FROM telemetry.forget_user(:tenant::uuid, 'Jane.Doe@Example.com');
SELECT count(*) AS left_of_jane FROM telemetry.events WHERE user_id = telemetry.detected_id_hash(:tenant::uuid, 'jane.doe@example.com');
SELECT kind, events FROM telemetry.erasures ORDER BY id;

-- 9. A refusal outside a handler: the error names the path and the detector, and the server
--    log gets neither the statement nor the row (scripts/test.sh greps every log for the values).
SELECT telemetry.set_pii_policy(:other::uuid, 'reject');
SELECT telemetry.track(:other::uuid, 'signup', '{"note": "refused.person@example.org"}');
COPY telemetry.events (occurred_at, received_at, tenant_id, event_id, name, source, schema_version, properties) FROM stdin;
2026-01-01 00:00:00+00	2026-01-01 00:00:00+00	00000000-0000-4000-8000-0000000000a2	6f1c1f7e-0000-4000-8000-000000000002	signup	copied	1-0-0	{"note": "refused.person@example.org"}
\.

-- 10. Corners. Only exact tags are trusted: text that starts like one is scanned. Keys that
--     hash alike are kept once. A path never shows a key that could be personal data. What
--     cannot be checked (nested deeper than 16 levels) is refused whatever the type. And an
--     erasure is never blocked by a row stored under the rules of its day: anonymize_user()
--     changes only the id, so only the id is checked.
SELECT telemetry.set_pii_policy(:other::uuid, 'redact');
SELECT telemetry.track(:other::uuid, 'signup', '{"note": "[redacted] jane@example.com"}') IS NOT NULL AS tracked;
SELECT telemetry.set_pii_policy(:other::uuid, 'hash');
SELECT telemetry.track(:other::uuid, 'support_ticket', '{"Jane@Example.com": 1, "jane@example.com": 2}') IS NOT NULL AS tracked;
SELECT name, pg_temp.masked(properties::text) AS properties FROM telemetry.events
WHERE tenant_id = :other::uuid ORDER BY id DESC LIMIT 2;
SELECT rule, pg_temp.outcome(statement) FROM (VALUES
  ('too deep, unknown type', $$INSERT INTO telemetry.events (occurred_at, received_at, tenant_id, event_id, name, source, schema_version, properties)
        VALUES (now(), now(), '00000000-0000-4000-8000-0000000000a1', gen_random_uuid(), 'retired_event', 'raw', '1-0-0',
                '{"jane@example.com": {"a":{"a":{"a":{"a":{"a":{"a":{"a":{"a":{"a":{"a":{"a":{"a":{"a":{"a":{"a":{"a":{"a":{"a":{"a":{"a":1}}}}}}}}}}}}}}}}}}}}}')$$)
) AS t(rule, statement);
SELECT telemetry.set_pii_policy(:tenant::uuid, 'allow');
INSERT INTO telemetry.events (occurred_at, received_at, tenant_id, event_id, name, user_id, source, schema_version, properties)
VALUES (now(), now(), :tenant, gen_random_uuid(), 'signup', 'u-old', 'old', '1-0-0', '{"note": "old.row@example.com"}');
SELECT telemetry.set_pii_policy(:tenant::uuid, 'reject');
SELECT events FROM telemetry.anonymize_user(:tenant::uuid, 'u-old');
SELECT user_id LIKE 'anon:%' AS pseudonym, flags, properties FROM telemetry.events WHERE source = 'old';
SELECT telemetry.set_pii_policy(:tenant::uuid, NULL);

-- 11. Every decision is counted: what this file added to the server's counts.
SELECT c.detector, c.action, c.decisions - coalesce(b.decisions, 0) AS decisions
FROM telemetry.pii_counters() c LEFT JOIN counters_before b USING (detector, action)
WHERE c.decisions > coalesce(b.decisions, 0)
ORDER BY c.detector, c.action;
