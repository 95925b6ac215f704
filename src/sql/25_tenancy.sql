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
