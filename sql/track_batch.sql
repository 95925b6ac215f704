-- track_batch(): a client's batch. Every event gets a status, the statuses add up to the
-- number of events, and exactly the accepted events are stored.
-- Each test file starts from a fresh extension, so it does not depend on the others.
DROP EXTENSION telemetry;
CREATE EXTENSION telemetry;
SET timezone = 'UTC';
\set SHOW_CONTEXT never

SELECT count(*) FROM telemetry.load_catalog($${"events": [
  {"name": "lesson_completed", "schema": {"required": ["lesson"], "properties": {
      "lesson": {"type": "string"}, "score": {"type": "integer", "minimum": 0, "maximum": 100}},
      "additionalProperties": false}},
  {"name": "flashcard_reviewed", "sample_rate": 0.5},
  {"name": "client_error", "on_violation": "quarantine", "schema": {"required": ["code"], "properties": {"code": {"type": "string"}}}},
  {"name": "old_event", "status": "deprecated"}
]}$$);
SELECT telemetry.opt_out('55555555-5555-5555-5555-555555555555', 'learner-optout');
-- The counters are shared by the whole server: remember where they stand.
CREATE TEMP TABLE counters_before AS SELECT * FROM telemetry.ingest_counters();

-- One batch with every status. (The text form: parsed here, once.)
CREATE TEMP TABLE batch_result AS
SELECT * FROM telemetry.track_batch('55555555-5555-5555-5555-555555555555', $$[
  {"name": "lesson_completed", "properties": {"lesson": "fractions", "score": 80}, "user_id": "learner-1",
   "event_id": "0192d5b4-0000-7000-8000-000000000001"},
  {"name": "lesson_completed", "properties": {"lesson": "fractions", "score": 80}, "user_id": "learner-1",
   "event_id": "0192d5b4-0000-7000-8000-000000000001"},
  {"name": "lesson_completed", "properties": {"lesson": "decimals", "score": 101}, "user_id": "learner-2"},
  {"name": "client_error", "properties": {"message": "no code"}, "user_id": "learner-2"},
  {"name": "lesson_completed", "properties": {"lesson": "x"}, "user_id": "learner-optout"},
  {"name": "flashcard_reviewed", "user_id": "learner-3"},
  {"name": "flashcard_reviewed", "user_id": "learner-4"},
  {"name": "flashcard_reviewed", "user_id": "learner-5"},
  {"name": "flashcard_reviewed", "user_id": "learner-6"},
  {"name": "unknown_event"},
  {"name": "lesson_completed", "properties": {"lesson": "a", "lesson": "b"}},
  {"name": "lesson_completed", "properties": {"lesson": "a\u0000b"}},
  {"name": "lesson_completed", "properties": {"lesson": "a", "score": 1e400}},
  {"name": "lesson_completed", "propertes": {"lesson": "typo"}},
  {"name": "lesson_completed", "properties": [1, 2]},
  "lesson_completed",
  {"properties": {"lesson": "no name"}},
  {"name": "lesson_completed", "properties": {"lesson": "t"}, "occurred_at": "yesterday"},
  {"name": "lesson_completed", "properties": {"lesson": "t"}, "event_id": "not-a-uuid"},
  {"name": "old_event", "user_id": 42}
]$$);
SELECT "index", status, reason, sqlstate, id IS NOT NULL AS has_id FROM batch_result ORDER BY "index";
SELECT status, count(*) FROM batch_result GROUP BY status ORDER BY status;
SELECT count(*) AS inputs, (SELECT count(*) FROM batch_result) AS result_rows FROM generate_series(0, 19);

-- Stored: exactly the accepted events, and the quarantined one in quarantine.
SELECT (SELECT count(*) FROM telemetry.events) AS events_stored,
       (SELECT count(*) FROM batch_result WHERE status = 'accepted') AS accepted,
       (SELECT count(*) FROM telemetry.events e JOIN batch_result b ON b.id = e.event_id AND b.status = 'accepted') AS stored_are_accepted;
SELECT name, user_id, source, sample_weight FROM telemetry.events ORDER BY id;
SELECT count(*) AS quarantined_rows FROM telemetry.quarantine;

-- The same batch again: the events with ids are duplicates now, the others are new events.
SELECT status, count(*) FROM telemetry.track_batch('55555555-5555-5555-5555-555555555555', $$[
  {"name": "lesson_completed", "properties": {"lesson": "fractions", "score": 80}, "user_id": "learner-1",
   "event_id": "0192d5b4-0000-7000-8000-000000000001"},
  {"name": "lesson_completed", "properties": {"lesson": "fractions"}, "user_id": "learner-1"}
]$$) GROUP BY status ORDER BY status;

-- The jsonb form takes what PostgreSQL parsed: duplicate keys were already collapsed, \u0000
-- and NaN never got this far.
SELECT "index", status, reason FROM telemetry.track_batch('55555555-5555-5555-5555-555555555555',
    '[{"name": "lesson_completed", "properties": {"lesson": "a", "lesson": "b"}},
      {"name": "lesson_completed", "properties": {"lesson": "c", "score": 1e400}}]'::jsonb);

