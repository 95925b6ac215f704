-- Tenancy: per-tenant settings, and the tenant identity of every call (docs/security.md).
--
-- Who acts for which tenant is decided by what no caller can set: telemetry.tenant_access, which
-- only the extension's owner changes, and tenant tokens signed with a key no tenant role can
-- read (src/pg/tenancy/tenant_identity). Row-level policies on every tenant table ask it once per
-- query (85_tenancy_row_security.sql); functions taking a tenant_id check it (42501).

-- A tenant needs no row here; one is made to change its defaults.
CREATE TABLE telemetry.tenant_settings (
    tenant_id       uuid        PRIMARY KEY,
    retention_days  integer     CHECK (retention_days BETWEEN 1 AND 3650),  -- NULL: telemetry.retention_days
    updated_at      timestamptz NOT NULL DEFAULT pg_catalog.now()
);
COMMENT ON TABLE telemetry.tenant_settings IS 'Per-tenant settings: a tenant needs a row only to change a default. Every backend caches them and reloads after a change (trigger tenant_settings_changed). Row-level security: a tenant''s admins read its row.';
COMMENT ON COLUMN telemetry.tenant_settings.tenant_id IS 'The tenant.';
COMMENT ON COLUMN telemetry.tenant_settings.retention_days IS 'Days of raw events kept for the tenant, 1 to 3650: an older event is refused at ingest (22008), and maintenance deletes older ones. At most telemetry.retention_days in effect: partitions are dropped past it. NULL: telemetry.retention_days.';
COMMENT ON COLUMN telemetry.tenant_settings.updated_at IS 'When the row was inserted, unless the INSERT gave another time; an UPDATE changes it only if it sets it.';
SELECT pg_catalog.pg_extension_config_dump('telemetry.tenant_settings', '');
CREATE TRIGGER tenant_settings_changed
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON telemetry.tenant_settings
    FOR EACH STATEMENT EXECUTE FUNCTION telemetry.table_changed();
ALTER TABLE telemetry.tenant_settings ENABLE ALWAYS TRIGGER tenant_settings_changed;

-- Who may do what for which tenant. A role named here, and every role that has its privileges
-- (a member of a group role), has the access. Changed through grant_tenant_access() and
-- revoke_tenant_access(), which also grant and revoke the SQL privileges the level needs. Roles
-- are kept by name, as pg_dump needs: a renamed role's rows stop counting until renamed here.
CREATE TABLE telemetry.tenant_access (
    role_name   name        NOT NULL,
    tenant_id   uuid,
    access      text        NOT NULL
                            CHECK (access OPERATOR(pg_catalog.=) ANY
                                   (ARRAY['ingest', 'read', 'admin', 'service', 'maintenance', 'issuer', 'token'])),
    granted_at  timestamptz NOT NULL DEFAULT pg_catalog.now(),
    CONSTRAINT tenant_access_key UNIQUE NULLS NOT DISTINCT (role_name, tenant_id, access),
    CONSTRAINT tenant_access_tenant_rule CHECK (CASE
        WHEN access OPERATOR(pg_catalog.=) ANY (ARRAY['ingest', 'read', 'admin']) THEN tenant_id IS NOT NULL
        WHEN access OPERATOR(pg_catalog.=) ANY (ARRAY['service', 'maintenance', 'token']) THEN tenant_id IS NULL
        ELSE true END)
);
COMMENT ON TABLE telemetry.tenant_access IS 'Who may do what for which tenant (docs/security.md, "Access levels"): the role named, and every role that has its privileges. Change it with telemetry.grant_tenant_access() and revoke_tenant_access(); only the extension''s owner writes it. Row-level security: a tenant''s admins read its rows. Roles are kept by name: rename a role here when renaming it.';
COMMENT ON COLUMN telemetry.tenant_access.role_name IS 'The role given access, by name; it must exist when the row is written (42704 otherwise).';
COMMENT ON COLUMN telemetry.tenant_access.tenant_id IS 'The tenant; NULL for the levels that are for every tenant or none (service, maintenance, token) and for an issuer of every tenant''s tokens.';
COMMENT ON COLUMN telemetry.tenant_access.access IS 'The level: ingest, read, admin (one tenant); service, maintenance, token (no tenant); issuer (one tenant or every tenant).';
COMMENT ON COLUMN telemetry.tenant_access.granted_at IS 'When the access was granted.';
SELECT pg_catalog.pg_extension_config_dump('telemetry.tenant_access', '');
CREATE INDEX tenant_access_tenant ON telemetry.tenant_access (tenant_id);
CREATE TRIGGER tenant_access_changed
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON telemetry.tenant_access
    FOR EACH STATEMENT EXECUTE FUNCTION telemetry.table_changed();
