-- Personal data: the key behind x-pii "hash", and the users who opted out. Both tables are
-- cached by every backend and followed through telemetry.table_changed() (05_boundary.sql).

-- The key behind x-pii "hash", unless telemetry.pii_hash_key is set. Owner-only, and not dumped:
-- a restored database gets a new key (set telemetry.pii_hash_key to keep hashes stable).
CREATE TABLE telemetry.secrets (
    name   text PRIMARY KEY,
    value  text NOT NULL
);
COMMENT ON TABLE telemetry.secrets IS 'Internal: the random keys behind x-pii "hash" (row pii_hash_key) and tenant tokens (row tenant_token_key), made at CREATE EXTENSION and used unless the settings telemetry.pii_hash_key and telemetry.tenant_token_key are set. Readable by the owner only and not dumped: a restored database gets new keys.';
COMMENT ON COLUMN telemetry.secrets.name IS 'Which secret: pii_hash_key or tenant_token_key.';
COMMENT ON COLUMN telemetry.secrets.value IS 'The secret (64 hexadecimal digits).';
INSERT INTO telemetry.secrets VALUES
    ('pii_hash_key', pg_catalog.replace(pg_catalog.gen_random_uuid()::text || pg_catalog.gen_random_uuid()::text, '-', '')),
    ('tenant_token_key', pg_catalog.replace(pg_catalog.gen_random_uuid()::text || pg_catalog.gen_random_uuid()::text, '-', ''));
CREATE TRIGGER secrets_changed
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON telemetry.secrets
    FOR EACH STATEMENT EXECUTE FUNCTION telemetry.table_changed();
ALTER TABLE telemetry.secrets ENABLE ALWAYS TRIGGER secrets_changed;

-- Users who opted out: none of their events is stored, by any path.
CREATE TABLE telemetry.opt_outs (
    tenant_id      uuid        NOT NULL,
    user_id        text        NOT NULL,
    opted_out_at   timestamptz NOT NULL DEFAULT pg_catalog.now(),
    PRIMARY KEY (tenant_id, user_id)
);
COMMENT ON TABLE telemetry.opt_outs IS 'Users who opted out: none of their events is stored, by any path (track(), track_batch(), replay_quarantine()). Change it with opt_out() and opt_in(); every backend keeps answers about it, renewed after each change (trigger opt_outs_changed).';
COMMENT ON COLUMN telemetry.opt_outs.tenant_id IS 'The tenant.';
COMMENT ON COLUMN telemetry.opt_outs.user_id IS 'The user, compared byte for byte with the events'' user_id.';
COMMENT ON COLUMN telemetry.opt_outs.opted_out_at IS 'When the user opted out.';
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
    PERFORM telemetry.require_tenant_access(opt_out.tenant_id, 'admin');
    INSERT INTO telemetry.opt_outs AS o (tenant_id, user_id) VALUES (opt_out.tenant_id, opt_out.user_id)
    ON CONFLICT ON CONSTRAINT opt_outs_pkey DO NOTHING;
    RETURN FOUND;  -- false: already opted out
END
$$;
COMMENT ON FUNCTION telemetry.opt_out(uuid, text) IS
    'Opts a tenant''s user out: from now on none of the user''s events is stored, by any path (events already stored stay). True when the user was opted out now, false when already. 22004 for a NULL tenant_id, or a NULL or empty user_id; 42501 unless the caller is an admin of the tenant (telemetry.grant_tenant_access).';

CREATE FUNCTION telemetry.opt_in(tenant_id uuid, user_id text)
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

-- PII detection (docs/pii.md, "Detection"): what the detectors find in a document, never the
-- values; changes nothing. A DBA's audit of events stored before detection ran:
--   SELECT e.id, s.* FROM telemetry.events e, telemetry.pii_scan(e.properties) s
CREATE FUNCTION telemetry.pii_scan(properties jsonb)
RETURNS TABLE (path text, detector text)
LANGUAGE c STABLE STRICT PARALLEL SAFE
AS 'MODULE_PATHNAME', 'telemetry_pii_scan';
COMMENT ON FUNCTION telemetry.pii_scan(jsonb) IS
    'What the PII detectors find in a JSON document (docs/pii.md, "Detection"), without changing it and without showing any value: one row per JSON Pointer (RFC 6901, "/user/email"; "" is the root) and detector, in document order. Values (strings, and integral numbers as their digits) are scanned on a normalised copy (fullwidth forms folded, zero-width characters removed, percent-encoding decoded) by email, phone, payment_card (Luhn and card ranges), iban (mod 97 and country length), ip_address, us_ssn, jwt, private_key and api_key; keys by their names (case- and separator-insensitive): email, phone, payment_card, iban, ip_address, us_ssn, password, secret, person_name, street_address, birth_date. Nested objects and arrays are scanned within a budget (10,000 strings, 1 MiB): past it, or at a container too deep to read, a last row (the pointer where the scan stopped, scan_incomplete). A key that itself shows personal data is written ~redacted in the pointer. NULL: no rows. Granted to PUBLIC, since it reads only its argument: any role that may use the schema (any access level) may call it.';

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
