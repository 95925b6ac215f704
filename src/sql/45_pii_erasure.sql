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

CREATE FUNCTION telemetry.detected_id_hash(tenant_id uuid, user_id text)
RETURNS text
LANGUAGE c STABLE
AS 'MODULE_PATHNAME', 'telemetry_detected_id_hash';
COMMENT ON FUNCTION telemetry.detected_id_hash(uuid, text) IS
    'Internal, the owner''s only (a hash oracle): the keyed hash ingest stores a user_id as when the PII detectors flag it (docs/pii.md, "Policy"), or NULL when they find nothing; what erasure looks for besides the id as given.';

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
