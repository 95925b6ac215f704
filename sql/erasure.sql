-- GDPR erasure (src/sql/45_pii_erasure.sql, docs/pii.md "Erasure"): forget_user() leaves no
-- trace of the user in any table and the rollups equal a GROUP BY of what remains, in the
-- caller's transaction; anonymize_user() keeps the events and the counts under a pseudonym; the
-- ledger keeps a keyed hash, never the id; reapply_erasures() erases again what a restore from
-- an older backup brought back; who may call them; bad arguments.
-- Each test file starts from a fresh extension, so it does not depend on the others.
DROP EXTENSION telemetry;
CREATE EXTENSION telemetry;
SET timezone = 'UTC';
\set SHOW_CONTEXT never
\set a '''aaaaaaaa-0000-4000-8000-000000000001'''
\set b '''bbbbbbbb-0000-4000-8000-000000000002'''
SELECT (date_trunc('day', now() AT TIME ZONE 'UTC') + interval '12 hours') AT TIME ZONE 'UTC' AS p_now \gset
SELECT telemetry.create_partitions(:'p_now', 10, 1) > 0 AS partitions_made;

-- Five days of events of a and b: jane, bob and others; jane in b too (another person).
INSERT INTO telemetry.events (occurred_at, received_at, tenant_id, event_id, name, user_id, session_id, source,
                              schema_version, properties)
SELECT :'p_now'::timestamptz - (g % 5) * interval '1 day' - (g % 7) * interval '1 hour', now(), t, gen_random_uuid(),
       (ARRAY['lesson_done', 'signup'])[1 + g % 2], (ARRAY['jane', 'bob', 'ann', 'joe'])[1 + g % 4], 's' || (g % 9),
       'server', '1-0-0', jsonb_build_object('n', g)
FROM generate_series(1, 200) g, (VALUES (:a::uuid), (:b::uuid)) AS x(t);
-- Her dedup entries (events sent with client ids), a quarantined payload, and her opt-out.
INSERT INTO telemetry.event_ids (tenant_id, event_id, seen_at)
SELECT tenant_id, event_id, now() FROM telemetry.events WHERE user_id IN ('jane', 'bob');
INSERT INTO telemetry.quarantine (tenant_id, event_id, name, properties, user_id, occurred_at, received_at, source,
                                  sample_weight, flags, schema_version, sqlstate, reason, json_path, rule)
VALUES (:a, gen_random_uuid(), 'signup', '{"email": "jane@example.com"}', 'jane', now(), now(), 'server', 1, 0, '1-0-0',
        '22023', 'a property breaks its schema', '$.properties.email', 'type');
INSERT INTO telemetry.event_ids (tenant_id, event_id, seen_at) SELECT tenant_id, event_id, now() FROM telemetry.quarantine;
SELECT telemetry.opt_out(:a, 'jane');
CALL telemetry.run_maintenance(:'p_now');

-- Every rollup cell and total against a GROUP BY of the events (closed days): 0 when equal.
CREATE FUNCTION pg_temp.rollup_differences() RETURNS bigint LANGUAGE sql AS $$
    SELECT (SELECT count(*) FROM (
                (SELECT tenant_id, (occurred_at AT TIME ZONE 'UTC')::date AS day, name, count(*) AS raw_events,
                        count(DISTINCT user_id) AS users, hll_cardinality(hll_add_agg(hll_hash_text(user_id), 15, 5)) AS est
                 FROM telemetry.events WHERE occurred_at < telemetry.rollup_watermark()::timestamp AT TIME ZONE 'UTC'
                 GROUP BY 1, 2, 3)
                EXCEPT (SELECT tenant_id, day, name, raw_events, users, hll_cardinality(users_hll) FROM telemetry.daily_rollups)) x)
         + (SELECT count(*) FROM (
                (SELECT tenant_id, (occurred_at AT TIME ZONE 'UTC')::date AS day, count(*) AS raw_events,
                        count(DISTINCT user_id) AS users, hll_cardinality(hll_add_agg(hll_hash_text(user_id), 15, 5)) AS est
                 FROM telemetry.events WHERE occurred_at < telemetry.rollup_watermark()::timestamp AT TIME ZONE 'UTC'
                 GROUP BY 1, 2)
                EXCEPT (SELECT tenant_id, day, raw_events, users, hll_cardinality(users_hll) FROM telemetry.daily_totals)) y)
