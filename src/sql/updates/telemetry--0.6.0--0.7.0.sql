-- telemetry 0.6.0 -> 0.7.0: the policy for undeclared personal data at ingest (redact by
-- default; hash, drop, reject or allow per tenant and event type), the write-path trigger that
-- holds every row written outside track() to the size limit and the PII policy, PII decision
-- counters, and erasure of ids stored hashed (CHANGELOG.md).
-- Run by ALTER EXTENSION telemetry UPDATE TO '0.7.0'. test/t/008_upgrade.pl checks that the
-- result is what CREATE EXTENSION telemetry makes, object for object, and that data comes
-- through.

\echo Use "ALTER EXTENSION telemetry UPDATE TO '0.7.0'" to load this file. \quit

-- 10_ingest_events.sql: the comments that name the trigger and the new flags.
COMMENT ON TABLE telemetry.events IS 'Accepted events, partitioned by UTC day of occurred_at. Written by telemetry.track(), track_batch() and replay_quarantine(), which check every event against the catalog; a row written any other way is held to the size limit and the PII policy by the trigger check_written_event.';

COMMENT ON COLUMN telemetry.events.flags IS 'What ingest changed, as bits: 1 time in the future stored as received_at, 2 time corrected with sent_at, 4 members omitted, 8 x-pii rewrote properties, 16 a lone UTF-16 surrogate replaced, 32 undeclared personal data in properties redacted, hashed or dropped, 64 user_id stored as its keyed hash, 128 session_id likewise (docs/ingest.md, "Flags").';

-- 25_tenancy.sql: the admin level gains pii_policies and set_pii_policy().
CREATE OR REPLACE FUNCTION telemetry.access_privileges(access text)
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
        ('issuer', 'FUNCTION', 'tenant_token', 'EXECUTE'),
        ('token', 'FUNCTION', 'set_tenant', 'EXECUTE')
    ) AS p(part, kind, object, privilege) ON p.part OPERATOR(pg_catalog.=) l.part
    WHERE l.access OPERATOR(pg_catalog.=) access_privileges.access
$$;
COMMENT ON FUNCTION telemetry.access_privileges(text) IS
    'The SQL privileges an access level needs, which grant_tenant_access() grants and revoke_tenant_access() takes back: object_kind (TABLE or FUNCTION), object_name (in schema telemetry; a function name means all its forms) and privilege. Every level also gets USAGE on the schema.';

-- 40_pii.sql: the policy table, set_pii_policy() and the write-path trigger.
-- The policy for personal data found where the catalog declared none (docs/pii.md, "Policy").
-- A tenant needs no row: the default is redact, for every event type. Cached by every backend
-- (trigger pii_policies_changed).
CREATE TABLE telemetry.pii_policies (
    tenant_id       uuid        NOT NULL,
    event_type      text        NOT NULL DEFAULT '*',
    undeclared_pii  text        NOT NULL CHECK (undeclared_pii IN ('redact', 'hash', 'drop', 'reject', 'allow')),
    updated_at      timestamptz NOT NULL DEFAULT pg_catalog.now(),
    PRIMARY KEY (tenant_id, event_type)
);
COMMENT ON TABLE telemetry.pii_policies IS 'What ingest (track(), track_batch()) and the write-path trigger do with personal data the detectors find where the catalog declares none (no x-pii tag), and in user_id and session_id: one row per tenant for all its event types (event_type *), or for one type, which then wins. No row: redact. Change it with set_pii_policy(). Row-level security: a tenant''s admins read and change its rows.';
COMMENT ON COLUMN telemetry.pii_policies.tenant_id IS 'The tenant.';
COMMENT ON COLUMN telemetry.pii_policies.event_type IS 'The event type the row is for, or * for every type of the tenant without a row of its own.';
COMMENT ON COLUMN telemetry.pii_policies.undeclared_pii IS 'redact (keep the event, the value becomes [redacted:<detector>]), hash (a keyed hash h1:...), drop (remove the member), reject (refuse the event, 23514) or allow (store as sent, without looking). An id (user_id, session_id) is hashed under redact, hash and drop.';
COMMENT ON COLUMN telemetry.pii_policies.updated_at IS 'When the row was last set by set_pii_policy().';
SELECT pg_catalog.pg_extension_config_dump('telemetry.pii_policies', '');
CREATE TRIGGER pii_policies_changed
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON telemetry.pii_policies
    FOR EACH STATEMENT EXECUTE FUNCTION telemetry.table_changed();
