-- Quarantine: events that break their schema under on_violation "quarantine" are kept aside
-- with the reason, path, rule and version, then replayed once the catalog accepts them.
-- Each test file starts from a fresh extension, so it does not depend on the others.
DROP EXTENSION telemetry;
CREATE EXTENSION telemetry;
SET timezone = 'UTC';
\set SHOW_CONTEXT never

SELECT count(*) FROM telemetry.load_catalog($${"events": [
  {"name": "video_played", "on_violation": "quarantine", "max_bytes": 100, "schema": {
     "required": ["video_id"], "properties": {"video_id": {"type": "string", "x-pii": "hash"},
     "seconds": {"type": "integer", "minimum": 0}}, "additionalProperties": false}}
]}$$);

\set t '''88888888-8888-8888-8888-888888888888'''
-- track() returns NULL for a quarantined event: not stored in events, not an error.
SELECT telemetry.track(:t::uuid, 'video_played', '{"video_id": "v-secret-1", "seconds": 12.5}', 'viewer-1') AS returned;
SELECT "index", status, reason, sqlstate FROM telemetry.track_batch(:t::uuid, $$[
  {"name": "video_played", "properties": {"video_id": "v-secret-2", "seconds": 30, "quality": "hd"}, "user_id": "viewer-2"},
  {"name": "video_played", "properties": {"video_id": "v-secret-3", "seconds": 5}, "user_id": "viewer-3"},
  {"name": "video_played", "properties": {"video_id": "v-secret-4", "padding": "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}, "user_id": "viewer-4"},
  {"name": "video_played", "properties": {"seconds": 1}, "user_id": "viewer-5"}
]$$);

-- What quarantine keeps: the reason, path, rule and refusing version, and the payload after
-- x-pii rewriting (no raw video ids).
SELECT name, user_id, json_path, rule, sqlstate, schema_version, reason FROM telemetry.quarantine ORDER BY id;
SELECT count(*) AS raw_ids_in_quarantine FROM telemetry.quarantine WHERE properties::text LIKE '%v-secret%';
SELECT count(*) AS events FROM telemetry.events;

-- Replaying before the catalog is fixed changes nothing but the reason and the attempt count.
SELECT quarantine_id, status, reason FROM telemetry.replay_quarantine(:t::uuid) ORDER BY quarantine_id;
SELECT id, replay_attempts FROM telemetry.quarantine ORDER BY id;

-- Fix the catalog (a new MODEL: seconds may be fractional, quality is declared, video_id is no
-- longer required), opt one viewer out, then replay.
SELECT * FROM telemetry.load_catalog($${"events": [
  {"name": "video_played", "version": "2-0-0", "on_violation": "quarantine", "max_bytes": 100, "schema": {
     "properties": {"video_id": {"type": "string", "x-pii": "hash"}, "seconds": {"type": "number", "minimum": 0},
     "quality": {"type": "string"}}, "additionalProperties": false}}
]}$$);
SELECT telemetry.opt_out(:t::uuid, 'viewer-5');
SELECT quarantine_id, status, reason FROM telemetry.replay_quarantine(:t::uuid) ORDER BY quarantine_id;

-- Replayed events keep their first arrival time, source and id; each was stored once, and the
-- opted-out viewer's event is gone from quarantine too.
SELECT e.user_id, e.source, e.schema_version, e.received_at < now() + interval '1 minute' AS kept_received_at,
       e.properties ? 'video_id' AS has_video_id
FROM telemetry.events e ORDER BY e.user_id;
SELECT user_id, reason FROM telemetry.quarantine ORDER BY id;
SELECT quarantine_id, status FROM telemetry.replay_quarantine(:t::uuid);
SELECT count(*) AS events_after_second_replay FROM telemetry.events;

-- Replaying some rows only, and errors.
SELECT count(*) FROM telemetry.replay_quarantine(:t::uuid, ARRAY[999999]::bigint[]);
SELECT * FROM telemetry.replay_quarantine(NULL);

-- What a replay trusts as already hashed: only the values x-pii rewrote before the event was
-- kept, which the row lists (pii_rewritten_paths, JSON Pointers). A value a client sent shaped
-- like a hash, at a property tagged only later, is hashed by the replay; a hash made before is
-- not hashed twice.
SELECT count(*) FROM telemetry.load_catalog($${"events": [
  {"name": "ticket_opened", "on_violation": "quarantine", "schema": {"properties": {
     "email": {"type": "string", "x-pii": "hash"}, "alias": {"type": "string"}, "priority": {"type": "integer"}}}}
]}$$);
SELECT status FROM telemetry.track_batch(:t::uuid, $$[{"name": "ticket_opened", "user_id": "forger",
  "properties": {"email": "a@example.com", "alias": "h1:AAAAAAAAAAAAAAAAAAAAAA", "priority": "high"}}]$$);
SELECT pii_rewritten_paths, properties ->> 'alias' AS alias_as_sent, properties ->> 'email' LIKE 'h1:%' AS email_hashed
FROM telemetry.quarantine WHERE user_id = 'forger';
SELECT properties ->> 'email' AS email_hash FROM telemetry.quarantine WHERE user_id = 'forger' \gset
SELECT * FROM telemetry.load_catalog($${"events": [
  {"name": "ticket_opened", "version": "2-0-0", "on_violation": "quarantine", "schema": {"properties": {
     "email": {"type": "string", "x-pii": "hash"}, "alias": {"type": "string", "x-pii": "hash"},
     "priority": {"type": ["integer", "string"]}}}}
]}$$);
SELECT status FROM telemetry.replay_quarantine(:t::uuid, ARRAY(SELECT id FROM telemetry.quarantine WHERE user_id = 'forger'));
SELECT properties ->> 'email' = :'email_hash' AS email_hashed_once,
       properties ->> 'alias' = 'h1:AAAAAAAAAAAAAAAAAAAAAA' AS alias_kept_as_sent,
       properties ->> 'alias' LIKE 'h1:%' AS alias_hashed
FROM telemetry.events WHERE user_id = 'forger';
