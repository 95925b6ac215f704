-- What an analyst sees, in the plain SQL the design documents wrote (analyst.sql asks the same
-- and more through the analytics functions, after the worker has rolled the days up).
\pset footer off
\echo
\echo 'Events per day and event type, all tenants (UTC days):'
SELECT (occurred_at AT TIME ZONE 'UTC')::date AS day,
       count(*) AS events,
       count(*) FILTER (WHERE name = 'user_authenticated')   AS sign_ins,
       count(*) FILTER (WHERE name = 'conversation_started') AS conv_started,
       count(*) FILTER (WHERE name = 'message_sent')         AS messages,
       count(*) FILTER (WHERE name = 'stream_completed')     AS model_replies,
       count(*) FILTER (WHERE name = 'conversation_ended')   AS conv_ended,
       count(*) FILTER (WHERE name NOT IN ('user_authenticated', 'conversation_started', 'message_sent',
                                           'stream_completed', 'conversation_ended')) AS other,
       count(DISTINCT user_id) AS learners
FROM telemetry.events
GROUP BY 1 ORDER BY 1;

\echo 'Events per tenant and event type, last 14 days:'
SELECT t.org AS tenant, e.name AS event, count(*) AS events, count(DISTINCT e.user_id) AS learners
FROM telemetry.events e JOIN demo_tenants t USING (tenant_id)
GROUP BY 1, 2 ORDER BY 1, 3 DESC;