ALTER TABLE telemetry.tenant_access ENABLE ALWAYS TRIGGER tenant_access_changed;

-- Only existing roles can be named: a typo would otherwise grant nothing, silently.
CREATE FUNCTION telemetry.check_tenant_access_role()
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
COMMENT ON FUNCTION telemetry.check_tenant_access_role() IS
    'Internal trigger function: BEFORE INSERT OR UPDATE of each row of telemetry.tenant_access (tenant_access_checked), which refuses a role_name naming no existing role (42704).';
CREATE TRIGGER tenant_access_checked
    BEFORE INSERT OR UPDATE ON telemetry.tenant_access
    FOR EACH ROW EXECUTE FUNCTION telemetry.check_tenant_access_role();

-- The identity, as the caller sees it.
CREATE FUNCTION telemetry.current_tenant()
RETURNS uuid
LANGUAGE c STABLE PARALLEL RESTRICTED
AS 'MODULE_PATHNAME', 'telemetry_current_tenant';
COMMENT ON FUNCTION telemetry.current_tenant() IS
    'The tenant the caller acts for: the tenant of the token presented in this transaction (set_tenant()), else the one tenant its roles have access to (telemetry.tenant_access); NULL when none, several, or every tenant (service, superusers). Granted to PUBLIC.';

CREATE FUNCTION telemetry.current_access()
RETURNS TABLE (tenant_id uuid, access text, via text)
LANGUAGE c STABLE PARALLEL RESTRICTED
AS 'MODULE_PATHNAME', 'telemetry_current_access';
COMMENT ON FUNCTION telemetry.current_access() IS
    'What the caller may do, one row per grant: tenant_id (NULL: every tenant or none), access (a level of tenant_access; superuser or owner for those who may do everything) and via (the role it was granted to, or token). Granted to PUBLIC: it shows the caller''s own access only.';

-- Row-level policies ask these, each once per query (InitPlans): the tenants the current user
-- may touch for `need` (ingest, read, admin, issue, maintain), as an index range [lower, upper]
-- that holds exactly them (is_range), or else a range to scan and the members to keep.
CREATE FUNCTION telemetry.tenant_scope_lower(need text)
RETURNS uuid
LANGUAGE c STABLE PARALLEL RESTRICTED
AS 'MODULE_PATHNAME', 'telemetry_tenant_scope_lower';
COMMENT ON FUNCTION telemetry.tenant_scope_lower(text) IS
    'Internal, for row-level policies: the lowest tenant the current user may touch for need (ingest, read, admin, issue or maintain); the nil UUID for every tenant; NULL for none. 22023 for another need. Granted to PUBLIC (policies run as the querying role).';
CREATE FUNCTION telemetry.tenant_scope_upper(need text)
RETURNS uuid
LANGUAGE c STABLE PARALLEL RESTRICTED
AS 'MODULE_PATHNAME', 'telemetry_tenant_scope_upper';
COMMENT ON FUNCTION telemetry.tenant_scope_upper(text) IS
    'Internal, for row-level policies: the highest tenant the current user may touch for need; the max UUID for every tenant; NULL for none. Granted to PUBLIC.';
CREATE FUNCTION telemetry.tenant_scope_is_range(need text)
RETURNS boolean
LANGUAGE c STABLE PARALLEL RESTRICTED
AS 'MODULE_PATHNAME', 'telemetry_tenant_scope_is_range';
COMMENT ON FUNCTION telemetry.tenant_scope_is_range(text) IS
    'Internal, for row-level policies: true when every tenant between tenant_scope_lower() and tenant_scope_upper() is in the scope (one tenant, or every tenant); false when only tenant_scope_members() are; NULL for none. Granted to PUBLIC.';
CREATE FUNCTION telemetry.tenant_scope_members(need text)
RETURNS uuid[]
LANGUAGE c STABLE PARALLEL RESTRICTED
AS 'MODULE_PATHNAME', 'telemetry_tenant_scope_members';
COMMENT ON FUNCTION telemetry.tenant_scope_members(text) IS
    'Internal, for row-level policies: the tenants in the scope, sorted, when they are several; NULL otherwise. Granted to PUBLIC.';