-- Sampling is by actor: the same user gets the same answer every time, and a kept event
-- carries the weight that scales counts back (1 / 0.5).
SELECT user_id, array_agg(DISTINCT status) AS statuses
FROM (SELECT 'learner-' || g AS user_id, b.status
      FROM generate_series(3, 6) AS g, generate_series(1, 3) AS attempt,
           LATERAL telemetry.track_batch('55555555-5555-5555-5555-555555555555',
                   jsonb_build_array(jsonb_build_object('name', 'flashcard_reviewed', 'user_id', 'learner-' || g,
                                                        'properties', jsonb_build_object('attempt', attempt)))) b) s
GROUP BY user_id ORDER BY user_id;
SELECT DISTINCT sample_weight FROM telemetry.events WHERE name = 'flashcard_reviewed';

-- Client clocks: occurred_at is corrected by (received_at - sent_at); the batch's sent_at
-- applies to events without their own. Times far ahead are clamped to received_at and flagged.
-- a: a client clock two hours ahead, event 30 s before sending; b: a clock one hour behind
-- (the batch's sent_at), time in epoch milliseconds, 10 minutes before sending; c: three days
-- ahead even after correction.
SELECT "index", status FROM telemetry.track_batch('66666666-6666-6666-6666-666666666666', format($$[
  {"name": "old_event", "event_id": "0192d5b4-0000-7000-8000-00000000000a", "occurred_at": %s, "sent_at": %s},
  {"name": "old_event", "event_id": "0192d5b4-0000-7000-8000-00000000000b", "occurred_at": %s},
  {"name": "old_event", "event_id": "0192d5b4-0000-7000-8000-00000000000c", "occurred_at": %s}
]$$,
    to_json(now() + interval '2 hours' - interval '30 seconds'), to_json(now() + interval '2 hours'),
    (extract(epoch FROM now() - interval '1 hour' - interval '10 minutes') * 1000)::bigint,
    to_json(now() + interval '3 days')), now() - interval '1 hour');
SELECT right(event_id::text, 1) AS event, flags,
       round(extract(epoch FROM received_at - occurred_at)) AS seconds_before_receipt
FROM telemetry.events WHERE tenant_id = '66666666-6666-6666-6666-666666666666' ORDER BY event_id;

-- A tenant's own retention: older events are refused with the reason.
INSERT INTO telemetry.tenant_settings (tenant_id, retention_days) VALUES ('66666666-6666-6666-6666-666666666666', 7);
SELECT "index", status, reason FROM telemetry.track_batch('66666666-6666-6666-6666-666666666666',
    format('[{"name": "old_event", "occurred_at": %s}, {"name": "old_event", "occurred_at": %s}]',
           to_json(now() - interval '8 days'), to_json(now() - interval '6 days')));
DELETE FROM telemetry.tenant_settings;

-- Batches as a whole: empty, 10,000 events, and every refusal of the batch itself.
SELECT count(*) AS rows_for_an_empty_batch FROM telemetry.track_batch('55555555-5555-5555-5555-555555555555', '[]');
SELECT status, count(*) FROM telemetry.track_batch('77777777-7777-7777-7777-777777777777',
    (SELECT jsonb_agg(jsonb_build_object('name', 'lesson_completed', 'user_id', 'u' || (i % 97),
                                         'properties', jsonb_build_object('lesson', 'l' || i, 'score', i % 101)))
     FROM generate_series(1, 10000) AS i)) GROUP BY status;
SELECT count(*) AS stored_of_10000 FROM telemetry.events WHERE tenant_id = '77777777-7777-7777-7777-777777777777';
SELECT * FROM telemetry.track_batch('55555555-5555-5555-5555-555555555555',
    (SELECT jsonb_agg(jsonb_build_object('name', 'old_event')) FROM generate_series(1, 10001)));
SELECT * FROM telemetry.track_batch('55555555-5555-5555-5555-555555555555', '{"name": "lesson_completed"}');
SELECT * FROM telemetry.track_batch('55555555-5555-5555-5555-555555555555', '"events"');
SELECT * FROM telemetry.track_batch('55555555-5555-5555-5555-555555555555', '[{"name": "x"},');
SELECT * FROM telemetry.track_batch('55555555-5555-5555-5555-555555555555', repeat('[', 40) || repeat(']', 40));
SELECT * FROM telemetry.track_batch('55555555-5555-5555-5555-555555555555', '[' || repeat('{"name": "old_event"},', 800000) || '{}]');
SELECT * FROM telemetry.track_batch(NULL, '[]');
SELECT * FROM telemetry.track_batch('55555555-5555-5555-5555-555555555555', NULL::text);
SELECT * FROM telemetry.track_batch('55555555-5555-5555-5555-555555555555', '[]', 'infinity');

-- Every decision of this file was counted, in shared memory (the library is preloaded here):
-- 20 + 2 + 2 + 12 + 3 + 2 + 10,000 events.
SELECT status, c.events - b.events AS counted_here
FROM telemetry.ingest_counters() c JOIN counters_before b USING (status) ORDER BY status;
