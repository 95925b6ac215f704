-- Tenant admins: a tenant's quarantine is readable and replayable by the roles given admin
-- access to it in telemetry.tenant_access (and the roles that inherit them), by nobody else but
-- the owner. The mapping is a table only the owner writes: no setting a caller could SET.
-- Each test file starts from a fresh extension, so it does not depend on the others.
DROP EXTENSION telemetry;
CREATE EXTENSION telemetry;
SET timezone = 'UTC';
\set SHOW_CONTEXT never

SELECT count(*) FROM telemetry.load_catalog($${"events": [
  {"name": "form_sent", "on_violation": "quarantine", "schema": {
     "properties": {"fields": {"type": "integer"}}, "additionalProperties": false}}
]}$$);

\set acme '''aaaaaaaa-0000-4000-8000-000000000001'''
\set globex '''bbbbbbbb-0000-4000-8000-000000000002'''
-- Two quarantined events for acme, one for globex.
SELECT telemetry.track(:acme::uuid, 'form_sent', '{"fields": "three"}', 'a-1') AS quarantined;
SELECT telemetry.track(:acme::uuid, 'form_sent', '{"fields": 3, "extra": true}', 'a-2') AS quarantined;
SELECT telemetry.track(:globex::uuid, 'form_sent', '{"fields": "two"}', 'g-1') AS quarantined;

CREATE ROLE telemetry_regress_acme_admin;
CREATE ROLE telemetry_regress_globex_admin;
CREATE ROLE telemetry_regress_acme_team IN ROLE telemetry_regress_acme_admin;            -- inherits
CREATE ROLE telemetry_regress_acme_outsider NOINHERIT IN ROLE telemetry_regress_acme_admin; -- must SET ROLE
CREATE ROLE telemetry_regress_stranger;
DO $$
DECLARE r text;
BEGIN
    FOREACH r IN ARRAY ARRAY['acme_admin', 'globex_admin', 'acme_team', 'acme_outsider', 'stranger'] LOOP
        EXECUTE format('GRANT USAGE ON SCHEMA telemetry TO telemetry_regress_%s', r);
        EXECUTE format('GRANT SELECT ON telemetry.quarantine TO telemetry_regress_%s', r);
        EXECUTE format('GRANT EXECUTE ON FUNCTION telemetry.replay_quarantine(uuid, bigint[]) TO telemetry_regress_%s', r);
    END LOOP;
END
$$;

SELECT telemetry.grant_tenant_access('telemetry_regress_acme_admin', :acme, 'admin'),
       telemetry.grant_tenant_access('telemetry_regress_globex_admin', :globex, 'admin');
-- Only roles that exist: a typo grants nothing, and says so.
SELECT telemetry.grant_tenant_access('telemetry_regress_acme_admni', :acme, 'admin');
INSERT INTO telemetry.tenant_access (role_name, tenant_id, access) VALUES ('telemetry_regress_acme_admni', :acme, 'admin');

-- Each admin sees its own tenant's quarantine and nothing else, and only its own mapping.
SET ROLE telemetry_regress_acme_admin;
SELECT tenant_id, user_id, json_path, rule FROM telemetry.quarantine ORDER BY id;
SELECT tenant_id, role_name, access FROM telemetry.tenant_access;
-- The filter is on the tenant, not on what the query asks for.
SELECT count(*) AS globex_rows_seen_by_acme FROM telemetry.quarantine WHERE tenant_id = :globex;
-- The admin cannot change the mapping, nor write the quarantine.
INSERT INTO telemetry.tenant_access (role_name, tenant_id, access) VALUES ('telemetry_regress_acme_admin', :globex, 'admin');
DELETE FROM telemetry.quarantine;
-- Row-level security cannot be switched off by the caller: with row_security off, the query
-- fails rather than showing all rows.
SET row_security = off;
SELECT count(*) FROM telemetry.quarantine;
RESET row_security;
RESET ROLE;

SET ROLE telemetry_regress_globex_admin;
SELECT tenant_id, user_id FROM telemetry.quarantine ORDER BY id;
RESET ROLE;

-- A role that inherits the admin role counts as one; a NOINHERIT member only after SET ROLE.
SET ROLE telemetry_regress_acme_team;
SELECT count(*) AS acme_team_sees FROM telemetry.quarantine;
RESET ROLE;
SET ROLE telemetry_regress_acme_outsider;
SELECT count(*) AS outsider_sees FROM telemetry.quarantine;
SELECT count(*) FROM telemetry.replay_quarantine(:acme::uuid);
RESET ROLE;

-- A stranger with the same grants sees nothing and may replay nothing.
SET ROLE telemetry_regress_stranger;
SELECT count(*) AS stranger_sees FROM telemetry.quarantine;
SELECT count(*) AS stranger_mappings FROM telemetry.tenant_access;
SELECT count(*) FROM telemetry.replay_quarantine(:acme::uuid);
RESET ROLE;