CREATE FUNCTION telemetry.require_tenant_access(tenant_id uuid, need text)
RETURNS void
LANGUAGE c STABLE PARALLEL RESTRICTED
AS 'MODULE_PATHNAME', 'telemetry_require_tenant_access';
COMMENT ON FUNCTION telemetry.require_tenant_access(uuid, text) IS
    'Raises 42501 unless the current user may do need (ingest, read, admin, issue or maintain) for the tenant; tenant_id NULL only with maintain. What functions taking a tenant_id call first; the message names the work and the caller''s role, never a tenant. Granted to PUBLIC: it answers only about the caller.';

-- Tenant tokens, for applications that share one pooled login role.
CREATE FUNCTION telemetry.set_tenant(token text)
RETURNS uuid
LANGUAGE c VOLATILE PARALLEL UNSAFE SECURITY DEFINER
AS 'MODULE_PATHNAME', 'telemetry_set_tenant';
COMMENT ON FUNCTION telemetry.set_tenant(text) IS
    'Acts for the tenant of a token minted by tenant_token(), with its access levels, until the end of the current transaction (or a rollback to a savepoint made before it); returns the tenant. Each token is accepted once. 42501: malformed, signed with another key, expired, already used, or issued before the server last started; 53400 when telemetry.token_ledger_size unexpired tokens are in use; 55000 without telemetry in shared_preload_libraries; a WARNING outside a transaction block. For roles with token access.';

CREATE FUNCTION telemetry.tenant_token(tenant_id uuid, ttl interval DEFAULT '5 minutes',
                                       access text[] DEFAULT ARRAY['ingest', 'read'])
RETURNS text
LANGUAGE c VOLATILE PARALLEL UNSAFE SECURITY DEFINER
AS 'MODULE_PATHNAME', 'telemetry_tenant_token';
COMMENT ON FUNCTION telemetry.tenant_token(uuid, interval, text[]) IS
    'Mints a tenant token for set_tenant(): signed with HMAC-SHA-256 under this database''s key (telemetry.secrets, or the setting telemetry.tenant_token_key), valid once, for ttl (1 second to 1 day), giving access (any of ingest, read, admin). 42501 unless the caller is an issuer of the tenant (its session role); 22023 for a ttl or access out of range; 22004 for NULLs.';

