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
