-- Per-tenant settings, opt-outs, and the dedup ledger.
--
-- Every backend caches tenant settings and opt-outs; the statement trigger below tells them
-- to reload after a change (the same mechanism as the catalog). The triggers fire ALWAYS, also
-- under session_replication_role = replica.

CREATE FUNCTION telemetry.table_changed()
RETURNS trigger
LANGUAGE c
AS 'MODULE_PATHNAME', 'telemetry_table_changed';

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

-- Users who opted out: none of their events is stored, by any path.
CREATE TABLE telemetry.opt_outs (
    tenant_id      uuid        NOT NULL,
    user_id        text        NOT NULL,
    opted_out_at   timestamptz NOT NULL DEFAULT pg_catalog.now(),
    PRIMARY KEY (tenant_id, user_id)
);
SELECT pg_catalog.pg_extension_config_dump('telemetry.opt_outs', '');
CREATE TRIGGER opt_outs_changed
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON telemetry.opt_outs
    FOR EACH STATEMENT EXECUTE FUNCTION telemetry.table_changed();
ALTER TABLE telemetry.opt_outs ENABLE ALWAYS TRIGGER opt_outs_changed;

CREATE FUNCTION telemetry.opt_out(tenant_id uuid, user_id text)
RETURNS boolean
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF tenant_id IS NULL OR user_id IS NULL OR user_id OPERATOR(pg_catalog.=) '' THEN
        RAISE EXCEPTION 'tenant_id and user_id must be given' USING ERRCODE = '22004';
    END IF;
    INSERT INTO telemetry.opt_outs AS o (tenant_id, user_id) VALUES (opt_out.tenant_id, opt_out.user_id)
    ON CONFLICT ON CONSTRAINT opt_outs_pkey DO NOTHING;
    RETURN FOUND;  -- false: already opted out
END
$$;

CREATE FUNCTION telemetry.opt_in(tenant_id uuid, user_id text)
RETURNS boolean
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF tenant_id IS NULL OR user_id IS NULL THEN
        RAISE EXCEPTION 'tenant_id and user_id must be given' USING ERRCODE = '22004';
    END IF;
    DELETE FROM telemetry.opt_outs o
     WHERE o.tenant_id OPERATOR(pg_catalog.=) opt_in.tenant_id AND o.user_id OPERATOR(pg_catalog.=) opt_in.user_id;
    RETURN FOUND;  -- false: was not opted out
END
$$;

-- The event_ids clients sent, for exact deduplication within telemetry.dedup_window_days.
-- Only client-supplied ids are recorded: ids made by track() are unique by construction. An
-- entry older than the window no longer counts (track() and track_batch() check its age);
-- purge_event_ids() reclaims the space.
CREATE TABLE telemetry.event_ids (
    tenant_id  uuid        NOT NULL,
    event_id   uuid        NOT NULL,
    seen_at    timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, event_id)
);
SELECT pg_catalog.pg_extension_config_dump('telemetry.event_ids', '');

CREATE FUNCTION telemetry.purge_event_ids(p_now timestamptz DEFAULT pg_catalog.now())
RETURNS bigint
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $$
    WITH gone AS (
        DELETE FROM telemetry.event_ids e
        WHERE e.seen_at OPERATOR(pg_catalog.<) (p_now OPERATOR(pg_catalog.-)
              pg_catalog.make_interval(days => coalesce(pg_catalog.current_setting('telemetry.dedup_window_days', true)::integer, 7)))
        RETURNING 1)
    SELECT pg_catalog.count(*) FROM gone
$$;

-- The key behind x-pii "hash", unless telemetry.pii_hash_key is set. Owner-only, and not dumped:
-- a restored database gets a new key (set telemetry.pii_hash_key to keep hashes stable).
CREATE TABLE telemetry.secrets (
    name   text PRIMARY KEY,
    value  text NOT NULL
);
INSERT INTO telemetry.secrets VALUES
    ('pii_hash_key', pg_catalog.replace(pg_catalog.gen_random_uuid()::text || pg_catalog.gen_random_uuid()::text, '-', ''));
CREATE TRIGGER secrets_changed
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON telemetry.secrets
    FOR EACH STATEMENT EXECUTE FUNCTION telemetry.table_changed();
ALTER TABLE telemetry.secrets ENABLE ALWAYS TRIGGER secrets_changed;

-- The caches every backend keeps of the catalog, opt-outs, tenant settings and secrets follow
-- their tables through the change triggers above. A change made with the triggers disabled
-- (ALTER TABLE ... DISABLE TRIGGER, pg_restore --disable-triggers) needs this call.
CREATE FUNCTION telemetry.invalidate_caches()
RETURNS void
LANGUAGE c VOLATILE
AS 'MODULE_PATHNAME', 'telemetry_invalidate_caches';
COMMENT ON FUNCTION telemetry.invalidate_caches() IS
    'Makes every backend reload its caches of the catalog, opt-outs, tenant settings and secrets at its next call: for changes made with triggers disabled.';
