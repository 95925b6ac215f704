-- telemetry 0.3.0 -> 0.4.0: tenancy and security (CHANGELOG.md). Run by ALTER EXTENSION
-- telemetry UPDATE TO '0.4.0'; test/t/008_upgrade.pl checks that the result is what CREATE
-- EXTENSION telemetry makes, object for object, and that the data comes through.
--
-- The objects new or changed since 0.3.0, as src/sql/ has them at 0.4.0, copied: an upgrade
-- script is frozen once released, while src/sql/ moves on. What 0.3.0 granted by its own rules
-- becomes rows of telemetry.tenant_access, so that nothing that worked stops working:
--   - the admins of telemetry.tenant_admins become admin of their tenants;
--   - roles that could execute track() or track_batch() ingested for any tenant: they get the
--     service level (a WARNING names them: extension scripts hide NOTICEs; revoke_tenant_access() and grant_tenant_access() to
--     narrow them to their tenant).
-- Only rows are added: the SQL privileges a DBA granted stay as they were.

\echo Use "ALTER EXTENSION telemetry UPDATE TO '0.4.0'" to load this file. \quit

-- 05_boundary.sql
COMMENT ON FUNCTION telemetry.table_changed() IS
    'Internal trigger function: the statement trigger of telemetry.tenant_settings, tenant_access, opt_outs and secrets (enabled ALWAYS), which makes every backend reload its cache of the table at its next statement. Raises 39P01 when not called as a trigger.';
COMMENT ON FUNCTION telemetry.invalidate_caches() IS
    'Makes every backend reload its caches of the catalog, opt-outs, tenant settings, tenant access and secrets at its next call: for changes made with triggers disabled.';

-- 10_ingest_events.sql: partitions belong to the owner, whoever runs maintenance.
ALTER FUNCTION telemetry.create_partitions(timestamptz, integer, integer) SECURITY DEFINER;

-- 25_tenancy.sql
COMMENT ON TABLE telemetry.tenant_settings IS 'Per-tenant settings: a tenant needs a row only to change a default. Every backend caches them and reloads after a change (trigger tenant_settings_changed). Row-level security: a tenant''s admins read its row.';

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
        ('admin', 'TABLE', 'quarantine', 'SELECT'), ('admin', 'FUNCTION', 'replay_quarantine', 'EXECUTE'),
        ('admin', 'TABLE', 'opt_outs', 'SELECT, INSERT, DELETE'),
        ('admin', 'FUNCTION', 'opt_out', 'EXECUTE'), ('admin', 'FUNCTION', 'opt_in', 'EXECUTE'),
        ('admin', 'TABLE', 'tenant_settings', 'SELECT'), ('admin', 'TABLE', 'tenant_access', 'SELECT'),
        ('maintenance', 'FUNCTION', 'create_partitions', 'EXECUTE'),
        ('maintenance', 'FUNCTION', 'purge_event_ids', 'EXECUTE'),
        ('maintenance', 'TABLE', 'event_ids', 'SELECT, DELETE'), ('maintenance', 'TABLE', 'events', 'SELECT'),
        ('maintenance', 'FUNCTION', 'partitions', 'EXECUTE'),
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
            SELECT 'FUNCTION ' || f.oid::pg_catalog.regprocedure::text FROM pg_catalog.pg_proc f
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

-- 40_pii.sql: the key of tenant tokens, and opt-outs for a tenant's admins.
INSERT INTO telemetry.secrets VALUES
    ('tenant_token_key', pg_catalog.replace(pg_catalog.gen_random_uuid()::text || pg_catalog.gen_random_uuid()::text, '-', ''));
COMMENT ON TABLE telemetry.secrets IS 'Internal: the random keys behind x-pii "hash" (row pii_hash_key) and tenant tokens (row tenant_token_key), made at CREATE EXTENSION and used unless the settings telemetry.pii_hash_key and telemetry.tenant_token_key are set. Readable by the owner only and not dumped: a restored database gets new keys.';
COMMENT ON COLUMN telemetry.secrets.name IS 'Which secret: pii_hash_key or tenant_token_key.';
COMMENT ON COLUMN telemetry.secrets.value IS 'The secret (64 hexadecimal digits).';

