-- telemetry 0.1.0 -> 0.2.0: the ingest hardening (CHANGELOG.md). Run by
-- ALTER EXTENSION telemetry UPDATE TO '0.2.0'; test/t/008_upgrade.pl checks that the result is
-- what CREATE EXTENSION telemetry makes, object for object.
--
-- Definitions are those of src/sql/ at 0.2.0, copied: an upgrade script is frozen once
-- released, while src/sql/ moves on.

\echo Use "ALTER EXTENSION telemetry UPDATE TO '0.2.0'" to load this file. \quit

-- Refuse a database whose encoding is not UTF8: the JSON parser, RE2 and the jsonb codec read
-- and write UTF-8, and so do the error messages and the quarantine's paths.
DO $$
BEGIN
    IF pg_catalog.getdatabaseencoding() OPERATOR(pg_catalog.<>) 'UTF8' THEN
        RAISE EXCEPTION 'telemetry needs a database with encoding UTF8; this one is %', pg_catalog.getdatabaseencoding()
            USING ERRCODE = '55000',
                  HINT = 'CREATE DATABASE ... ENCODING ''UTF8'' TEMPLATE template0, then CREATE EXTENSION telemetry there.';
    END IF;
END
$$;

-- Event names of 32 hex digits can no longer be told from a tenant in untyped calls
-- (docs/catalog.md, "Naming"); an existing one still takes typed calls.
DO $$
DECLARE
    n bigint;
BEGIN
    SELECT pg_catalog.count(*) INTO n FROM telemetry.event_types
     WHERE name OPERATOR(pg_catalog.~) '^[0-9a-fA-F]{32}$';
    IF n OPERATOR(pg_catalog.>) 0 THEN
        RAISE WARNING '% event type(s) named with 32 hex digits: untyped calls (drivers) read such a name as a tenant', n
            USING HINT = 'Track them with typed calls, or rename them.';
    END IF;
END
$$;

-- Partitions: days covered by bounds, squatters named, overlaps left to the DBA.
CREATE OR REPLACE FUNCTION telemetry.create_partitions(
    p_now        timestamptz DEFAULT pg_catalog.now(),
    p_days_back  integer     DEFAULT NULL,
    p_days_ahead integer     DEFAULT NULL)
RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    days_back  integer := coalesce(p_days_back,
                                   pg_catalog.current_setting('telemetry.retention_days', true)::integer, 90);
    days_ahead integer := coalesce(p_days_ahead,
                                   pg_catalog.current_setting('telemetry.premake_days', true)::integer, 7);
    today      date;
    day        date;
    day_range  tstzrange;
    covered    tstzrange[];
    made       integer := 0;
    part_name  text;
    candidate  text;
    suffix     integer;
    found      text;
