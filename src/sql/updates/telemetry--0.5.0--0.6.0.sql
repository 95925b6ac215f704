-- telemetry 0.5.0 -> 0.6.0: sessions(), daily_active_users() and the daily totals it reads,
-- stickiness() in a time zone, faster funnel() and retention(), pii_scan(), and GDPR erasure
-- (CHANGELOG.md).
-- Run by ALTER EXTENSION telemetry UPDATE TO '0.6.0'. test/t/008_upgrade.pl checks that the
-- result is what CREATE EXTENSION telemetry makes, object for object, and that data comes
-- through.
--
-- The objects new or changed since 0.5.0, as src/sql/ has them at 0.6.0, copied: an upgrade
-- script is frozen once released, while src/sql/ moves on. funnel() and retention() changed in
-- the library only (same SQL). Roles already granted a level get what it now includes.
-- telemetry.daily_totals starts from the rollups there are (users and sessions unknown: NULL,
-- the sketch the union of the day's), and every rolled-up day that still has raw events is
-- logged for the next maintenance run to recompute exactly.

-- 25_tenancy.sql: the read level includes sessions(), daily_active_users() and daily_totals.
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

-- 40_pii.sql: pii_scan(), the PII detectors over a document.
-- PII detection (docs/pii.md, "Detection"): what the detectors find in a document, never the
-- values; changes nothing. A DBA's audit of events stored before detection ran:
--   SELECT e.id, s.* FROM telemetry.events e, telemetry.pii_scan(e.properties) s
CREATE FUNCTION telemetry.pii_scan(properties jsonb)
RETURNS TABLE (path text, detector text)
LANGUAGE c STABLE STRICT PARALLEL SAFE
AS 'MODULE_PATHNAME', 'telemetry_pii_scan';
COMMENT ON FUNCTION telemetry.pii_scan(jsonb) IS
    'What the PII detectors find in a JSON document (docs/pii.md, "Detection"), without changing it and without showing any value: one row per JSON Pointer (RFC 6901, "/user/email"; "" is the root) and detector, in document order. Values (strings, and integral numbers as their digits) are scanned on a normalised copy (fullwidth forms folded, zero-width characters removed, percent-encoding decoded) by email, phone, payment_card (Luhn and card ranges), iban (mod 97 and country length), ip_address, us_ssn, jwt, private_key and api_key; keys by their names (case- and separator-insensitive): email, phone, payment_card, iban, ip_address, us_ssn, password, secret, person_name, street_address, birth_date. Nested objects and arrays are scanned within a budget (10,000 strings, 1 MiB): past it, or at a container too deep to read, a last row (the pointer where the scan stopped, scan_incomplete). A key that itself shows personal data is written ~redacted in the pointer. NULL: no rows. Granted to PUBLIC, since it reads only its argument: any role that may use the schema (any access level) may call it.';

-- 45_pii_erasure.sql: GDPR erasure, the ledger and its reapplication.
-- GDPR erasure (docs/pii.md, "Erasure"): forget_user() erases a user's events, quarantined
-- payloads, dedup entries and opt-out, and recomputes the rollup cells of their days from what
-- remains, in the caller's transaction; anonymize_user() keeps the events and the counts under
-- an unlinkable pseudonym. Both are checked as the caller (admin access to the tenant) and done
-- as the extension's owner (src/pg/pii/erasure.cpp). Each leaves a row in the erasure ledger,
-- with a keyed hash of the user id, never the id; reapply_erasures() applies the ledger again
-- to a database restored from a backup older than an erasure.

CREATE TABLE telemetry.erasures (
    id           bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id    uuid        NOT NULL,
    user_hash    text        NOT NULL,
    key_id       text        NOT NULL,
    kind         text        NOT NULL CHECK (kind OPERATOR(pg_catalog.=) ANY (ARRAY['forget', 'anonymize'])),
    erased_at    timestamptz NOT NULL DEFAULT pg_catalog.now(),
    erased_by    name        NOT NULL,
    events       bigint      NOT NULL,
    quarantined  bigint      NOT NULL,
    event_ids    bigint      NOT NULL,
    opt_outs     bigint      NOT NULL,
    rollup_days  integer     NOT NULL
);
CREATE INDEX erasures_tenant ON telemetry.erasures (tenant_id, user_hash);
COMMENT ON TABLE telemetry.erasures IS 'The erasure ledger: one row per forget_user() or anonymize_user(), with a keyed hash of the user id (never the id) and what was erased. Dumped with the data; after restoring a backup older than an erasure, copy the current ledger in and run telemetry.reapply_erasures() (resume_maintenance() does). Row-level security: a tenant''s admins read its rows.';
COMMENT ON COLUMN telemetry.erasures.id IS 'The erasure, in order.';
COMMENT ON COLUMN telemetry.erasures.tenant_id IS 'The tenant.';
COMMENT ON COLUMN telemetry.erasures.user_hash IS 'The user id''s keyed hash, as x-pii "hash" stores it (HMAC-SHA-256 with the tenant''s key: h1: and 22 characters).';
COMMENT ON COLUMN telemetry.erasures.key_id IS 'Which hashing key made user_hash (telemetry.erasure_key_id()); a row made with another key cannot be matched.';
COMMENT ON COLUMN telemetry.erasures.kind IS 'forget (erased) or anonymize (pseudonymized).';
COMMENT ON COLUMN telemetry.erasures.erased_at IS 'When.';
COMMENT ON COLUMN telemetry.erasures.erased_by IS 'The role that called (session_user).';
COMMENT ON COLUMN telemetry.erasures.events IS 'Events deleted (forget) or given the pseudonym (anonymize).';
COMMENT ON COLUMN telemetry.erasures.quarantined IS 'Quarantined payloads deleted or given the pseudonym.';
COMMENT ON COLUMN telemetry.erasures.event_ids IS 'Dedup ledger entries of those events and payloads deleted.';
COMMENT ON COLUMN telemetry.erasures.opt_outs IS 'Opt-out rows deleted (forget only).';
COMMENT ON COLUMN telemetry.erasures.rollup_days IS 'Rolled-up days whose cells were recomputed in the same transaction.';
SELECT pg_catalog.pg_extension_config_dump('telemetry.erasures', '');
SELECT pg_catalog.pg_extension_config_dump('telemetry.erasures_id_seq', '');
COMMENT ON SEQUENCE telemetry.erasures_id_seq IS 'The numbers of telemetry.erasures.id.';

CREATE FUNCTION telemetry.erasure_hash(tenant_id uuid, user_id text)
RETURNS text
LANGUAGE c STABLE
AS 'MODULE_PATHNAME', 'telemetry_erasure_hash';
COMMENT ON FUNCTION telemetry.erasure_hash(uuid, text) IS
    'Internal, the owner''s only (a hash oracle): the erasure ledger''s keyed hash of a user id.';
CREATE FUNCTION telemetry.erasure_key_id()
RETURNS text
LANGUAGE c STABLE
AS 'MODULE_PATHNAME', 'telemetry_erasure_key_id';
COMMENT ON FUNCTION telemetry.erasure_key_id() IS
    'Internal: which hashing key the erasure ledger''s hashes are made with now (8 bytes of an HMAC of a fixed label, hex; tells nothing of the key).';

-- The erasure itself, as the owner (forget_user() and anonymize_user() call it after checking
-- the caller; reapply_erasures() with record false and the ledger row's time as the cutoff).
CREATE FUNCTION telemetry.erase_user(p_tenant uuid, p_user_id text, p_kind text, p_user_hash text, p_key_id text,
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
BEGIN
    -- Taken before any row is touched, as refresh_rollups() takes it: the cells recomputed
    -- below are never written by a refresh at the same time (and no wait can go round in a
    -- circle, since nothing is locked yet).
    PERFORM pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtext('telemetry.refresh_rollups'));
    IF p_kind OPERATOR(pg_catalog.=) 'forget' THEN
        WITH gone AS (
            DELETE FROM telemetry.events e
            WHERE e.tenant_id OPERATOR(pg_catalog.=) p_tenant AND e.user_id OPERATOR(pg_catalog.=) p_user_id
              AND (p_received_before IS NULL OR e.received_at OPERATOR(pg_catalog.<=) p_received_before)
            RETURNING e.event_id, e.occurred_at),
        held AS (
            DELETE FROM telemetry.quarantine q
            WHERE q.tenant_id OPERATOR(pg_catalog.=) p_tenant AND q.user_id OPERATOR(pg_catalog.=) p_user_id
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
        WHERE o.tenant_id OPERATOR(pg_catalog.=) p_tenant AND o.user_id OPERATOR(pg_catalog.=) p_user_id
          AND (p_received_before IS NULL OR o.opted_out_at OPERATOR(pg_catalog.<=) p_received_before);
        GET DIAGNOSTICS n_opt_outs = ROW_COUNT;
    ELSE
        -- One pseudonym for all of the user's rows: their events stay one user to the counts,
        -- and nothing derives it from the id (random).
        pseudonym := 'anon:' OPERATOR(pg_catalog.||) pg_catalog.gen_random_uuid()::text;
        WITH renamed AS (
            UPDATE telemetry.events e SET user_id = pseudonym
            WHERE e.tenant_id OPERATOR(pg_catalog.=) p_tenant AND e.user_id OPERATOR(pg_catalog.=) p_user_id
              AND (p_received_before IS NULL OR e.received_at OPERATOR(pg_catalog.<=) p_received_before)
            RETURNING e.occurred_at)
        SELECT pg_catalog.count(*), pg_catalog.array_agg(DISTINCT (r.occurred_at AT TIME ZONE 'UTC')::pg_catalog.date)
        INTO n_events, days FROM renamed r;
        UPDATE telemetry.quarantine q SET user_id = pseudonym
        WHERE q.tenant_id OPERATOR(pg_catalog.=) p_tenant AND q.user_id OPERATOR(pg_catalog.=) p_user_id
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
    END IF;
    RETURN QUERY SELECT n_events, n_quarantined, n_ids, n_opt_outs, pg_catalog.cardinality(recomputed);
END
$$;
COMMENT ON FUNCTION telemetry.erase_user(uuid, text, text, text, text, boolean, timestamptz) IS
    'Internal, the owner''s only: the erasure that forget_user() (p_kind forget) and anonymize_user() (anonymize) run after checking the caller, and reapply_erasures() runs again (p_record false: no new ledger row; p_received_before: only rows received, or opt-outs made, by then).';

CREATE FUNCTION telemetry.forget_user(tenant_id uuid, user_id text)
RETURNS TABLE (events bigint, quarantined bigint, event_ids bigint, opt_outs bigint, rollup_days integer)
LANGUAGE c VOLATILE
AS 'MODULE_PATHNAME', 'telemetry_forget_user';
COMMENT ON FUNCTION telemetry.forget_user(uuid, text) IS
    'GDPR erasure (docs/pii.md, "Erasure"): deletes, in the caller''s transaction, every event of user_id in the tenant, its quarantined payloads, their dedup ledger entries (telemetry.event_ids) and its opt-out; recomputes the rollup cells (daily_rollups, daily_totals: exact counts and sketches) of its rolled-up days from what remains (days older than the tenant''s raw retention keep their cells); records a row in telemetry.erasures with a keyed hash of user_id, never the id. Returns what it erased: events, quarantined, event_ids, opt_outs, rollup_days. For the tenant''s admins (telemetry.tenant_access), done as the extension''s owner. Errors: NULL tenant_id or user_id (22004); no admin access (42501).';

CREATE FUNCTION telemetry.anonymize_user(tenant_id uuid, user_id text)
RETURNS TABLE (events bigint, quarantined bigint, event_ids bigint, opt_outs bigint, rollup_days integer)
LANGUAGE c VOLATILE
AS 'MODULE_PATHNAME', 'telemetry_anonymize_user';
COMMENT ON FUNCTION telemetry.anonymize_user(uuid, text) IS
    'GDPR pseudonymization (docs/pii.md, "Erasure"): keeps every event and quarantined payload of user_id in the tenant, and the counts, but replaces the id with one random pseudonym (anon: and a UUID, not derived from the id), in the caller''s transaction; recomputes the rollup cells of its rolled-up days (their sketches change); the opt-out is kept (it is the user''s choice, and holds no event); records a row in telemetry.erasures with a keyed hash of user_id. Returns events, quarantined, event_ids (0), opt_outs (0), rollup_days. For the tenant''s admins, done as the extension''s owner. Errors: NULL tenant_id or user_id (22004); no admin access (42501).';

-- The ledger again, after a restore: the rows of every user id whose keyed hash is in the
-- ledger, received before the erasure, are erased (or pseudonymized) again, without a new
-- ledger row. A user who came back after their erasure keeps what they sent since.
CREATE FUNCTION telemetry.reapply_erasures()
RETURNS TABLE (users bigint, events bigint, quarantined bigint, unmatched_key bigint)
LANGUAGE plpgsql VOLATILE
SECURITY DEFINER  -- the ledger and the erasure are the owner's; EXECUTE is the maintenance level's
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    key text := telemetry.erasure_key_id();
    found record;
    done record;
    touched boolean;
    n_users bigint := 0;
    n_events bigint := 0;
    n_quarantined bigint := 0;
    n_unmatched bigint;
BEGIN
    -- Each distinct user id of the tenants in the ledger, hashed once, with the last forget and
    -- the last anonymize of its hash: rows received by the forget go; of the rest, those
    -- received by the anonymize get a pseudonym.
    FOR found IN
        WITH ids AS (
            SELECT e.tenant_id, e.user_id FROM telemetry.events e
            WHERE e.user_id IS NOT NULL AND e.tenant_id IN (SELECT l.tenant_id FROM telemetry.erasures l)
            UNION
            SELECT q.tenant_id, q.user_id FROM telemetry.quarantine q
            WHERE q.user_id IS NOT NULL AND q.tenant_id IN (SELECT l.tenant_id FROM telemetry.erasures l)
            UNION
            SELECT o.tenant_id, o.user_id FROM telemetry.opt_outs o
            WHERE o.tenant_id IN (SELECT l.tenant_id FROM telemetry.erasures l)),
        hashed AS (
            SELECT i.tenant_id, i.user_id, telemetry.erasure_hash(i.tenant_id, i.user_id) AS user_hash FROM ids i)
        SELECT h.tenant_id, h.user_id, h.user_hash, m.forgotten_at, m.anonymized_at
        FROM hashed h
        JOIN LATERAL (
            SELECT pg_catalog.max(l.erased_at) FILTER (WHERE l.kind OPERATOR(pg_catalog.=) 'forget') AS forgotten_at,
                   pg_catalog.max(l.erased_at) FILTER (WHERE l.kind OPERATOR(pg_catalog.=) 'anonymize') AS anonymized_at
            FROM telemetry.erasures l
            WHERE l.tenant_id OPERATOR(pg_catalog.=) h.tenant_id AND l.user_hash OPERATOR(pg_catalog.=) h.user_hash
              AND l.key_id OPERATOR(pg_catalog.=) key) m ON true
        WHERE m.forgotten_at IS NOT NULL OR m.anonymized_at IS NOT NULL
    LOOP
        touched := false;
        IF found.forgotten_at IS NOT NULL THEN
            SELECT * INTO done FROM telemetry.erase_user(found.tenant_id, found.user_id, 'forget', found.user_hash, key,
                                                         false, found.forgotten_at);
            touched := done.events OPERATOR(pg_catalog.>) 0 OR done.quarantined OPERATOR(pg_catalog.>) 0
                       OR done.opt_outs OPERATOR(pg_catalog.>) 0;
            n_events := n_events OPERATOR(pg_catalog.+) done.events;
            n_quarantined := n_quarantined OPERATOR(pg_catalog.+) done.quarantined;
        END IF;
        IF found.anonymized_at IS NOT NULL THEN
            SELECT * INTO done FROM telemetry.erase_user(found.tenant_id, found.user_id, 'anonymize', found.user_hash,
                                                         key, false, found.anonymized_at);
            touched := touched OR done.events OPERATOR(pg_catalog.>) 0 OR done.quarantined OPERATOR(pg_catalog.>) 0;
            n_events := n_events OPERATOR(pg_catalog.+) done.events;
            n_quarantined := n_quarantined OPERATOR(pg_catalog.+) done.quarantined;
        END IF;
        IF touched THEN
            n_users := n_users OPERATOR(pg_catalog.+) 1;
        END IF;
    END LOOP;
    n_unmatched := (SELECT pg_catalog.count(*) FROM telemetry.erasures l WHERE l.key_id OPERATOR(pg_catalog.<>) key);
    IF n_unmatched OPERATOR(pg_catalog.>) 0 THEN
        RAISE WARNING '% erasure ledger rows were made with another hashing key and cannot be applied', n_unmatched
            USING HINT = 'Set telemetry.pii_hash_key to the key of the database they were made in (docs/operations.md), then run telemetry.reapply_erasures().';
    END IF;
    RETURN QUERY SELECT n_users, n_events, n_quarantined, n_unmatched;
END
$$;
COMMENT ON FUNCTION telemetry.reapply_erasures() IS
    'Applies the erasure ledger (telemetry.erasures) again: the rows of every user id in the events, quarantine or opt-outs of a tenant whose keyed hash a ledger row holds, received (or opted out) by the last forget of that hash, are erased; of the rest, those received by its last anonymize get a pseudonym; rollups corrected; no new ledger row. For a database restored from a backup older than an erasure: copy the current ledger in, then run it (resume_maintenance() does). Returns the users, events and quarantined payloads it erased or pseudonymized again, and unmatched_key: ledger rows made with another hashing key, which it cannot match (a WARNING says so: keep telemetry.pii_hash_key across restores, docs/operations.md). Maintenance level.';

-- 50_rollup.sql: the daily totals, kept by the refresh with the cells.
DO $$
DECLARE
    hll_schema name := (SELECT n.nspname FROM pg_catalog.pg_extension x
                        JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) x.extnamespace
                        WHERE x.extname OPERATOR(pg_catalog.=) 'hll');
BEGIN
    EXECUTE pg_catalog.format($sql$
        CREATE TABLE telemetry.daily_totals (
            tenant_id     uuid        NOT NULL,
            day           date        NOT NULL,
            events        numeric     NOT NULL,
            raw_events    bigint      NOT NULL,
            users         bigint,
            users_hll     %1$I.hll(15, 5) NOT NULL,
            sessions      bigint,
            refreshed_at  timestamptz NOT NULL,
            PRIMARY KEY (tenant_id, day)
        )$sql$, hll_schema);
END
$$;
-- The same, over every event type: daily active users exactly, without adding up types (a user
-- active in two types is one user).
CREATE INDEX daily_totals_day ON telemetry.daily_totals (day);
COMMENT ON TABLE telemetry.daily_totals IS 'Daily rollups of telemetry.events per tenant and UTC day over every event type (daily active users), kept with telemetry.daily_rollups by the same refresh, for the same days and with the same retention. Row-level security: a role reads the rows of the tenants it has read access to.';
COMMENT ON COLUMN telemetry.daily_totals.tenant_id IS 'The tenant.';
COMMENT ON COLUMN telemetry.daily_totals.day IS 'The UTC day of occurred_at.';
COMMENT ON COLUMN telemetry.daily_totals.events IS 'Events of every type, weighted: the sum of sample_weight.';
COMMENT ON COLUMN telemetry.daily_totals.raw_events IS 'Events stored, unweighted.';
COMMENT ON COLUMN telemetry.daily_totals.users IS 'Exact count of distinct non-NULL user_id that day, over every event type (the daily active users). NULL for a day rolled up before 0.6.0 whose raw events were gone when it was upgraded (users_hll estimates it).';
COMMENT ON COLUMN telemetry.daily_totals.users_hll IS 'HyperLogLog sketch of the day''s user_id over every event type (as daily_rollups.users_hll).';
COMMENT ON COLUMN telemetry.daily_totals.sessions IS 'Exact count of distinct non-NULL session_id that day; NULL as users.';
COMMENT ON COLUMN telemetry.daily_totals.refreshed_at IS 'When the row was last computed.';
SELECT pg_catalog.pg_extension_config_dump('telemetry.daily_totals', '');

-- Replaces the rollup cells and daily totals of a tenant's days (p_tenant NULL: every tenant)
-- with what the events give now: for each range refresh_rollups() takes from the log, and for
-- the days of a user erase_user() erased. A day older than its tenant's own, shorter retention
-- (tenant_settings.retention_days) is frozen for that tenant and stays as it is, unless it is
-- being closed (p_closed: materialized for the first time). Returns the cells written.
CREATE FUNCTION telemetry.replace_rollup_cells(p_tenant uuid, p_first_day date, p_last_day date, p_today date,
                                               p_closed boolean)
RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    hll_schema name := (SELECT n.nspname FROM pg_catalog.pg_extension x
                        JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) x.extnamespace
                        WHERE x.extname OPERATOR(pg_catalog.=) 'hll');
    n bigint;
BEGIN
    DELETE FROM telemetry.daily_rollups r
    WHERE r.day OPERATOR(pg_catalog.>=) p_first_day AND r.day OPERATOR(pg_catalog.<=) p_last_day
      AND (p_tenant IS NULL OR r.tenant_id OPERATOR(pg_catalog.=) p_tenant)
      AND (p_closed OR NOT EXISTS (
              SELECT FROM telemetry.tenant_settings s
              WHERE s.tenant_id OPERATOR(pg_catalog.=) r.tenant_id
                AND r.day OPERATOR(pg_catalog.<) (p_today OPERATOR(pg_catalog.-) s.retention_days)));
    DELETE FROM telemetry.daily_totals r
    WHERE r.day OPERATOR(pg_catalog.>=) p_first_day AND r.day OPERATOR(pg_catalog.<=) p_last_day
      AND (p_tenant IS NULL OR r.tenant_id OPERATOR(pg_catalog.=) p_tenant)
      AND (p_closed OR NOT EXISTS (
              SELECT FROM telemetry.tenant_settings s
              WHERE s.tenant_id OPERATOR(pg_catalog.=) r.tenant_id
                AND r.day OPERATOR(pg_catalog.<) (p_today OPERATOR(pg_catalog.-) s.retention_days)));
    -- One read of the days' events for both tables: the cells per event type, and the
    -- totals per day (grouping sets: GROUPING(name) is 1 on the totals).
    EXECUTE pg_catalog.format($sql$
        WITH cells AS (
            SELECT e.tenant_id, (e.occurred_at AT TIME ZONE 'UTC')::pg_catalog.date AS day, e.name,
                   GROUPING(e.name) AS all_types,
                   pg_catalog.sum(e.sample_weight::pg_catalog.numeric) AS events, pg_catalog.count(*) AS raw_events,
                   pg_catalog.count(DISTINCT e.user_id) AS users,
                   coalesce(%1$I.hll_add_agg(%1$I.hll_hash_text(e.user_id), 15, 5), %1$I.hll_empty(15, 5)) AS users_hll,
                   pg_catalog.count(DISTINCT e.session_id) AS sessions
            FROM telemetry.events e
            LEFT JOIN telemetry.tenant_settings s ON s.tenant_id OPERATOR(pg_catalog.=) e.tenant_id
            WHERE e.occurred_at OPERATOR(pg_catalog.>=) ($1::pg_catalog.timestamp AT TIME ZONE 'UTC')
              AND e.occurred_at OPERATOR(pg_catalog.<) (($2 OPERATOR(pg_catalog.+) 1)::pg_catalog.timestamp AT TIME ZONE 'UTC')
              AND ($3::pg_catalog.uuid IS NULL OR e.tenant_id OPERATOR(pg_catalog.=) $3)
              AND ($5 OR s.retention_days IS NULL OR e.occurred_at OPERATOR(pg_catalog.>=)
                  (($4 OPERATOR(pg_catalog.-) s.retention_days)::pg_catalog.timestamp AT TIME ZONE 'UTC'))
            GROUP BY GROUPING SETS ((1, 2, e.name), (1, 2))),
        typed AS (
            INSERT INTO telemetry.daily_rollups
                (tenant_id, day, name, events, raw_events, users, users_hll, sessions, refreshed_at)
            SELECT c.tenant_id, c.day, c.name, c.events, c.raw_events, c.users, c.users_hll, c.sessions,
                   pg_catalog.now()
            FROM cells c WHERE c.all_types OPERATOR(pg_catalog.=) 0
            RETURNING 1),
        totals AS (
            INSERT INTO telemetry.daily_totals
                (tenant_id, day, events, raw_events, users, users_hll, sessions, refreshed_at)
            SELECT c.tenant_id, c.day, c.events, c.raw_events, c.users, c.users_hll, c.sessions, pg_catalog.now()
            FROM cells c WHERE c.all_types OPERATOR(pg_catalog.=) 1
            RETURNING 1)
        -- (a data-modifying WITH runs to completion whether read or not)
        SELECT pg_catalog.count(*) FROM typed$sql$,
        hll_schema)
    INTO n
    USING p_first_day, p_last_day, p_tenant, p_today, p_closed;
    RETURN n;
END
$$;
COMMENT ON FUNCTION telemetry.replace_rollup_cells(uuid, date, date, date, boolean) IS
    'Internal (the owner''s): replaces the daily_rollups cells and daily_totals rows of a tenant''s days (NULL: every tenant) in [p_first_day, p_last_day] with what telemetry.events gives now; a day older than the tenant''s own retention at p_today is kept unless p_closed. For refresh_rollups() and erase_user(). Returns the cells written.';

CREATE OR REPLACE FUNCTION telemetry.refresh_rollups(p_now timestamptz DEFAULT pg_catalog.now(), p_max_days integer DEFAULT 100)
RETURNS bigint
LANGUAGE plpgsql
SECURITY DEFINER  -- maintenance access; rollups and the log belong to the owner
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    threshold date;
    oldest_partition date := (SELECT pg_catalog.min(p.day) FROM telemetry.partitions() p);
    today date;
    budget integer := p_max_days;
    covered pg_catalog.datemultirange := '{}';
    new_days integer;
    range record;
    first_day date;
    last_day date;
    written bigint := 0;
    n bigint;
BEGIN
    IF p_now IS NULL OR NOT pg_catalog.isfinite(p_now) THEN
        RAISE EXCEPTION 'p_now must be a finite timestamp' USING ERRCODE = '22008';
    END IF;
    IF p_max_days IS NULL OR p_max_days OPERATOR(pg_catalog.<) 1 THEN
        RAISE EXCEPTION 'p_max_days must be at least 1' USING ERRCODE = '22023';
    END IF;
    IF EXISTS (SELECT FROM telemetry.rollup_state s
               WHERE s.xmin OPERATOR(pg_catalog.=) pg_catalog.xid(pg_catalog.pg_current_xact_id_if_assigned())) THEN
        RAISE EXCEPTION 'the rollup threshold moved in this transaction: commit before refresh_rollups()'
            USING ERRCODE = '55000',
                  DETAIL = 'Writers that read the old threshold are waited for only once the new one is committed.';
    END IF;
    -- One refresher at a time.
    PERFORM pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtext('telemetry.refresh_rollups'));
    SELECT s.threshold INTO threshold FROM telemetry.rollup_state s;
    IF threshold IS NULL THEN
        RETURN 0;
    END IF;
    today := (p_now AT TIME ZONE 'UTC')::pg_catalog.date;
    -- Days newly closed may have writers in flight that read the old threshold and logged
    -- nothing: wait for them to end. Every later statement here has a newer snapshot, which
    -- sees what they committed (READ COMMITTED, checked by the wait).
    IF EXISTS (SELECT FROM telemetry.rollup_invalidations i WHERE i.reason OPERATOR(pg_catalog.=) 'closed') THEN
        PERFORM telemetry.wait_for_event_writers();
    END IF;
    -- Take the log as this snapshot sees it, merged per tenant (NULL: every tenant), and cut to
    -- the days that can be recomputed: closed, and with a partition (a day without one is
    -- frozen: its events are gone; retention drops no partition with logged days).
    FOR range IN
        WITH taken AS (
            DELETE FROM telemetry.rollup_invalidations i RETURNING i.tenant_id, i.first_day, i.last_day, i.reason),
        cut AS (
            SELECT t.tenant_id, t.reason OPERATOR(pg_catalog.=) 'closed' AS closed,
                   GREATEST(t.first_day, oldest_partition) AS first_day,
                   LEAST(t.last_day, threshold OPERATOR(pg_catalog.-) 1) AS last_day
            FROM taken t)
        SELECT c.tenant_id, c.closed,
               pg_catalog.unnest(pg_catalog.range_agg(pg_catalog.daterange(c.first_day, c.last_day, '[]'))) AS days
        FROM cut c
        WHERE c.first_day OPERATOR(pg_catalog.<=) c.last_day
        GROUP BY c.tenant_id, c.closed
        ORDER BY 3
    LOOP
        first_day := pg_catalog.lower(range.days);
        last_day := pg_catalog.upper(range.days) OPERATOR(pg_catalog.-) 1;
        -- The budget counts distinct days (a day of every tenant costs about what the same day
        -- of each tenant in turn does): what is over it goes back into the log, for the next call.
        new_days := (SELECT coalesce(pg_catalog.sum(pg_catalog.upper(x) OPERATOR(pg_catalog.-) pg_catalog.lower(x)), 0)
                     FROM pg_catalog.unnest(pg_catalog.datemultirange(range.days) OPERATOR(pg_catalog.-) covered) AS x);
        IF new_days OPERATOR(pg_catalog.>) budget THEN
            IF budget OPERATOR(pg_catalog.<) 1 THEN
                INSERT INTO telemetry.rollup_invalidations (tenant_id, first_day, last_day, reason)
                VALUES (range.tenant_id, first_day, last_day, CASE WHEN range.closed THEN 'closed' ELSE 'manual' END);
                CONTINUE;
            END IF;
            INSERT INTO telemetry.rollup_invalidations (tenant_id, first_day, last_day, reason)
            VALUES (range.tenant_id, first_day OPERATOR(pg_catalog.+) budget, last_day,
                    CASE WHEN range.closed THEN 'closed' ELSE 'manual' END);
            last_day := first_day OPERATOR(pg_catalog.+) budget OPERATOR(pg_catalog.-) 1;
        END IF;
        new_days := (SELECT coalesce(pg_catalog.sum(pg_catalog.upper(x) OPERATOR(pg_catalog.-) pg_catalog.lower(x)), 0)
                     FROM pg_catalog.unnest(pg_catalog.datemultirange(pg_catalog.daterange(first_day, last_day, '[]'))
                                            OPERATOR(pg_catalog.-) covered) AS x);
        budget := budget OPERATOR(pg_catalog.-) new_days;
        covered := covered OPERATOR(pg_catalog.+) pg_catalog.datemultirange(pg_catalog.daterange(first_day, last_day, '[]'));
        -- Replace the cells of those days (frozen days kept).
        n := telemetry.replace_rollup_cells(range.tenant_id, first_day, last_day, today, range.closed);
        written := written OPERATOR(pg_catalog.+) n;
    END LOOP;
    RETURN written;