-- The acme admin replays acme's quarantine, not globex's. Before the catalog is fixed the events
-- stay, with a new attempt counted; after, they move to the events table, written as the owner
-- (admin access reads its tenant's events; it cannot write them).
SET ROLE telemetry_regress_acme_admin;
SELECT count(*) FROM telemetry.replay_quarantine(:globex::uuid);
SELECT status, reason FROM telemetry.replay_quarantine(:acme::uuid) ORDER BY quarantine_id;
SELECT current_user AS after_replay;
RESET ROLE;
SELECT count(*) FROM telemetry.load_catalog($${"events": [
  {"name": "form_sent", "version": "2-0-0", "on_violation": "quarantine", "schema": {
     "properties": {"fields": {"type": ["integer", "string"]}, "extra": {"type": "boolean"}}, "additionalProperties": false}}
]}$$);
SET ROLE telemetry_regress_acme_team;
SELECT status, reason FROM telemetry.replay_quarantine(:acme::uuid) ORDER BY quarantine_id;
SELECT count(*) AS acme_left FROM telemetry.quarantine;
SELECT count(*) FROM telemetry.events;
RESET ROLE;
SELECT tenant_id, user_id, schema_version FROM telemetry.events ORDER BY user_id;
SELECT tenant_id, user_id FROM telemetry.quarantine ORDER BY id;

-- An error inside the replay (here a NULL tenant) leaves the caller as it was.
SET ROLE telemetry_regress_acme_admin;
DO $$
BEGIN
    PERFORM telemetry.replay_quarantine(NULL);
EXCEPTION WHEN null_value_not_allowed THEN
    RAISE NOTICE 'caught %, current_user %', SQLSTATE, current_user;
END
$$;
RESET ROLE;

-- A dropped role's mapping stops counting and breaks nothing; UPDATE on the quarantine no
-- longer makes a replayer (0.4.0): only admin access does.
SELECT telemetry.revoke_tenant_access('telemetry_regress_globex_admin', :globex, 'admin');
INSERT INTO telemetry.tenant_access (role_name, tenant_id, access) VALUES ('telemetry_regress_globex_admin', :globex, 'admin');
REVOKE ALL ON SCHEMA telemetry FROM telemetry_regress_globex_admin;
REVOKE ALL ON telemetry.quarantine FROM telemetry_regress_globex_admin;
REVOKE ALL ON FUNCTION telemetry.replay_quarantine(uuid, bigint[]) FROM telemetry_regress_globex_admin;
DROP ROLE telemetry_regress_globex_admin;
SELECT count(*) AS dangling_rows FROM telemetry.tenant_access WHERE role_name = 'telemetry_regress_globex_admin';
SET ROLE telemetry_regress_acme_admin;
SELECT tenant_id, role_name, access FROM telemetry.tenant_access;
RESET ROLE;
GRANT UPDATE ON telemetry.quarantine TO telemetry_regress_stranger;
SET ROLE telemetry_regress_stranger;
SELECT status FROM telemetry.replay_quarantine(:globex::uuid);
RESET ROLE;

-- A role with BYPASSRLS reads every row it may SELECT, but administers only the tenants mapped
-- to its roles: replay decides by the mapping, not by what the caller can read.
CREATE ROLE telemetry_regress_bypass BYPASSRLS;
GRANT USAGE ON SCHEMA telemetry TO telemetry_regress_bypass;
GRANT EXECUTE ON FUNCTION telemetry.replay_quarantine(uuid, bigint[]) TO telemetry_regress_bypass;
GRANT SELECT ON telemetry.tenant_access TO telemetry_regress_bypass;
SET ROLE telemetry_regress_bypass;
SELECT count(*) AS access_rows_it_can_read FROM telemetry.tenant_access;
SELECT count(*) FROM telemetry.replay_quarantine(:acme::uuid);
RESET ROLE;
REVOKE ALL ON SCHEMA telemetry FROM telemetry_regress_bypass;
REVOKE ALL ON FUNCTION telemetry.replay_quarantine(uuid, bigint[]) FROM telemetry_regress_bypass;
REVOKE ALL ON telemetry.tenant_access FROM telemetry_regress_bypass;
DROP ROLE telemetry_regress_bypass;

SELECT telemetry.revoke_tenant_access('telemetry_regress_acme_admin', :acme, 'admin');
DELETE FROM telemetry.tenant_access;
DO $$
DECLARE r text;
BEGIN
    FOREACH r IN ARRAY ARRAY['acme_admin', 'acme_team', 'acme_outsider', 'stranger'] LOOP
        EXECUTE format('REVOKE ALL ON SCHEMA telemetry FROM telemetry_regress_%s', r);
        EXECUTE format('REVOKE ALL ON telemetry.quarantine FROM telemetry_regress_%s', r);
        EXECUTE format('REVOKE ALL ON FUNCTION telemetry.replay_quarantine(uuid, bigint[]) FROM telemetry_regress_%s', r);
    END LOOP;
END
$$;
DROP ROLE telemetry_regress_acme_team, telemetry_regress_acme_outsider, telemetry_regress_acme_admin, telemetry_regress_stranger;