BEGIN
    IF p_now IS NULL OR NOT pg_catalog.isfinite(p_now) THEN
        RAISE EXCEPTION 'p_now must be a finite timestamp' USING ERRCODE = '22008';
    END IF;
    IF days_back < 0 OR days_ahead < 0 OR days_back > 3650 OR days_ahead > 365 THEN
        RAISE EXCEPTION 'days back must be within 0..3650 and days ahead within 0..365' USING ERRCODE = '22023';
    END IF;
    -- One creator at a time (the worker and a manual call may overlap).
    PERFORM pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtext('telemetry.create_partitions'));
    -- A day is covered by whatever partition holds it, by its bounds, whatever its name: one of
    -- ours, a sub-partitioned or foreign one attached by hand, a longer archive.
    SELECT pg_catalog.array_agg(pg_catalog.tstzrange(p.lower_bound, p.upper_bound)) INTO covered FROM telemetry.partitions() p;
    today := (p_now AT TIME ZONE 'UTC')::date;
    FOR day IN SELECT g::date FROM pg_catalog.generate_series(today - days_back, today + days_ahead, interval '1 day') AS g
    LOOP
        day_range := pg_catalog.tstzrange(day::timestamp AT TIME ZONE 'UTC', (day + 1)::timestamp AT TIME ZONE 'UTC');
        CONTINUE WHEN EXISTS (SELECT FROM pg_catalog.unnest(covered) AS c(r) WHERE c.r OPERATOR(pg_catalog.@>) day_range);
        -- The name may be taken by something that is not this day's partition (a role with
        -- CREATE on the schema made a table of that name): say what was found, and use another
        -- name rather than leave the day without a partition, refusing its events for good.
        part_name := 'events_p' || pg_catalog.to_char(day, 'YYYYMMDD');
        candidate := part_name;
        suffix := 0;
        WHILE pg_catalog.to_regclass(pg_catalog.format('telemetry.%I', candidate)) IS NOT NULL LOOP
            IF suffix = 0 THEN
                SELECT pg_catalog.format('a %s owned by %s', CASE c.relkind WHEN 'r' THEN 'table' WHEN 'p' THEN 'partitioned table'
                           WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view' WHEN 'f' THEN 'foreign table'
                           WHEN 'S' THEN 'sequence' WHEN 'i' THEN 'index' ELSE 'relation' END,
                           pg_catalog.pg_get_userbyid(c.relowner))
                  INTO found
                  FROM pg_catalog.pg_class c WHERE c.oid OPERATOR(pg_catalog.=) pg_catalog.to_regclass(pg_catalog.format('telemetry.%I', candidate));
                RAISE WARNING 'telemetry.% is % and not the partition of telemetry.events for %', candidate, found,
                              pg_catalog.to_char(day, 'YYYY-MM-DD')
                    USING HINT = 'The day gets a partition of another name; drop or rename the relation to keep the usual names.';
            END IF;
            suffix := suffix + 1;
            candidate := part_name || '_' || suffix;
        END LOOP;
        BEGIN
            EXECUTE pg_catalog.format(
                'CREATE TABLE telemetry.%I (LIKE telemetry.events INCLUDING DEFAULTS INCLUDING STORAGE INCLUDING COMPRESSION)',
                candidate);
            -- (Index names share the namespace too: where ours are taken, PostgreSQL picks.)
            IF pg_catalog.to_regclass(pg_catalog.format('telemetry.%I', candidate || '_pkey')) IS NULL THEN
                EXECUTE pg_catalog.format('ALTER TABLE telemetry.%I ADD CONSTRAINT %I PRIMARY KEY (tenant_id, occurred_at, id)',
                                          candidate, candidate || '_pkey');
            ELSE
                EXECUTE pg_catalog.format('ALTER TABLE telemetry.%I ADD PRIMARY KEY (tenant_id, occurred_at, id)', candidate);
            END IF;
            IF pg_catalog.to_regclass(pg_catalog.format('telemetry.%I', candidate || '_tenant_name_time')) IS NULL THEN
                EXECUTE pg_catalog.format('CREATE INDEX %I ON telemetry.%I (tenant_id, name, occurred_at)',
                                          candidate || '_tenant_name_time', candidate);
            ELSE
                EXECUTE pg_catalog.format('CREATE INDEX ON telemetry.%I (tenant_id, name, occurred_at)', candidate);
            END IF;
            EXECUTE pg_catalog.format(
                'ALTER TABLE telemetry.events ATTACH PARTITION telemetry.%I FOR VALUES FROM (%L) TO (%L)',
                candidate, pg_catalog.lower(day_range), pg_catalog.upper(day_range));
            made := made + 1;
        EXCEPTION WHEN invalid_object_definition THEN
            -- Part of the day is in a partition attached by hand (with other bounds): that day
            -- is the DBA's to arrange; the others are made.
            RAISE WARNING 'telemetry.events has no room for a partition of %: %', pg_catalog.to_char(day, 'YYYY-MM-DD'), SQLERRM;
        END;
    END LOOP;
    RETURN made;
END
$$;