END
$$;
COMMENT ON FUNCTION telemetry.refresh_rollups(timestamptz, integer) IS
    'Maintenance step: recomputes the rollup cells telemetry.rollup_invalidations names (merged per tenant; at most p_max_days distinct days per call, the rest stays logged) from telemetry.events, and returns how many cells it wrote. Days not yet closed and days without a partition are dropped from the log and left as they are; so are, for a change logged after they were materialized, days older than their tenant''s own retention (tenant_settings.retention_days) at p_now (frozen). When days were just closed it first waits for the writers in flight. Errors: p_now NULL or infinite (22008); p_max_days below 1 (22023); the threshold moved in this transaction, or days just closed under an isolation level above READ COMMITTED (55000); writers holding on past lock_timeout (55P03).';

-- 60_worker.sql: rollup retention drops the totals too; resume_maintenance() applies the
-- erasure ledger again.
CREATE OR REPLACE FUNCTION telemetry.drop_expired_rollups(p_now timestamptz DEFAULT pg_catalog.now(),
                                               p_batch_size integer DEFAULT 100000)
RETURNS bigint
LANGUAGE plpgsql
SECURITY DEFINER  -- every tenant's rollups
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    horizon date;
    n bigint;
BEGIN
    IF p_now IS NULL OR NOT pg_catalog.isfinite(p_now) THEN
        RAISE EXCEPTION 'p_now must be a finite timestamp' USING ERRCODE = '22008';
    END IF;
    IF p_batch_size IS NULL OR p_batch_size OPERATOR(pg_catalog.<) 1 THEN
        RAISE EXCEPTION 'p_batch_size must be at least 1' USING ERRCODE = '22023';
    END IF;
    horizon := (p_now AT TIME ZONE 'UTC')::pg_catalog.date OPERATOR(pg_catalog.-)
               coalesce(pg_catalog.current_setting('telemetry.rollup_retention_days', true)::integer, 730);
    DELETE FROM telemetry.daily_rollups r
    WHERE (r.tenant_id, r.day, r.name) IN (
        SELECT x.tenant_id, x.day, x.name FROM telemetry.daily_rollups x
        WHERE x.day OPERATOR(pg_catalog.<) horizon ORDER BY x.day LIMIT p_batch_size);
    GET DIAGNOSTICS n = ROW_COUNT;
    -- The days' totals go with their cells: those of days without a cell left.
    DELETE FROM telemetry.daily_totals t
    WHERE (t.tenant_id, t.day) IN (
        SELECT x.tenant_id, x.day FROM telemetry.daily_totals x
        WHERE x.day OPERATOR(pg_catalog.<) horizon
          AND NOT EXISTS (SELECT FROM telemetry.daily_rollups r
                          WHERE r.tenant_id OPERATOR(pg_catalog.=) x.tenant_id AND r.day OPERATOR(pg_catalog.=) x.day)
        ORDER BY x.day LIMIT p_batch_size);
    RETURN n;
