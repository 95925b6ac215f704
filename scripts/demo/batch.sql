-- A client's batch, as a browser or mobile app would send it: buffered events, each with its
-- own event_id and time, posted as one JSON array. Some are wrong, one is a retry of an event
-- already received (its id spelled another way), two come from learners who opted out (one id
-- sent as a float, as some SDKs do), one has a string cut in the middle of an emoji. Every
-- event gets a status; no bad event costs the others.
SELECT telemetry.opt_out('6a1f0c3e-0000-4000-8000-000000000001', 'learner-0007') AS learner_0007_opted_out \gset
SELECT telemetry.opt_out('6a1f0c3e-0000-4000-8000-000000000001', '4242') AS learner_4242_opted_out \gset
\pset footer off
\echo
\echo 'The batch''s events and their statuses:'
SELECT "index", status, coalesce(reason, '') AS reason
FROM telemetry.track_batch('6a1f0c3e-0000-4000-8000-000000000001', format($$[
  {"name": "conversation_started", "event_id": "0192d5b4-7d6e-7000-8000-00000000d001", "user_id": "learner-0001",
   "occurred_at": %1$s, "properties": {"scenarioId": "sc-job-interview", "scenarioSlug": "job-interview", "source": "ios"}},
  {"name": "message_sent", "event_id": "0192d5b4-7d6e-7000-8000-00000000d002", "user_id": "learner-0001",
   "occurred_at": %1$s, "properties": {"length": 42, "timeSinceLastMs": null}},
  {"name": "message_sent", "event_id": "{0192D5B4-7D6E-7000-8000-00000000D002}", "user_id": "learner-0001",
   "occurred_at": %1$s, "properties": {"length": 42, "timeSinceLastMs": null}},
  {"name": "message_sent", "user_id": 4242.0, "properties": {"length": 7, "timeSinceLastMs": 300}},
  {"name": "conversation_started", "user_id": "learner-0003", "occurred_at": "2030-01-01T00:00:00+0000",
   "properties": {"scenarioId": "sc-\ud83d", "scenarioSlug": "emoji-cut", "source": "web"}},
  {"name": "conversation_started", "user_id": "learner-0001", "properties": {"scenarioId": "sc-1", "source": "carrier-pigeon"}},
  {"name": "conversation_ended", "user_id": "learner-0001", "properties": {"reason": "completed", "durationMs": "90s", "messageCount": 4}},
  {"name": "message_sent", "user_id": "learner-0007", "properties": {"length": 10, "timeSinceLastMs": 900}},
  {"name": "page_viewed", "properties": {"path": "/pricing"}},
  {"name": "button_clicked", "properties": {"id": "cta"}},
  {"name": "stream_completed", "user_id": "learner-0001",
   "properties": {"streamType": "partner", "model": "gpt-4o-mini", "inputTokens": 812, "outputTokens": 96, "latencyMs": 1e400}},
  {"name": "user_merged", "user_id": "learner-0001", "properties": {"fromUserId": "anon-77", "toUserId": "learner-0001"}}
]$$, to_json(now() - interval '3 minutes')))
ORDER BY "index";
\echo 'The same retry again, a minute later: nothing is stored twice.'
SELECT status, count(*) FROM telemetry.track_batch('6a1f0c3e-0000-4000-8000-000000000001',
    '[{"name": "message_sent", "event_id": "0192d5b4-7d6e-7000-8000-00000000d002", "user_id": "learner-0001",
       "properties": {"length": 42, "timeSinceLastMs": null}}]') GROUP BY status;
\echo 'user_merged declares its ids x-pii "hash": what was stored instead of them:'
SELECT properties FROM telemetry.events WHERE name = 'user_merged';
\echo 'The cut emoji became U+FFFD (flag 16); the time from the future was clamped to its arrival (flag 1):'
SELECT properties ->> 'scenarioId' AS "scenarioId", flags FROM telemetry.events WHERE properties ->> 'scenarioSlug' = 'emoji-cut';
\echo 'Every decision since the server started, by status:'
SELECT status, events FROM telemetry.ingest_counters() ORDER BY status;
