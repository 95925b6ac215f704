-- Tenancy: who may do what for which tenant (docs/security.md). An access matrix over every
-- level and a stranger, for every path into tenant data; tenant tokens; the plans of policies;
-- and a hostile role that cannot bend what our functions do. No error message names another
-- tenant's id, names or counts.
DROP EXTENSION telemetry;
CREATE EXTENSION telemetry;
SET timezone = 'UTC';
\set SHOW_CONTEXT never
\set VERBOSITY default

\set a '''aaaaaaaa-0000-4000-8000-00000000000a'''
\set b '''bbbbbbbb-0000-4000-8000-00000000000b'''
SELECT telemetry.define_event('page_viewed');
SELECT telemetry.define_event('form_sent', on_violation => 'quarantine',
                              schema => '{"properties": {"fields": {"type": "integer"}}}');
-- Data of both tenants, written as the owner: events, a quarantined event, an opt-out, a ledger
-- entry and a tenant setting each.
SELECT count(telemetry.track(t::uuid, 'page_viewed', '{}', 'u' || i, NULL))
FROM unnest(ARRAY[:a, :b]) AS t, generate_series(1, 3) AS i;
SELECT telemetry.track(t::uuid, 'form_sent', '{"fields": "x"}') FROM unnest(ARRAY[:a, :b]) AS t;
SELECT telemetry.opt_out(t::uuid, 'gone') FROM unnest(ARRAY[:a, :b]) AS t;
SELECT count(*) FROM unnest(ARRAY[:a, :b]) AS t,
    LATERAL telemetry.track_batch(t::uuid, '[{"name": "page_viewed", "event_id": "0192d5b4-0000-7000-8000-000000000001"}]');
INSERT INTO telemetry.tenant_settings (tenant_id, retention_days) VALUES (:a, 30), (:b, 60);

-- One role per level (tenant A where the level has a tenant), and a stranger.
CREATE ROLE telemetry_regress_ingest;
CREATE ROLE telemetry_regress_read;
CREATE ROLE telemetry_regress_admin;
CREATE ROLE telemetry_regress_service;
CREATE ROLE telemetry_regress_maintenance;
CREATE ROLE telemetry_regress_issuer;
CREATE ROLE telemetry_regress_pool;
CREATE ROLE telemetry_regress_stranger;
SELECT telemetry.grant_tenant_access('telemetry_regress_ingest', :a, 'ingest'),
       telemetry.grant_tenant_access('telemetry_regress_read', :a, 'read'),
       telemetry.grant_tenant_access('telemetry_regress_admin', :a, 'admin'),
       telemetry.grant_tenant_access('telemetry_regress_service', NULL, 'service'),
       telemetry.grant_tenant_access('telemetry_regress_maintenance', NULL, 'maintenance'),
       telemetry.grant_tenant_access('telemetry_regress_issuer', :a, 'issuer'),
       telemetry.grant_tenant_access('telemetry_regress_pool', NULL, 'token');
-- Granting twice changes nothing; the rules of each level hold.
SELECT telemetry.grant_tenant_access('telemetry_regress_read', :a, 'read') AS granted_again;
SELECT telemetry.grant_tenant_access('telemetry_regress_read', NULL, 'read');
SELECT telemetry.grant_tenant_access('telemetry_regress_service', :a, 'service');
SELECT telemetry.grant_tenant_access('telemetry_regress_read', :a, 'owner');
SELECT telemetry.grant_tenant_access(NULL, :a, 'read');
SELECT role_name, tenant_id IS NOT NULL AS has_tenant, access FROM telemetry.tenant_access ORDER BY 1, 3;