END
$$;
COMMENT ON FUNCTION telemetry.drop_expired_rollups(timestamptz, integer) IS
    'Maintenance step (rollup retention): deletes at most p_batch_size rollup cells of days more than telemetry.rollup_retention_days (default 730) before p_now''s UTC day, oldest first, and returns how many; and the daily totals of those days once their cells are gone. Errors: p_now NULL or infinite (22008); p_batch_size below 1 (22023).';

CREATE OR REPLACE FUNCTION telemetry.resume_maintenance()
RETURNS integer
LANGUAGE sql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    -- The erasure ledger first: a backup older than an erasure brought the user back.
    SELECT telemetry.reapply_erasures();
    WITH resumed AS (
        UPDATE telemetry.maintenance_steps s SET next_attempt_at = NULL, last_message = NULL
        WHERE s.next_attempt_at OPERATOR(pg_catalog.=) 'infinity'
        RETURNING 1)
    SELECT pg_catalog.count(*)::integer FROM resumed
$$;
COMMENT ON FUNCTION telemetry.resume_maintenance() IS
    'Lets the maintenance steps run again after a restore (CREATE EXTENSION under telemetry.restoring = on pauses them, so that the worker makes no partition or rollup state the dump brings), after applying the erasure ledger again (reapply_erasures(): a backup older than an erasure brings the user back); returns how many steps were paused. For maintenance access.';