ALTER TABLE telemetry.pii_policies ENABLE ALWAYS TRIGGER pii_policies_changed;

CREATE FUNCTION telemetry.set_pii_policy(tenant_id uuid, undeclared_pii text, event_type text DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF tenant_id IS NULL THEN
        RAISE EXCEPTION 'tenant_id must be given' USING ERRCODE = '22004';
    END IF;
    IF undeclared_pii IS NOT NULL AND undeclared_pii NOT IN ('redact', 'hash', 'drop', 'reject', 'allow') THEN
        RAISE EXCEPTION 'undeclared_pii must be one of redact, hash, drop, reject, allow'
            USING ERRCODE = '22023', HINT = 'NULL removes the setting: the default (redact, or the tenant''s * row) holds again.';
    END IF;
    IF event_type IS NOT NULL AND event_type OPERATOR(pg_catalog.!~) '^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$' THEN
        RAISE EXCEPTION 'event_type is not an event type name' USING ERRCODE = '22023';
    END IF;
    PERFORM telemetry.require_tenant_access(set_pii_policy.tenant_id, 'admin');
    IF undeclared_pii IS NULL THEN
        DELETE FROM telemetry.pii_policies p
        WHERE p.tenant_id OPERATOR(pg_catalog.=) set_pii_policy.tenant_id
          AND p.event_type OPERATOR(pg_catalog.=) coalesce(set_pii_policy.event_type, '*');
        RETURN;
    END IF;
    INSERT INTO telemetry.pii_policies AS p (tenant_id, event_type, undeclared_pii)
    VALUES (set_pii_policy.tenant_id, coalesce(set_pii_policy.event_type, '*'), set_pii_policy.undeclared_pii)
    ON CONFLICT ON CONSTRAINT pii_policies_pkey
    DO UPDATE SET undeclared_pii = excluded.undeclared_pii, updated_at = pg_catalog.now();
END
$$;
COMMENT ON FUNCTION telemetry.set_pii_policy(uuid, text, text) IS
    'Sets what happens to personal data found where the catalog declares none (docs/pii.md, "Policy"), for the tenant''s event type event_type, or for all its types (event_type NULL); undeclared_pii NULL removes the setting. Actions: redact (the default), hash, drop, reject, allow. Takes effect in every session from its next statement. For the tenant''s admins. Errors: NULL tenant_id (22004); an unknown action or a malformed type name (22023); no admin access (42501).';

-- The write-path trigger: every row a role writes to telemetry.events itself (INSERT, COPY,
-- INSERT ... ON CONFLICT DO UPDATE, UPDATE, MERGE) is held to the size limit and the PII policy.
-- On the partitioned table, so PostgreSQL clones it onto every partition, attached or to come.
CREATE FUNCTION telemetry.check_written_event()
RETURNS trigger
LANGUAGE c
AS 'MODULE_PATHNAME', 'telemetry_check_written_event';
COMMENT ON FUNCTION telemetry.check_written_event() IS
    'Internal trigger function: the BEFORE INSERT OR UPDATE row trigger of telemetry.events (docs/pii.md, "Every write path"). A row written outside track() and track_batch() must have object properties (22023); for a catalog type it holds no x-pii reject value (23514) and gets x-pii hash, redact and drop (a value already hashed or redacted is kept); properties nested too deep or with too many values to check are refused, whatever the type (23514). Then the tenant''s undeclared-PII policy (23514 under reject), and the type''s max_bytes (2048 for an unknown type) on the canonical form (54000); flags record what changed. An UPDATE of the ids alone (anonymize_user()) has only its ids checked. Errors name the JSON path and the detector, and hide the statement and the row from the server log. Passes rows unchanged while telemetry.restoring is on. Raises 39P01 when not called as such a trigger.';
CREATE TRIGGER check_written_event
    BEFORE INSERT OR UPDATE ON telemetry.events
    FOR EACH ROW EXECUTE FUNCTION telemetry.check_written_event();
COMMENT ON TRIGGER check_written_event ON telemetry.events IS
    'Holds every row written outside track() and track_batch() to the size limit and the PII policy (telemetry.check_written_event()).';

-- 45_pii_erasure.sql: erasure finds ids stored as their keyed hash.
CREATE FUNCTION telemetry.detected_id_hash(tenant_id uuid, user_id text)
RETURNS text
LANGUAGE c STABLE
AS 'MODULE_PATHNAME', 'telemetry_detected_id_hash';
COMMENT ON FUNCTION telemetry.detected_id_hash(uuid, text) IS
    'Internal, the owner''s only (a hash oracle): the keyed hash ingest stores a user_id as when the PII detectors flag it (docs/pii.md, "Policy"), or NULL when they find nothing; what erasure looks for besides the id as given.';

CREATE OR REPLACE FUNCTION telemetry.erase_user(p_tenant uuid, p_user_id text, p_kind text, p_user_hash text, p_key_id text,
                                     p_record boolean, p_received_before timestamptz)
RETURNS TABLE (events bigint, quarantined bigint, event_ids bigint, opt_outs bigint, rollup_days integer)
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    days date[];
    recomputed date[];
    today date := (pg_catalog.now() AT TIME ZONE 'UTC')::pg_catalog.date;
    n_events bigint := 0;
    n_quarantined bigint := 0;
    n_ids bigint := 0;
    n_opt_outs bigint := 0;
    pseudonym text;
    d date;
    -- The id as sent, and the keyed hash ingest stored instead when it showed personal data.
    hashed_form text := telemetry.detected_id_hash(p_tenant, p_user_id);
    forms text[] := ARRAY[p_user_id, hashed_form];
BEGIN
    -- Taken before any row is touched, as refresh_rollups() takes it: the cells recomputed
    -- below are never written by a refresh at the same time (and no wait can go round in a
    -- circle, since nothing is locked yet).
    PERFORM pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtext('telemetry.refresh_rollups'));
    IF p_kind OPERATOR(pg_catalog.=) 'forget' THEN
        WITH gone AS (
            DELETE FROM telemetry.events e
            WHERE e.tenant_id OPERATOR(pg_catalog.=) p_tenant AND e.user_id OPERATOR(pg_catalog.=) ANY (forms)
              AND (p_received_before IS NULL OR e.received_at OPERATOR(pg_catalog.<=) p_received_before)
            RETURNING e.event_id, e.occurred_at),
        held AS (
            DELETE FROM telemetry.quarantine q
            WHERE q.tenant_id OPERATOR(pg_catalog.=) p_tenant AND q.user_id OPERATOR(pg_catalog.=) ANY (forms)
              AND (p_received_before IS NULL OR q.received_at OPERATOR(pg_catalog.<=) p_received_before)
            RETURNING q.event_id),
        ids AS (
            DELETE FROM telemetry.event_ids i
            WHERE i.tenant_id OPERATOR(pg_catalog.=) p_tenant
              AND i.event_id OPERATOR(pg_catalog.=) ANY (ARRAY(SELECT g.event_id FROM gone g UNION SELECT h.event_id FROM held h))
            RETURNING 1)
        SELECT (SELECT pg_catalog.count(*) FROM gone), (SELECT pg_catalog.count(*) FROM held),
               (SELECT pg_catalog.count(*) FROM ids),
               (SELECT pg_catalog.array_agg(DISTINCT (g.occurred_at AT TIME ZONE 'UTC')::pg_catalog.date) FROM gone g)
        INTO n_events, n_quarantined, n_ids, days;
        DELETE FROM telemetry.opt_outs o
        WHERE o.tenant_id OPERATOR(pg_catalog.=) p_tenant AND o.user_id OPERATOR(pg_catalog.=) ANY (forms)
          AND (p_received_before IS NULL OR o.opted_out_at OPERATOR(pg_catalog.<=) p_received_before);
        GET DIAGNOSTICS n_opt_outs = ROW_COUNT;
    ELSE
        -- One pseudonym for all of the user's rows: their events stay one user to the counts,
        -- and nothing derives it from the id (random).
        pseudonym := 'anon:' OPERATOR(pg_catalog.||) pg_catalog.gen_random_uuid()::text;
        WITH renamed AS (
            UPDATE telemetry.events e SET user_id = pseudonym
            WHERE e.tenant_id OPERATOR(pg_catalog.=) p_tenant AND e.user_id OPERATOR(pg_catalog.=) ANY (forms)
              AND (p_received_before IS NULL OR e.received_at OPERATOR(pg_catalog.<=) p_received_before)
            RETURNING e.occurred_at)
        SELECT pg_catalog.count(*), pg_catalog.array_agg(DISTINCT (r.occurred_at AT TIME ZONE 'UTC')::pg_catalog.date)
        INTO n_events, days FROM renamed r;
        UPDATE telemetry.quarantine q SET user_id = pseudonym
        WHERE q.tenant_id OPERATOR(pg_catalog.=) p_tenant AND q.user_id OPERATOR(pg_catalog.=) ANY (forms)
          AND (p_received_before IS NULL OR q.received_at OPERATOR(pg_catalog.<=) p_received_before);
        GET DIAGNOSTICS n_quarantined = ROW_COUNT;
    END IF;
    -- The rollup cells of the user's rolled-up days, recomputed now from what remains, so the
    -- transaction that erases also corrects (exact counts and sketches). Only this tenant's
    -- days: the rest of the log is the worker's. A day older than the tenant's raw retention
    -- keeps its cells (nothing raw is left to recompute them from); the changes logged at commit
    -- make the next refresh recompute the same days again, which changes nothing.
    recomputed := ARRAY(
        SELECT x FROM pg_catalog.unnest(days) AS x
        WHERE x OPERATOR(pg_catalog.<) telemetry.rollup_watermark()
          AND NOT EXISTS (SELECT FROM telemetry.tenant_settings s
                          WHERE s.tenant_id OPERATOR(pg_catalog.=) p_tenant
                            AND x OPERATOR(pg_catalog.<) (today OPERATOR(pg_catalog.-) s.retention_days))
        ORDER BY x);
    FOREACH d IN ARRAY recomputed LOOP
        PERFORM telemetry.replace_rollup_cells(p_tenant, d, d, today, false);
    END LOOP;
    IF p_record THEN
        INSERT INTO telemetry.erasures (tenant_id, user_hash, key_id, kind, erased_by, events, quarantined, event_ids,
                                        opt_outs, rollup_days)
        VALUES (p_tenant, p_user_hash, p_key_id, p_kind, session_user, n_events, n_quarantined, n_ids, n_opt_outs,
                pg_catalog.cardinality(recomputed));
        -- A restore from an older backup finds the hashed form among stored ids: reapply_erasures()
        -- matches it by a ledger row of its own (its counts are on the row above).
        IF hashed_form IS NOT NULL THEN
            INSERT INTO telemetry.erasures (tenant_id, user_hash, key_id, kind, erased_by, events, quarantined,
                                            event_ids, opt_outs, rollup_days)
            VALUES (p_tenant, telemetry.erasure_hash(p_tenant, hashed_form), p_key_id, p_kind, session_user, 0, 0, 0, 0, 0);
        END IF;
    END IF;
    RETURN QUERY SELECT n_events, n_quarantined, n_ids, n_opt_outs, pg_catalog.cardinality(recomputed);
