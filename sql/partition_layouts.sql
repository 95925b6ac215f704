-- What a DBA adds to the event store applies to track() and track_batch() exactly as it
-- applies to a plain INSERT: statement and row triggers, rules, constraints added on a partition,
-- deferred unique checks. The fast path that writes heap partitions directly is taken only when
-- none of these is there (test/t/005_partition_layouts.pl covers partitions that are not heap
-- tables at all).
-- Each test file starts from a fresh extension, so it does not depend on the others.
DROP EXTENSION telemetry;
CREATE EXTENSION telemetry;
SET timezone = 'UTC';
\set SHOW_CONTEXT never
\set t '''12121212-1212-1212-1212-121212121212'''

SELECT telemetry.define_event('page_viewed');
CREATE TABLE audit (what text, rows_seen bigint);

-- A statement trigger on the parent: an INSERT into telemetry.events fires it once per
-- statement, whatever partition the rows go to. (It runs as the extension's owner, inside
-- track(): like any function that may run with another role's rights, it sets its own search
-- path; see the row triggers below for what a function without one gets.)
CREATE FUNCTION audit_statement() RETURNS trigger LANGUAGE plpgsql SET search_path = public AS $$
BEGIN
    INSERT INTO audit SELECT 'statement ' || TG_WHEN, count(*) FROM new_rows;
    RETURN NULL;
END
$$;
CREATE TRIGGER events_audited AFTER INSERT ON telemetry.events
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION audit_statement();
SELECT telemetry.track(:t::uuid, 'page_viewed', '{}', 'u1', NULL) IS NOT NULL AS tracked;
SELECT status FROM telemetry.track_batch(:t::uuid, '[{"name": "page_viewed"}, {"name": "page_viewed"}]');
SELECT * FROM audit;
DROP TRIGGER events_audited ON telemetry.events;
TRUNCATE audit;

-- Row triggers on the parent (cloned onto every partition) that change the row. A function
-- with its own SET search_path gets it; one without runs with search_path = pg_catalog, pg_temp
-- inside track() (a security definer's code must not resolve names through the caller's path),
-- and with the caller's own path under a plain INSERT.
CREATE FUNCTION tag_row() RETURNS trigger LANGUAGE plpgsql SET search_path = public, pg_catalog AS $$
BEGIN
    NEW.properties := NEW.properties || jsonb_build_object('tagged_with', current_setting('search_path'));
    RETURN NEW;
END
$$;
CREATE FUNCTION note_path() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.properties := NEW.properties || jsonb_build_object('noted_with', current_setting('search_path'));
    RETURN NEW;
END
$$;
CREATE TRIGGER events_tagged BEFORE INSERT ON telemetry.events FOR EACH ROW EXECUTE FUNCTION tag_row();
CREATE TRIGGER events_noted BEFORE INSERT ON telemetry.events FOR EACH ROW EXECUTE FUNCTION note_path();
SET search_path = public, telemetry;
SELECT telemetry.track(:t::uuid, 'page_viewed', '{"n": 1}', 'u2', NULL) IS NOT NULL AS tracked;
SELECT status FROM telemetry.track_batch(:t::uuid, '[{"name": "page_viewed", "user_id": "u2", "properties": {"n": 2}}]');
INSERT INTO telemetry.events (tenant_id, event_id, name, properties, user_id, occurred_at, received_at, source, schema_version)
VALUES (:t, gen_random_uuid(), 'page_viewed', '{"n": 3}', 'u2', now(), now(), 'server', '1-0-0');
SELECT current_setting('search_path') AS caller_path_afterwards;
RESET search_path;
SELECT properties FROM telemetry.events WHERE user_id = 'u2' ORDER BY properties ->> 'n';
DROP TRIGGER events_tagged ON telemetry.events;
DROP TRIGGER events_noted ON telemetry.events;

-- Indexes: the direct path runs PostgreSQL's own index code only. Anything else on a partition
-- sends its events through INSERT, which says so at DEBUG1, once per partition and backend
-- (naming the partition in its DETAIL). A plain btree index of the DBA's keeps the direct path.
SELECT partition AS today FROM telemetry.partitions() WHERE day = (now() AT TIME ZONE 'UTC')::date \gset
\set VERBOSITY terse
CREATE INDEX events_today_user ON :today (user_id);
SET client_min_messages = debug1;
SELECT telemetry.track(:t::uuid, 'page_viewed', '{"index": "plain"}', 'u-index', NULL) IS NOT NULL AS tracked;
RESET client_min_messages;
DROP INDEX telemetry.events_today_user;

-- An index whose expression calls a DBA's function that sets its own search path: it resolves
-- its names there (a pinned search path would have hidden public.bucket_of from it).
CREATE FUNCTION public.bucket_of(text) RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT left($1, 4) $$;
CREATE FUNCTION public.event_bucket(text) RETURNS text LANGUAGE sql IMMUTABLE SET search_path = public
    AS $$ SELECT bucket_of($1) $$;
CREATE INDEX events_today_bucket ON :today (public.event_bucket(name));
SET client_min_messages = debug1;
SELECT telemetry.track(:t::uuid, 'page_viewed', '{"index": "expression"}', 'u-index', NULL) IS NOT NULL AS tracked;
RESET client_min_messages;
SELECT count(*) AS indexed FROM telemetry.events WHERE public.event_bucket(name) = 'page' AND user_id = 'u-index';
DROP INDEX telemetry.events_today_bucket;

