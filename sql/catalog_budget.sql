-- Patterns cost every backend that uses their type, in memory and in time to compile. RE2
-- compiles each within 256 KB, and the patterns of the whole catalog must fit in 500,000 RE2
-- instructions: a catalog over the budget is refused at load, with the reason, before any
-- backend pays for it. (Backends compile a type's schema when its first event arrives, so a
-- large catalog costs each one only the types it sees: test/t/007_memory_bounds.pl.)
-- Each test file starts from a fresh extension, so it does not depend on the others.
DROP EXTENSION telemetry;
CREATE EXTENSION telemetry;
\set SHOW_CONTEXT never

-- One pattern of 11,401 instructions; 44 of them are over the budget.
CREATE TEMP TABLE heavy AS
SELECT jsonb_build_object('name', 'heavy_' || g, 'schema', jsonb_build_object('properties',
           jsonb_build_object('code', jsonb_build_object('type', 'string', 'pattern', '^(ab|cd|ef|gh|ij|kl|mn|op){1,600}$')))) AS event,
       g
FROM generate_series(1, 44) AS g;
SELECT * FROM telemetry.load_catalog(jsonb_build_object('events', (SELECT jsonb_agg(event ORDER BY g) FROM heavy)));
SELECT count(*) AS event_types FROM telemetry.event_types;

-- Within the budget, a document loads; each type records what its patterns cost.
SELECT count(*) FROM telemetry.load_catalog(jsonb_build_object('events', (SELECT jsonb_agg(event ORDER BY g) FROM heavy WHERE g <= 40)));
SELECT sum(pattern_instructions) AS catalog_instructions, min(pattern_instructions), max(pattern_instructions) FROM telemetry.event_types;
-- The budget is the catalog's, not the document's: four more types are too many...
SELECT count(*) FROM telemetry.load_catalog(jsonb_build_object('events', (SELECT jsonb_agg(event ORDER BY g) FROM heavy WHERE g > 40)));
-- ... by whatever path they come.
INSERT INTO telemetry.event_types (name, schema) SELECT event ->> 'name', event -> 'schema' FROM heavy WHERE g > 40;
-- A hand edit cannot understate the cost: the trigger sets it.
INSERT INTO telemetry.event_types (name, schema, pattern_instructions)
VALUES ('light', '{"properties": {"code": {"type": "string", "pattern": "^[a-z]{2}$"}}}', 999999);
SELECT name, pattern_instructions FROM telemetry.event_types WHERE name IN ('light', 'heavy_1') ORDER BY name;
-- A pattern that does not compile within 256 KB is refused on its own.
SELECT * FROM telemetry.define_event('too_heavy', '{"properties": {"s": {"type": "string", "pattern": "[\\p{L}\\p{N}]{200,300}"}}}');
