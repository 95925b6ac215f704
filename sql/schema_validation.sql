-- Catalog-validated ingestion through track(): every schema rule with good and bad values,
-- the size limit, numbers, nesting, PII tags and the three violation policies. Messages name
-- the event, the JSON path, the rule and what kind of value was found; never the value.
-- Each test file starts from a fresh extension, so it does not depend on the others.
DROP EXTENSION telemetry;
CREATE EXTENSION telemetry;
SET timezone = 'UTC';
\set SHOW_CONTEXT never

CREATE FUNCTION pg_temp.outcome(statement text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    state text; message text; result text;
BEGIN
    EXECUTE statement INTO result;
    -- Hashes depend on this database's own key (telemetry.secrets): masked for a stable output.
    RETURN coalesce('stored ' || (SELECT regexp_replace(CASE WHEN length(properties::text) > 100
                                                             THEN left(properties::text, 100) || '...'
                                                             ELSE properties::text END,
                                                        'h1:[A-Za-z0-9_-]{22}', 'h1:<hash>', 'g')
                                  FROM telemetry.events WHERE event_id = result::uuid), 'not stored');
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, message = MESSAGE_TEXT;
    RETURN state || ': ' || message;
END $$;

SELECT count(*) FROM telemetry.load_catalog($${"events": [
  {"name": "checkout_completed", "max_bytes": 200, "schema": {
     "type": "object", "required": ["order_id", "total"],
     "properties": {
       "order_id": {"type": "string", "minLength": 3, "maxLength": 12, "pattern": "^ord_[a-z0-9]+$"},
       "total":    {"type": "number", "minimum": 0, "maximum": 10000},
       "items":    {"type": "integer", "minimum": 1},
       "currency": {"type": "string", "enum": ["EUR", "USD"]},
       "coupon":   {"type": ["string", "null"]},
       "express":  {"type": "boolean"},
       "cart":     {"type": "array", "maxItems": 3, "items": {"type": "object", "required": ["sku"],
                    "properties": {"sku": {"type": "string"}, "qty": {"type": "integer", "minimum": 1}},
                    "additionalProperties": false}},
       "address":  {"type": "object", "properties": {"country": {"type": "string", "maxLength": 2}}}
     },
     "additionalProperties": false}},
  {"name": "profile_updated", "schema": {"properties": {
       "email": {"type": "string", "x-pii": "hash"}, "user_agent": {"type": "string", "x-pii": "redact"},
       "ip": {"x-pii": "drop"}, "password": {"x-pii": "reject"}, "plan": {"type": "string"}}}},
  {"name": "search_performed", "on_violation": "omit", "schema": {"properties": {
       "query_length": {"type": "integer", "minimum": 0}, "filters": {"type": "array", "maxItems": 5}},
       "additionalProperties": "omit"}},
  {"name": "anything_goes", "max_bytes": 65536}
]}$$);

\set t '''33333333-3333-3333-3333-333333333333'''
SELECT rule, pg_temp.outcome(format('SELECT telemetry.track(%L::uuid, %L, %L)', :t, name, properties)) AS outcome
FROM (VALUES
  ('valid',                  'checkout_completed', '{"order_id": "ord_42", "total": 99.5, "items": 2, "currency": "EUR"}'),
  ('valid, all keywords',    'checkout_completed', '{"order_id": "ord_7", "total": 0, "coupon": null, "express": true, "cart": [{"sku": "A", "qty": 1}], "address": {"country": "FR"}}'),
  ('missing required',       'checkout_completed', '{"order_id": "ord_42"}'),
  ('wrong type',             'checkout_completed', '{"order_id": "ord_42", "total": "99.50"}'),
  ('integer expected',       'checkout_completed', '{"order_id": "ord_42", "total": 1, "items": 2.5}'),
  ('integer, 2^64',          'checkout_completed', '{"order_id": "ord_42", "total": 1, "items": 18446744073709551616}'),
  ('integer written 2.0',    'checkout_completed', '{"order_id": "ord_42", "total": 1, "items": 2.0}'),
  ('enum miss',              'checkout_completed', '{"order_id": "ord_42", "total": 1, "currency": "GBP"}'),
  ('string too short',       'checkout_completed', '{"order_id": "or", "total": 1}'),
  ('string too long',        'checkout_completed', '{"order_id": "ord_123456789", "total": 1}'),
  ('pattern',                'checkout_completed', '{"order_id": "ORD_42", "total": 1}'),
  ('below minimum',          'checkout_completed', '{"order_id": "ord_42", "total": -0.01}'),
  ('above maximum',          'checkout_completed', '{"order_id": "ord_42", "total": 10000.000000000001}'),
  ('at maximum',             'checkout_completed', '{"order_id": "ord_42", "total": 10000}'),
  ('null not allowed',       'checkout_completed', '{"order_id": "ord_42", "total": null}'),
  ('too many items',         'checkout_completed', '{"order_id": "ord_42", "total": 1, "cart": [{"sku": "a"}, {"sku": "b"}, {"sku": "c"}, {"sku": "d"}]}'),
  ('nested required',        'checkout_completed', '{"order_id": "ord_42", "total": 1, "cart": [{"sku": "a"}, {"qty": 2}]}'),
  ('nested undeclared',      'checkout_completed', '{"order_id": "ord_42", "total": 1, "cart": [{"sku": "a", "price": 3}]}'),
  ('nested maxLength',       'checkout_completed', '{"order_id": "ord_42", "total": 1, "address": {"country": "FRA"}}'),
  ('undeclared property',    'checkout_completed', '{"order_id": "ord_42", "total": 1, "note": "leave at door"}'),
  ('several problems',       'checkout_completed', '{"order_id": 42, "total": "x", "items": 0}'),
  ('number out of range',    'anything_goes',      '{"n": 1e400}'),
  ('tiny number, too long',  'anything_goes',      '{"n": 1e-2000}'),
  ('big exact number',       'anything_goes',      '{"n": 18446744073709551616, "m": 0.30000000000000000000000000001}'),
  ('nesting 16 levels',      'anything_goes',      '{"a":' || repeat('[', 15) || repeat(']', 15) || '}'),
  ('nesting 17 levels',      'anything_goes',      '{"a":' || repeat('[', 16) || repeat(']', 16) || '}'),
  ('properties an array',    'anything_goes',      '[1, 2]'),
  ('a 10,000-element array', 'checkout_completed', '{"order_id": "ord_42", "total": 1, "cart": [' || repeat('{"sku": "a"},', 9999) || '{"sku": "a"}]}'),
  ('10,000 elements allowed','anything_goes',      '{"list": [' || repeat('1,', 9999) || '1]}')
) AS cases(rule, name, properties);

-- PostgreSQL's own jsonb input refuses what JSON cannot hold, before track() runs, and keeps the
-- last of duplicate keys (track_batch's text form refuses them instead: sql/track_batch.sql).
SELECT telemetry.track(:t::uuid, 'anything_goes', '{"s": "a\u0000b"}');
SELECT telemetry.track(:t::uuid, 'anything_goes', '{"n": NaN}');
SELECT telemetry.track(:t::uuid, 'anything_goes', '{"n": Infinity}');
SELECT pg_temp.outcome(format('SELECT telemetry.track(%L::uuid, %L, %L)', :t, 'anything_goes', '{"k": 1, "k": 2}'));

-- The size limit is on the compact JSON text of the stored properties (docs/catalog.md):
-- exactly at it is fine, one byte over is not, whatever the spacing of the input.
SELECT telemetry.define_event('sized', max_bytes => 20);
SELECT length('{"s":"abcdefghijkl"}') AS at_limit_text_bytes;
SELECT pg_temp.outcome(format('SELECT telemetry.track(%L::uuid, %L, %L)', :t, 'sized', '{ "s" :  "abcdefghijkl" }')) AS exactly_20;
SELECT pg_temp.outcome(format('SELECT telemetry.track(%L::uuid, %L, %L)', :t, 'sized', '{"s": "abcdefghijklm"}')) AS bytes_21;
SELECT pg_temp.outcome(format('SELECT telemetry.track(%L::uuid, %L, %L)', :t, 'sized', '{"s": "abcdefghij\"k"}')) AS escaped_quote_counts_two;
SELECT pg_temp.outcome(format('SELECT telemetry.track(%L::uuid, %L, %L)', :t, 'sized', '{"s": "éééééé"}')) AS two_bytes_per_e;

-- x-pii: hashed (keyed, per tenant, linkable), redacted, dropped, or the event refused.
SELECT pg_temp.outcome(format('SELECT telemetry.track(%L::uuid, %L, %L)', :t, 'profile_updated',
       '{"plan": "pro", "email": "jo@example.com", "user_agent": "Mozilla/5.0", "ip": "203.0.113.9"}')) AS stored;
SELECT pg_temp.outcome(format('SELECT telemetry.track(%L::uuid, %L, %L)', :t, 'profile_updated',
       '{"plan": "pro", "password": "hunter2"}')) AS refused;
SELECT telemetry.track(:t::uuid, 'profile_updated', '{"email": "jo@example.com"}') AS same_tenant \gset
SELECT telemetry.track('44444444-4444-4444-4444-444444444444'::uuid, 'profile_updated', '{"email": "jo@example.com"}') AS other_tenant \gset
SELECT count(DISTINCT properties->>'email') AS one_hash_per_address_in_the_tenant,
       bool_and(properties->>'email' ~ '^h1:[A-Za-z0-9_-]{22}$') AS hash_format
FROM telemetry.events WHERE tenant_id = :t::uuid AND name = 'profile_updated';
SELECT (SELECT properties->>'email' FROM telemetry.events WHERE event_id = :'other_tenant')
       <> (SELECT properties->>'email' FROM telemetry.events WHERE event_id = :'same_tenant') AS another_tenant_another_hash;
SELECT count(*) AS rows_holding_the_address FROM telemetry.events WHERE properties::text LIKE '%jo@example.com%';
SELECT flags FROM telemetry.events WHERE name = 'profile_updated' LIMIT 1;

-- omit: offending and undeclared members are removed, the rest is recorded, and flagged.
SELECT pg_temp.outcome(format('SELECT telemetry.track(%L::uuid, %L, %L)', :t, 'search_performed',
       '{"query_length": -1, "filters": ["a"], "query": "my secret search"}')) AS omitted;
SELECT flags FROM telemetry.events WHERE name = 'search_performed';

-- Messages never contain property values.
SELECT count(*) AS messages_with_values FROM (VALUES
    (pg_temp.outcome(format('SELECT telemetry.track(%L::uuid, %L, %L)', :t, 'checkout_completed', '{"order_id": "SECRET-VALUE", "total": 1}'))),
    (pg_temp.outcome(format('SELECT telemetry.track(%L::uuid, %L, %L)', :t, 'checkout_completed', '{"order_id": "ord_1", "total": 1, "currency": "SECRET-VALUE"}'))),
    (pg_temp.outcome(format('SELECT telemetry.track(%L::uuid, %L, %L)', :t, 'profile_updated', '{"password": "SECRET-VALUE"}')))
) AS m(message) WHERE message LIKE '%SECRET-VALUE%';