-- Access levels, granted and revoked with the SQL privileges each needs. Functions are named
-- without arguments: every form of them is meant.
CREATE FUNCTION telemetry.access_privileges(access text)
RETURNS TABLE (object_kind text, object_name text, privilege text)
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
    -- A level is made of parts: admin reads too, service ingests and reads, and a pooled role
    -- holds what any token may give (ingest, read, admin) besides presenting tokens.
    SELECT DISTINCT p.kind, p.object, p.privilege
    FROM (VALUES ('ingest', 'ingest'), ('read', 'read'), ('admin', 'read'), ('admin', 'admin'),
                 ('service', 'ingest'), ('service', 'read'), ('maintenance', 'maintenance'),
                 ('issuer', 'issuer'), ('token', 'token'), ('token', 'ingest'), ('token', 'read'),
                 ('token', 'admin')) AS l(access, part)
    JOIN (VALUES
        ('ingest', 'FUNCTION', 'track', 'EXECUTE'), ('ingest', 'FUNCTION', 'track_batch', 'EXECUTE'),
        ('read', 'TABLE', 'events', 'SELECT'), ('read', 'TABLE', 'event_types', 'SELECT'),
        ('read', 'FUNCTION', 'partitions', 'EXECUTE'),
        ('read', 'TABLE', 'daily_rollups', 'SELECT'), ('read', 'TABLE', 'daily_totals', 'SELECT'), ('read', 'FUNCTION', 'rollup_watermark', 'EXECUTE'),
        ('read', 'FUNCTION', 'funnel', 'EXECUTE'), ('read', 'FUNCTION', 'funnel_engine', 'EXECUTE'),
        ('read', 'FUNCTION', 'window_funnel', 'EXECUTE'), ('read', 'FUNCTION', 'window_funnel_transition', 'EXECUTE'),
        ('read', 'FUNCTION', 'window_funnel_final', 'EXECUTE'),
        ('read', 'FUNCTION', 'conversion_rate', 'EXECUTE'), ('read', 'FUNCTION', 'completion_rate', 'EXECUTE'),
        ('read', 'FUNCTION', 'escalation_rate', 'EXECUTE'),
        ('read', 'FUNCTION', 'retention', 'EXECUTE'), ('read', 'FUNCTION', 'retention_engine', 'EXECUTE'),
        ('read', 'FUNCTION', 'period_number', 'EXECUTE'), ('read', 'FUNCTION', 'period_start', 'EXECUTE'),
        ('read', 'FUNCTION', 'event_counts', 'EXECUTE'), ('read', 'FUNCTION', 'top_events', 'EXECUTE'),
        ('read', 'FUNCTION', 'unique_users', 'EXECUTE'), ('read', 'FUNCTION', 'active_users', 'EXECUTE'), ('read', 'FUNCTION', 'daily_active_users', 'EXECUTE'),
        ('read', 'FUNCTION', 'stickiness', 'EXECUTE'), ('read', 'FUNCTION', 'dump', 'EXECUTE'),
        ('read', 'FUNCTION', 'calendar_buckets', 'EXECUTE'), ('read', 'FUNCTION', 'rollup_exact_days', 'EXECUTE'),
        ('read', 'FUNCTION', 'rollup_split', 'EXECUTE'),
        ('read', 'FUNCTION', 'property_sum', 'EXECUTE'),
        ('read', 'FUNCTION', 'property_stats', 'EXECUTE'), ('read', 'FUNCTION', 'sessions', 'EXECUTE'),
        ('read', 'FUNCTION', 'sessions_engine', 'EXECUTE'), ('read', 'FUNCTION', 'property_path_terms', 'EXECUTE'),
        ('admin', 'TABLE', 'quarantine', 'SELECT'), ('admin', 'FUNCTION', 'replay_quarantine', 'EXECUTE'),
        ('admin', 'FUNCTION', 'forget_user', 'EXECUTE'), ('admin', 'FUNCTION', 'anonymize_user', 'EXECUTE'),
        ('admin', 'TABLE', 'erasures', 'SELECT'),
        ('admin', 'TABLE', 'opt_outs', 'SELECT, INSERT, DELETE'),
        ('admin', 'FUNCTION', 'opt_out', 'EXECUTE'), ('admin', 'FUNCTION', 'opt_in', 'EXECUTE'),
        ('admin', 'TABLE', 'tenant_settings', 'SELECT'), ('admin', 'TABLE', 'tenant_access', 'SELECT'),
        ('admin', 'TABLE', 'pii_policies', 'SELECT, INSERT, UPDATE, DELETE'), ('admin', 'FUNCTION', 'set_pii_policy', 'EXECUTE'),
        ('admin', 'TABLE', 'rollup_invalidations', 'SELECT, INSERT'), ('admin', 'FUNCTION', 'invalidate_rollups', 'EXECUTE'),
        ('maintenance', 'FUNCTION', 'create_partitions', 'EXECUTE'),
        ('maintenance', 'FUNCTION', 'purge_event_ids', 'EXECUTE'),
        ('maintenance', 'TABLE', 'event_ids', 'SELECT, DELETE'), ('maintenance', 'TABLE', 'events', 'SELECT'),
        ('maintenance', 'FUNCTION', 'partitions', 'EXECUTE'),
        ('maintenance', 'FUNCTION', 'run_maintenance', 'EXECUTE'),
        ('maintenance', 'FUNCTION', 'advance_rollups', 'EXECUTE'), ('maintenance', 'FUNCTION', 'refresh_rollups', 'EXECUTE'),
        ('maintenance', 'FUNCTION', 'drop_expired_partitions', 'EXECUTE'),
        ('maintenance', 'FUNCTION', 'delete_expired_tenant_events', 'EXECUTE'),
        ('maintenance', 'FUNCTION', 'drop_expired_rollups', 'EXECUTE'),
        ('maintenance', 'FUNCTION', 'trim_maintenance_runs', 'EXECUTE'),
        ('maintenance', 'FUNCTION', 'maintenance_step_names', 'EXECUTE'),
        ('maintenance', 'FUNCTION', 'begin_maintenance_run', 'EXECUTE'), ('maintenance', 'FUNCTION', 'end_maintenance_run', 'EXECUTE'),
        ('maintenance', 'FUNCTION', 'begin_maintenance_step', 'EXECUTE'),
        ('maintenance', 'FUNCTION', 'perform_maintenance_step', 'EXECUTE'),
        ('maintenance', 'FUNCTION', 'resume_maintenance', 'EXECUTE'),
        ('maintenance', 'FUNCTION', 'rollup_watermark', 'EXECUTE'), ('maintenance', 'FUNCTION', 'invalidate_rollups', 'EXECUTE'),
        ('maintenance', 'FUNCTION', 'reapply_erasures', 'EXECUTE'), ('maintenance', 'TABLE', 'daily_rollups', 'SELECT'), ('maintenance', 'TABLE', 'daily_totals', 'SELECT'), ('maintenance', 'TABLE', 'rollup_invalidations', 'SELECT, INSERT'),
        ('maintenance', 'TABLE', 'rollup_state', 'SELECT'), ('maintenance', 'TABLE', 'maintenance_runs', 'SELECT'),
        ('maintenance', 'TABLE', 'maintenance_steps', 'SELECT'), ('maintenance', 'TABLE', 'maintenance_status', 'SELECT'),
        ('read', 'TABLE', 'activity', 'SELECT'), ('read', 'FUNCTION', 'recent', 'EXECUTE'),
        ('maintenance', 'FUNCTION', 'sample_activity', 'EXECUTE'), ('maintenance', 'TABLE', 'activity', 'SELECT'),
        ('maintenance', 'FUNCTION', 'metrics', 'EXECUTE'), ('maintenance', 'FUNCTION', 'metric_gauges', 'EXECUTE'),
        ('maintenance', 'FUNCTION', 'health', 'EXECUTE'), ('maintenance', 'FUNCTION', 'alerts', 'EXECUTE'),
        ('maintenance', 'FUNCTION', 'recent', 'EXECUTE'), ('maintenance', 'FUNCTION', 'recent_counters', 'EXECUTE'),
        ('maintenance', 'FUNCTION', 'last_event_received_at', 'EXECUTE'),
        ('maintenance', 'FUNCTION', 'ingest_counters', 'EXECUTE'), ('maintenance', 'FUNCTION', 'pii_counters', 'EXECUTE'),
        ('issuer', 'FUNCTION', 'tenant_token', 'EXECUTE'),
        ('token', 'FUNCTION', 'set_tenant', 'EXECUTE')
    ) AS p(part, kind, object, privilege) ON p.part OPERATOR(pg_catalog.=) l.part
    WHERE l.access OPERATOR(pg_catalog.=) access_privileges.access
