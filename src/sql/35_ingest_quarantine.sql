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
COMMENT ON SEQUENCE telemetry.quarantine_id_seq IS
    'The ids of telemetry.quarantine (its bigserial id). Dumped with its position, so a restored database goes on from it.';
SELECT pg_catalog.pg_extension_config_dump('telemetry.quarantine', '');
SELECT pg_catalog.pg_extension_config_dump('telemetry.quarantine_id_seq', '');
CREATE INDEX quarantine_tenant_name ON telemetry.quarantine (tenant_id, name);
-- What arrived lately (health() and alerts(): is the quarantine growing?), without a scan.
CREATE INDEX quarantine_received ON telemetry.quarantine (received_at);

COMMENT ON TABLE telemetry.quarantine IS 'Events kept aside by on_violation "quarantine"; telemetry.replay_quarantine() ingests them once the catalog accepts them.';
COMMENT ON COLUMN telemetry.quarantine.id IS 'The row''s id: replay_quarantine()''s ids and quarantine_id.';
COMMENT ON COLUMN telemetry.quarantine.tenant_id IS 'The tenant: row-level security shows its rows to its admins (telemetry.tenant_access).';
COMMENT ON COLUMN telemetry.quarantine.event_id IS 'The event''s id, kept when it is replayed.';
COMMENT ON COLUMN telemetry.quarantine.name IS 'The event type.';
COMMENT ON COLUMN telemetry.quarantine.properties IS 'The properties as kept: after x-pii rewriting (see pii_rewritten_paths), at most 64 KB of JSON.';
COMMENT ON COLUMN telemetry.quarantine.user_id IS 'The user, as in telemetry.events, or NULL.';
COMMENT ON COLUMN telemetry.quarantine.session_id IS 'The session, as in telemetry.events, or NULL.';
COMMENT ON COLUMN telemetry.quarantine.occurred_at IS 'When the event happened, as ingest settled it (see telemetry.events.occurred_at).';
COMMENT ON COLUMN telemetry.quarantine.received_at IS 'When the database received the event, kept when it is replayed.';
COMMENT ON COLUMN telemetry.quarantine.source IS 'How the event came: server (track()) or client (track_batch()), kept when it is replayed.';
COMMENT ON COLUMN telemetry.quarantine.sample_weight IS '1 / the sample_rate the event was kept under.';
COMMENT ON COLUMN telemetry.quarantine.flags IS 'What ingest changed, as in telemetry.events.flags.';
COMMENT ON COLUMN telemetry.quarantine.schema_version IS 'The version of the event type that refused the event (the latest replay''s, when one refused it again).';
COMMENT ON COLUMN telemetry.quarantine.sqlstate IS 'The SQLSTATE of the refusal: 23514 for the schema, 54000 for the size; a replay that refuses the event again sets its own.';
COMMENT ON COLUMN telemetry.quarantine.reason IS 'Why the event was refused, as the error message would say; a replay that refuses the event again sets its own.';
COMMENT ON COLUMN telemetry.quarantine.json_path IS 'Where in the properties the (first) violation is, as a JSON path ($ is the properties themselves, as for max_bytes); a replay that rejects the event for a reason without a path leaves it.';
COMMENT ON COLUMN telemetry.quarantine.rule IS 'The broken rule: a schema keyword (type, required, pattern...) or max_bytes; a replay that rejects the event for a reason without a rule leaves it.';
COMMENT ON COLUMN telemetry.quarantine.replay_attempts IS 'How many replays have refused the event again.';
COMMENT ON COLUMN telemetry.quarantine.pii_rewritten_paths IS 'Where x-pii hashed or redacted the properties before they were kept here, as JSON Pointers (RFC 6901, e.g. /email): a replay leaves the values there as they are and rewrites every other value its catalog tags, whatever it looks like.';

-- Re-validates quarantined events of a tenant against the current catalog: those now accepted
-- move to telemetry.events (once), the others stay with their new reason. ids: some rows, or
-- NULL for all of the tenant's.
--
-- SECURITY INVOKER on purpose: the C code first checks who called (an admin of the tenant),
-- which a SECURITY DEFINER function could no longer see, then does the work as the owner of
-- telemetry.quarantine.
CREATE FUNCTION telemetry.replay_quarantine(tenant_id uuid, ids bigint[] DEFAULT NULL)
RETURNS TABLE (quarantine_id bigint, status text, id uuid, reason text)
LANGUAGE c VOLATILE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'telemetry_replay_quarantine';
COMMENT ON FUNCTION telemetry.replay_quarantine(uuid, bigint[]) IS
    'Sends a tenant''s quarantined events (ids: those rows, NULL: all; at most 10,000 per call, in id order) through ingest again with today''s catalog; one row per event: quarantine_id, status, id (its event_id), reason. accepted: moved to telemetry.events, once; quarantined or rejected: the row stays with the new reason and one more replay_attempts; sampled_out or opted_out: the row is deleted. For the tenant''s admins (telemetry.tenant_access) and the extension''s owner, else 42501; 22004 for a NULL tenant_id.';