-- The catalog: change triggers that fire ALWAYS, and the patterns' budget.
ALTER TABLE telemetry.event_types ADD COLUMN pattern_instructions integer NOT NULL DEFAULT 0;
ALTER TABLE telemetry.event_types ENABLE ALWAYS TRIGGER event_types_changed;
ALTER TABLE telemetry.event_types ENABLE ALWAYS TRIGGER event_types_checked;
-- The patterns of the whole catalog within their budget, after every change.
CREATE FUNCTION telemetry.check_catalog_budget()
RETURNS trigger
LANGUAGE c
AS 'MODULE_PATHNAME', 'telemetry_check_catalog_budget';

CREATE TRIGGER event_types_within_budget
    AFTER INSERT OR UPDATE ON telemetry.event_types
    FOR EACH STATEMENT EXECUTE FUNCTION telemetry.check_catalog_budget();
ALTER TABLE telemetry.event_types ENABLE ALWAYS TRIGGER event_types_within_budget;
-- Every row's patterns measured by event_types_checked (and the budget checked once).
UPDATE telemetry.event_types SET pattern_instructions = 0;

-- Tenant settings, opt-outs, secrets: change triggers that fire ALWAYS, and a manual reload.
ALTER TABLE telemetry.tenant_settings ENABLE ALWAYS TRIGGER tenant_settings_changed;
ALTER TABLE telemetry.opt_outs ENABLE ALWAYS TRIGGER opt_outs_changed;
CREATE TRIGGER secrets_changed
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON telemetry.secrets
    FOR EACH STATEMENT EXECUTE FUNCTION telemetry.table_changed();
ALTER TABLE telemetry.secrets ENABLE ALWAYS TRIGGER secrets_changed;

-- The caches every backend keeps of the catalog, opt-outs, tenant settings and secrets follow
-- their tables through the change triggers above. A change made with the triggers disabled
-- (ALTER TABLE ... DISABLE TRIGGER, pg_restore --disable-triggers) needs this call.
CREATE FUNCTION telemetry.invalidate_caches()
RETURNS void
LANGUAGE c VOLATILE
AS 'MODULE_PATHNAME', 'telemetry_invalidate_caches';
COMMENT ON FUNCTION telemetry.invalidate_caches() IS
    'Makes every backend reload its caches of the catalog, opt-outs, tenant settings and secrets at its next call: for changes made with triggers disabled.';

-- track(): the single-tenant long form loses its properties default (it competed with the
-- named text form). A default cannot be removed in place: the function is made again, with
-- the privileges that were granted on it.
-- (Kept in a setting for the rest of this transaction: a table made here would become a member.)
SELECT pg_catalog.set_config('telemetry_upgrade.saved_acl', COALESCE(p.proacl::text, ''), true)
  FROM pg_catalog.pg_proc p
 WHERE p.oid OPERATOR(pg_catalog.=)
       'telemetry.track(text, jsonb, varchar, varchar, timestamptz, uuid, timestamptz)'::pg_catalog.regprocedure;
DROP FUNCTION telemetry.track(text, jsonb, varchar, varchar, timestamptz, uuid, timestamptz);
CREATE FUNCTION telemetry.track(
    name        text,
    properties  jsonb,
    user_id     varchar     DEFAULT NULL,
    session_id  varchar     DEFAULT NULL,
    occurred_at timestamptz DEFAULT NULL,
    event_id    uuid        DEFAULT NULL,
    sent_at     timestamptz DEFAULT NULL)
RETURNS uuid
LANGUAGE c VOLATILE PARALLEL UNSAFE SECURITY DEFINER
AS 'MODULE_PATHNAME', 'telemetry_track_default_tenant';
COMMENT ON FUNCTION telemetry.track(text, jsonb, varchar, varchar, timestamptz, uuid, timestamptz) IS
    'Records one event for single-tenant applications (tenant 00000000-0000-0000-0000-000000000000).';
REVOKE ALL ON FUNCTION telemetry.track(text, jsonb, varchar, varchar, timestamptz, uuid, timestamptz) FROM PUBLIC;
DO $$
DECLARE
    g record;
