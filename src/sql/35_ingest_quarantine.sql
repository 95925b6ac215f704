-- Quarantine: events refused by their schema or size limit under on_violation "quarantine",
-- kept with the reason, the JSON path and the rule, until the catalog is fixed and they are
-- replayed. Properties are kept after x-pii rewriting, so quarantine holds no more personal
-- data than the events table would.
CREATE TABLE telemetry.quarantine (
    id              bigserial,
    tenant_id       uuid        NOT NULL,
    event_id        uuid        NOT NULL,
    name            text        NOT NULL,
    properties      jsonb       NOT NULL,
    user_id         text,
    session_id      text,
    occurred_at     timestamptz NOT NULL,
    received_at     timestamptz NOT NULL,
    source          text        NOT NULL,
    sample_weight   real        NOT NULL,
    flags           smallint    NOT NULL,
    schema_version  text        NOT NULL,   -- the version that refused it
    sqlstate        text        NOT NULL,
    reason          text        NOT NULL,
    json_path       text        NOT NULL,
    rule            text        NOT NULL,
    replay_attempts integer     NOT NULL DEFAULT 0,
    pii_rewritten_paths text[]  NOT NULL DEFAULT '{}',  -- JSON Pointers: what x-pii hashed or redacted
    PRIMARY KEY (tenant_id, id)
);
SELECT pg_catalog.pg_extension_config_dump('telemetry.quarantine', '');
SELECT pg_catalog.pg_extension_config_dump('telemetry.quarantine_id_seq', '');
CREATE INDEX quarantine_tenant_name ON telemetry.quarantine (tenant_id, name);

-- A tenant's admins read its quarantine (GRANT SELECT to their roles, and map them in
-- telemetry.tenant_admins). The tenants are looked up once per query (an InitPlan), and the
-- test on tenant_id uses the primary key. The owner, which writes here, is not subject to it.
ALTER TABLE telemetry.quarantine ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_admins_read ON telemetry.quarantine FOR SELECT
    USING (tenant_id OPERATOR(pg_catalog.=) ANY (ARRAY(SELECT a.tenant_id FROM telemetry.tenant_admins a)));

COMMENT ON TABLE telemetry.quarantine IS 'Events kept aside by on_violation "quarantine"; telemetry.replay_quarantine() ingests them once the catalog accepts them.';
COMMENT ON COLUMN telemetry.quarantine.pii_rewritten_paths IS 'Where x-pii hashed or redacted the properties before they were kept here, as JSON Pointers (RFC 6901, e.g. /email): a replay leaves the values there as they are and rewrites every other value its catalog tags, whatever it looks like.';

-- Re-validates quarantined events of a tenant against the current catalog: those now accepted
-- move to telemetry.events (once), the others stay with their new reason. ids: some rows, or
-- NULL for all of the tenant's.
--
-- SECURITY INVOKER on purpose: the C code first checks who called (an admin of the tenant, or a
-- role with UPDATE on telemetry.quarantine), which a SECURITY DEFINER function could no longer
-- see, then does the work as the owner of telemetry.quarantine.
CREATE FUNCTION telemetry.replay_quarantine(tenant_id uuid, ids bigint[] DEFAULT NULL)
RETURNS TABLE (quarantine_id bigint, status text, id uuid, reason text)
LANGUAGE c VOLATILE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'telemetry_replay_quarantine';
