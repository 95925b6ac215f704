-- The analytics benchmarks' database (bench/analytics.sh): telemetry, and one big tenant's days
-- of a conversation-practice product (the event names of catalog/conversation_practice.json):
-- sessions of user_authenticated, sometimes invitation_claimed, then mostly a conversation:
-- conversation_started, messages, and most often conversation_ended (reason completed or
-- abandoned). Inserted as the superuser with INSERT ... SELECT (no validation: the catalog is
-- not what is measured), in time order, as a product sends them.
-- Variables: :tenant, :sessions, :users, :days, :first_day (date: the first day stored), :p_now
-- (the maintenance clock), :days_back (partitions made before p_now's day).
SET client_min_messages = warning;  -- not the NOTICE of hll installed by CASCADE
CREATE EXTENSION telemetry CASCADE;
SET timezone = 'UTC';
SELECT telemetry.create_partitions(:'p_now', :days_back) >= 0 AS partitions_made \gset
SELECT setseed(0.23) AS seeded \gset
-- Each user has a first day (early days more likely, so that weekly cohorts differ in size), and
-- their sessions fall on that day or later, fewer as time goes by (so that retention decays);
-- a few heavy users have most sessions (random()^1.5 over the user numbers).
CREATE TABLE bench_analytics_sessions AS
WITH s AS (
    SELECT g AS session, 1 + floor(:users * random() ^ 1.5)::int AS u, random() AS r_day, random() AS r_time,
           random() < 0.08 AS invited, random() < 0.9 AS conversation, random() < 0.85 AS ended,
           random() < 0.65 AS completed, 1 + floor(random() * 15)::int AS messages, 1 + floor(random() * 50)::int AS scenario
    FROM generate_series(1, :sessions) g),
f AS (
    SELECT s.*, floor(:days * ((u * 0.6180339887) - floor(u * 0.6180339887)) ^ 2)::int AS first_day FROM s)
SELECT session, 'user-' || u AS user_id, 'sess-' || session AS session_id, invited, conversation, ended, completed,
       messages, scenario,
       ((date :'first_day' + first_day + floor((:days - first_day) * r_day ^ 1.5)::int)::timestamp AT TIME ZONE 'UTC')
         + floor(r_time * 82800) * interval '1 second' AS t0
FROM f;

INSERT INTO telemetry.events (occurred_at, received_at, tenant_id, event_id, sample_weight, name, user_id, session_id,
                              source, schema_version, properties)
SELECT s.t0 + k.off * interval '1 second', s.t0 + k.off * interval '1 second' + interval '200 milliseconds', :'tenant',
       gen_random_uuid(), 1, k.name, s.user_id, s.session_id, 'server', '1-0-0', k.props
FROM bench_analytics_sessions s
CROSS JOIN LATERAL (
    SELECT 0 AS off, 'user_authenticated' AS name, jsonb_build_object('method', 'password', 'mfa', false) AS props
    UNION ALL
    SELECT 2, 'invitation_claimed', jsonb_build_object('invitationId', 'inv-' || s.session) WHERE s.invited
    UNION ALL
    SELECT 10, 'conversation_started',
           jsonb_build_object('scenarioId', 'sc-' || s.scenario, 'source', CASE WHEN s.invited THEN 'invitation' ELSE 'web' END)
    WHERE s.conversation
    UNION ALL
    SELECT 10 + 30 * j, 'message_sent', jsonb_build_object('length', 20 + (j * 37) % 400, 'timeSinceLastMs', 30000)
    FROM generate_series(1, s.messages) j WHERE s.conversation
    UNION ALL
    SELECT 30 + 30 * s.messages, 'conversation_ended',
           jsonb_build_object('reason', CASE WHEN s.completed THEN 'completed' ELSE 'abandoned' END,
                              'durationMs', (20 + 30 * s.messages) * 1000, 'messageCount', s.messages)
    WHERE s.conversation AND s.ended) k
ORDER BY 1;
ANALYZE telemetry.events;