END
$$;

-- 70_observe.sql
-- What the policy for undeclared personal data did, since the server started.
CREATE FUNCTION telemetry.pii_counters()
RETURNS TABLE (detector text, action text, decisions bigint)
LANGUAGE c VOLATILE
AS 'MODULE_PATHNAME', 'telemetry_pii_counters';
COMMENT ON FUNCTION telemetry.pii_counters() IS
    'Values (and ids) the policy for undeclared personal data acted on since the server started, by detector (email, phone, ..., person_name) and action (redact, hash, drop, reject), one row per pair seen, from track(), track_batch() and the write-path trigger alike: for the whole server when the library is in shared_preload_libraries, else this backend''s own. Counted whether or not the transaction committed. Never a value.';

-- 85_tenancy_row_security.sql
ALTER TABLE telemetry.pii_policies ENABLE ROW LEVEL SECURITY;
ALTER TABLE telemetry.pii_policies FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_admin ON telemetry.pii_policies FOR ALL
    USING (tenant_id OPERATOR(pg_catalog.>=) (SELECT telemetry.tenant_scope_lower('admin'))
           AND tenant_id OPERATOR(pg_catalog.<=) (SELECT telemetry.tenant_scope_upper('admin'))
           AND ((SELECT telemetry.tenant_scope_is_range('admin'))
                OR tenant_id OPERATOR(pg_catalog.=) ANY ((SELECT telemetry.tenant_scope_members('admin'))::pg_catalog.uuid[])))
    WITH CHECK (tenant_id OPERATOR(pg_catalog.>=) (SELECT telemetry.tenant_scope_lower('admin'))
           AND tenant_id OPERATOR(pg_catalog.<=) (SELECT telemetry.tenant_scope_upper('admin'))
           AND ((SELECT telemetry.tenant_scope_is_range('admin'))
                OR tenant_id OPERATOR(pg_catalog.=) ANY ((SELECT telemetry.tenant_scope_members('admin'))::pg_catalog.uuid[])));
