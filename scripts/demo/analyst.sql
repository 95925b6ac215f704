-- The analyst's report of the design documents' questions, through telemetry's analytics
-- functions (docs/analytics.md), for Northwind Language School.
\pset footer off
\set org '''6a1f0c3e-0000-4000-8000-000000000001'''
\echo 'Events per day, the last 7 days (event_counts: closed days from the rollups, today from raw events):'
SELECT bucket_start::date AS day, sum(events) AS events, max(users) FILTER (WHERE name = 'conversation_started') AS learners_practising
FROM telemetry.event_counts(:org, date_trunc('day', now()) - interval '6 days', now())
GROUP BY 1 ORDER BY 1;
\echo 'Top events of the last 14 days (top_events):'
SELECT * FROM telemetry.top_events(:org, now() - interval '14 days', now(), 5);
\echo 'Unique learners over 40 days, exact and from the daily HyperLogLog sketches (unique_users; more than 31 days: sketches unless exact is asked):'
SELECT 'exact' AS how, * FROM telemetry.unique_users(:org, date_trunc('day', now()) - interval '40 days', now(), exact => true)
UNION ALL SELECT 'sketches', * FROM telemetry.unique_users(:org, date_trunc('day', now()) - interval '40 days', now());
\echo 'Daily active learners, the last 7 days (daily_active_users: exact; closed days from the rollups'' daily totals):'
SELECT day_start::date AS day, users AS learners FROM telemetry.daily_active_users(:org, date_trunc('day', now()) - interval '6 days', now());
\echo 'Active learners (active_users):'
SELECT * FROM telemetry.active_users(:org);
\echo 'The invitation funnel, with time to convert (funnel: ordered, 1-day window, FUNNELS.md F1-F17):'
SELECT step, name, actors, conversion_from_first, conversion_from_previous,
       round(median_seconds_from_previous) AS median_s, round(avg_seconds_from_previous) AS avg_s, in_progress
FROM telemetry.funnel(:org, '["user_authenticated", "invitation_claimed", "conversation_started",
                              {"event": "conversation_ended", "where": {"reason": "completed"}}]',
                      now() - interval '14 days', now(), '1 day');
\echo 'Completion rate and escalation rate (2-step funnels per learner; the event ratio beside them):'
SELECT 'completion' AS rate, * FROM telemetry.completion_rate(:org, now() - interval '14 days', now())
UNION ALL SELECT 'escalation', * FROM telemetry.escalation_rate(:org, now() - interval '14 days', now());
\echo 'Weekly retention of learners by their first sign-in week (retention, R1-R6; unfinished weeks are not 0):'
SELECT cohort_start::date AS cohort, period_index AS week, cohort_size, retained, rate, complete
FROM telemetry.retention(:org, '"user_authenticated"', '"conversation_started"', date_trunc('week', now()) - interval '2 weeks', now(),
                         'week', 2)
ORDER BY 1, 2;
\echo 'Sessions of the last 7 days by day (sessions: the client''s session ids; bounces are one-event sessions, in the average at 0 s):'
SELECT bucket_start::date AS day, sessions, round(avg_seconds) AS avg_s, round(median_seconds) AS median_s, bounces, bounce_rate
FROM telemetry.sessions(:org, date_trunc('day', now()) - interval '6 days', now(), bucket => 'day');
\echo 'Token usage by scenario, the last 14 days, top 5 (property_sum: inputTokens+outputTokens of stream_completed):'
SELECT group_value AS scenario, total AS tokens, events AS streams, non_numeric
FROM telemetry.property_sum(:org, 'stream_completed', 'inputTokens+outputTokens', now() - interval '14 days', now(), 'scenarioSlug')
ORDER BY total DESC, group_value LIMIT 5;
\echo 'Conversation length by how it ended (property_stats: durationMs of conversation_ended):'
SELECT group_value AS reason, events, round(avg) AS avg_ms, min AS min_ms, max AS max_ms, round(median::numeric) AS median_ms,
       round(p95::numeric) AS p95_ms
FROM telemetry.property_stats(:org, 'conversation_ended', 'durationMs', now() - interval '14 days', now(), 'reason')
ORDER BY events DESC;