$$;
SELECT pg_temp.rollup_differences() AS differences_before,
       (SELECT count(*) FROM telemetry.daily_rollups) > 0 AS rolled_up;

-- Who may: not a reader, not another tenant's admin; a's admin may.
CREATE ROLE erasure_reader;
CREATE ROLE erasure_admin_b;
CREATE ROLE erasure_admin_a;
SELECT telemetry.grant_tenant_access('erasure_reader', :a, 'read'),
       telemetry.grant_tenant_access('erasure_admin_b', :b, 'admin'),
       telemetry.grant_tenant_access('erasure_admin_a', :a, 'admin');
\set VERBOSITY sqlstate
SET ROLE erasure_reader;
SELECT * FROM telemetry.forget_user(:a, 'jane');
SET ROLE erasure_admin_b;
SELECT * FROM telemetry.forget_user(:a, 'jane');
SELECT * FROM telemetry.erase_user(:a, 'jane', 'forget', 'x', 'y', false, NULL);
RESET ROLE;
SELECT * FROM telemetry.forget_user(NULL, 'jane');
SELECT * FROM telemetry.forget_user(:a, NULL);
\set VERBOSITY default

-- a's admin forgets jane, in one transaction with a check of what is left.
SET ROLE erasure_admin_a;
BEGIN;
SELECT * FROM telemetry.forget_user(:a, 'jane');
RESET ROLE;
SELECT (SELECT count(*) FROM telemetry.events WHERE tenant_id = :a AND user_id = 'jane') AS events,
       (SELECT count(*) FROM telemetry.quarantine WHERE tenant_id = :a AND user_id = 'jane') AS quarantined,
       (SELECT count(*) FROM telemetry.opt_outs WHERE tenant_id = :a AND user_id = 'jane') AS opt_outs,
       (SELECT count(*) FROM telemetry.event_ids i WHERE i.tenant_id = :a
          AND NOT EXISTS (SELECT FROM telemetry.events e WHERE e.tenant_id = i.tenant_id AND e.event_id = i.event_id)) AS stray_event_ids,
       pg_temp.rollup_differences() AS rollup_differences_in_the_transaction;