COMMENT ON POLICY tenant_admin ON telemetry.pii_policies IS 'A role reads and changes only the rows of the tenants it has admin access to (telemetry.tenant_access, or the token presented in the transaction).';

-- 90_privileges.sql: the new objects, revoked from PUBLIC, then what PUBLIC may call.
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA telemetry FROM PUBLIC;
REVOKE ALL ON ALL TABLES IN SCHEMA telemetry FROM PUBLIC;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA telemetry FROM PUBLIC;

-- The naming rule is harmless and is used by CHECK constraints, which need EXECUTE.
GRANT EXECUTE ON FUNCTION telemetry.valid_event_name(text) TO PUBLIC;
-- The default of the named text form of track() is evaluated as the caller: it returns NULL.
GRANT EXECUTE ON FUNCTION telemetry.unset_argument() TO PUBLIC;
-- The PII detectors over a document the caller gives: they read nothing else.
GRANT EXECUTE ON FUNCTION telemetry.pii_scan(jsonb) TO PUBLIC;
-- Row-level policies run as the querying role, and call these; each answers only about the
-- caller's own identity.
GRANT EXECUTE ON FUNCTION telemetry.tenant_scope_lower(text), telemetry.tenant_scope_upper(text),
                          telemetry.tenant_scope_is_range(text), telemetry.tenant_scope_members(text),
                          telemetry.current_tenant(), telemetry.current_access(),
                          telemetry.require_tenant_access(uuid, text) TO PUBLIC;

-- Roles granted a level before get what the level now includes.
SELECT telemetry.apply_access_privileges(r.oid::pg_catalog.regrole, a.access, true)
FROM telemetry.tenant_access a JOIN pg_catalog.pg_roles r ON r.rolname OPERATOR(pg_catalog.=) a.role_name
ORDER BY a.role_name, a.access;