BEGIN
    FOR g IN SELECT a.grantee, a.is_grantable
               FROM pg_catalog.aclexplode(NULLIF(pg_catalog.current_setting('telemetry_upgrade.saved_acl'), '')::pg_catalog.aclitem[]) a
              WHERE a.privilege_type OPERATOR(pg_catalog.=) 'EXECUTE'
                AND a.grantee OPERATOR(pg_catalog.<>) a.grantor LOOP
        EXECUTE pg_catalog.format(
            'GRANT EXECUTE ON FUNCTION telemetry.track(text, jsonb, varchar, varchar, timestamptz, uuid, timestamptz) TO %s%s',
            CASE WHEN g.grantee OPERATOR(pg_catalog.=) 0 THEN 'PUBLIC' ELSE pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(g.grantee)) END,
            CASE WHEN g.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END);
    END LOOP;
END
$$;

-- track() and track_batch() as drivers call them: untyped and text-typed arguments.
-- The text forms (see above).
CREATE FUNCTION telemetry.track(VARIADIC arguments text[])
RETURNS uuid
LANGUAGE c VOLATILE PARALLEL UNSAFE SECURITY DEFINER
AS 'MODULE_PATHNAME', 'telemetry_track_positional_text';

-- The named text form's defaults: a marker by which it knows an argument the call left out
-- (a NULL could have been given). VOLATILE, so the planner keeps the call in place.
CREATE FUNCTION telemetry.unset_argument()
RETURNS text
LANGUAGE c VOLATILE PARALLEL SAFE
AS 'MODULE_PATHNAME', 'telemetry_unset_argument';
COMMENT ON FUNCTION telemetry.unset_argument() IS
    'NULL. The default of the arguments of the named text form of track(), which tells by it the arguments a call left out.';

CREATE FUNCTION telemetry.track(
    tenant_id   text    DEFAULT telemetry.unset_argument(),
    name        text    DEFAULT telemetry.unset_argument(),
    properties  bpchar  DEFAULT telemetry.unset_argument(),
    user_id     text    DEFAULT telemetry.unset_argument(),
    session_id  text    DEFAULT telemetry.unset_argument(),
    occurred_at text    DEFAULT telemetry.unset_argument(),
    event_id    text    DEFAULT telemetry.unset_argument(),
    sent_at     text    DEFAULT telemetry.unset_argument())
RETURNS uuid
LANGUAGE c VOLATILE PARALLEL UNSAFE SECURITY DEFINER
AS 'MODULE_PATHNAME', 'telemetry_track_named_text';

COMMENT ON FUNCTION telemetry.track(text[]) IS
    'Records one event: what positional calls with untyped or text arguments (drivers) resolve to. A first argument that is a UUID makes it track(tenant_id, name, properties, user_id, session_id, occurred_at, event_id, sent_at), else track(name, properties, user_id, session_id, occurred_at, event_id, sent_at). Same result and errors as the typed forms.';
COMMENT ON FUNCTION telemetry.track(text, text, bpchar, text, text, text, text, text) IS
    'Records one event: what calls with named arguments and untyped or text arguments (drivers) resolve to. A first argument that is a UUID is the tenant; in a single-tenant call, positional arguments take the single-tenant order and named ones their name. Same result and errors as the typed forms.';

-- What untyped and text-typed calls resolve to (drivers): the tenant and sent_at are read as the
-- typed forms' uuid and timestamptz would be.
CREATE FUNCTION telemetry.track_batch(tenant_id text, events text, sent_at text DEFAULT NULL)
RETURNS TABLE ("index" integer, status text, id uuid, reason text, sqlstate text)
LANGUAGE c VOLATILE PARALLEL UNSAFE SECURITY DEFINER
AS 'MODULE_PATHNAME', 'telemetry_track_batch_untyped';