-- The matrix. Each role runs every path; a path that must fail fails with 42501 (or the policy
-- filters it to nothing), one that must succeed does. \gset-free so the output is the record.
CREATE FUNCTION pg_temp.attempt(statement text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    result text;
BEGIN
    EXECUTE statement INTO result;
    -- Undo whatever it wrote (the block's subtransaction), so every role meets the same data.
    RAISE EXCEPTION '%', coalesce(result, 'ok') USING ERRCODE = 'P0004';
EXCEPTION
    WHEN assert_failure THEN RETURN SQLERRM;
    WHEN OTHERS THEN RETURN SQLSTATE || ' ' || SQLERRM;
END
$$;
CREATE TEMP TABLE paths (n serial, path text, statement text);
GRANT SELECT ON paths TO PUBLIC;
INSERT INTO paths (path, statement) VALUES
    ('track A',             $$SELECT telemetry.track('aaaaaaaa-0000-4000-8000-00000000000a'::uuid, 'page_viewed', '{}', 'm', NULL) IS NOT NULL$$),
    ('track B',             $$SELECT telemetry.track('bbbbbbbb-0000-4000-8000-00000000000b'::uuid, 'page_viewed', '{}', 'm', NULL) IS NOT NULL$$),
    ('track untyped B',     $$SELECT telemetry.track(VARIADIC ARRAY['bbbbbbbb-0000-4000-8000-00000000000b', 'page_viewed', '{}']) IS NOT NULL$$),
    ('track single-tenant', $$SELECT telemetry.track('page_viewed') IS NOT NULL$$),
    ('track_batch A',       $$SELECT string_agg(status, ',') FROM telemetry.track_batch('aaaaaaaa-0000-4000-8000-00000000000a'::uuid, '[{"name": "page_viewed"}]'::jsonb)$$),
    ('track_batch B',       $$SELECT string_agg(status, ',') FROM telemetry.track_batch('bbbbbbbb-0000-4000-8000-00000000000b', '[{"name": "page_viewed"}]')$$),
    ('events seen',         $$SELECT coalesce(string_agg(DISTINCT left(tenant_id::text, 1), ','), 'none') FROM telemetry.events$$),
    ('events of B',         $$SELECT count(*)::text FROM telemetry.events WHERE tenant_id = 'bbbbbbbb-0000-4000-8000-00000000000b'$$),
    ('quarantine seen',     $$SELECT coalesce(string_agg(DISTINCT left(tenant_id::text, 1), ','), 'none') FROM telemetry.quarantine$$),
    ('opt_outs seen',       $$SELECT coalesce(string_agg(DISTINCT left(tenant_id::text, 1), ','), 'none') FROM telemetry.opt_outs$$),
    ('event_ids seen',      $$SELECT coalesce(string_agg(DISTINCT left(tenant_id::text, 1), ','), 'none') FROM telemetry.event_ids$$),
    ('settings seen',       $$SELECT coalesce(string_agg(DISTINCT left(tenant_id::text, 1), ','), 'none') FROM telemetry.tenant_settings$$),
    ('access rows seen',    $$SELECT count(*)::text FROM telemetry.tenant_access$$),
    ('catalog seen',        $$SELECT count(*)::text FROM telemetry.event_types$$),
    ('secrets',             $$SELECT count(*)::text FROM telemetry.secrets$$),
    ('replay A',            $$SELECT string_agg(status, ',') FROM telemetry.replay_quarantine('aaaaaaaa-0000-4000-8000-00000000000a')$$),
    ('replay B',            $$SELECT string_agg(status, ',') FROM telemetry.replay_quarantine('bbbbbbbb-0000-4000-8000-00000000000b')$$),
    ('opt_out A',           $$SELECT telemetry.opt_out('aaaaaaaa-0000-4000-8000-00000000000a', 'm2')::text$$),
    ('opt_out B',           $$SELECT telemetry.opt_out('bbbbbbbb-0000-4000-8000-00000000000b', 'm2')::text$$),
    ('token A',             $$SELECT left(telemetry.tenant_token('aaaaaaaa-0000-4000-8000-00000000000a'), 4)$$),
    ('token B',             $$SELECT left(telemetry.tenant_token('bbbbbbbb-0000-4000-8000-00000000000b'), 4)$$),
    ('set_tenant forged',   $$SELECT telemetry.set_tenant('tt1.forged.token')::text$$),
    ('create_partitions',   $$SELECT telemetry.create_partitions()::text$$),
    ('purge_event_ids',     $$SELECT telemetry.purge_event_ids()::text$$),
    ('load_catalog',        $$SELECT count(*)::text FROM telemetry.define_event('sneaky')$$),
    ('grant access',        $$SELECT telemetry.grant_tenant_access(current_user::regrole, 'bbbbbbbb-0000-4000-8000-00000000000b', 'admin')::text$$),
    ('INSERT events',       $$INSERT INTO telemetry.events (occurred_at, received_at, tenant_id, event_id, name, source, schema_version, properties) VALUES (now(), now(), 'bbbbbbbb-0000-4000-8000-00000000000b', gen_random_uuid(), 'forged', 'server', '1-0-0', '{}') RETURNING 'inserted'$$),
    ('UPDATE events',       $$WITH u AS (UPDATE telemetry.events SET properties = '{"e": "x@y.com"}' RETURNING 1) SELECT count(*)::text FROM u$$),
    ('DELETE events',       $$WITH d AS (DELETE FROM telemetry.events RETURNING 1) SELECT count(*)::text FROM d$$),
    ('TRUNCATE events',     $$TRUNCATE telemetry.events$$),
    ('MERGE events',        $$MERGE INTO telemetry.events e USING (SELECT 1) s ON false WHEN NOT MATCHED THEN INSERT (occurred_at, received_at, tenant_id, event_id, name, source, schema_version, properties) VALUES (now(), now(), 'bbbbbbbb-0000-4000-8000-00000000000b', gen_random_uuid(), 'forged', 'server', '1-0-0', '{}')$$),
    ('ON CONFLICT opt_outs', $$INSERT INTO telemetry.opt_outs (tenant_id, user_id) VALUES ('bbbbbbbb-0000-4000-8000-00000000000b', 'gone') ON CONFLICT DO NOTHING RETURNING 'inserted'$$),
    ('INSERT access',       $$INSERT INTO telemetry.tenant_access (role_name, tenant_id, access) VALUES (current_user, 'bbbbbbbb-0000-4000-8000-00000000000b', 'admin') RETURNING 'inserted'$$),
    ('UPDATE settings',     $$WITH u AS (UPDATE telemetry.tenant_settings SET retention_days = 3650 RETURNING 1) SELECT count(*)::text FROM u$$),
    ('sequence nextval',    $$SELECT nextval('telemetry.events_id_seq')::text$$),
    ('SET a setting',       $$SELECT set_config('telemetry.retention_days', '5', true)$$),
    ('SET secret setting',  $$SELECT set_config('telemetry.tenant_token_key', 'mine', true)$$),
    ('read secret setting', $$SELECT current_setting('telemetry.tenant_token_key')$$),
    ('NO FORCE RLS',        $$ALTER TABLE telemetry.events NO FORCE ROW LEVEL SECURITY$$),
    ('self_test',           $$SELECT telemetry.self_test('ok')$$),
    ('ingest_counters',     $$SELECT count(*)::text FROM telemetry.ingest_counters()$$),
    ('current_tenant',      $$SELECT coalesce(left(telemetry.current_tenant()::text, 1), 'none')$$);

CREATE TEMP TABLE outcomes (role text, n integer, outcome text);
GRANT INSERT ON outcomes TO PUBLIC;
DO $$
DECLARE
    r text;
    p record;
BEGIN
    FOREACH r IN ARRAY ARRAY['ingest', 'read', 'admin', 'service', 'maintenance', 'issuer', 'pool', 'stranger'] LOOP
        EXECUTE format('SET LOCAL ROLE telemetry_regress_%s', r);
        FOR p IN SELECT * FROM paths ORDER BY n LOOP
            INSERT INTO outcomes VALUES (r, p.n, pg_temp.attempt(p.statement));
        END LOOP;
        RESET ROLE;
    END LOOP;
END
$$;
-- Per path, each outcome and the roles that met it.
SELECT p.path, o.outcome, string_agg(o.role, ' ' ORDER BY array_position(ARRAY['ingest', 'read', 'admin', 'service',
           'maintenance', 'issuer', 'pool', 'stranger'], o.role)) AS roles
FROM outcomes o JOIN paths p USING (n)
GROUP BY p.n, p.path, o.outcome ORDER BY p.n, min(array_position(ARRAY['ingest', 'read', 'admin', 'service',
           'maintenance', 'issuer', 'pool', 'stranger'], o.role));
-- No refusal names a tenant, and no role without access to B learnt anything of B.
SELECT count(*) AS refusals_naming_a_tenant FROM outcomes
WHERE outcome LIKE '42501%' AND (outcome ~ '[0-9a-f]{8}-' OR outcome LIKE '%page_viewed%');

-- row_security = off: a query the policies would filter fails instead of showing more; with
-- every tenant in scope (service) nothing would be filtered out, yet it fails too.
SET ROLE telemetry_regress_read;
SET row_security = off;
SELECT count(*) FROM telemetry.events;
RESET row_security;
RESET ROLE;

-- Several tenants: a role that inherits read of A and of B (two groups) sees both, and its
-- current_tenant() is NULL: it names no single tenant.
CREATE ROLE telemetry_regress_read_b;
SELECT telemetry.grant_tenant_access('telemetry_regress_read_b', :b, 'read');
CREATE ROLE telemetry_regress_analyst IN ROLE telemetry_regress_read, telemetry_regress_read_b;
SET ROLE telemetry_regress_analyst;
SELECT left(tenant_id::text, 1) AS tenant, count(*) FROM telemetry.events GROUP BY 1 ORDER BY 1;
SELECT telemetry.current_tenant() IS NULL AS no_single_tenant;
SELECT left(tenant_id::text, 1) AS tenant, access, via FROM telemetry.current_access() ORDER BY 1, 2;
RESET ROLE;

-- Tenant tokens. The issuer of A mints one; the pooled role acts for A in one transaction.
SET ROLE telemetry_regress_issuer;
SELECT telemetry.tenant_token(:a) AS token_a \gset
SELECT telemetry.tenant_token(:a, ttl => '1 second', access => ARRAY['read']) AS read_only_a \gset
SELECT telemetry.tenant_token(:a, ttl => '2 days');
SELECT telemetry.tenant_token(:a, access => ARRAY['service']);
SELECT telemetry.tenant_token(:a, access => ARRAY[]::text[]);
RESET ROLE;
SET ROLE telemetry_regress_pool;
BEGIN;
SELECT telemetry.set_tenant(:'token_a') = :a AS acts_for_a;
SELECT left(telemetry.current_tenant()::text, 1) AS current_tenant;
SELECT telemetry.track(:a::uuid, 'page_viewed', '{}', 'p', NULL) IS NOT NULL AS tracked_for_a;
SELECT coalesce(string_agg(DISTINCT left(tenant_id::text, 1), ','), 'none') AS events_seen FROM telemetry.events;
-- Another tenant's id in the same transaction: refused, and the message names neither.
SELECT telemetry.track(:b::uuid, 'page_viewed', '{}', 'p', NULL);
ROLLBACK;
-- The token's transaction is over: no tenant, and the token cannot be replayed.
SELECT telemetry.current_tenant() IS NULL AS no_tenant_after_commit;
SELECT count(*) AS events_seen_without_token FROM telemetry.events;
BEGIN;
SELECT telemetry.set_tenant(:'token_a');
ROLLBACK;
-- A rollback to a savepoint made before set_tenant() forgets the token.
BEGIN;
SAVEPOINT before_token;
SELECT telemetry.set_tenant(:'read_only_a') IS NOT NULL AS set;
SELECT telemetry.track(:a::uuid, 'page_viewed', '{}', 'p', NULL);
ROLLBACK TO SAVEPOINT before_token;
SELECT telemetry.current_tenant() IS NULL AS forgotten;
ROLLBACK;
RESET ROLE;
-- Outside a transaction block the token lasts one statement, with a warning.
SET ROLE telemetry_regress_issuer;
SELECT telemetry.tenant_token(:a) AS one_statement \gset
SET ROLE telemetry_regress_pool;
SELECT telemetry.set_tenant(:'one_statement') IS NOT NULL AS set;
SELECT telemetry.current_tenant() IS NULL AS gone_with_its_statement;
RESET ROLE;
-- Expired, altered, signed with another key, from another database: all refused.
SET ROLE telemetry_regress_issuer;
SELECT telemetry.tenant_token(:a, ttl => '1 second') AS short_token \gset
RESET ROLE;
SELECT pg_sleep(1.1);
SET ROLE telemetry_regress_pool;
SELECT telemetry.set_tenant(:'short_token');
RESET ROLE;
SET ROLE telemetry_regress_issuer;
SELECT telemetry.tenant_token(:a) AS fresh \gset
SET ROLE telemetry_regress_pool;
SELECT telemetry.set_tenant(left(:'fresh', -2) || CASE WHEN right(:'fresh', 2) = 'AA' THEN 'BA' ELSE 'AA' END);
SELECT telemetry.set_tenant('tt1.' || repeat('A', 300));
RESET ROLE;
SET ROLE telemetry_regress_issuer;
SELECT telemetry.tenant_token(:a) AS before_rotation \gset
RESET ROLE;
UPDATE telemetry.secrets SET value = md5('another key') || md5('another key') WHERE name = 'tenant_token_key';
SET ROLE telemetry_regress_pool;
SELECT telemetry.set_tenant(:'before_rotation');
RESET ROLE;
-- A superuser may do everything, with or without a token; the owner too.
SELECT left(tenant_id::text, 1), access FROM telemetry.current_access();

-- Policies keep index scans: a tenant-scoped count on a large table uses the (tenant_id, ...)
-- index, with the identity computed once (InitPlans), not a sequential scan.
-- (Fixed days, so that the plan names the same partitions whatever the date.)
SELECT telemetry.create_partitions('2020-01-10', 2, 0);
INSERT INTO telemetry.events (occurred_at, received_at, tenant_id, event_id, name, source, schema_version, properties)
SELECT timestamptz '2020-01-08' + (i % 3) * interval '1 day' + (i % 86400) * interval '1 second', now(),
       CASE WHEN i % 200 = 0 THEN :a::uuid ELSE ('00000000-0000-4000-8000-' || lpad((i % 200)::text, 12, '0'))::uuid END,
       gen_random_uuid(), 'page_viewed', 'server', '1-0-0', '{}'
FROM generate_series(1, 150000) AS i;
VACUUM ANALYZE telemetry.events;
SET ROLE telemetry_regress_read;
EXPLAIN (COSTS OFF) SELECT count(*) FROM telemetry.events WHERE occurred_at >= '2020-01-09' AND occurred_at < '2020-01-10';
SELECT count(*) FROM telemetry.events WHERE occurred_at >= '2020-01-09' AND occurred_at < '2020-01-10';
-- Partitions are no side door: no role but the owner has any privilege on them.
EXPLAIN (COSTS OFF) SELECT count(*) FROM telemetry.events_p20200109;
RESET ROLE;

-- A hostile role owns functions, operators, casts and temp tables named like ours, and sets
-- its search path: what our functions do does not change.
CREATE ROLE telemetry_regress_hostile;
SELECT telemetry.grant_tenant_access('telemetry_regress_hostile', :a, 'ingest');
SELECT telemetry.grant_tenant_access('telemetry_regress_hostile', :a, 'read');
CREATE SCHEMA hostile AUTHORIZATION telemetry_regress_hostile;
SET ROLE telemetry_regress_hostile;
CREATE FUNCTION hostile.uuid_eq_always(uuid, uuid) RETURNS boolean LANGUAGE sql IMMUTABLE AS 'SELECT true';
CREATE OPERATOR hostile.= (LEFTARG = uuid, RIGHTARG = uuid, FUNCTION = hostile.uuid_eq_always);
CREATE OPERATOR hostile.>= (LEFTARG = uuid, RIGHTARG = uuid, FUNCTION = hostile.uuid_eq_always);
CREATE OPERATOR hostile.<= (LEFTARG = uuid, RIGHTARG = uuid, FUNCTION = hostile.uuid_eq_always);
CREATE FUNCTION hostile.tenant_scope_lower(text) RETURNS uuid LANGUAGE sql AS $$SELECT '00000000-0000-0000-0000-000000000000'::uuid$$;
CREATE FUNCTION hostile.tenant_scope_upper(text) RETURNS uuid LANGUAGE sql AS $$SELECT 'ffffffff-ffff-ffff-ffff-ffffffffffff'::uuid$$;
CREATE FUNCTION hostile.now() RETURNS timestamptz LANGUAGE sql AS $$SELECT 'epoch'::timestamptz$$;
CREATE TYPE hostile.tenant AS (id uuid);
CREATE FUNCTION hostile.to_text(uuid) RETURNS text LANGUAGE sql AS $$SELECT 'bbbbbbbb-0000-4000-8000-00000000000b'$$;
CREATE CAST (uuid AS hostile.tenant) WITH INOUT;
CREATE TEMP TABLE tenant_access (role_name name, tenant_id uuid, access text);
INSERT INTO tenant_access VALUES (current_user, :b, 'service');
CREATE TEMP TABLE event_types (name text);
CREATE TEMP TABLE secrets (name text, value text);
INSERT INTO secrets VALUES ('tenant_token_key', 'known');
SET search_path = pg_temp, hostile, public;
SELECT coalesce(string_agg(DISTINCT left(tenant_id::text, 1), ','), 'none') AS events_seen FROM telemetry.events;
SELECT telemetry.track(:b::uuid, 'page_viewed', '{}', 'h', NULL);
SELECT telemetry.track(:a::uuid, 'page_viewed', '{}', 'h', NULL) IS NOT NULL AS tracked_for_own_tenant;
SELECT left(tenant_id::text, 1), access FROM telemetry.current_access() ORDER BY 2;
RESET search_path;
RESET ROLE;
-- What CREATE EXTENSION made does not depend on them either: a fresh install under the same
-- search path gives the same objects (test/t/008_upgrade.pl compares installs object for object).
SET search_path = hostile, public;
DROP EXTENSION telemetry;
CREATE EXTENSION telemetry;
RESET search_path;
SELECT count(*) AS policies_using_hostile_objects FROM pg_policy p
WHERE pg_get_expr(p.polqual, p.polrelid) LIKE '%hostile%' OR pg_get_expr(p.polwithcheck, p.polrelid) LIKE '%hostile%';
SELECT count(*) AS policies FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid
WHERE c.relnamespace = 'telemetry'::regnamespace;
SELECT relname, relrowsecurity, relforcerowsecurity FROM pg_class
WHERE relnamespace = 'telemetry'::regnamespace AND relkind IN ('r', 'p') AND relname !~ '^events_p' ORDER BY 1;

DROP SCHEMA hostile CASCADE;
DO $$
DECLARE r text;
BEGIN
    FOR r IN SELECT rolname FROM pg_roles WHERE rolname LIKE 'telemetry_regress_%' LOOP
        EXECUTE format('DROP OWNED BY %I', r);
        EXECUTE format('DROP ROLE %I', r);
    END LOOP;
END
$$;
