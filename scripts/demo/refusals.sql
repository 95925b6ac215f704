-- What the catalog refuses, and how the application hears about it: an error with a SQLSTATE
-- and a message naming the rule, never the value (it may be personal data).
\set VERBOSITY default
\set SHOW_CONTEXT never
\echo
\echo 'An event type nobody declared:'
SELECT telemetry.track('6a1f0c3e-0000-4000-8000-000000000001'::uuid, 'conversation_restarted', '{}');
\echo 'An event type still planned in the catalog:'
SELECT telemetry.track('6a1f0c3e-0000-4000-8000-000000000001'::uuid, 'page_viewed', '{"path": "/pricing"}');
\echo 'Properties that are not a JSON object:'
SELECT telemetry.track('6a1f0c3e-0000-4000-8000-000000000001'::uuid, 'message_sent', '["hello", "world"]');
\echo 'A name that breaks the naming rule:'
SELECT telemetry.track('6a1f0c3e-0000-4000-8000-000000000001'::uuid, 'Message Sent', '{}');