COMMENT ON FUNCTION telemetry.track_batch(uuid, text, timestamptz) IS
    'Records a client''s batch (a JSON array of at most 10,000 events, 16 MiB, 1,000,000 JSON values), parsed once here; one row per event with its status (accepted, duplicate, quarantined, rejected, sampled_out, opted_out), id, reason and SQLSTATE, in order. Only a batch that is not a JSON array or is over its limits is an error.';
COMMENT ON FUNCTION telemetry.track_batch(uuid, jsonb, timestamptz) IS
    'Records a client''s batch already parsed by PostgreSQL (jsonb); otherwise as the text form.';
COMMENT ON FUNCTION telemetry.track_batch(text, text, text) IS
    'Records a client''s batch: what calls with untyped or text arguments (drivers) resolve to; the tenant and sent_at are read as uuid and timestamptz.';

-- Quarantine rows say where x-pii rewrote their properties.
ALTER TABLE telemetry.quarantine ADD COLUMN pii_rewritten_paths text[] NOT NULL DEFAULT '{}';
COMMENT ON COLUMN telemetry.quarantine.pii_rewritten_paths IS 'Where x-pii hashed or redacted the properties before they were kept here, as JSON Pointers (RFC 6901, e.g. /email): a replay leaves the values there as they are and rewrites every other value its catalog tags, whatever it looks like.';
-- Rows kept before 0.2.0 did not record where. A replay under 0.1.0 left every value shaped
-- like a hash (or the redaction) as it was; so that a replay after the upgrade does the same for
-- them, and does not hash twice what was hashed before they were kept, their paths are those of
-- every such value (JSON Pointers, as the ingest writes them).
WITH RECURSIVE walk(tenant_id, id, path, value) AS (
    SELECT q.tenant_id, q.id, ''::text, q.properties FROM telemetry.quarantine q
    UNION ALL
    SELECT w.tenant_id, w.id, w.path || '/' || c.step, c.value
      FROM walk w CROSS JOIN LATERAL (
        SELECT pg_catalog.replace(pg_catalog.replace(k.key, '~', '~0'), '/', '~1'), k.value
          FROM pg_catalog.jsonb_each(CASE WHEN pg_catalog.jsonb_typeof(w.value) OPERATOR(pg_catalog.=) 'object'
                                          THEN w.value ELSE '{}' END) AS k
        UNION ALL
        SELECT (e.n OPERATOR(pg_catalog.-) 1)::text, e.value
          FROM pg_catalog.jsonb_array_elements(CASE WHEN pg_catalog.jsonb_typeof(w.value) OPERATOR(pg_catalog.=) 'array'
                                                    THEN w.value ELSE '[]' END) WITH ORDINALITY AS e(value, n)
      ) AS c(step, value)
),
rewritten AS (
    SELECT tenant_id, id, pg_catalog.array_agg(path ORDER BY path) AS paths FROM walk
     WHERE pg_catalog.jsonb_typeof(value) OPERATOR(pg_catalog.=) 'string'
       AND (value OPERATOR(pg_catalog.#>>) '{}' OPERATOR(pg_catalog.~) '^h1:[A-Za-z0-9_-]{22}$'
            OR value OPERATOR(pg_catalog.#>>) '{}' OPERATOR(pg_catalog.=) '[redacted]')
     GROUP BY tenant_id, id
)
UPDATE telemetry.quarantine q SET pii_rewritten_paths = r.paths
  FROM rewritten r WHERE q.tenant_id OPERATOR(pg_catalog.=) r.tenant_id AND q.id OPERATOR(pg_catalog.=) r.id;

-- Privileges of what is new: nothing for PUBLIC but the marker of the named text form.
REVOKE ALL ON FUNCTION telemetry.check_catalog_budget() FROM PUBLIC;
REVOKE ALL ON FUNCTION telemetry.invalidate_caches() FROM PUBLIC;
REVOKE ALL ON FUNCTION telemetry.track(text[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION telemetry.track(text, text, bpchar, text, text, text, text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION telemetry.track_batch(text, text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION telemetry.unset_argument() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION telemetry.unset_argument() TO PUBLIC;
