-- One user, one spelling; one event id, one spelling; times as SDKs send them; hashes that
-- clients cannot forge (docs/ingest.md, "Identifiers" and "Times").
-- Each test file starts from a fresh extension, so it does not depend on the others.
DROP EXTENSION telemetry;
CREATE EXTENSION telemetry;
SET timezone = 'UTC';
\set SHOW_CONTEXT never
\set t '''94949494-9494-9494-9494-949494949494'''

SELECT count(*) FROM telemetry.load_catalog($${"events": [
  {"name": "lesson_done"},
  {"name": "hint_shown", "sample_rate": 0.5},
  {"name": "form_sent", "on_violation": "quarantine", "schema": {"properties": {"n": {"type": "integer"}}}},
  {"name": "signed_up", "schema": {"properties": {"email": {"type": "string", "x-pii": "hash"}}}}
]}$$);

-- A user id sent as a number is its integer text, however the SDK spelled it: 55520, 55520.0 and
-- 5.552e4 are one user. A fraction is refused; strings are kept as sent.
SELECT "index", status, reason FROM telemetry.track_batch(:t, $$[
  {"name": "lesson_done", "user_id": 55520, "properties": {"k": 1}},
  {"name": "lesson_done", "user_id": 55520.0, "properties": {"k": 2}},
  {"name": "lesson_done", "user_id": 5.552e4, "properties": {"k": 3}},
  {"name": "lesson_done", "user_id": "55520", "properties": {"k": 4}},
  {"name": "lesson_done", "user_id": -0.0, "properties": {"k": 5}},
  {"name": "lesson_done", "user_id": 12345678901234567890123, "properties": {"k": 6}},
  {"name": "lesson_done", "user_id": 55520.5},
  {"name": "lesson_done", "session_id": 7e0, "user_id": " 55520"}
]$$);
SELECT user_id, session_id, count(*) FROM telemetry.events GROUP BY user_id, session_id ORDER BY user_id, session_id;

-- So an opt-out of '55520' holds for every spelling, on every path (track_batch, replay), and
-- sampling gives every spelling the same answer.
SELECT telemetry.opt_out(:t, '55520');
SELECT status, count(*) FROM telemetry.track_batch(:t, $$[
  {"name": "lesson_done", "user_id": 55520}, {"name": "lesson_done", "user_id": 55520.0},
  {"name": "lesson_done", "user_id": 5.552e4}, {"name": "lesson_done", "user_id": "55520"},
  {"name": "form_sent", "user_id": 55520.00, "properties": {"n": "not a number"}}
]$$) GROUP BY status ORDER BY status;
SELECT telemetry.opt_in(:t, '55520');
SELECT status FROM telemetry.track_batch(:t, '[{"name": "form_sent", "user_id": 55520.0, "properties": {"n": "x"}}]');
SELECT user_id FROM telemetry.quarantine;
SELECT telemetry.opt_out(:t, '55520');
SELECT status FROM telemetry.replay_quarantine(:t::uuid);
SELECT count(*) AS quarantined_left FROM telemetry.quarantine;
SELECT array_agg(DISTINCT status) AS statuses FROM telemetry.track_batch(:t, $$[
  {"name": "hint_shown", "user_id": 777}, {"name": "hint_shown", "user_id": 777.0}, {"name": "hint_shown", "user_id": "777"},
  {"name": "hint_shown", "user_id": 7.77e2}]$$);