CREATE OR REPLACE FUNCTION telemetry.opt_out(tenant_id uuid, user_id text)
RETURNS boolean
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF tenant_id IS NULL OR user_id IS NULL OR user_id OPERATOR(pg_catalog.=) '' THEN
        RAISE EXCEPTION 'tenant_id and user_id must be given' USING ERRCODE = '22004';
    END IF;
    PERFORM telemetry.require_tenant_access(opt_out.tenant_id, 'admin');
    INSERT INTO telemetry.opt_outs AS o (tenant_id, user_id) VALUES (opt_out.tenant_id, opt_out.user_id)
    ON CONFLICT ON CONSTRAINT opt_outs_pkey DO NOTHING;
    RETURN FOUND;  -- false: already opted out
END
$$;
COMMENT ON FUNCTION telemetry.opt_out(uuid, text) IS
    'Opts a tenant''s user out: from now on none of the user''s events is stored, by any path (events already stored stay). True when the user was opted out now, false when already. 22004 for a NULL tenant_id, or a NULL or empty user_id; 42501 unless the caller is an admin of the tenant (telemetry.grant_tenant_access).';

CREATE OR REPLACE FUNCTION telemetry.opt_in(tenant_id uuid, user_id text)
RETURNS boolean
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF tenant_id IS NULL OR user_id IS NULL THEN
        RAISE EXCEPTION 'tenant_id and user_id must be given' USING ERRCODE = '22004';
    END IF;
    PERFORM telemetry.require_tenant_access(opt_in.tenant_id, 'admin');
    DELETE FROM telemetry.opt_outs o
     WHERE o.tenant_id OPERATOR(pg_catalog.=) opt_in.tenant_id AND o.user_id OPERATOR(pg_catalog.=) opt_in.user_id;
    RETURN FOUND;  -- false: was not opted out
END
$$;
COMMENT ON FUNCTION telemetry.opt_in(uuid, text) IS
    'Undoes opt_out(): the user''s events are stored again from now on. True when the user was opted out, false when not. 22004 for a NULL tenant_id or user_id; 42501 unless the caller is an admin of the tenant.';

-- 35_ingest_quarantine.sql: the quarantine's policy is now 85_tenancy_row_security.sql's.
DROP POLICY tenant_admins_read ON telemetry.quarantine;
COMMENT ON COLUMN telemetry.quarantine.tenant_id IS 'The tenant: row-level security shows its rows to its admins (telemetry.tenant_access).';
COMMENT ON FUNCTION telemetry.replay_quarantine(uuid, bigint[]) IS
    'Sends a tenant''s quarantined events (ids: those rows, NULL: all; at most 10,000 per call, in id order) through ingest again with today''s catalog; one row per event: quarantine_id, status, id (its event_id), reason. accepted: moved to telemetry.events, once; quarantined or rejected: the row stays with the new reason and one more replay_attempts; sampled_out or opted_out: the row is deleted. For the tenant''s admins (telemetry.tenant_access) and the extension''s owner, else 42501; 22004 for a NULL tenant_id.';

-- What 0.3.0 allowed, as access rows (see the top of this file).
INSERT INTO telemetry.tenant_access (role_name, tenant_id, access)
SELECT DISTINCT a.role_name, a.tenant_id, 'admin'
FROM telemetry.tenant_admins a
WHERE EXISTS (SELECT FROM pg_catalog.pg_roles r WHERE r.rolname OPERATOR(pg_catalog.=) a.role_name);

DO $$
DECLARE
    ingesting name;
BEGIN
    FOR ingesting IN
        SELECT DISTINCT r.rolname
        FROM pg_catalog.pg_proc p
        CROSS JOIN LATERAL pg_catalog.aclexplode(p.proacl) AS acl
        JOIN pg_catalog.pg_roles r ON r.oid OPERATOR(pg_catalog.=) acl.grantee
        WHERE p.pronamespace OPERATOR(pg_catalog.=) 'telemetry'::pg_catalog.regnamespace
          AND p.proname OPERATOR(pg_catalog.=) ANY (ARRAY['track', 'track_batch'])
          AND acl.privilege_type OPERATOR(pg_catalog.=) 'EXECUTE'
          AND acl.grantee OPERATOR(pg_catalog.<>) p.proowner
          AND NOT r.rolsuper
        ORDER BY 1
    LOOP
        INSERT INTO telemetry.tenant_access (role_name, tenant_id, access) VALUES (ingesting, NULL, 'service');
        RAISE WARNING 'role "%" could execute track() and now has service access (ingest and read for every tenant)', ingesting
            USING HINT = 'Narrow it with telemetry.revoke_tenant_access() and grant_tenant_access(role, tenant_id, ''ingest'').';
    END LOOP;