-- A collation the DBA created (case-insensitive, ICU).
CREATE COLLATION public.case_insensitive (provider = icu, locale = 'und-u-ks-level2', deterministic = false);
CREATE INDEX events_today_user_ci ON :today (user_id COLLATE public.case_insensitive);
SET client_min_messages = debug1;
SELECT telemetry.track(:t::uuid, 'page_viewed', '{"index": "collation"}', 'U-Index', NULL) IS NOT NULL AS tracked;
RESET client_min_messages;
SET enable_seqscan = off;
SELECT count(*) AS found_through_the_index FROM ONLY :today WHERE user_id = 'u-INDEX' COLLATE public.case_insensitive;
RESET enable_seqscan;
DROP INDEX telemetry.events_today_user_ci;

-- An operator class the DBA created, whose comparison is a SQL function.
CREATE FUNCTION public.text_compare(text, text) RETURNS integer LANGUAGE sql IMMUTABLE AS $$ SELECT bttextcmp($1, $2) $$;
CREATE OPERATOR CLASS public.text_sql_ops FOR TYPE text USING btree AS
    OPERATOR 1 <, OPERATOR 2 <=, OPERATOR 3 =, OPERATOR 4 >=, OPERATOR 5 >, FUNCTION 1 public.text_compare(text, text);
CREATE INDEX events_today_user_sql ON :today (user_id public.text_sql_ops);
SET client_min_messages = debug1;
SELECT telemetry.track(:t::uuid, 'page_viewed', '{"index": "operator class"}', 'u-index', NULL) IS NOT NULL AS tracked;
RESET client_min_messages;
DROP INDEX telemetry.events_today_user_sql;

-- An index access method from an extension.
CREATE EXTENSION bloom;
CREATE INDEX events_today_bloom ON :today USING bloom (name);
SET client_min_messages = debug1;
SELECT telemetry.track(:t::uuid, 'page_viewed', '{"index": "bloom"}', 'u-index', NULL) IS NOT NULL AS tracked;
RESET client_min_messages;
DROP INDEX telemetry.events_today_bloom;
DROP EXTENSION bloom;
\set VERBOSITY default
SELECT properties ->> 'index' AS index, count(*) FROM telemetry.events WHERE lower(user_id) = 'u-index' GROUP BY 1 ORDER BY 1;

-- A rule on the parent.
CREATE RULE events_logged AS ON INSERT TO telemetry.events DO ALSO INSERT INTO audit VALUES ('rule', 1);
SELECT telemetry.track(:t::uuid, 'page_viewed', '{}', 'u3', NULL) IS NOT NULL AS tracked;
SELECT * FROM audit;
DROP RULE events_logged ON telemetry.events;

-- NOT NULL added on today's partition: an event without a user is refused there, as an INSERT
-- would be, and stored on other days. (Errors show only their SQLSTATE here: their messages
-- name today's partition.)
TRUNCATE telemetry.events;
SELECT partition AS today FROM telemetry.partitions() WHERE day = (now() AT TIME ZONE 'UTC')::date \gset
ALTER TABLE :today ALTER COLUMN user_id SET NOT NULL;
\set VERBOSITY sqlstate
SELECT telemetry.track(:t::uuid, 'page_viewed', '{"who": "nobody"}', NULL, NULL);
\set VERBOSITY default
SELECT telemetry.track(:t::uuid, 'page_viewed', '{"who": "nobody"}', NULL, NULL, now() - interval '1 day') IS NOT NULL AS yesterday;
SELECT count(*) AS stored_without_user_today FROM ONLY :today WHERE user_id IS NULL;
-- The refusal keeps its SQLSTATE and message, not the detail PostgreSQL gives ("Failing row
-- contains (...)"): the event's values, which may be personal data.
CREATE FUNCTION pg_temp.refusal(session_id text, user_id text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE state text; message text; detail text;
BEGIN
    PERFORM telemetry.track('12121212-1212-1212-1212-121212121212'::uuid, 'page_viewed',
                            '{"who": "nobody@example.com"}', user_id, session_id);
    RETURN 'stored';
EXCEPTION WHEN integrity_constraint_violation THEN
    GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, message = MESSAGE_TEXT, detail = PG_EXCEPTION_DETAIL;
    RETURN format('%s | values in the message: %s | detail: %s', state,
                  message ~ 'nobody|session-secret|user-secret', coalesce(nullif(detail, ''), '(none)'));
END $$;
SELECT pg_temp.refusal('session-secret', NULL) AS not_null_refusal;
ALTER TABLE :today ALTER COLUMN user_id DROP NOT NULL;
-- The same for a unique index (checked as the row is written, on the direct path).
CREATE UNIQUE INDEX one_session ON :today (tenant_id, session_id);
SELECT pg_temp.refusal('session-secret', 'user-secret') AS first_in_session;
SELECT pg_temp.refusal('session-secret', 'user-secret') AS unique_refusal;
DROP INDEX telemetry.one_session;
DELETE FROM telemetry.events WHERE session_id = 'session-secret';

-- A deferred unique constraint on a partition is checked at commit, as for an INSERT.
ALTER TABLE :today ADD CONSTRAINT one_event_per_user UNIQUE (tenant_id, user_id) DEFERRABLE INITIALLY DEFERRED;
BEGIN;
SELECT telemetry.track(:t::uuid, 'page_viewed', '{}', 'once', NULL) IS NOT NULL AS first;
SELECT telemetry.track(:t::uuid, 'page_viewed', '{}', 'once', NULL) IS NOT NULL AS second;
\set VERBOSITY sqlstate
COMMIT;
\set VERBOSITY default
SELECT count(*) AS stored_for_once FROM telemetry.events WHERE user_id = 'once';
ALTER TABLE :today DROP CONSTRAINT one_event_per_user;

SELECT tenant_id, count(*) FROM telemetry.events GROUP BY tenant_id ORDER BY tenant_id;
