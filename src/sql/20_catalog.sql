-- The event catalog: which event types exist and the rules each carries (docs/catalog.md).

CREATE FUNCTION telemetry.valid_event_name(name text)
RETURNS boolean
LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE
AS 'MODULE_PATHNAME', 'telemetry_valid_event_name';

COMMENT ON FUNCTION telemetry.valid_event_name(text) IS
    'The naming rule of event types: true for one or more dot-separated segments of lower-case ASCII letters, digits and underscores, starting with a letter, at most 100 bytes, and not 32 hexadecimal digits (which would read as a tenant''s UUID). Used by the CHECK of telemetry.event_types; granted to PUBLIC.';

CREATE TABLE telemetry.event_types (
    name          text        PRIMARY KEY CHECK (telemetry.valid_event_name(name)),
    version       text        NOT NULL DEFAULT '1-0-0'
                              CHECK (version OPERATOR(pg_catalog.~) '^[1-9][0-9]{0,8}-(0|[1-9][0-9]{0,8})-(0|[1-9][0-9]{0,8})$'),
    status        text        NOT NULL DEFAULT 'active'
                              CHECK (status OPERATOR(pg_catalog.=) ANY (ARRAY['planned', 'active', 'deprecated', 'blocked'])),
    description   text        NOT NULL DEFAULT '',
    sample_rate   float8      NOT NULL DEFAULT 1 CHECK (sample_rate > 0 AND sample_rate <= 1),
    max_bytes     integer     NOT NULL DEFAULT 2048 CHECK (max_bytes BETWEEN 2 AND 65536),
    on_violation  text        NOT NULL DEFAULT 'reject'
                              CHECK (on_violation OPERATOR(pg_catalog.=) ANY (ARRAY['reject', 'quarantine', 'omit'])),
    schema        jsonb       NOT NULL DEFAULT '{"type": "object"}',
    created_at    timestamptz NOT NULL DEFAULT pg_catalog.now(),
    updated_at    timestamptz NOT NULL DEFAULT pg_catalog.now(),
    -- The size of the schema's compiled patterns (RE2 instructions), set by event_types_checked:
    -- the catalog's patterns together stay within a budget (docs/catalog.md, "Patterns").
    pattern_instructions integer NOT NULL DEFAULT 0
);

COMMENT ON TABLE telemetry.event_types IS 'The event catalog. Change it with telemetry.load_catalog() or telemetry.define_event().';
COMMENT ON COLUMN telemetry.event_types.name IS 'The event type, following the naming rule (telemetry.valid_event_name()).';
COMMENT ON COLUMN telemetry.event_types.version IS 'SchemaVer MODEL-REVISION-ADDITION of the property schema.';
COMMENT ON COLUMN telemetry.event_types.status IS 'planned (declared, refused for now), active, deprecated (accepted, with a warning once per session) or blocked (refused).';
COMMENT ON COLUMN telemetry.event_types.description IS 'What the event type means: documentation (catalog documents allow up to 1000 bytes).';
COMMENT ON COLUMN telemetry.event_types.sample_rate IS 'The share of actors (user, else session, else the event) whose events are kept, above 0 and at most 1; kept events get sample_weight = 1 / sample_rate.';
COMMENT ON COLUMN telemetry.event_types.max_bytes IS 'The size limit of the properties as stored (compact JSON text after x-pii rewriting), 2 to 65536 bytes.';
COMMENT ON COLUMN telemetry.event_types.on_violation IS 'What happens to an event that breaks its schema: reject (an error), quarantine (kept in telemetry.quarantine, as is one over max_bytes) or omit (the offending members removed).';
COMMENT ON COLUMN telemetry.event_types.schema IS 'The property schema, a JSON-Schema subset (docs/catalog.md, "Property schemas").';
COMMENT ON COLUMN telemetry.event_types.created_at IS 'When the event type was declared.';
COMMENT ON COLUMN telemetry.event_types.updated_at IS 'When load_catalog() last changed the event type (an edit by hand changes it only if it sets it).';
COMMENT ON COLUMN telemetry.event_types.pattern_instructions IS 'The RE2 instructions the schema''s patterns compile to, set by a trigger whatever an INSERT says: the catalog''s total stays within 500,000.';

-- The catalog is configuration: pg_dump must dump its rows.
SELECT pg_catalog.pg_extension_config_dump('telemetry.event_types', '');