END
$$;

-- Out of the extension first: that also takes it off the list of tables pg_dump dumps.
ALTER EXTENSION telemetry DROP TABLE telemetry.tenant_admins;
DROP TABLE telemetry.tenant_admins;
DROP FUNCTION telemetry.check_tenant_admin();

-- 85_tenancy_row_security.sql
-- Row-level security on every table that holds tenant data (DESIGN.md §5, docs/security.md).
--
-- ENABLE and FORCE: the tables' owner is subject to the policies too, unless it is a superuser
-- (superusers and BYPASSRLS roles never are; never grant BYPASSRLS to a tenant's role). A role
-- sees and changes only the rows of the tenants its identity (tenant_access, or a token) gives it
-- for the work: read for events; admin for the rest; ingest to insert events directly.
--
-- Each policy is the same predicate on tenant_id, written so that the identity is computed once
-- per query (each sub-select is an InitPlan) and the (tenant_id, ...) indexes serve it: the
-- tenants form an index range [lower, upper], exact for one tenant or every tenant; for a role
-- with several tenants the range is scanned and only the members kept. row_security = off makes
-- a query that these policies would filter fail instead of showing more.

ALTER TABLE telemetry.events ENABLE ROW LEVEL SECURITY;
ALTER TABLE telemetry.events FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_read ON telemetry.events FOR SELECT
    USING (tenant_id OPERATOR(pg_catalog.>=) (SELECT telemetry.tenant_scope_lower('read'))
           AND tenant_id OPERATOR(pg_catalog.<=) (SELECT telemetry.tenant_scope_upper('read'))
           AND ((SELECT telemetry.tenant_scope_is_range('read'))
                OR tenant_id OPERATOR(pg_catalog.=) ANY ((SELECT telemetry.tenant_scope_members('read'))::pg_catalog.uuid[])));
COMMENT ON POLICY tenant_read ON telemetry.events IS 'A role reads only the rows of the tenants it has read access to (telemetry.tenant_access, or the token presented in the transaction).';
CREATE POLICY tenant_ingest ON telemetry.events FOR INSERT
    WITH CHECK (tenant_id OPERATOR(pg_catalog.>=) (SELECT telemetry.tenant_scope_lower('ingest'))
           AND tenant_id OPERATOR(pg_catalog.<=) (SELECT telemetry.tenant_scope_upper('ingest'))
           AND ((SELECT telemetry.tenant_scope_is_range('ingest'))
                OR tenant_id OPERATOR(pg_catalog.=) ANY ((SELECT telemetry.tenant_scope_members('ingest'))::pg_catalog.uuid[])));
COMMENT ON POLICY tenant_ingest ON telemetry.events IS 'A role inserts only the rows of the tenants it has ingest access to (telemetry.tenant_access, or the token presented in the transaction).';
CREATE POLICY tenant_update ON telemetry.events FOR UPDATE
    USING (tenant_id OPERATOR(pg_catalog.>=) (SELECT telemetry.tenant_scope_lower('admin'))
           AND tenant_id OPERATOR(pg_catalog.<=) (SELECT telemetry.tenant_scope_upper('admin'))
           AND ((SELECT telemetry.tenant_scope_is_range('admin'))
                OR tenant_id OPERATOR(pg_catalog.=) ANY ((SELECT telemetry.tenant_scope_members('admin'))::pg_catalog.uuid[])))
    WITH CHECK (tenant_id OPERATOR(pg_catalog.>=) (SELECT telemetry.tenant_scope_lower('admin'))
           AND tenant_id OPERATOR(pg_catalog.<=) (SELECT telemetry.tenant_scope_upper('admin'))
           AND ((SELECT telemetry.tenant_scope_is_range('admin'))
                OR tenant_id OPERATOR(pg_catalog.=) ANY ((SELECT telemetry.tenant_scope_members('admin'))::pg_catalog.uuid[])));
COMMENT ON POLICY tenant_update ON telemetry.events IS 'A role updates only the rows of the tenants it has admin access to (telemetry.tenant_access, or the token presented in the transaction).';
CREATE POLICY tenant_delete ON telemetry.events FOR DELETE
    USING (tenant_id OPERATOR(pg_catalog.>=) (SELECT telemetry.tenant_scope_lower('admin'))
           AND tenant_id OPERATOR(pg_catalog.<=) (SELECT telemetry.tenant_scope_upper('admin'))
           AND ((SELECT telemetry.tenant_scope_is_range('admin'))
                OR tenant_id OPERATOR(pg_catalog.=) ANY ((SELECT telemetry.tenant_scope_members('admin'))::pg_catalog.uuid[])));
COMMENT ON POLICY tenant_delete ON telemetry.events IS 'A role deletes only the rows of the tenants it has admin access to (telemetry.tenant_access, or the token presented in the transaction).';

ALTER TABLE telemetry.quarantine ENABLE ROW LEVEL SECURITY;
ALTER TABLE telemetry.quarantine FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_admin ON telemetry.quarantine FOR ALL
    USING (tenant_id OPERATOR(pg_catalog.>=) (SELECT telemetry.tenant_scope_lower('admin'))
           AND tenant_id OPERATOR(pg_catalog.<=) (SELECT telemetry.tenant_scope_upper('admin'))
           AND ((SELECT telemetry.tenant_scope_is_range('admin'))
                OR tenant_id OPERATOR(pg_catalog.=) ANY ((SELECT telemetry.tenant_scope_members('admin'))::pg_catalog.uuid[])))
    WITH CHECK (tenant_id OPERATOR(pg_catalog.>=) (SELECT telemetry.tenant_scope_lower('admin'))
           AND tenant_id OPERATOR(pg_catalog.<=) (SELECT telemetry.tenant_scope_upper('admin'))
           AND ((SELECT telemetry.tenant_scope_is_range('admin'))
                OR tenant_id OPERATOR(pg_catalog.=) ANY ((SELECT telemetry.tenant_scope_members('admin'))::pg_catalog.uuid[])));
COMMENT ON POLICY tenant_admin ON telemetry.quarantine IS 'A role reads and changes only the rows of the tenants it has admin access to (telemetry.tenant_access, or the token presented in the transaction).';

ALTER TABLE telemetry.event_ids ENABLE ROW LEVEL SECURITY;
ALTER TABLE telemetry.event_ids FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_admin ON telemetry.event_ids FOR ALL
    USING (tenant_id OPERATOR(pg_catalog.>=) (SELECT telemetry.tenant_scope_lower('admin'))
           AND tenant_id OPERATOR(pg_catalog.<=) (SELECT telemetry.tenant_scope_upper('admin'))
           AND ((SELECT telemetry.tenant_scope_is_range('admin'))
                OR tenant_id OPERATOR(pg_catalog.=) ANY ((SELECT telemetry.tenant_scope_members('admin'))::pg_catalog.uuid[])))
    WITH CHECK (tenant_id OPERATOR(pg_catalog.>=) (SELECT telemetry.tenant_scope_lower('admin'))
           AND tenant_id OPERATOR(pg_catalog.<=) (SELECT telemetry.tenant_scope_upper('admin'))
           AND ((SELECT telemetry.tenant_scope_is_range('admin'))
                OR tenant_id OPERATOR(pg_catalog.=) ANY ((SELECT telemetry.tenant_scope_members('admin'))::pg_catalog.uuid[])));
COMMENT ON POLICY tenant_admin ON telemetry.event_ids IS 'A role reads and changes only the rows of the tenants it has admin access to (telemetry.tenant_access, or the token presented in the transaction).';

ALTER TABLE telemetry.opt_outs ENABLE ROW LEVEL SECURITY;
ALTER TABLE telemetry.opt_outs FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_admin ON telemetry.opt_outs FOR ALL
    USING (tenant_id OPERATOR(pg_catalog.>=) (SELECT telemetry.tenant_scope_lower('admin'))
           AND tenant_id OPERATOR(pg_catalog.<=) (SELECT telemetry.tenant_scope_upper('admin'))
           AND ((SELECT telemetry.tenant_scope_is_range('admin'))
                OR tenant_id OPERATOR(pg_catalog.=) ANY ((SELECT telemetry.tenant_scope_members('admin'))::pg_catalog.uuid[])))
    WITH CHECK (tenant_id OPERATOR(pg_catalog.>=) (SELECT telemetry.tenant_scope_lower('admin'))
           AND tenant_id OPERATOR(pg_catalog.<=) (SELECT telemetry.tenant_scope_upper('admin'))
           AND ((SELECT telemetry.tenant_scope_is_range('admin'))
                OR tenant_id OPERATOR(pg_catalog.=) ANY ((SELECT telemetry.tenant_scope_members('admin'))::pg_catalog.uuid[])));
COMMENT ON POLICY tenant_admin ON telemetry.opt_outs IS 'A role reads and changes only the rows of the tenants it has admin access to (telemetry.tenant_access, or the token presented in the transaction).';

ALTER TABLE telemetry.tenant_settings ENABLE ROW LEVEL SECURITY;
ALTER TABLE telemetry.tenant_settings FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_admin ON telemetry.tenant_settings FOR ALL
    USING (tenant_id OPERATOR(pg_catalog.>=) (SELECT telemetry.tenant_scope_lower('admin'))
           AND tenant_id OPERATOR(pg_catalog.<=) (SELECT telemetry.tenant_scope_upper('admin'))
           AND ((SELECT telemetry.tenant_scope_is_range('admin'))
                OR tenant_id OPERATOR(pg_catalog.=) ANY ((SELECT telemetry.tenant_scope_members('admin'))::pg_catalog.uuid[])))
    WITH CHECK (tenant_id OPERATOR(pg_catalog.>=) (SELECT telemetry.tenant_scope_lower('admin'))
           AND tenant_id OPERATOR(pg_catalog.<=) (SELECT telemetry.tenant_scope_upper('admin'))
           AND ((SELECT telemetry.tenant_scope_is_range('admin'))
                OR tenant_id OPERATOR(pg_catalog.=) ANY ((SELECT telemetry.tenant_scope_members('admin'))::pg_catalog.uuid[])));
COMMENT ON POLICY tenant_admin ON telemetry.tenant_settings IS 'A role reads and changes only the rows of the tenants it has admin access to (telemetry.tenant_access, or the token presented in the transaction).';

ALTER TABLE telemetry.tenant_access ENABLE ROW LEVEL SECURITY;
ALTER TABLE telemetry.tenant_access FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_admin ON telemetry.tenant_access FOR ALL
    USING ((tenant_id IS NULL AND (SELECT telemetry.tenant_scope_lower('maintain')) IS NOT NULL)
           OR tenant_id OPERATOR(pg_catalog.>=) (SELECT telemetry.tenant_scope_lower('admin'))
           AND tenant_id OPERATOR(pg_catalog.<=) (SELECT telemetry.tenant_scope_upper('admin'))
           AND ((SELECT telemetry.tenant_scope_is_range('admin'))
                OR tenant_id OPERATOR(pg_catalog.=) ANY ((SELECT telemetry.tenant_scope_members('admin'))::pg_catalog.uuid[])))
    WITH CHECK ((tenant_id IS NULL AND (SELECT telemetry.tenant_scope_lower('maintain')) IS NOT NULL)
           OR tenant_id OPERATOR(pg_catalog.>=) (SELECT telemetry.tenant_scope_lower('admin'))
           AND tenant_id OPERATOR(pg_catalog.<=) (SELECT telemetry.tenant_scope_upper('admin'))
           AND ((SELECT telemetry.tenant_scope_is_range('admin'))
                OR tenant_id OPERATOR(pg_catalog.=) ANY ((SELECT telemetry.tenant_scope_members('admin'))::pg_catalog.uuid[])));
COMMENT ON POLICY tenant_admin ON telemetry.tenant_access IS 'A role reads and changes only the rows of the tenants it has admin access to (telemetry.tenant_access, or the token presented in the transaction); the rows without a tenant (service, maintenance, token, issuers of every tenant) only with maintenance access, as the extension''s owner has.';

-- 90_privileges.sql: the new functions, revoked from PUBLIC, then what PUBLIC may call.
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA telemetry FROM PUBLIC;
REVOKE ALL ON ALL TABLES IN SCHEMA telemetry FROM PUBLIC;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA telemetry FROM PUBLIC;
GRANT EXECUTE ON FUNCTION telemetry.valid_event_name(text) TO PUBLIC;
GRANT EXECUTE ON FUNCTION telemetry.unset_argument() TO PUBLIC;
-- Row-level policies run as the querying role, and call these; each answers only about the
-- caller's own identity.
GRANT EXECUTE ON FUNCTION telemetry.tenant_scope_lower(text), telemetry.tenant_scope_upper(text),
                          telemetry.tenant_scope_is_range(text), telemetry.tenant_scope_members(text),
                          telemetry.current_tenant(), telemetry.current_access(),
                          telemetry.require_tenant_access(uuid, text) TO PUBLIC;