COMMIT;
-- No trace of the id in any row of any table of the schema (b's jane, another person, aside),
-- and the ledger's row holds a keyed hash.
SELECT count(*) AS tables_with_jane_of_a
FROM pg_class c
WHERE c.relnamespace = 'telemetry'::regnamespace AND c.relkind = 'r'
  AND (xpath('/row/c/text()', query_to_xml(format('SELECT count(*) AS c FROM telemetry.%I t WHERE t::text LIKE %L AND t::text NOT LIKE %L',
                                                  c.relname, '%jane%', '%bbbbbbbb-%'), false, true, '')))[1]::text::int > 0;
SELECT count(*) AS jane_in_b FROM telemetry.events WHERE tenant_id = :b AND user_id = 'jane';
SELECT left(tenant_id::text, 8) AS tenant, user_hash ~ '^h1:[A-Za-z0-9_-]{22}$' AS keyed_hash,
       user_hash = telemetry.erasure_hash(:a, 'jane') AS hash_of_jane, key_id = telemetry.erasure_key_id() AS this_key,
       kind, erased_by, events, quarantined, event_ids, opt_outs, rollup_days
FROM telemetry.erasures;
SELECT pg_temp.rollup_differences() AS differences_after;

-- anonymize_user: bob's events stay, under one pseudonym; distinct users per day unchanged.
CREATE TEMP TABLE users_before AS
SELECT day, users FROM telemetry.daily_totals WHERE tenant_id = :a;
SET ROLE erasure_admin_a;
SELECT * FROM telemetry.anonymize_user(:a, 'bob');
RESET ROLE;
SELECT count(*) FILTER (WHERE user_id = 'bob') AS bob, count(DISTINCT user_id) FILTER (WHERE user_id LIKE 'anon:%') AS pseudonyms,
       count(*) FILTER (WHERE user_id LIKE 'anon:%') AS pseudonymous_events
FROM telemetry.events WHERE tenant_id = :a;
SELECT count(*) AS days_whose_users_changed
FROM users_before b JOIN telemetry.daily_totals t ON t.tenant_id = :a AND t.day = b.day WHERE t.users <> b.users;
SELECT pg_temp.rollup_differences() AS differences_after_anonymize;
SELECT kind, count(*) FROM telemetry.erasures GROUP BY kind ORDER BY kind;
-- The admin reads its tenant's ledger; b's admin sees none of it.
SET ROLE erasure_admin_a;
SELECT count(*) AS ledger_rows_a_sees FROM telemetry.erasures;
SET ROLE erasure_admin_b;
SELECT count(*) AS ledger_rows_b_sees FROM telemetry.erasures;
RESET ROLE;

-- A restore from an older backup brings jane and bob back (their rows, received before the
-- erasures, inserted again here), and jane's opt-out; jane also came back after her erasure
-- and sent one event since. The ledger applies again: what was received before the erasure
-- goes (jane) or gets a pseudonym (bob); what jane sent since stays; no new ledger row.
INSERT INTO telemetry.events (occurred_at, received_at, tenant_id, event_id, name, user_id, source, schema_version, properties)
SELECT :'p_now'::timestamptz - g * interval '1 day', now() - interval '1 day', :a, gen_random_uuid(), 'signup', u, 'server',
       '1-0-0', '{}'
FROM generate_series(1, 3) g, (VALUES ('jane'), ('bob')) AS x(u);
INSERT INTO telemetry.opt_outs (tenant_id, user_id, opted_out_at) VALUES (:a, 'jane', now() - interval '1 day');
INSERT INTO telemetry.events (occurred_at, received_at, tenant_id, event_id, name, user_id, source, schema_version, properties)
VALUES (:'p_now'::timestamptz - interval '1 day', clock_timestamp() + interval '1 second', :a, gen_random_uuid(), 'signup',
        'jane', 'server', '1-0-0', '{"came_back": true}');
SELECT * FROM telemetry.reapply_erasures();
SELECT count(*) FILTER (WHERE user_id IN ('jane', 'bob') AND NOT properties ? 'came_back') AS restored_rows_left,
       count(*) FILTER (WHERE user_id = 'jane' AND properties ? 'came_back') AS sent_since,
       (SELECT count(*) FROM telemetry.opt_outs WHERE user_id = 'jane') AS jane_opt_out,
       (SELECT count(*) FROM telemetry.erasures) AS ledger_rows
FROM telemetry.events WHERE tenant_id = :a;
SELECT pg_temp.rollup_differences() AS differences_after_reapply;
DELETE FROM telemetry.events WHERE properties ? 'came_back';
CALL telemetry.run_maintenance(:'p_now');
-- Again: nothing left to do.
SELECT * FROM telemetry.reapply_erasures();
-- resume_maintenance() applies it too.
INSERT INTO telemetry.events (occurred_at, received_at, tenant_id, event_id, name, user_id, source, schema_version, properties)
VALUES (:'p_now'::timestamptz - interval '2 days', now() - interval '1 day', :a, gen_random_uuid(), 'signup', 'jane', 'server',
        '1-0-0', '{}');
SELECT telemetry.resume_maintenance() AS steps_resumed;
SELECT count(*) AS jane FROM telemetry.events WHERE tenant_id = :a AND user_id = 'jane';
-- Only maintenance access may reapply.
SET ROLE erasure_admin_a;
\set VERBOSITY sqlstate
SELECT * FROM telemetry.reapply_erasures();
\set VERBOSITY default
RESET ROLE;

SELECT telemetry.revoke_tenant_access('erasure_reader', :a, 'read'),
       telemetry.revoke_tenant_access('erasure_admin_b', :b, 'admin'),
       telemetry.revoke_tenant_access('erasure_admin_a', :a, 'admin');
DROP ROLE erasure_reader, erasure_admin_b, erasure_admin_a;