-- Every backend caches the catalog; this trigger tells them all to rebuild after a change.
CREATE FUNCTION telemetry.catalog_changed()
RETURNS trigger
LANGUAGE c
AS 'MODULE_PATHNAME', 'telemetry_catalog_changed';
COMMENT ON FUNCTION telemetry.catalog_changed() IS
    'Internal trigger function: the statement trigger of telemetry.event_types (event_types_changed, enabled ALWAYS), which makes every backend rebuild its catalog cache at its next statement, and this one at once. Raises 39P01 when not called as a trigger.';

CREATE TRIGGER event_types_changed
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON telemetry.event_types
    FOR EACH STATEMENT EXECUTE FUNCTION telemetry.catalog_changed();
-- ALWAYS: also under session_replication_role = replica (logical replication's apply worker,
-- some restore tools), which skips ordinary triggers.
ALTER TABLE telemetry.event_types ENABLE ALWAYS TRIGGER event_types_changed;

-- Hand edits of the table get the same schema checks as load_catalog().
CREATE FUNCTION telemetry.check_event_type()
RETURNS trigger
LANGUAGE c
AS 'MODULE_PATHNAME', 'telemetry_check_event_type';
COMMENT ON FUNCTION telemetry.check_event_type() IS
    'Internal trigger function: BEFORE INSERT OR UPDATE of each row of telemetry.event_types (event_types_checked), which gives edits by hand the schema checks of load_catalog() (22023, naming the JSON path) and sets pattern_instructions. Raises 39P01 when not called as a trigger.';

CREATE TRIGGER event_types_checked
    BEFORE INSERT OR UPDATE ON telemetry.event_types
    FOR EACH ROW EXECUTE FUNCTION telemetry.check_event_type();
ALTER TABLE telemetry.event_types ENABLE ALWAYS TRIGGER event_types_checked;

-- The patterns of the whole catalog within their budget, after every change.
CREATE FUNCTION telemetry.check_catalog_budget()
RETURNS trigger
LANGUAGE c
AS 'MODULE_PATHNAME', 'telemetry_check_catalog_budget';
COMMENT ON FUNCTION telemetry.check_catalog_budget() IS
    'Internal trigger function: after each INSERT or UPDATE statement on telemetry.event_types (event_types_within_budget), refuses (54000) a catalog whose patterns compile to more than 500,000 RE2 instructions in all. Raises 39P01 when not called as a trigger.';

CREATE TRIGGER event_types_within_budget
    AFTER INSERT OR UPDATE ON telemetry.event_types
    FOR EACH STATEMENT EXECUTE FUNCTION telemetry.check_catalog_budget();
ALTER TABLE telemetry.event_types ENABLE ALWAYS TRIGGER event_types_within_budget;

-- Why changing an event type this way is refused (it would break producers without a new
-- MODEL version, the version goes back, or the schema changed without a new version), or NULL.
CREATE FUNCTION telemetry.catalog_change_refusal(name text, old_version text, old_schema jsonb, old_max_bytes integer,
                                                 new_version text, new_schema jsonb, new_max_bytes integer)
RETURNS text
LANGUAGE c STABLE STRICT
AS 'MODULE_PATHNAME', 'telemetry_catalog_change_refusal';
COMMENT ON FUNCTION telemetry.catalog_change_refusal(text, text, jsonb, integer, text, jsonb, integer) IS
    'Why load_catalog() refuses to change event type name from the old (version, schema, max_bytes) to the new: a change that would break producers without a new MODEL version, a lower version, or a schema or max_bytes changed under the same version; NULL when the change is allowed (or an argument is NULL). A version that is not SchemaVer MODEL-REVISION-ADDITION raises 22023.';

-- The event types of a catalog document, checked and normalised; nothing is stored. Errors
-- name the JSON path of the first problem. Useful on its own to lint a catalog file in CI.
CREATE FUNCTION telemetry.validate_catalog(document jsonb)
RETURNS TABLE (name text, version text, status text, description text, sample_rate float8,
               max_bytes integer, on_violation text, schema jsonb)
LANGUAGE c STABLE
AS 'MODULE_PATHNAME', 'telemetry_validate_catalog';
COMMENT ON FUNCTION telemetry.validate_catalog(jsonb) IS
    'Checks a catalog document and returns its event types, normalised with their defaults (name, version, status, description, sample_rate, max_bytes, on_violation, schema); stores nothing. A problem anywhere refuses the whole document, the first one named with its JSON path: 22023 for a broken rule; 54000 over 4 MiB, 10,000 event types, 32 levels or 500,000 RE2 instructions of patterns; 22004 for NULL.';

