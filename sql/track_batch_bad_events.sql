-- One event's problem never costs its batch: each of these refuses (or, for broken UTF-16,
-- repairs and flags) only the event it is in, in the text and the jsonb forms alike. Only a batch
-- that is not JSON at all, too big, or of the wrong shape is refused as a whole
-- (track_batch.sql).
-- Each test file starts from a fresh extension, so it does not depend on the others.
DROP EXTENSION telemetry;
CREATE EXTENSION telemetry;
SET timezone = 'UTC';
\set SHOW_CONTEXT never
\set t '''78787878-7878-7878-7878-787878787878'''

SELECT count(*) FROM telemetry.load_catalog($${"events": [
  {"name": "note_saved", "schema": {"properties": {"text": {"type": "string"}, "n": {"type": "number"}}}},
  {"name": "form_sent", "on_violation": "quarantine", "schema": {"properties": {"fields": {"type": "integer"}}}}
]}$$);

-- Browsers send lone UTF-16 surrogates (a string cut in the middle of an emoji). The text form
-- replaces each with U+FFFD, stores the event and sets flag 16; the others are untouched.
SELECT "index", status, reason FROM telemetry.track_batch(:t, $$[
  {"name": "note_saved", "properties": {"text": "broken \ud83d tail"}, "user_id": "surrogates"},
  {"name": "note_saved", "properties": {"text": "low \udc00 alone"}, "user_id": "surrogates"},
  {"name": "note_saved", "properties": {"text": "high \ud83d\u0041 then a letter"}, "user_id": "surrogates"},
  {"name": "note_saved", "properties": {"key \ud800": 1}, "user_id": "surrogates"},
  {"name": "note_saved", "properties": {"text": "a real pair \ud83d\ude00"}, "user_id": "surrogates"},
  {"name": "note_saved", "properties": {"text": "fine"}, "user_id": "surrogates"}
]$$);
SELECT properties, flags FROM telemetry.events WHERE user_id = 'surrogates' ORDER BY id;
-- An element that is itself a broken string is refused for not being an event, alone.
SELECT "index", status, sqlstate, reason FROM telemetry.track_batch(:t, $$[
  {"name": "note_saved", "user_id": "before a broken element"}, "\ud83d", {"name": "note_saved"}
]$$);
SELECT flags FROM telemetry.events WHERE user_id = 'before a broken element';  -- not flagged for its neighbour

-- Numbers beyond what we store: an exponent beyond 2^31 refuses its event like any other
-- out-of-range number (22003).
SELECT "index", status, sqlstate, reason FROM telemetry.track_batch(:t, $$[
  {"name": "note_saved", "properties": {"n": 1e2147483648}},
  {"name": "note_saved", "properties": {"n": -1e2147483648}},
  {"name": "note_saved", "properties": {"n": 1e-2147483649}},
  {"name": "note_saved", "properties": {"n": 1e400}},
  {"name": "note_saved", "properties": {"n": 1.5e3}}
]$$);

-- Nesting deeper than the limit (16 levels of properties), however deep: its event is refused,
-- even under on_violation "quarantine" (what was not read cannot be kept).
SELECT "index", status, sqlstate, reason FROM telemetry.track_batch(:t,
    '[{"name": "note_saved", "properties": {"text": ' || repeat('[', 20) || repeat(']', 20) || '}},'
     '{"name": "note_saved", "properties": {"text": ' || repeat('{"a":', 40) || '1' || repeat('}', 40) || '}},'
     '{"name": "note_saved", "properties": {"text": ' || repeat('[', 100000) || repeat(']', 100000) || '}},'
     '{"name": "form_sent", "properties": {"fields": ' || repeat('[', 40) || repeat(']', 40) || '}},'
     '{"name": "form_sent", "properties": {"fields": "not a number"}},'
     '{"name": "note_saved", "properties": {"text": "fine"}}]');
SELECT "index", status, sqlstate, reason FROM telemetry.track_batch(:t, (
    '[{"name": "note_saved", "properties": {"text": ' || repeat('[', 40) || repeat(']', 40) || '}},'
     '{"name": "form_sent", "properties": {"fields": ' || repeat('[', 40) || repeat(']', 40) || '}},'
     '{"name": "note_saved", "properties": {"text": "fine"}}]')::jsonb);
-- An element that is itself too deep, or whose keys outside properties are.
SELECT "index", status, sqlstate, reason FROM telemetry.track_batch(:t,
    '[' || repeat('[', 50) || repeat(']', 50) || ', {"name": "note_saved", "user_id": ' || repeat('[', 50) || repeat(']', 50) || '},'
    '{"name": "note_saved"}]');

SELECT count(*) AS quarantined FROM telemetry.quarantine;
SELECT count(*) AS stored, count(*) FILTER (WHERE properties ->> 'text' = 'fine') AS fine FROM telemetry.events;

-- Still refused as a whole: not JSON, not an array, too many events.
SELECT * FROM telemetry.track_batch(:t, '[{"name": "note_saved"} {"name": "note_saved"}]');
SELECT * FROM telemetry.track_batch(:t, '{"name": "note_saved"}');
SELECT * FROM telemetry.track_batch(:t, '[' || repeat('{"name": "note_saved"},', 10000) || '{"name": "note_saved"}]');