-- An event id in every spelling PostgreSQL's uuid accepts is one id, in track() and track_batch()
-- alike: stored in its canonical form, a duplicate whatever the spelling of the retry.
SELECT "index", status, id FROM telemetry.track_batch(:t, $$[
  {"name": "lesson_done", "event_id": "0192d5b4-0000-7000-8000-0000000000e1"},
  {"name": "lesson_done", "event_id": "{0192D5B4-0000-7000-8000-0000000000E1}"},
  {"name": "lesson_done", "event_id": "0192d5b4000070008000000000000e2"},
  {"name": "lesson_done", "event_id": "0192d5b4000070008000000000000e02"},
  {"name": "lesson_done", "event_id": "0192-d5b4-0000-7000-8000-0000-0000-00e3"},
  {"name": "lesson_done", "event_id": "urn:uuid:0192d5b4-0000-7000-8000-0000000000e4"}
]$$);
SELECT telemetry.track(:t::uuid, 'lesson_done', '{}', NULL, NULL, NULL, '{0192d5b4000070008000000000000e02}') AS typed_retry;
SELECT event_id, count(*) FROM telemetry.events WHERE event_id::text LIKE '0192d5b4-0000-7000-8000-%' GROUP BY event_id ORDER BY event_id;
-- The nil and max UUIDs are placeholders, not ids: refused, in both.
SELECT "index", status, sqlstate, reason FROM telemetry.track_batch(:t, $$[
  {"name": "lesson_done", "event_id": "00000000-0000-0000-0000-000000000000"},
  {"name": "lesson_done", "event_id": "FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF"}]$$);
SELECT telemetry.track(:t::uuid, 'lesson_done', '{}', NULL, NULL, NULL, '00000000-0000-0000-0000-000000000000');

-- Times: the ISO 8601 offsets SDKs emit; a number plainly in seconds (or micro-, nanoseconds)
-- says so instead of "older than the retention"; a corrected time never lands after receipt.
SELECT "index", status, sqlstate, reason FROM telemetry.track_batch(:t, format($$[
  {"name": "lesson_done", "user_id": "t0", "occurred_at": %s},
  {"name": "lesson_done", "user_id": "t1", "occurred_at": %s},
  {"name": "lesson_done", "user_id": "t2", "occurred_at": %s},
  {"name": "lesson_done", "user_id": "t3", "occurred_at": %s},
  {"name": "lesson_done", "user_id": "t4", "occurred_at": %s},
  {"name": "lesson_done", "user_id": "t5", "occurred_at": %s, "sent_at": %s}
]$$,
  to_json(to_char(now() - interval '1 hour', 'YYYY-MM-DD"T"HH24:MI:SS') || '+0000'),
  to_json(to_char(now() - interval '1 hour', 'YYYY-MM-DD"T"HH24:MI:SS') || '+00'),
  floor(extract(epoch FROM now()))::bigint,
  floor(extract(epoch FROM now()) * 1000000)::bigint,
  floor(extract(epoch FROM now()) * 1000000000)::numeric,
  to_json(now() - interval '1 minute'), to_json(now() - interval '10 minutes')));
SELECT user_id, occurred_at <= received_at AS not_after_receipt, flags FROM telemetry.events WHERE user_id LIKE 't_' ORDER BY user_id;

-- x-pii "hash": a value a client sends already shaped like a hash is hashed like any other, so
-- neither short plaintext nor another user's hash can pass for one.
SELECT status FROM telemetry.track_batch(:t, '[{"name": "signed_up", "user_id": "a", "properties": {"email": "a@example.com"}}]');
SELECT properties ->> 'email' AS hash_of_a FROM telemetry.events WHERE name = 'signed_up' AND user_id = 'a' \gset
SELECT status FROM telemetry.track_batch(:t, format('[{"name": "signed_up", "user_id": "b", "properties": {"email": %s}},
                                                      {"name": "signed_up", "user_id": "c", "properties": {"email": "h1:shortplaintextlol12"}}]',
                                                    to_json(:'hash_of_a'::text)));
SELECT user_id, properties ->> 'email' = :'hash_of_a' AS same_as_a, properties ->> 'email' LIKE 'h1:%' AS hashed,
       properties ->> 'email' = 'h1:shortplaintextlol12' AS kept_as_sent
FROM telemetry.events WHERE name = 'signed_up' ORDER BY user_id;
