-- track(): every refusal, with its SQLSTATE, message and hint. Messages name the rule, never
-- a property value, user id or session id (they may be personal data).
-- Each test file starts from a fresh extension, so it does not depend on the others.
DROP EXTENSION telemetry;
CREATE EXTENSION telemetry;
SET timezone = 'UTC';

CREATE FUNCTION pg_temp.refusal(statement text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    state text; message text; hint text;
BEGIN
    EXECUTE statement;
    RETURN 'accepted';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, message = MESSAGE_TEXT, hint = PG_EXCEPTION_HINT;
    RETURN state || ': ' || message || CASE WHEN hint <> '' THEN E'\n       hint: ' || hint ELSE '' END;
END $$;

SELECT telemetry.load_catalog('{"events": [
    {"name": "item_added"},
    {"name": "legacy_clicked", "status": "deprecated"},
    {"name": "future_feature_used", "status": "planned"},
    {"name": "spam_sent", "status": "blocked"}]}');

\set t '''22222222-2222-2222-2222-222222222222''::uuid'
SELECT rule, pg_temp.refusal(format(statement, '22222222-2222-2222-2222-222222222222')) AS outcome
FROM (VALUES
    ('valid event',             $$SELECT telemetry.track(%L::uuid, 'item_added', '{"sku": "A-1"}')$$),
    ('NULL tenant',             $$SELECT telemetry.track(NULL::uuid, 'item_added', '{}')$$),
    ('NULL name',               $$SELECT telemetry.track(%L::uuid, NULL, '{}')$$),
    ('NULL name, single',       $$SELECT telemetry.track(NULL::text, '{}'::jsonb)$$),
    ('NULL properties',         $$SELECT telemetry.track(%L::uuid, 'item_added', NULL)$$),
    ('empty name',              $$SELECT telemetry.track(%L::uuid, '', '{}')$$),
    ('101-byte name',           $$SELECT telemetry.track(%L::uuid, repeat('a', 101), '{}')$$),
    ('upper case',              $$SELECT telemetry.track(%L::uuid, 'Item_Added', '{}')$$),
    ('space',                   $$SELECT telemetry.track(%L::uuid, 'item added', '{}')$$),
    ('hyphen',                  $$SELECT telemetry.track(%L::uuid, 'item-added', '{}')$$),
    ('leading digit',           $$SELECT telemetry.track(%L::uuid, '1item', '{}')$$),
    ('leading underscore',      $$SELECT telemetry.track(%L::uuid, '_item', '{}')$$),
    ('leading dot',             $$SELECT telemetry.track(%L::uuid, '.item', '{}')$$),
    ('trailing dot',            $$SELECT telemetry.track(%L::uuid, 'item.', '{}')$$),
    ('double dot',              $$SELECT telemetry.track(%L::uuid, 'shop..item', '{}')$$),
    ('non-ASCII letter',        $$SELECT telemetry.track(%L::uuid, 'itém_added', '{}')$$),
    ('e-mail as a name',        $$SELECT telemetry.track(%L::uuid, 'john@example.com', '{}')$$),
    ('unknown event type',      $$SELECT telemetry.track(%L::uuid, 'item_removed', '{}')$$),
    ('planned event type',      $$SELECT telemetry.track(%L::uuid, 'future_feature_used', '{}')$$),
    ('blocked event type',      $$SELECT telemetry.track(%L::uuid, 'spam_sent', '{}')$$),
    ('properties an array',     $$SELECT telemetry.track(%L::uuid, 'item_added', '[{"sku": "A-1"}]')$$),
    ('properties a string',     $$SELECT telemetry.track(%L::uuid, 'item_added', '"john@example.com"')$$),
    ('properties a number',     $$SELECT telemetry.track(%L::uuid, 'item_added', '42')$$),
    ('properties a boolean',    $$SELECT telemetry.track(%L::uuid, 'item_added', 'true')$$),
    ('properties JSON null',    $$SELECT telemetry.track(%L::uuid, 'item_added', 'null')$$),
    ('empty user_id',           $$SELECT telemetry.track(%L::uuid, 'item_added', '{}', '')$$),
    ('257-byte user_id',        $$SELECT telemetry.track(%L::uuid, 'item_added', '{}', repeat('u', 257))$$),
    ('256-byte user_id',        $$SELECT telemetry.track(%L::uuid, 'item_added', '{}', repeat('u', 256))$$),
    ('empty session_id',        $$SELECT telemetry.track(%L::uuid, 'item_added', '{}', 'u', '')$$),
    ('257-byte session_id',     $$SELECT telemetry.track(%L::uuid, 'item_added', '{}', 'u', repeat('s', 257))$$),
    ('occurred_at infinity',    $$SELECT telemetry.track(%L::uuid, 'item_added', '{}', NULL, NULL, 'infinity')$$),
    ('occurred_at -infinity',   $$SELECT telemetry.track(%L::uuid, 'item_added', '{}', NULL, NULL, '-infinity')$$),
    ('occurred_at year 1999',   $$SELECT telemetry.track(%L::uuid, 'item_added', '{}', NULL, NULL, '1999-12-31')$$),
    ('occurred_at year 1969',   $$SELECT telemetry.track(%L::uuid, 'item_added', '{}', NULL, NULL, '1969-12-31')$$),
    ('occurred_at year 2300',   $$SELECT telemetry.track(%L::uuid, 'item_added', '{}', NULL, NULL, '2300-01-01')$$),
    ('sent_at infinity',        $$SELECT telemetry.track(%L::uuid, 'item_added', '{}', NULL, NULL, now(), NULL, 'infinity')$$),
    ('occurred_at year 294277', $$SELECT telemetry.track(%L::uuid, 'item_added', '{}', NULL, NULL, '294277-01-01')$$)
) AS cases(rule, statement);

-- A deprecated event type is still recorded, with one warning per session.
SELECT telemetry.track(:t, 'legacy_clicked', '{}') IS NOT NULL AS recorded;
SELECT telemetry.track(:t, 'legacy_clicked', '{}') IS NOT NULL AS recorded_again_without_warning;

-- Only the accepted events were stored.
SELECT name, count(*) FROM telemetry.events
WHERE tenant_id = '22222222-2222-2222-2222-222222222222' GROUP BY name ORDER BY name;

-- The refusals are plain errors: the session goes on, and so does its transaction after a
-- savepoint rollback.
BEGIN;
SAVEPOINT before_bad_event;
SELECT telemetry.track(:t, 'item_removed', '{}');
ROLLBACK TO SAVEPOINT before_bad_event;
SELECT telemetry.track(:t, 'item_added', '{}') IS NOT NULL AS still_works;
COMMIT;
