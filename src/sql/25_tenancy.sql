-- Tenancy: per-tenant settings, and who administers which tenant.
--
-- Every backend caches tenant settings; the statement trigger below tells them to reload after
-- a change (telemetry.table_changed(), 05_boundary.sql).

-- A tenant needs no row here; one is made to change its defaults.
CREATE TABLE telemetry.tenant_settings (
    tenant_id       uuid        PRIMARY KEY,
    retention_days  integer     CHECK (retention_days BETWEEN 1 AND 3650),  -- NULL: telemetry.retention_days
    updated_at      timestamptz NOT NULL DEFAULT pg_catalog.now()
);
COMMENT ON TABLE telemetry.tenant_settings IS 'Per-tenant settings: a tenant needs a row only to change a default. Every backend caches them and reloads after a change (trigger tenant_settings_changed).';
COMMENT ON COLUMN telemetry.tenant_settings.tenant_id IS 'The tenant.';
COMMENT ON COLUMN telemetry.tenant_settings.retention_days IS 'Days of raw events kept for the tenant, 1 to 3650: an older event is refused at ingest (22008). NULL: telemetry.retention_days.';
COMMENT ON COLUMN telemetry.tenant_settings.updated_at IS 'When the row was inserted, unless the INSERT gave another time; an UPDATE changes it only if it sets it.';
SELECT pg_catalog.pg_extension_config_dump('telemetry.tenant_settings', '');
CREATE TRIGGER tenant_settings_changed
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON telemetry.tenant_settings
    FOR EACH STATEMENT EXECUTE FUNCTION telemetry.table_changed();
ALTER TABLE telemetry.tenant_settings ENABLE ALWAYS TRIGGER tenant_settings_changed;

-- Who administers which tenant. A tenant's quarantine is readable and replayable by the roles
-- named here for it, and by every role that inherits one of them (a group role works). Only
-- the extension's owner changes the table: this is what a caller cannot talk its way around,
-- unlike a setting it could SET (DESIGN.md §5). Roles are kept by name, as pg_dump needs; a
-- renamed role must be renamed here, a dropped role's rows stop counting.
CREATE TABLE telemetry.tenant_admins (
    tenant_id  uuid  NOT NULL,
    role_name  name  NOT NULL,
    PRIMARY KEY (tenant_id, role_name)
);
COMMENT ON TABLE telemetry.tenant_admins IS 'Who administers which tenant: the role named, and every role that has its privileges, may read the tenant''s quarantine and replay it (given SELECT on telemetry.quarantine and EXECUTE on replay_quarantine()), and no other tenant''s. Written by the extension''s owner; every role may read only the rows naming roles it has the privileges of (row-level security). Roles are kept by name: rename a role here when renaming it, delete its rows before dropping it.';
COMMENT ON COLUMN telemetry.tenant_admins.tenant_id IS 'The tenant administered.';
COMMENT ON COLUMN telemetry.tenant_admins.role_name IS 'The administering role, by name; it must exist when the row is written (42704 otherwise).';
SELECT pg_catalog.pg_extension_config_dump('telemetry.tenant_admins', '');
CREATE INDEX tenant_admins_role ON telemetry.tenant_admins (role_name);

-- Only existing roles can be named: a typo would otherwise grant nothing, silently.
CREATE FUNCTION telemetry.check_tenant_admin()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles r WHERE r.rolname OPERATOR(pg_catalog.=) NEW.role_name) THEN
        RAISE EXCEPTION 'role "%" does not exist', NEW.role_name USING ERRCODE = '42704';
    END IF;
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION telemetry.check_tenant_admin() IS
    'Internal trigger function: BEFORE INSERT OR UPDATE of each row of telemetry.tenant_admins (tenant_admins_checked), which refuses a role_name naming no existing role (42704).';
CREATE TRIGGER tenant_admins_checked
    BEFORE INSERT OR UPDATE ON telemetry.tenant_admins
    FOR EACH ROW EXECUTE FUNCTION telemetry.check_tenant_admin();

-- Every role may read the rows that name a role it has the privileges of, and no others: what
-- it administers, which the quarantine's policy and replay_quarantine() look up as the caller.
ALTER TABLE telemetry.tenant_admins ENABLE ROW LEVEL SECURITY;
CREATE POLICY own_roles ON telemetry.tenant_admins FOR SELECT
    USING (EXISTS (SELECT FROM pg_catalog.pg_roles r
                   WHERE r.rolname OPERATOR(pg_catalog.=) tenant_admins.role_name
                     AND pg_catalog.pg_has_role(r.oid, 'USAGE')));
