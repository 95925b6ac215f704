-- track(): what an accepted event looks like once stored.
-- Each test file starts from a fresh extension, so it does not depend on the others.
DROP EXTENSION telemetry;
CREATE EXTENSION telemetry;
SET timezone = 'UTC';

SELECT telemetry.define_event('signup_completed',
    '{"type": "object", "properties": {"plan": {"type": "string"}}}');
SELECT telemetry.define_event('page_viewed');

-- Multi-tenant form: returns the new event's id, a UUIDv7.
SELECT telemetry.track('11111111-1111-1111-1111-111111111111'::uuid, 'signup_completed', '{"plan": "pro"}',
                       'user-1', 'session-1') AS id \gset
SELECT substr(:'id', 15, 1) AS uuid_version,
       substr(:'id', 20, 1) IN ('8', '9', 'a', 'b') AS rfc_variant;

SELECT tenant_id, name, properties, user_id, session_id, source, schema_version, sample_weight,
       event_id = :'id' AS id_returned,
       occurred_at = received_at AS occurred_defaults_to_received,
       received_at <= now() AND received_at > now() - interval '1 minute' AS received_just_now
FROM telemetry.events WHERE event_id = :'id';

-- Single-tenant form: the nil-UUID tenant. Properties default to an empty object.
SELECT telemetry.track('page_viewed') IS NOT NULL AS tracked;
SELECT telemetry.track('page_viewed', '{"path": "/pricing"}'::jsonb, 'user-2') IS NOT NULL AS tracked;
SELECT tenant_id, name, properties, user_id, session_id
FROM telemetry.events WHERE tenant_id = '00000000-0000-0000-0000-000000000000' ORDER BY id;

-- An explicit event time lands in the partition of its UTC day.
SELECT telemetry.track('11111111-1111-1111-1111-111111111111'::uuid, 'page_viewed', '{}', NULL, NULL,
                       date_trunc('day', now()) - interval '3 days' + interval '10 hours') AS old_id \gset
SELECT tableoid::regclass = (SELECT p.partition FROM telemetry.partitions() p
                             WHERE p.day = (now() AT TIME ZONE 'UTC')::date - 3) AS in_partition_of_its_day,
       occurred_at = date_trunc('day', now()) - interval '3 days' + interval '10 hours' AS kept_as_given,
       received_at > occurred_at AS received_later
FROM telemetry.events WHERE event_id = :'old_id';

-- Named arguments work for both forms.
SELECT telemetry.track(name => 'page_viewed', properties => '{"path": "/"}', session_id => 's-9') IS NOT NULL;
SELECT telemetry.track(tenant_id => '11111111-1111-1111-1111-111111111111', name => 'page_viewed',
                       properties => '{}', user_id => 'user-1') IS NOT NULL;

-- Ids are unique and increase with time; ingest order is kept in id.
SELECT count(*) AS events, count(DISTINCT event_id) AS distinct_ids FROM telemetry.events;
SELECT bool_and(id > prev_id) AS ids_increase
FROM (SELECT id, lag(id) OVER (ORDER BY id) AS prev_id FROM telemetry.events) s WHERE prev_id IS NOT NULL;

-- track() takes part in the caller's transaction: a rollback takes the event with it.
BEGIN;
SELECT telemetry.track('page_viewed', '{"path": "/rolled-back"}') IS NOT NULL;
ROLLBACK;
SELECT count(*) AS rolled_back_events FROM telemetry.events WHERE properties @> '{"path": "/rolled-back"}';

-- Many events in one statement.
SELECT count(telemetry.track('11111111-1111-1111-1111-111111111111'::uuid, 'page_viewed',
                             jsonb_build_object('path', '/p/' || i), 'user-' || (i % 7), NULL))
FROM generate_series(1, 1000) AS i;
SELECT count(*) AS page_views, count(DISTINCT user_id) AS users
FROM telemetry.events WHERE tenant_id = '11111111-1111-1111-1111-111111111111' AND name = 'page_viewed';

-- Untyped literals, as drivers send parameters: the first argument tells a tenant (a UUID) from
-- an event name (sql/track_forms.sql has every form).
SELECT telemetry.track('page_viewed', '{"path": "/two-literals"}') IS NOT NULL;
SELECT telemetry.track('11111111-1111-1111-1111-111111111111', 'page_viewed', '{"path": "/three-literals"}') IS NOT NULL;
SELECT tenant_id FROM telemetry.events WHERE properties ->> 'path' IN ('/two-literals', '/three-literals') ORDER BY id;

-- Which form a call takes (docs/api.md). With typed arguments, the short forms have no
-- defaults to fill in, and take the calls that give exactly tenant, name, properties, user and
-- session (or name, properties, user and session): EXPLAIN VERBOSE shows five (four) arguments.
-- Other typed calls take a long form, whose defaults the planner writes out as NULLs; calls
-- without types take a text form. None of these runs.
\set u '''11111111-1111-1111-1111-111111111111'''
EXPLAIN (VERBOSE, COSTS OFF) SELECT telemetry.track(:u::uuid, 'page_viewed', '{}', 'user-1', 'session-1');
EXPLAIN (VERBOSE, COSTS OFF) SELECT telemetry.track(:u::uuid, 'page_viewed', '{}', NULL, NULL);
EXPLAIN (VERBOSE, COSTS OFF) SELECT telemetry.track(:u::uuid, 'page_viewed', '{}'::jsonb, 'user-1'::text, 'session-1'::text);
EXPLAIN (VERBOSE, COSTS OFF) SELECT telemetry.track(tenant_id => :u, name => 'page_viewed', properties => '{}', user_id => 'user-1', session_id => 'session-1');
EXPLAIN (VERBOSE, COSTS OFF) SELECT telemetry.track('page_viewed', '{}'::jsonb, 'user-1', 'session-1');
EXPLAIN (VERBOSE, COSTS OFF) SELECT telemetry.track(:u::uuid, 'page_viewed', '{}', 'user-1');
EXPLAIN (VERBOSE, COSTS OFF) SELECT telemetry.track(:u::uuid, 'page_viewed', '{}', 'user-1', 'session-1', now());
EXPLAIN (VERBOSE, COSTS OFF) SELECT telemetry.track(:u::uuid, 'page_viewed', '{}', event_id => :u);
EXPLAIN (VERBOSE, COSTS OFF) SELECT telemetry.track(:u::uuid, 'page_viewed', '{}', 'user-1'::varchar, 'session-1'::varchar);
EXPLAIN (VERBOSE, COSTS OFF) SELECT telemetry.track('page_viewed');
-- Both forms store the same.
SELECT telemetry.track(:u::uuid, 'page_viewed', '{"path": "/short"}', 'user-s', 'session-s') IS NOT NULL AS short_form,
       telemetry.track(:u::uuid, 'page_viewed', '{"path": "/long"}', 'user-l'::varchar, 'session-l'::varchar) IS NOT NULL AS long_form;
SELECT user_id, session_id, properties FROM telemetry.events WHERE user_id IN ('user-s', 'user-l') ORDER BY user_id DESC;