-- Loads or updates event types from one catalog document, in one transaction. Idempotent:
-- loading the same document twice changes nothing the second time. Event types the document
-- does not mention are left as they are. Returns what happened to each declared type.
CREATE FUNCTION telemetry.load_catalog(document jsonb)
RETURNS TABLE (event_name text, action text, version text)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    declared record;
    existing telemetry.event_types%ROWTYPE;
    refusal  text;
BEGIN
    -- One catalog change at a time; tracking goes on meanwhile (it only reads the cache).
    LOCK TABLE telemetry.event_types IN SHARE ROW EXCLUSIVE MODE;

    -- validate_catalog() checks the whole document before it returns its first row, so a bad
    -- entry anywhere refuses the document before anything is written.
    FOR declared IN SELECT * FROM telemetry.validate_catalog(document) LOOP
        SELECT * INTO existing FROM telemetry.event_types t WHERE t.name OPERATOR(pg_catalog.=) declared.name;
        event_name := declared.name;
        version := declared.version;
        IF NOT FOUND THEN
            INSERT INTO telemetry.event_types (name, version, status, description, sample_rate, max_bytes,
                                               on_violation, schema)
            VALUES (declared.name, declared.version, declared.status, declared.description, declared.sample_rate,
                    declared.max_bytes, declared.on_violation, declared.schema);
            action := 'created';
        ELSIF (existing.version, existing.status, existing.description, existing.sample_rate, existing.max_bytes,
               existing.on_violation, existing.schema)
              IS NOT DISTINCT FROM
              (declared.version, declared.status, declared.description, declared.sample_rate, declared.max_bytes,
               declared.on_violation, declared.schema) THEN
            action := 'unchanged';
        ELSE
            refusal := telemetry.catalog_change_refusal(declared.name, existing.version, existing.schema, existing.max_bytes,
                                                        declared.version, declared.schema, declared.max_bytes);
            IF refusal IS NOT NULL THEN
                RAISE EXCEPTION '%', refusal USING ERRCODE = '22023',
                    HINT = 'SchemaVer: MODEL-REVISION-ADDITION; docs/catalog.md, "Changing an event type".';
            END IF;
            UPDATE telemetry.event_types t
               SET version = declared.version, status = declared.status, description = declared.description,
                   sample_rate = declared.sample_rate, max_bytes = declared.max_bytes,
                   on_violation = declared.on_violation, schema = declared.schema, updated_at = pg_catalog.now()
             WHERE t.name OPERATOR(pg_catalog.=) declared.name;
            action := 'updated';
        END IF;
        RETURN NEXT;
    END LOOP;
END
$$;
COMMENT ON FUNCTION telemetry.load_catalog(jsonb) IS
    'Loads or updates event types from one catalog document (docs/catalog.md), all or nothing; one row per declared type: event_name, action (created, updated or unchanged) and version. Idempotent; types the document does not mention are left as they are. Errors: those of validate_catalog(), a change that would break producers or lowers the version (22023, see catalog_change_refusal()), patterns over the catalog''s budget (54000). Needs privileges on telemetry.event_types.';

-- Declares or updates one event type: load_catalog() with a one-event document.
CREATE FUNCTION telemetry.define_event(
    name          text,
    schema        jsonb   DEFAULT '{"type": "object"}',
    status        text    DEFAULT 'active',
    version       text    DEFAULT '1-0-0',
    description   text    DEFAULT '',
    sample_rate   float8  DEFAULT 1,
    max_bytes     integer DEFAULT 2048,
    on_violation  text    DEFAULT 'reject')
RETURNS text
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT l.action
    FROM telemetry.load_catalog(pg_catalog.jsonb_build_object('events', pg_catalog.jsonb_build_array(
        pg_catalog.jsonb_build_object('name', name, 'schema', schema, 'status', status, 'version', version,
                                      'description', description, 'sample_rate', sample_rate,
                                      'max_bytes', max_bytes, 'on_violation', on_violation)))) AS l
$$;
COMMENT ON FUNCTION telemetry.define_event(text, jsonb, text, text, text, float8, integer, text) IS
    'Declares or updates one event type: load_catalog() with a document of that one type, whose arguments are its keys, with the same defaults; returns the action (created, updated or unchanged). Errors as load_catalog().';