-- 65_analytics.sql: rollup_split(), which event_counts(), unique_users() (now from the daily
-- totals for every type) and daily_active_users() share; stickiness() takes a time zone (a new
-- argument with a default: a new signature, so the old one goes).
-- How a function splits ["from", "to") between the rollups and the raw events: the whole UTC
-- days of the range whose rollups are exact (rollup_exact_days(); none unless use_rollups), and
-- the spans of time left, for the raw events. Called in the calling function's query, so read in
-- its snapshot with the rollups and the events (a STABLE function sees the caller's snapshot).
CREATE FUNCTION telemetry.rollup_split("from" timestamptz, "to" timestamptz, use_rollups boolean)
RETURNS TABLE (rollup_days pg_catalog.datemultirange, raw_spans pg_catalog.tstzmultirange)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    WITH first AS (
        -- The first UTC day that starts at or after "from".
        SELECT CASE WHEN ((("from" AT TIME ZONE 'UTC')::pg_catalog.date)::pg_catalog.timestamp AT TIME ZONE 'UTC')
                         OPERATOR(pg_catalog.<) "from"
                    THEN ("from" AT TIME ZONE 'UTC')::pg_catalog.date OPERATOR(pg_catalog.+) 1
                    ELSE ("from" AT TIME ZONE 'UTC')::pg_catalog.date END AS day),
    served AS (
        SELECT CASE WHEN use_rollups AND "from" OPERATOR(pg_catalog.<) "to"
                    THEN telemetry.rollup_exact_days() OPERATOR(pg_catalog.*)
                         pg_catalog.datemultirange(pg_catalog.daterange(f.day, GREATEST(("to" AT TIME ZONE 'UTC')::pg_catalog.date, f.day)))
                    ELSE '{}'::pg_catalog.datemultirange END AS days
        FROM first f)
    SELECT s.days,
           pg_catalog.tstzmultirange(pg_catalog.tstzrange("from", "to"))
           OPERATOR(pg_catalog.-)
           coalesce((SELECT pg_catalog.range_agg(pg_catalog.tstzrange(
                                pg_catalog.lower(d.days)::pg_catalog.timestamp AT TIME ZONE 'UTC',
                                pg_catalog.upper(d.days)::pg_catalog.timestamp AT TIME ZONE 'UTC'))
                     FROM pg_catalog.unnest(s.days) AS d(days)),
                    '{}'::pg_catalog.tstzmultirange)
    FROM served s
$$;
COMMENT ON FUNCTION telemetry.rollup_split(timestamptz, timestamptz, boolean) IS
    'Internal, for the analytics functions that read rollups: one row, rollup_days (the whole UTC days of ["from", "to") that rollup_exact_days() holds; empty unless use_rollups) and raw_spans (the rest of the range, for the raw events). Call it in the same query as the rollups and the events (one snapshot).';

CREATE OR REPLACE FUNCTION telemetry.event_counts(tenant_id uuid, "from" timestamptz, "to" timestamptz,
                                       bucket text DEFAULT 'day', names text[] DEFAULT NULL,
                                       tz text DEFAULT 'UTC')
RETURNS TABLE (bucket_start timestamptz, name text, events numeric, users bigint)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
-- The raw part's spans are known only at run time (partitions pruned then), so the plan's
-- estimates are loose and would make JIT compile for seconds what runs in milliseconds.
SET jit = off
AS $$
#variable_conflict use_column
DECLARE
    starts timestamptz[];
    use_rollups boolean;
BEGIN
    PERFORM telemetry.require_tenant_access(event_counts.tenant_id, 'read');
    IF "from" IS NULL OR "to" IS NULL OR NOT pg_catalog.isfinite("from") OR NOT pg_catalog.isfinite("to") THEN
        RAISE EXCEPTION '"from" and "to" must be finite timestamps' USING ERRCODE = '22023';
    END IF;
    IF "from" OPERATOR(pg_catalog.>) "to" THEN
        RAISE EXCEPTION '"from" must not be after "to"' USING ERRCODE = '22023';
    END IF;
    IF pg_catalog.array_position(event_counts.names, NULL) IS NOT NULL THEN
        RAISE EXCEPTION 'names must not contain NULL' USING ERRCODE = '22004';
    END IF;
    -- Checks bucket and tz (22023) and the number of buckets (54000).
    starts := ARRAY(SELECT b.bucket_start FROM telemetry.calendar_buckets("from", "to", event_counts.bucket, event_counts.tz) b);
    -- Rollups are UTC days: they answer day buckets in UTC, for the days the range holds whole.
    use_rollups := event_counts.bucket OPERATOR(pg_catalog.=) 'day'
                   AND pg_catalog.lower(event_counts.tz) OPERATOR(pg_catalog.=) ANY
                       (ARRAY['utc', 'etc/utc', 'uct', 'etc/uct', 'zulu', 'etc/zulu', 'universal', 'etc/universal']);
    -- One query, so one snapshot: the watermark, the log, the rollups and the raw events.
    RETURN QUERY
    WITH split AS (
        SELECT * FROM telemetry.rollup_split("from", "to", use_rollups)),
    raw_spans AS (
        SELECT r.span FROM split, pg_catalog.unnest(split.raw_spans) AS r(span)),
    counted AS (
        SELECT pg_catalog.date_trunc(event_counts.bucket, e.occurred_at, event_counts.tz) AS bucket_start, e.name,
               pg_catalog.sum(e.sample_weight::pg_catalog.numeric) AS events,
               pg_catalog.count(DISTINCT e.user_id) AS users
        FROM raw_spans r
        JOIN telemetry.events e
          ON e.occurred_at OPERATOR(pg_catalog.>=) pg_catalog.lower(r.span)
         AND e.occurred_at OPERATOR(pg_catalog.<) pg_catalog.upper(r.span)
        WHERE e.tenant_id OPERATOR(pg_catalog.=) event_counts.tenant_id
          AND (event_counts.names IS NULL OR e.name OPERATOR(pg_catalog.=) ANY (event_counts.names))
        GROUP BY 1, 2
        UNION ALL
        SELECT d.day::pg_catalog.timestamp AT TIME ZONE 'UTC', d.name, d.events, d.users
        FROM split s
        JOIN telemetry.daily_rollups d ON s.rollup_days OPERATOR(pg_catalog.@>) d.day
        WHERE d.tenant_id OPERATOR(pg_catalog.=) event_counts.tenant_id
          AND d.day OPERATOR(pg_catalog.>=) pg_catalog.lower(s.rollup_days)
          AND d.day OPERATOR(pg_catalog.<) pg_catalog.upper(s.rollup_days)
          AND (event_counts.names IS NULL OR d.name OPERATOR(pg_catalog.=) ANY (event_counts.names))),
    cell_names AS (
        SELECT n.name FROM pg_catalog.unnest(event_counts.names) AS n(name)
        UNION
        SELECT c.name FROM counted c WHERE event_counts.names IS NULL)
    SELECT b.bucket_start, n.name, coalesce(c.events, 0::pg_catalog.numeric), coalesce(c.users, 0::bigint)
    FROM pg_catalog.unnest(starts) AS b(bucket_start)
    CROSS JOIN cell_names n
    LEFT JOIN counted c ON c.bucket_start OPERATOR(pg_catalog.=) b.bucket_start AND c.name OPERATOR(pg_catalog.=) n.name
    ORDER BY 1, n.name COLLATE "C";
END
$$;
COMMENT ON FUNCTION telemetry.event_counts(uuid, timestamptz, timestamptz, text, text[], text) IS
    'Events and distinct users per calendar bucket and event type, by the counting rules of FUNNELS.md (Engagement, event_counts): the events of tenant_id with occurred_at in ["from", "to") (a bucket the range cuts counts only the events inside), bucket hour, day, week or month in the time zone tz (default UTC; ISO weeks start on Monday, DST days have 23 or 25 hours, the repeated hour is two buckets; see calendar_buckets()); names: the event types to count (NULL: every type with an event in the range; no NULL element). One row per bucket and type, zero rows included (for every type with an event in the range, or every type asked for), ordered by bucket_start, then name in byte order: bucket_start (the instant the bucket starts, maybe before "from"), name, events (the sum of sample_weight: sampled events scaled back) and users (distinct non-NULL user_id, not scaled). Equal to a GROUP BY over the raw events: day buckets in UTC take the days the range holds whole, before the rollup watermark and without a pending invalidation, from telemetry.daily_rollups, read in the same snapshot as the raw events of the rest. Errors: NULL tenant_id, or NULL in names (22004); no read access to the tenant (42501); a bound NULL or not finite, "from" after "to", an unknown bucket, tz NULL or unknown (22023); more than 10,000 buckets (54000).';

CREATE OR REPLACE FUNCTION telemetry.unique_users(tenant_id uuid, "from" timestamptz, "to" timestamptz,
                                       names text[] DEFAULT NULL, exact boolean DEFAULT false)
RETURNS SETOF telemetry.unique_users_result
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
-- The raw part's spans are known only at run time (partitions pruned then), so the plan's
-- estimates are loose and would make JIT compile for seconds what runs in milliseconds.
SET jit = off
AS $$
#variable_conflict use_column
DECLARE
    hll_schema name;
    oldest timestamptz;
BEGIN
    PERFORM telemetry.require_tenant_access(unique_users.tenant_id, 'read');
    IF "from" IS NULL OR "to" IS NULL OR NOT pg_catalog.isfinite("from") OR NOT pg_catalog.isfinite("to") THEN
        RAISE EXCEPTION '"from" and "to" must be finite timestamps' USING ERRCODE = '22023';
    END IF;
    IF "from" OPERATOR(pg_catalog.>) "to" THEN
        RAISE EXCEPTION '"from" must not be after "to"' USING ERRCODE = '22023';
    END IF;
    IF unique_users.exact IS NULL THEN
        RAISE EXCEPTION 'exact must be true or false' USING ERRCODE = '22023';
    END IF;
    IF pg_catalog.array_position(unique_users.names, NULL) IS NOT NULL THEN
        RAISE EXCEPTION 'names must not contain NULL' USING ERRCODE = '22004';
    END IF;
    oldest := (SELECT pg_catalog.min(p.lower_bound) FROM telemetry.partitions() p);
    -- Exact when asked, or when it is cheap and complete: a month or less, all of it in raw
    -- events (from the oldest partition on).
    IF unique_users.exact
       OR (("to" OPERATOR(pg_catalog.-) "from") OPERATOR(pg_catalog.<=) interval '31 days'
           AND "from" OPERATOR(pg_catalog.>=) oldest) THEN
        RETURN QUERY
        SELECT pg_catalog.count(DISTINCT e.user_id), true
        FROM telemetry.events e
        WHERE e.tenant_id OPERATOR(pg_catalog.=) unique_users.tenant_id
          AND e.occurred_at OPERATOR(pg_catalog.>=) "from" AND e.occurred_at OPERATOR(pg_catalog.<) "to"
          AND (unique_users.names IS NULL OR e.name OPERATOR(pg_catalog.=) ANY (unique_users.names));
        RETURN;
    END IF;
    -- Else the union of HyperLogLog sketches (hll(15, 5), as the rollups'): the daily sketches
    -- of the whole UTC days with exact rollups, and sketches of the raw events of the rest.
    -- The hll functions are named by the schema of the extension (never searched).
    hll_schema := (SELECT ns.nspname FROM pg_catalog.pg_extension x
                   JOIN pg_catalog.pg_namespace ns ON ns.oid OPERATOR(pg_catalog.=) x.extnamespace
                   WHERE x.extname OPERATOR(pg_catalog.=) 'hll');
    IF hll_schema IS NULL THEN
        RAISE EXCEPTION 'the hll extension is not installed' USING ERRCODE = '55000';
    END IF;
    RETURN QUERY EXECUTE pg_catalog.format($sql$
        WITH split AS (
            SELECT * FROM telemetry.rollup_split($2, $3, true)),
        raw_spans AS (
            SELECT r.span FROM split, pg_catalog.unnest(split.raw_spans) AS r(span)),
        sketches AS (
            -- Of every type: one sketch a day, the daily totals'; else the named types' cells.
            SELECT d.users_hll AS sketch
            FROM split s
            JOIN telemetry.daily_totals d ON s.rollup_days OPERATOR(pg_catalog.@>) d.day
            WHERE $4::text[] IS NULL AND d.tenant_id OPERATOR(pg_catalog.=) $1
              AND d.day OPERATOR(pg_catalog.>=) pg_catalog.lower(s.rollup_days)
              AND d.day OPERATOR(pg_catalog.<) pg_catalog.upper(s.rollup_days)
            UNION ALL
            SELECT d.users_hll AS sketch
            FROM split s
            JOIN telemetry.daily_rollups d ON s.rollup_days OPERATOR(pg_catalog.@>) d.day
            WHERE $4::text[] IS NOT NULL AND d.tenant_id OPERATOR(pg_catalog.=) $1
              AND d.day OPERATOR(pg_catalog.>=) pg_catalog.lower(s.rollup_days)
              AND d.day OPERATOR(pg_catalog.<) pg_catalog.upper(s.rollup_days)
              AND d.name OPERATOR(pg_catalog.=) ANY ($4::text[])
            UNION ALL
            SELECT %1$I.hll_add_agg(%1$I.hll_hash_text(e.user_id), 15, 5)
            FROM raw_spans r
            JOIN telemetry.events e
              ON e.occurred_at OPERATOR(pg_catalog.>=) pg_catalog.lower(r.span)
             AND e.occurred_at OPERATOR(pg_catalog.<) pg_catalog.upper(r.span)
            WHERE e.tenant_id OPERATOR(pg_catalog.=) $1 AND e.user_id IS NOT NULL
              AND ($4::text[] IS NULL OR e.name OPERATOR(pg_catalog.=) ANY ($4::text[])))
        SELECT coalesce(pg_catalog.round(%1$I.hll_cardinality(%1$I.hll_union_agg(k.sketch)))::bigint, 0::bigint), false
        FROM sketches k$sql$, hll_schema)
    USING unique_users.tenant_id, "from", "to", unique_users.names;
END
$$;
COMMENT ON FUNCTION telemetry.unique_users(uuid, timestamptz, timestamptz, text[], boolean) IS
    'Distinct users (non-NULL user_id, not scaled by sampling) of tenant_id with an event in ["from", "to"), of the types in names (NULL: every type; no NULL element), by FUNNELS.md (Engagement: uniques over several days come from the union of daily HyperLogLog sketches unless exact is asked for; the result says which). One row (telemetry.unique_users_result): users, and exact, true when counted exactly from raw events: when exact is true (only the raw events still kept count), or when the range is 31 days or shorter and starts at or after the oldest partition. Otherwise an estimate, exact false: the union of the hll(15, 5) sketches of telemetry.daily_totals (every type; of telemetry.daily_rollups for named types) for the whole UTC days before the watermark without a pending invalidation, and of sketches of the raw events of the rest of the range, within 1.7 % (exact for small sets; docs/rollup.md, "Precision"). Errors: NULL tenant_id, or NULL in names (22004); no read access to the tenant (42501); a bound NULL or not finite, "from" after "to", exact NULL (22023); the hll extension missing (55000).';

-- Daily active users: distinct users per calendar day in tz, exact. UTC days held whole come
-- from telemetry.daily_totals (exact users over every event type), the rest from raw events, in
-- one query (one snapshot), as event_counts() does.
CREATE FUNCTION telemetry.daily_active_users(tenant_id uuid, "from" timestamptz, "to" timestamptz,
                                             tz text DEFAULT 'UTC')
RETURNS TABLE (day_start timestamptz, users bigint)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
SET jit = off  -- as event_counts(): the raw spans are known only at run time
AS $$
#variable_conflict use_column
DECLARE
    starts timestamptz[];
    use_rollups boolean;
    hll_schema name;
BEGIN
    PERFORM telemetry.require_tenant_access(daily_active_users.tenant_id, 'read');
    IF "from" IS NULL OR "to" IS NULL OR NOT pg_catalog.isfinite("from") OR NOT pg_catalog.isfinite("to") THEN
        RAISE EXCEPTION '"from" and "to" must be finite timestamps' USING ERRCODE = '22023';
    END IF;
    IF "from" OPERATOR(pg_catalog.>) "to" THEN
        RAISE EXCEPTION '"from" must not be after "to"' USING ERRCODE = '22023';
    END IF;
    IF daily_active_users.tz IS NULL THEN
        RAISE EXCEPTION 'tz must name a time zone' USING ERRCODE = '22023';
    END IF;
    -- Checks tz (22023) and the number of days (54000).
    starts := ARRAY(SELECT b.bucket_start FROM telemetry.calendar_buckets("from", "to", 'day', daily_active_users.tz) b);
    use_rollups := pg_catalog.lower(daily_active_users.tz) OPERATOR(pg_catalog.=) ANY
                   (ARRAY['utc', 'etc/utc', 'uct', 'etc/uct', 'zulu', 'etc/zulu', 'universal', 'etc/universal']);
    hll_schema := (SELECT ns.nspname FROM pg_catalog.pg_extension x
                   JOIN pg_catalog.pg_namespace ns ON ns.oid OPERATOR(pg_catalog.=) x.extnamespace
                   WHERE x.extname OPERATOR(pg_catalog.=) 'hll');
    IF hll_schema IS NULL THEN
        RAISE EXCEPTION 'the hll extension is not installed' USING ERRCODE = '55000';
    END IF;
    RETURN QUERY EXECUTE pg_catalog.format($sql$
    WITH split AS (
        SELECT * FROM telemetry.rollup_split($2, $3, $5)),
    raw_spans AS (
        SELECT r.span FROM split, pg_catalog.unnest(split.raw_spans) AS r(span)),
    counted AS (
        SELECT pg_catalog.date_trunc('day', e.occurred_at, $4) AS day_start, pg_catalog.count(DISTINCT e.user_id) AS users
        FROM raw_spans r
        JOIN telemetry.events e
          ON e.occurred_at OPERATOR(pg_catalog.>=) pg_catalog.lower(r.span)
         AND e.occurred_at OPERATOR(pg_catalog.<) pg_catalog.upper(r.span)
        WHERE e.tenant_id OPERATOR(pg_catalog.=) $1
        GROUP BY 1
        UNION ALL
        -- A day rolled up before 0.6.0 whose raw events were gone at the update has no exact
        -- count: its sketch's estimate (docs/rollup.md).
        SELECT d.day::pg_catalog.timestamp AT TIME ZONE 'UTC',
               coalesce(d.users, pg_catalog.round(%1$I.hll_cardinality(d.users_hll))::bigint)
        FROM split s
        JOIN telemetry.daily_totals d ON s.rollup_days OPERATOR(pg_catalog.@>) d.day
        WHERE d.tenant_id OPERATOR(pg_catalog.=) $1
          AND d.day OPERATOR(pg_catalog.>=) pg_catalog.lower(s.rollup_days)
          AND d.day OPERATOR(pg_catalog.<) pg_catalog.upper(s.rollup_days))
    SELECT b.day_start, coalesce(pg_catalog.sum(c.users), 0)::bigint
    FROM pg_catalog.unnest($6) AS b(day_start)
    LEFT JOIN counted c ON c.day_start OPERATOR(pg_catalog.=) b.day_start
    GROUP BY b.day_start
    ORDER BY b.day_start$sql$, hll_schema)
    USING daily_active_users.tenant_id, "from", "to", daily_active_users.tz, use_rollups, starts;
END
$$;
COMMENT ON FUNCTION telemetry.daily_active_users(uuid, timestamptz, timestamptz, text) IS
    'Daily active users (DAU) of tenant_id by FUNNELS.md (Engagement): per calendar day in time zone tz (default UTC; DST days have 23 or 25 hours, as calendar_buckets() makes them) that ["from", "to") overlaps, the distinct non-NULL user_id with an event of any type in the part of the day inside the range (not scaled by sampling), 0 included, oldest first: day_start (the instant the day starts, maybe before "from") and users. Exact: UTC days the range holds whole, before the rollup watermark and without a pending invalidation, come from telemetry.daily_totals, read in the same snapshot as the raw events of the rest (a day rolled up before 0.6.0 whose raw events were already gone gives its HyperLogLog estimate). Errors: NULL tenant_id (22004); no read access to the tenant (42501); a bound NULL or not finite, "from" after "to", tz NULL or unknown (22023); more than 10,000 days (54000); the hll extension missing (55000).';

DROP FUNCTION telemetry.stickiness(uuid, timestamptz, timestamptz, text);
CREATE FUNCTION telemetry.stickiness(tenant_id uuid, "from" timestamptz, "to" timestamptz, period text DEFAULT 'day',
                                     tz text DEFAULT 'UTC')
RETURNS TABLE (periods_active integer, users bigint)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    periods integer;
BEGIN
    PERFORM telemetry.require_tenant_access(stickiness.tenant_id, 'read');
    IF "from" IS NULL OR "to" IS NULL OR NOT pg_catalog.isfinite("from") OR NOT pg_catalog.isfinite("to") THEN
        RAISE EXCEPTION '"from" and "to" must be finite timestamps' USING ERRCODE = '22023';
    END IF;
    IF "from" OPERATOR(pg_catalog.>) "to" THEN
        RAISE EXCEPTION '"from" must not be after "to"' USING ERRCODE = '22023';
    END IF;
    IF stickiness.period IS NULL OR NOT stickiness.period OPERATOR(pg_catalog.=) ANY (ARRAY['hour', 'day', 'week', 'month']) THEN
        RAISE EXCEPTION 'unknown period' USING ERRCODE = '22023', HINT = 'hour, day, week or month';
    END IF;
    -- The calendar periods in tz that the range overlaps (22023 for an unknown tz, 54000 beyond
    -- 10,000).
    periods := (SELECT pg_catalog.count(*) FROM telemetry.calendar_buckets("from", "to", stickiness.period, stickiness.tz));
    RETURN QUERY
    WITH per_user AS (
        SELECT e.user_id, pg_catalog.count(DISTINCT pg_catalog.date_trunc(stickiness.period, e.occurred_at, stickiness.tz)) AS active
        FROM telemetry.events e
        WHERE e.tenant_id OPERATOR(pg_catalog.=) stickiness.tenant_id
          AND e.occurred_at OPERATOR(pg_catalog.>=) "from" AND e.occurred_at OPERATOR(pg_catalog.<) "to"
          AND e.user_id IS NOT NULL
        GROUP BY e.user_id)
    SELECT k.k, pg_catalog.count(p.user_id)
    FROM pg_catalog.generate_series(1, periods) AS k(k)
    LEFT JOIN per_user p ON p.active OPERATOR(pg_catalog.=) k.k
    GROUP BY k.k
    ORDER BY k.k;
END
$$;
COMMENT ON FUNCTION telemetry.stickiness(uuid, timestamptz, timestamptz, text, text) IS
    'Stickiness of tenant_id by FUNNELS.md (Engagement: over N periods, the number of actors active in exactly 1, 2, ..., N periods): the N calendar periods in time zone tz (period hour, day, week or month, as calendar_buckets() makes them: ISO weeks start on Monday, DST days have 23 or 25 hours) that ["from", "to") overlaps, a period the range cuts counting only its events inside. One row per k = 1..N, in order: periods_active (k) and users (distinct non-NULL user_id with an event in exactly k of the periods; not scaled by sampling), 0 included; no row for an empty range. Exact, from raw events. Errors: NULL tenant_id (22004); no read access to the tenant (42501); a bound NULL or not finite, "from" after "to", an unknown period, tz NULL or unknown (22023); more than 10,000 periods (54000).';

-- 66_analytics_funnel.sql: conversion_rate() counts a step without conditions with event_counts().
CREATE OR REPLACE FUNCTION telemetry.conversion_rate(
    tenant_id         uuid,
    from_event        jsonb,
    to_event          jsonb,
    "from"            timestamptz,
    "to"              timestamptz,
    conversion_window interval    DEFAULT '14 days',
    now               timestamptz DEFAULT pg_catalog.now())
RETURNS TABLE (actors bigint, converted bigint, rate numeric, from_events numeric, to_events numeric, event_ratio numeric)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    WITH f AS (
        SELECT * FROM telemetry.funnel(tenant_id, pg_catalog.jsonb_build_array(from_event, to_event), "from", "to",
                                       conversion_window, 'ordered', 'user', NULL, NULL, now)),
    -- The steps as funnel() read them (it checked them): a name, or {"event": ..., "where": ...}.
    steps AS (
        SELECT k, CASE WHEN pg_catalog.jsonb_typeof(s) OPERATOR(pg_catalog.=) 'string' THEN s OPERATOR(pg_catalog.#>>) '{}'
                       ELSE s OPERATOR(pg_catalog.->>) 'event' END AS name,
               coalesce(s OPERATOR(pg_catalog.->) 'where', '{}'::jsonb) AS condition
        FROM (VALUES (1, from_event), (2, to_event)) AS x(k, s)),
    -- A step without conditions is counted by event_counts() (whole UTC days from the
    -- rollups); one with conditions from the raw events.
    counts AS (
        SELECT s.k, coalesce(pg_catalog.sum(e.sample_weight::pg_catalog.numeric), 0) AS events
        FROM steps s LEFT JOIN telemetry.events e
          ON e.tenant_id OPERATOR(pg_catalog.=) conversion_rate.tenant_id AND e.name OPERATOR(pg_catalog.=) s.name
         AND e.properties OPERATOR(pg_catalog.@>) s.condition
         AND e.occurred_at OPERATOR(pg_catalog.>=) "from" AND e.occurred_at OPERATOR(pg_catalog.<) "to"
        WHERE s.condition OPERATOR(pg_catalog.<>) '{}'::jsonb
        GROUP BY s.k
        UNION ALL
        SELECT s.k, (SELECT coalesce(pg_catalog.sum(c.events), 0)
                     FROM telemetry.event_counts(conversion_rate.tenant_id, "from", "to", 'day', ARRAY[s.name], 'UTC') c)
        FROM steps s
        WHERE s.condition OPERATOR(pg_catalog.=) '{}'::jsonb)
    SELECT (SELECT f.actors FROM f WHERE f.step OPERATOR(pg_catalog.=) 1),
           (SELECT f.actors FROM f WHERE f.step OPERATOR(pg_catalog.=) 2),
           (SELECT f.conversion_from_first FROM f WHERE f.step OPERATOR(pg_catalog.=) 2),
           (SELECT c.events FROM counts c WHERE c.k OPERATOR(pg_catalog.=) 1),
           (SELECT c.events FROM counts c WHERE c.k OPERATOR(pg_catalog.=) 2),
           (SELECT CASE WHEN a.events OPERATOR(pg_catalog.>) 0
                        THEN pg_catalog.round(b.events OPERATOR(pg_catalog./) a.events, 4) END
            FROM counts a, counts b WHERE a.k OPERATOR(pg_catalog.=) 1 AND b.k OPERATOR(pg_catalog.=) 2)
$$;
COMMENT ON FUNCTION telemetry.conversion_rate(uuid, jsonb, jsonb, timestamptz, timestamptz, interval, timestamptz) IS
    'The share of actors who, after from_event, did to_event within conversion_window (a 2-step ordered funnel, FUNNELS.md F1-F17: entry in ["from", "to"), default window 14 days): actors (entered), converted, rate (converted / actors, 4 decimals, never above 1; NULL when nobody entered); and, named as such, the plain event counts in the range (from_events, to_events, weighted by sampling) and their event_ratio, which can exceed 1. Events as funnel() steps take them: a name or {"event": name, "where": {...}}. Errors: those of funnel() (22004, 42501, 22023, 22008).';

-- 67_analytics_retention.sql: hours of Unix time whatever the session's time zone, and weeks
-- before 2000-01-03 numbered by floor, as the engine numbers them.
CREATE OR REPLACE FUNCTION telemetry.period_number(ts timestamptz, period text, tz text)
RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT CASE period
        WHEN 'hour' THEN pg_catalog.floor(pg_catalog.date_part('epoch', ts) OPERATOR(pg_catalog./) 3600)::bigint
        WHEN 'day' THEN ((ts AT TIME ZONE tz)::pg_catalog.date OPERATOR(pg_catalog.-) '2000-01-01'::pg_catalog.date)::bigint
        WHEN 'week' THEN pg_catalog.floor(((ts AT TIME ZONE tz)::pg_catalog.date OPERATOR(pg_catalog.-) '2000-01-03'::pg_catalog.date)::numeric OPERATOR(pg_catalog./) 7)::bigint
        WHEN 'month' THEN (pg_catalog.date_part('year', ts AT TIME ZONE tz) OPERATOR(pg_catalog.*) 12
                           OPERATOR(pg_catalog.+) pg_catalog.date_part('month', ts AT TIME ZONE tz) OPERATOR(pg_catalog.-) 1)::bigint
    END
$$;
COMMENT ON FUNCTION telemetry.period_number(timestamptz, text, text) IS
    'Internal, for retention(): the number of the calendar period (hour, day, week or month) that ts falls in, in time zone tz: consecutive periods have consecutive numbers (ISO weeks start on Monday).';

-- 69_analytics_sessions.sql
-- Sessions (docs/analytics.md, FUNNELS.md Engagement): telemetry.sessions() checks its
-- arguments and makes the buckets; the engine (src/pg/analytics/sessions_functions,
-- src/core/analytics/sessions) reads the events once, as the caller (row-level security applies).

CREATE FUNCTION telemetry.sessions_engine(tenant_id uuid, "from" timestamptz, "to" timestamptz,
                                          bucket_starts timestamptz[])
RETURNS TABLE (bucket_start timestamptz, sessions bigint, bounces bigint, avg_seconds float8, median_seconds float8)
LANGUAGE c STABLE
AS 'MODULE_PATHNAME', 'telemetry_sessions_engine';
COMMENT ON FUNCTION telemetry.sessions_engine(uuid, timestamptz, timestamptz, timestamptz[]) IS
    'Internal, for telemetry.sessions(), which checks its arguments: per bucket (the last whose start is at or before a session''s start), the sessions starting in ["from", "to"), bounces, average and median seconds. 42501 for a tenant the caller may not read.';

CREATE FUNCTION telemetry.sessions(
    tenant_id uuid,
    "from"    timestamptz,
    "to"      timestamptz,
    tz        text DEFAULT 'UTC',
    bucket    text DEFAULT NULL)
RETURNS TABLE (sessions bigint, avg_seconds float8, median_seconds float8, bounce_rate numeric, bounces bigint,
               bucket_start timestamptz)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    starts timestamptz[];
BEGIN
    IF sessions.tenant_id IS NULL THEN
        RAISE EXCEPTION 'tenant_id must not be NULL' USING ERRCODE = '22004';
    END IF;
    PERFORM telemetry.require_tenant_access(sessions.tenant_id, 'read');
    IF "from" IS NULL OR "to" IS NULL OR NOT pg_catalog.isfinite("from") OR NOT pg_catalog.isfinite("to") THEN
        RAISE EXCEPTION '"from" and "to" must be finite timestamps' USING ERRCODE = '22023';
    END IF;
    IF "from" OPERATOR(pg_catalog.>) "to" THEN
        RAISE EXCEPTION '"from" must not be after "to"' USING ERRCODE = '22023';
    END IF;
    IF sessions.tz IS NULL THEN
        RAISE EXCEPTION 'tz must name a time zone' USING ERRCODE = '22023';
    END IF;
    IF sessions.bucket IS NULL THEN
        -- One row for the whole range; an unknown time zone fails here (22023).
        PERFORM "from" AT TIME ZONE sessions.tz;
        starts := ARRAY["from"];
    ELSE
        -- Checks bucket and tz (22023) and the number of buckets (54000).
        starts := ARRAY(SELECT b.bucket_start FROM telemetry.calendar_buckets("from", "to", sessions.bucket, sessions.tz) b);
        IF pg_catalog.cardinality(starts) OPERATOR(pg_catalog.=) 0 THEN
            RETURN;  -- an empty range has no bucket
        END IF;
    END IF;
    RETURN QUERY
    SELECT s.sessions, s.avg_seconds, s.median_seconds,
           CASE WHEN s.sessions OPERATOR(pg_catalog.>) 0
                THEN pg_catalog.round(s.bounces::numeric OPERATOR(pg_catalog./) s.sessions, 4) END,
           s.bounces, s.bucket_start
    FROM telemetry.sessions_engine(sessions.tenant_id, "from", "to", starts) s
    ORDER BY s.bucket_start;
END
$$;
COMMENT ON FUNCTION telemetry.sessions(uuid, timestamptz, timestamptz, text, text) IS
    'Sessions of tenant_id by FUNNELS.md (Engagement, Sessions; docs/analytics.md): events with a session_id form the client''s session as given (never split; read within 24 hours either side of the range); a user''s events without one form sessions among themselves, a new one after a gap of more than 30 minutes or at an event more than 24 hours after the session''s first (exactly 30 minutes or 24 hours continues), never split at midnight in any time zone. The range ["from", "to") holds the sessions that start in it, with their full duration (last minus first event, seconds). One row (bucket NULL; bucket_start = "from"), or one per calendar bucket in tz (hour, day, week or month, as event_counts() makes them) by the session''s start: sessions, avg_seconds and median_seconds (bounces included with duration 0; NULL without sessions; the median of an even count is the mean of the two middle durations), bounce_rate (bounces / sessions, 4 decimals) and bounces (one-event sessions). Counts are not scaled by sampling. Errors: NULL tenant_id (22004); no read access to the tenant (42501); a bound NULL or not finite, "from" after "to", tz NULL or unknown, an unknown bucket (22023); more than 10,000 buckets (54000).';

-- 85_tenancy_row_security.sql
ALTER TABLE telemetry.daily_totals ENABLE ROW LEVEL SECURITY;
ALTER TABLE telemetry.daily_totals FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_read ON telemetry.daily_totals FOR SELECT
    USING (tenant_id OPERATOR(pg_catalog.>=) (SELECT telemetry.tenant_scope_lower('read'))
           AND tenant_id OPERATOR(pg_catalog.<=) (SELECT telemetry.tenant_scope_upper('read'))
           AND ((SELECT telemetry.tenant_scope_is_range('read'))
                OR tenant_id OPERATOR(pg_catalog.=) ANY ((SELECT telemetry.tenant_scope_members('read'))::pg_catalog.uuid[])));
COMMENT ON POLICY tenant_read ON telemetry.daily_totals IS 'A role reads only the daily totals of the tenants it has read access to (telemetry.tenant_access, or the token presented in the transaction).';
CREATE POLICY tenant_admin ON telemetry.daily_totals FOR ALL
    USING (tenant_id OPERATOR(pg_catalog.>=) (SELECT telemetry.tenant_scope_lower('admin'))
           AND tenant_id OPERATOR(pg_catalog.<=) (SELECT telemetry.tenant_scope_upper('admin'))
           AND ((SELECT telemetry.tenant_scope_is_range('admin'))
                OR tenant_id OPERATOR(pg_catalog.=) ANY ((SELECT telemetry.tenant_scope_members('admin'))::pg_catalog.uuid[])))
    WITH CHECK (tenant_id OPERATOR(pg_catalog.>=) (SELECT telemetry.tenant_scope_lower('admin'))
           AND tenant_id OPERATOR(pg_catalog.<=) (SELECT telemetry.tenant_scope_upper('admin'))
           AND ((SELECT telemetry.tenant_scope_is_range('admin'))
                OR tenant_id OPERATOR(pg_catalog.=) ANY ((SELECT telemetry.tenant_scope_members('admin'))::pg_catalog.uuid[])));
COMMENT ON POLICY tenant_admin ON telemetry.daily_totals IS 'Daily totals are written by the maintenance steps, as the extension''s owner; a role with the privilege to change them could change only the rows of the tenants it has admin access to (no access level grants it).';
ALTER TABLE telemetry.erasures ENABLE ROW LEVEL SECURITY;
ALTER TABLE telemetry.erasures FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_admin ON telemetry.erasures FOR SELECT
    USING (tenant_id OPERATOR(pg_catalog.>=) (SELECT telemetry.tenant_scope_lower('admin'))
           AND tenant_id OPERATOR(pg_catalog.<=) (SELECT telemetry.tenant_scope_upper('admin'))
           AND ((SELECT telemetry.tenant_scope_is_range('admin'))
                OR tenant_id OPERATOR(pg_catalog.=) ANY ((SELECT telemetry.tenant_scope_members('admin'))::pg_catalog.uuid[])));
COMMENT ON POLICY tenant_admin ON telemetry.erasures IS 'A tenant''s admins read its erasures (the ledger is written as the extension''s owner by forget_user() and anonymize_user()).';

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

-- The totals of the days rolled up so far, from their cells: exact events; users and sessions
-- unknown (NULL) until recomputed; the union of the cells' sketches (hll named by its schema).
DO $$
DECLARE
    hll_schema name := (SELECT n.nspname FROM pg_catalog.pg_extension x
                        JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) x.extnamespace
                        WHERE x.extname OPERATOR(pg_catalog.=) 'hll');
BEGIN
    EXECUTE pg_catalog.format($sql$
        INSERT INTO telemetry.daily_totals (tenant_id, day, events, raw_events, users, users_hll, sessions, refreshed_at)
        SELECT r.tenant_id, r.day, pg_catalog.sum(r.events), pg_catalog.sum(r.raw_events), NULL,
               %1$I.hll_union_agg(r.users_hll), NULL, pg_catalog.now()
        FROM telemetry.daily_rollups r
        GROUP BY r.tenant_id, r.day$sql$, hll_schema);
END
$$;
-- The rolled-up days that still have raw events, per tenant: recomputed exactly by the next
-- refresh (until then, readers take their raw events).
INSERT INTO telemetry.rollup_invalidations (tenant_id, first_day, last_day, reason)
SELECT r.tenant_id, pg_catalog.min(r.day), pg_catalog.max(r.day), 'manual'
FROM telemetry.daily_rollups r
WHERE r.day OPERATOR(pg_catalog.>=) (SELECT pg_catalog.min(p.day) FROM telemetry.partitions() p)
GROUP BY r.tenant_id;