$$;
COMMENT ON FUNCTION telemetry.access_privileges(text) IS
    'The SQL privileges an access level needs, which grant_tenant_access() grants and revoke_tenant_access() takes back: object_kind (TABLE or FUNCTION), object_name (in schema telemetry; a function name means all its forms) and privilege. Every level also gets USAGE on the schema.';

-- Grants or revokes one level's privileges to a role (`grant_them` false: revokes those no
-- other level the role keeps needs).
CREATE FUNCTION telemetry.apply_access_privileges(role regrole, access text, grant_them boolean)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    grantee name := (SELECT r.rolname FROM pg_catalog.pg_roles r WHERE r.oid OPERATOR(pg_catalog.=) role);
    p record;
    target text;
    still_needed boolean;
BEGIN
    FOR p IN SELECT * FROM telemetry.access_privileges(access) LOOP
        FOR target IN
            SELECT pg_catalog.format('TABLE telemetry.%I', p.object_name) WHERE p.object_kind OPERATOR(pg_catalog.=) 'TABLE'
            UNION ALL
            SELECT 'ROUTINE ' || f.oid::pg_catalog.regprocedure::text FROM pg_catalog.pg_proc f
            WHERE p.object_kind OPERATOR(pg_catalog.=) 'FUNCTION'
              AND f.pronamespace OPERATOR(pg_catalog.=) 'telemetry'::pg_catalog.regnamespace
              AND f.proname OPERATOR(pg_catalog.=) p.object_name
        LOOP
            IF grant_them THEN
                EXECUTE pg_catalog.format('GRANT %s ON %s TO %I', p.privilege, target, grantee);
            ELSE
                -- Privileges another level the role keeps needs stay.
                SELECT EXISTS (SELECT FROM telemetry.tenant_access a, telemetry.access_privileges(a.access) o
                               WHERE a.role_name OPERATOR(pg_catalog.=) grantee
                                 AND o.object_kind OPERATOR(pg_catalog.=) p.object_kind
                                 AND o.object_name OPERATOR(pg_catalog.=) p.object_name
                                 AND o.privilege OPERATOR(pg_catalog.=) p.privilege)
                  INTO still_needed;
                IF NOT still_needed THEN
                    EXECUTE pg_catalog.format('REVOKE %s ON %s FROM %I', p.privilege, target, grantee);
                END IF;
            END IF;
        END LOOP;
    END LOOP;
    IF grant_them THEN
        EXECUTE pg_catalog.format('GRANT USAGE ON SCHEMA telemetry TO %I', grantee);
    ELSIF NOT EXISTS (SELECT FROM telemetry.tenant_access a WHERE a.role_name OPERATOR(pg_catalog.=) grantee) THEN
        EXECUTE pg_catalog.format('REVOKE USAGE ON SCHEMA telemetry FROM %I', grantee);
    END IF;
