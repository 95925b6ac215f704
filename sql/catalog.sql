-- The catalog: loading documents, the errors they get, and how fast changes reach track().
-- Each test file starts from a fresh extension, so it does not depend on the others.
DROP EXTENSION telemetry;
CREATE EXTENSION telemetry;
SET timezone = 'UTC';

CREATE FUNCTION pg_temp.refusal(statement text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    state text; message text;
BEGIN
    EXECUTE statement;
    RETURN 'accepted';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, message = MESSAGE_TEXT;
    RETURN state || ': ' || message;
END $$;

-- The document form of DESIGN.md §3 loads as written there.
SELECT * FROM telemetry.load_catalog($${
  "events": [
    {
      "name": "conversation_started",
      "version": "1-0-0",
      "status": "active",
      "description": "User begins conversation",
      "sample_rate": 1,
      "max_bytes": 2048,
      "on_violation": "reject",
      "schema": {
        "type": "object",
        "required": ["scenarioId", "source"],
        "properties": {
          "scenarioId":   {"type": "string", "maxLength": 64},
          "scenarioSlug": {"type": "string"},
          "invitationId": {"type": "string", "x-pii": "hash"},
          "source":       {"type": "string", "enum": ["web", "ios", "android", "invitation"]}
        },
        "additionalProperties": false
      }
    }
  ]
}$$);
SELECT name, version, status, description, sample_rate, max_bytes, on_violation,
       schema -> 'required' AS required
FROM telemetry.event_types;

-- Defaults for what a document leaves out.
SELECT * FROM telemetry.validate_catalog('{"events": [{"name": "minimal"}]}');

-- Loading is idempotent; changed entries are updated, new ones created, absent ones kept.
SELECT * FROM telemetry.load_catalog('{"events": [{"name": "conversation_started", "version": "1-0-0",
  "description": "User begins conversation", "schema": {"type": "object", "required": ["scenarioId", "source"],
  "properties": {"scenarioId": {"type": "string", "maxLength": 64}, "scenarioSlug": {"type": "string"},
  "invitationId": {"type": "string", "x-pii": "hash"}, "source": {"type": "string", "enum": ["web", "ios",
  "android", "invitation"]}}, "additionalProperties": false}}]}');
-- A new description needs no new version; a new event type is created alongside.
SELECT * FROM telemetry.load_catalog(jsonb_set((SELECT jsonb_build_object('events', jsonb_agg(jsonb_build_object(
    'name', name, 'version', version, 'description', 'User begins a conversation', 'schema', schema)))
    FROM telemetry.event_types WHERE name = 'conversation_started'), '{events,1}', '{"name": "message_sent", "sample_rate": 0.1}', true));
SELECT * FROM telemetry.load_catalog('{"events": [{"name": "message_sent", "sample_rate": 0.1}]}');
SELECT name, version, description, sample_rate FROM telemetry.event_types ORDER BY name;
SELECT telemetry.define_event('page_viewed') AS first, telemetry.define_event('page_viewed') AS second;

-- A refused document changes nothing, even when its first entries were fine.
SELECT pg_temp.refusal($$SELECT * FROM telemetry.load_catalog('{"events": [{"name": "fine_event"}, {"name": "Bad"}]}')$$);
SELECT count(*) AS fine_event_rows FROM telemetry.event_types WHERE name = 'fine_event';

-- Every refusal names the JSON path and the rule, never the offending value.
SELECT problem, pg_temp.refusal(format('SELECT * FROM telemetry.validate_catalog(%L)', document)) AS outcome
FROM (VALUES
    ('not an object',           '[]'),
    ('no events key',           '{}'),
    ('events not an array',     '{"events": {"name": "a"}}'),
    ('unknown top-level key',   '{"events": [], "evnts": []}'),
    ('entry not an object',     '{"events": ["page_viewed"]}'),
    ('missing name',            '{"events": [{"status": "active"}]}'),
    ('name not a string',       '{"events": [{"name": 42}]}'),
    ('bad name',                '{"events": [{"name": "Page Viewed"}]}'),
    ('name too long',           format('{"events": [{"name": "%s"}]}', repeat('a', 101))),
    ('duplicate name',          '{"events": [{"name": "a"}, {"name": "b"}, {"name": "a"}]}'),
    ('unknown key (typo)',      '{"events": [{"name": "a", "sample_rte": 0.5}]}'),
    ('odd key is quoted',       '{"events": [{"name": "a", "my key\"x": 1}]}'),
    ('bad version',             '{"events": [{"name": "a", "version": "1.0.0"}]}'),
    ('version model 0',         '{"events": [{"name": "a", "version": "0-1-0"}]}'),
    ('version leading zero',    '{"events": [{"name": "a", "version": "1-01-0"}]}'),
    ('bad status',              '{"events": [{"name": "a", "status": "enabled"}]}'),
    ('sample_rate 0',           '{"events": [{"name": "a", "sample_rate": 0}]}'),
    ('sample_rate 1.5',         '{"events": [{"name": "a", "sample_rate": 1.5}]}'),
    ('sample_rate a string',    '{"events": [{"name": "a", "sample_rate": "1"}]}'),
    ('max_bytes fractional',    '{"events": [{"name": "a", "max_bytes": 100.5}]}'),
    ('max_bytes too large',     '{"events": [{"name": "a", "max_bytes": 65537}]}'),
    ('max_bytes 2^64',          '{"events": [{"name": "a", "max_bytes": 18446744073709551616}]}'),
    ('bad on_violation',        '{"events": [{"name": "a", "on_violation": "drop"}]}'),
    ('schema not an object',    '{"events": [{"name": "a", "schema": "object"}]}'),
    ('description too long',    format('{"events": [{"name": "a", "description": "%s"}]}', repeat('d', 1001))),
    ('deep nesting in schema',  '{"events": [{"name": "a", "schema": ' || repeat('{"x": ', 40) || '1' || repeat('}', 40) || '}]}'),
    ('1,000 levels deep',       repeat('[', 1000) || repeat(']', 1000)),
    ('NULL document',           NULL)
) AS cases(problem, document);

