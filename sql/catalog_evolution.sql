-- Changing event types: a schema change needs a new version, a change that would break
-- existing producers needs a new MODEL, versions never go back; hand edits get the same
-- schema checks; hostile schemas are refused at load time.
-- Each test file starts from a fresh extension, so it does not depend on the others.
DROP EXTENSION telemetry;
CREATE EXTENSION telemetry;
\set SHOW_CONTEXT never

CREATE FUNCTION pg_temp.load(document text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    state text; message text; result text;
BEGIN
    SELECT string_agg(event_name || ' ' || action || ' ' || version, ', ') INTO result FROM telemetry.load_catalog(document::jsonb);
    RETURN result;
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, message = MESSAGE_TEXT;
    RETURN state || ': ' || message;
END $$;

SELECT pg_temp.load($${"events": [{"name": "plan_changed", "version": "1-0-0", "schema": {
    "required": ["plan"], "properties": {"plan": {"type": "string", "enum": ["free", "pro", "team"]},
    "seats": {"type": "integer", "minimum": 1}, "coupon": {"type": "string", "maxLength": 32}},
    "additionalProperties": false}}]}$$);

SELECT change, pg_temp.load(document) AS outcome FROM (VALUES
  ('schema changed, same version',
   '{"events": [{"name": "plan_changed", "version": "1-0-0", "schema": {"required": ["plan"], "properties": {"plan": {"type": "string", "enum": ["free", "pro", "team"]}, "seats": {"type": "integer", "minimum": 1}, "coupon": {"type": "string", "maxLength": 32}, "note": {"type": "string"}}, "additionalProperties": false}}]}'),
  ('removes a property, no new MODEL',
   '{"events": [{"name": "plan_changed", "version": "1-1-0", "schema": {"required": ["plan"], "properties": {"plan": {"type": "string", "enum": ["free", "pro", "team"]}, "seats": {"type": "integer", "minimum": 1}}, "additionalProperties": false}}]}'),
  ('narrows a type and an enum, adds a required property',
   '{"events": [{"name": "plan_changed", "version": "1-1-0", "schema": {"required": ["plan", "seats"], "properties": {"plan": {"type": "string", "enum": ["free", "pro"]}, "seats": {"type": "integer", "minimum": 2}, "coupon": {"type": "string", "maxLength": 16}}, "additionalProperties": false}}]}'),
  ('lowers max_bytes',
   '{"events": [{"name": "plan_changed", "version": "1-0-1", "max_bytes": 1024, "schema": {"required": ["plan"], "properties": {"plan": {"type": "string", "enum": ["free", "pro", "team"]}, "seats": {"type": "integer", "minimum": 1}, "coupon": {"type": "string", "maxLength": 32}}, "additionalProperties": false}}]}'),
  ('compatible addition, new ADDITION',
   '{"events": [{"name": "plan_changed", "version": "1-0-1", "schema": {"required": ["plan"], "properties": {"plan": {"type": "string", "enum": ["free", "pro", "team", "enterprise"]}, "seats": {"type": "number", "minimum": 1}, "coupon": {"type": "string", "maxLength": 64}, "note": {"type": "string"}}, "additionalProperties": false}}]}'),
  ('status and sampling change without a version',
   '{"events": [{"name": "plan_changed", "version": "1-0-1", "status": "deprecated", "sample_rate": 0.5, "schema": {"required": ["plan"], "properties": {"plan": {"type": "string", "enum": ["free", "pro", "team", "enterprise"]}, "seats": {"type": "number", "minimum": 1}, "coupon": {"type": "string", "maxLength": 64}, "note": {"type": "string"}}, "additionalProperties": false}}]}'),
  ('version goes back',
   '{"events": [{"name": "plan_changed", "version": "1-0-0", "schema": {"required": ["plan"], "properties": {"plan": {"type": "string", "enum": ["free", "pro", "team", "enterprise"]}, "seats": {"type": "number", "minimum": 1}, "coupon": {"type": "string", "maxLength": 64}, "note": {"type": "string"}}, "additionalProperties": false}}]}'),
  ('breaking change with a new MODEL',
   '{"events": [{"name": "plan_changed", "version": "2-0-0", "schema": {"required": ["plan", "seats"], "properties": {"plan": {"type": "string", "enum": ["free", "pro"]}, "seats": {"type": "integer"}}, "additionalProperties": false}}]}')
) AS cases(change, document);
SELECT version, status, sample_rate, schema -> 'required' AS required FROM telemetry.event_types;

-- Schemas outside the subset, or hostile ones, are refused when loaded; the message names the
-- path in the document.
SELECT problem, pg_temp.load(document) AS outcome FROM (VALUES
  ('unsupported keyword', '{"events": [{"name": "a", "schema": {"properties": {"email": {"type": "string", "format": "email"}}}}]}'),
  ('root not an object',  '{"events": [{"name": "a", "schema": {"type": "array"}}]}'),
  ('required undeclared', '{"events": [{"name": "a", "schema": {"required": ["id"], "properties": {}}}]}'),
  ('bad x-pii',           '{"events": [{"name": "a", "schema": {"properties": {"e": {"x-pii": "encrypt"}}}}]}'),
  ('backreference',       '{"events": [{"name": "a", "schema": {"properties": {"s": {"pattern": "(a)\\1"}}}}]}'),
  ('huge pattern',        '{"events": [{"name": "a", "schema": {"properties": {"s": {"pattern": "((((a{100}){100}){100}){100})"}}}}]}'),
  ('schema nested 20 deep', '{"events": [{"name": "a", "schema": ' || repeat('{"properties": {"p": ', 20) || '{}' || repeat('}}', 20) || '}]}')
) AS cases(problem, document);

-- The classic catastrophic-backtracking pattern is accepted (RE2 runs it in linear time) and
-- a long adversarial value is refused quickly.
SELECT pg_temp.load('{"events": [{"name": "greeting_sent", "max_bytes": 65536, "schema": {"properties": {"text": {"type": "string", "pattern": "^(a+)+$"}}}}]}');
SELECT telemetry.track('greeting_sent', jsonb_build_object('text', repeat('a', 60000) || '!'));
SELECT telemetry.track('greeting_sent', jsonb_build_object('text', repeat('a', 60000))) IS NOT NULL AS long_match_accepted;

-- Hand edits of the table go through the same schema checks.
UPDATE telemetry.event_types SET schema = '{"properties": {"x": {"type": "text"}}}' WHERE name = 'greeting_sent';
INSERT INTO telemetry.event_types (name, schema) VALUES ('hand_made', '{"oneOf": []}');
INSERT INTO telemetry.event_types (name, schema) VALUES ('hand_made', '{"properties": {"x": {"type": "string"}}}');
SELECT telemetry.track('hand_made', '{"x": 1}');
