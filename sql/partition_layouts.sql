-- What a DBA adds to the event store applies to track() and track_batch() exactly as it
-- applies to a plain INSERT: statement and row triggers, rules, constraints added on a partition,
-- deferred unique checks, row-level security. The fast path that writes heap partitions
-- directly is taken only when none of these is there (test/t/005_partition_layouts.pl covers
-- partitions that are not heap tables at all).
-- Each test file starts from a fresh extension, so it does not depend on the others.
DROP EXTENSION telemetry;
CREATE EXTENSION telemetry;
SET timezone = 'UTC';
\set SHOW_CONTEXT never
\set t '''12121212-1212-1212-1212-121212121212'''

SELECT telemetry.define_event('page_viewed');
CREATE TABLE audit (what text, rows_seen bigint);

-- A statement trigger on the parent: an INSERT into telemetry.events fires it once per
-- statement, whatever partition the rows go to.
CREATE FUNCTION audit_statement() RETURNS trigger LANGUAGE plpgsql AS $$
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

-- A row trigger on the parent (cloned onto every partition) that changes the row.
CREATE FUNCTION tag_row() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.properties := NEW.properties || '{"tagged": true}';
    RETURN NEW;
END
$$;
CREATE TRIGGER events_tagged BEFORE INSERT ON telemetry.events FOR EACH ROW EXECUTE FUNCTION tag_row();
SELECT telemetry.track(:t::uuid, 'page_viewed', '{"n": 1}', 'u2', NULL) IS NOT NULL AS tracked;
SELECT properties FROM telemetry.events WHERE user_id = 'u2';
DROP TRIGGER events_tagged ON telemetry.events;

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
ALTER TABLE :today ALTER COLUMN user_id DROP NOT NULL;

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

-- Row-level security forced on the event store holds for track() (which writes as the table's
-- owner) as for any INSERT.
CREATE POLICY only_one_tenant ON telemetry.events USING (true) WITH CHECK (tenant_id = '12121212-1212-1212-1212-121212121212');
ALTER TABLE telemetry.events ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
SELECT telemetry.track(:t::uuid, 'page_viewed', '{}', 'u4', NULL) IS NOT NULL AS own_tenant;
\set VERBOSITY terse
SELECT telemetry.track('34343434-3434-3434-3434-343434343434'::uuid, 'page_viewed', '{}', 'u5', NULL);
\set VERBOSITY default
SELECT status, sqlstate FROM telemetry.track_batch('34343434-3434-3434-3434-343434343434', '[{"name": "page_viewed"}]');
ALTER TABLE telemetry.events NO FORCE ROW LEVEL SECURITY, DISABLE ROW LEVEL SECURITY;
DROP POLICY only_one_tenant ON telemetry.events;
SELECT tenant_id, count(*) FROM telemetry.events GROUP BY tenant_id ORDER BY tenant_id;