-- The five example catalogs under catalog/ each load in one call.
\getenv abs_srcdir PG_ABS_SRCDIR
CREATE TEMP TABLE example_catalogs AS
SELECT f AS file, pg_read_file(:'abs_srcdir' || '/catalog/' || f)::jsonb AS document
FROM unnest(ARRAY['conversation_practice.json', 'support_saas.json', 'education.json',
                  'browser_extension.json', 'ecommerce_dashboard.json']) AS f;
SELECT file, (SELECT count(*) FROM telemetry.validate_catalog(document)) AS event_types,
       (SELECT count(*) FROM telemetry.validate_catalog(document) v WHERE v.sample_rate < 1) AS sampled
FROM example_catalogs ORDER BY file;
-- (They share some names with different schemas, so each goes into a catalog of its own.)
BEGIN;
DELETE FROM telemetry.event_types;
SELECT action, count(*) FROM telemetry.load_catalog((SELECT document FROM example_catalogs WHERE file = 'conversation_practice.json')) GROUP BY 1;
ROLLBACK;
BEGIN;
DELETE FROM telemetry.event_types;
SELECT action, count(*) FROM telemetry.load_catalog((SELECT document FROM example_catalogs WHERE file = 'support_saas.json')) GROUP BY 1;
ROLLBACK;
BEGIN;
DELETE FROM telemetry.event_types;
SELECT action, count(*) FROM telemetry.load_catalog((SELECT document FROM example_catalogs WHERE file = 'education.json')) GROUP BY 1;
ROLLBACK;
BEGIN;
DELETE FROM telemetry.event_types;
SELECT action, count(*) FROM telemetry.load_catalog((SELECT document FROM example_catalogs WHERE file = 'browser_extension.json')) GROUP BY 1;
ROLLBACK;
BEGIN;
DELETE FROM telemetry.event_types;
SELECT action, count(*) FROM telemetry.load_catalog((SELECT document FROM example_catalogs WHERE file = 'ecommerce_dashboard.json')) GROUP BY 1;
ROLLBACK;

-- A catalog change reaches track() at once in this session, and a rollback undoes it.
SELECT telemetry.track('page_viewed') IS NOT NULL AS tracked_while_active;
BEGIN;
SELECT telemetry.define_event('page_viewed', status => 'blocked');
SELECT pg_temp.refusal($$SELECT telemetry.track('page_viewed')$$) AS while_blocked;
ROLLBACK;
SELECT telemetry.track('page_viewed') IS NOT NULL AS tracked_after_rollback;

-- Within one statement too: a DO block may declare an event type and use it right away.
DO $$
BEGIN
    PERFORM telemetry.define_event('declared_in_do_block');
    PERFORM telemetry.track('declared_in_do_block');
END
$$;
SELECT count(*) AS events_declared_in_do_block FROM telemetry.events WHERE name = 'declared_in_do_block';

-- The table keeps itself consistent for hand edits too.
SELECT pg_temp.refusal($$INSERT INTO telemetry.event_types (name) VALUES ('Bad Name')$$);
SELECT pg_temp.refusal($$INSERT INTO telemetry.event_types (name, status) VALUES ('x', 'enabled')$$);
SELECT pg_temp.refusal($$INSERT INTO telemetry.event_types (name, version) VALUES ('x', '1.0')$$);
SELECT telemetry.valid_event_name('lossy.stt.fallback') AS dotted, telemetry.valid_event_name('Lossy') AS upper;
