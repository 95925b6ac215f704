-- Privileges: nothing in the schema is open to PUBLIC; an application gets EXECUTE on
-- track() and nothing else, so every stored event went through track()'s checks. EXECUTE alone
-- is not enough: the role needs ingest access to the tenant (sql/tenancy.sql has the rest).
-- Each test file starts from a fresh extension, so it does not depend on the others.
DROP EXTENSION telemetry;
CREATE EXTENSION telemetry;
SET timezone = 'UTC';
SELECT telemetry.define_event('app_opened');

CREATE ROLE telemetry_regress_app;
CREATE ROLE telemetry_regress_stranger;

-- Without grants: no schema, no function, no table.
SET ROLE telemetry_regress_stranger;
SELECT telemetry.track('app_opened');
SELECT count(*) FROM telemetry.events;
RESET ROLE;

-- The application role: EXECUTE on track(), USAGE on the schema; still no table access.
GRANT USAGE ON SCHEMA telemetry TO telemetry_regress_app;
-- (The single-tenant typed forms, and the two text forms that untyped calls resolve to.)
GRANT EXECUTE ON FUNCTION telemetry.track(text, jsonb, varchar, varchar, timestamptz, uuid, timestamptz),
                          telemetry.track(text, jsonb, text, text), telemetry.track(text[]),
                          telemetry.track(text, text, bpchar, text, text, text, text, text) TO telemetry_regress_app;
SET ROLE telemetry_regress_app;
SELECT telemetry.track('app_opened', '{"via": "app role"}') IS NOT NULL AS tracked;
RESET ROLE;
-- The single-tenant forms act for the nil tenant.
SELECT telemetry.grant_tenant_access('telemetry_regress_app', '00000000-0000-0000-0000-000000000000', 'ingest');
SET ROLE telemetry_regress_app;
SELECT telemetry.track('app_opened', '{"via": "app role"}') IS NOT NULL AS tracked;
SELECT telemetry.track('unknown_thing');
SELECT count(*) FROM telemetry.events;
INSERT INTO telemetry.events (occurred_at, received_at, tenant_id, event_id, name, source, schema_version, properties)
VALUES (now(), now(), '00000000-0000-0000-0000-000000000000', gen_random_uuid(), 'forged', 'server', '1-0-0', '{}');
UPDATE telemetry.event_types SET status = 'active';
SELECT telemetry.define_event('sneaky');

-- track() qualifies every name it uses, and runs whatever else it must (a DBA's triggers) with
-- search_path = pg_catalog, pg_temp: a temporary table or function shadowing a name changes
-- nothing.
CREATE TEMP TABLE event_types (name text, status text);
INSERT INTO event_types VALUES ('forged_event', 'active');
SELECT telemetry.track('forged_event');
DROP TABLE pg_temp.event_types;
RESET ROLE;

-- Afterwards the caller's search path is its own again, also when track() failed inside a
-- block that caught the error.
CREATE SCHEMA app_schema;
SET search_path = app_schema, public;
SELECT telemetry.track('app_opened') IS NOT NULL AS tracked, current_schemas(false) AS after_track;
DO $$
BEGIN
    PERFORM telemetry.track('unknown_thing');
EXCEPTION WHEN undefined_object THEN
    RAISE NOTICE 'caught %, search path %', SQLSTATE, current_schemas(false);
END
$$;
SELECT current_schemas(false) AS after_caught_error;
BEGIN;
SELECT telemetry.track('unknown_thing');
ROLLBACK;
SELECT current_schemas(false) AS after_rollback;
RESET search_path;
DROP SCHEMA app_schema;

SELECT properties, user_id FROM telemetry.events WHERE name = 'app_opened';

SELECT telemetry.revoke_tenant_access('telemetry_regress_app', '00000000-0000-0000-0000-000000000000', 'ingest');
REVOKE ALL ON SCHEMA telemetry FROM telemetry_regress_app;
REVOKE ALL ON FUNCTION telemetry.track(text, jsonb, varchar, varchar, timestamptz, uuid, timestamptz),
                       telemetry.track(text, jsonb, text, text), telemetry.track(text[]),
                       telemetry.track(text, text, bpchar, text, text, text, text, text) FROM telemetry_regress_app;
DROP ROLE telemetry_regress_app;
DROP ROLE telemetry_regress_stranger;