END
$$;
COMMENT ON FUNCTION telemetry.apply_access_privileges(regrole, text, boolean) IS
    'Internal, for grant_tenant_access() and revoke_tenant_access(): grants the privileges of access_privileges(access) and USAGE on the schema to role (grant_them true), or revokes those that no level the role still has in tenant_access needs (false).';

CREATE FUNCTION telemetry.grant_tenant_access(role regrole, tenant_id uuid, access text)
RETURNS boolean
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    added boolean;
BEGIN
    IF role IS NULL OR access IS NULL THEN
        RAISE EXCEPTION 'role and access must be given' USING ERRCODE = '22004';
    END IF;
    IF NOT access OPERATOR(pg_catalog.=) ANY (ARRAY['ingest', 'read', 'admin', 'service', 'maintenance', 'issuer', 'token']) THEN
        RAISE EXCEPTION 'access must be one of ingest, read, admin, service, maintenance, issuer, token'
            USING ERRCODE = '22023';
    END IF;
    IF access OPERATOR(pg_catalog.=) ANY (ARRAY['ingest', 'read', 'admin']) AND tenant_id IS NULL THEN
        RAISE EXCEPTION 'access % is for one tenant: tenant_id must be given', access USING ERRCODE = '22023',
            HINT = 'Access to every tenant is the service level.';
    END IF;
    IF access OPERATOR(pg_catalog.=) ANY (ARRAY['service', 'maintenance', 'token']) AND tenant_id IS NOT NULL THEN
        RAISE EXCEPTION 'access % is for every tenant or none: tenant_id must be NULL', access USING ERRCODE = '22023';
    END IF;
    INSERT INTO telemetry.tenant_access AS a (role_name, tenant_id, access)
    VALUES ((SELECT r.rolname FROM pg_catalog.pg_roles r WHERE r.oid OPERATOR(pg_catalog.=) role), tenant_id, access)
    ON CONFLICT ON CONSTRAINT tenant_access_key DO NOTHING;
    added := FOUND;
    PERFORM telemetry.apply_access_privileges(role, access, true);
    RETURN added;
END
$$;
COMMENT ON FUNCTION telemetry.grant_tenant_access(regrole, uuid, text) IS
    'Gives role (and every role that has its privileges) an access level (docs/security.md, "Access levels"): ingest, read or admin of tenant_id; service (ingest and read for every tenant), maintenance (the maintenance steps) or token (presents tenant tokens) with tenant_id NULL; issuer (mints tokens) of tenant_id, or of every tenant with NULL. Also grants the SQL privileges the level needs (access_privileges()). True when the access is new, false when the role had it. 22023 for another level or a tenant_id against its rule, 22004 for NULL role or access; 42501 for anyone but the extension''s owner.';

CREATE FUNCTION telemetry.revoke_tenant_access(role regrole, tenant_id uuid, access text)
RETURNS boolean
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    removed boolean;
BEGIN
    IF role IS NULL OR access IS NULL THEN
        RAISE EXCEPTION 'role and access must be given' USING ERRCODE = '22004';
    END IF;
    DELETE FROM telemetry.tenant_access a
     WHERE a.role_name OPERATOR(pg_catalog.=) (SELECT r.rolname FROM pg_catalog.pg_roles r WHERE r.oid OPERATOR(pg_catalog.=) role)
       AND a.tenant_id IS NOT DISTINCT FROM revoke_tenant_access.tenant_id
       AND a.access OPERATOR(pg_catalog.=) revoke_tenant_access.access;
    removed := FOUND;
    IF removed THEN
        PERFORM telemetry.apply_access_privileges(role, access, false);
    END IF;
    RETURN removed;
END
$$;
COMMENT ON FUNCTION telemetry.revoke_tenant_access(regrole, uuid, text) IS
    'Takes back what grant_tenant_access(role, tenant_id, access) gave: the row, and the SQL privileges no other level of the role needs (USAGE on the schema when none is left). True when the role had the access, false when not. 22004 for NULL role or access; 42501 for anyone but the extension''s owner.';
