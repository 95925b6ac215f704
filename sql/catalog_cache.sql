-- The backend's copies of the catalog and the opt-outs follow what the session can see: a change
-- rolled back in a subtransaction is gone at once, even within the statement that made it.
-- (Interrupted reloads, changes that fire no trigger, and procedures that commit between
-- tracks: test/isolation/specs/cache_*.spec and catalog_across_commits.spec.)
-- Each test file starts from a fresh extension, so it does not depend on the others.
DROP EXTENSION telemetry;
CREATE EXTENSION telemetry;
SET timezone = 'UTC';
\set SHOW_CONTEXT never
\set t '''56565656-5656-5656-5656-565656565656'''

SELECT telemetry.define_event('kept_type');

-- A type defined and used in a subtransaction that rolls back no longer exists afterwards,
-- in the same statement: its events are refused, and the one tracked inside is gone too.
DO $$
BEGIN
    BEGIN
        PERFORM telemetry.define_event('short_lived');
        PERFORM telemetry.track('short_lived');
        RAISE EXCEPTION 'undo' USING ERRCODE = 'P0001';
    EXCEPTION WHEN raise_exception THEN
        RAISE NOTICE 'the subtransaction rolled back';
    END;
    PERFORM telemetry.track('short_lived');
END
$$;
SELECT count(*) AS short_lived_events FROM telemetry.events WHERE name = 'short_lived';

-- A type blocked in a subtransaction that rolls back accepts events again at once.
DO $$
BEGIN
    BEGIN
        PERFORM telemetry.define_event('kept_type', status => 'blocked');
        RAISE EXCEPTION 'undo' USING ERRCODE = 'P0001';
    EXCEPTION WHEN raise_exception THEN
        NULL;
    END;
    PERFORM telemetry.track('kept_type', '{"after": "rollback"}');
END
$$;
SELECT count(*) AS kept_type_events FROM telemetry.events WHERE name = 'kept_type';

-- Opt-outs alike: rolled back, the user is tracked; kept (the subtransaction commits), not.
DO $$
BEGIN
    BEGIN
        PERFORM telemetry.opt_out('56565656-5656-5656-5656-565656565656', 'wavering');
        IF telemetry.track('56565656-5656-5656-5656-565656565656'::uuid, 'kept_type', '{}', 'wavering', NULL) IS NOT NULL THEN
            RAISE EXCEPTION 'tracked an opted-out user';
        END IF;
        RAISE EXCEPTION 'undo' USING ERRCODE = 'P0001';
    EXCEPTION WHEN raise_exception THEN
        NULL;
    END;
    PERFORM telemetry.track('56565656-5656-5656-5656-565656565656'::uuid, 'kept_type', '{}', 'wavering', NULL);
    BEGIN
        PERFORM telemetry.opt_out('56565656-5656-5656-5656-565656565656', 'decided');
    END;
    PERFORM telemetry.track('56565656-5656-5656-5656-565656565656'::uuid, 'kept_type', '{}', 'decided', NULL);
END
$$;
SELECT user_id, count(*) FROM telemetry.events WHERE tenant_id = :t GROUP BY user_id ORDER BY user_id;

-- A whole transaction rolled back: its type is gone for the next statement.
BEGIN;
SELECT telemetry.define_event('never_committed');
SELECT telemetry.track('never_committed') IS NOT NULL AS tracked_inside;
ROLLBACK;
SELECT telemetry.track('never_committed');

-- A change made while the change triggers are disabled is not seen until
-- telemetry.invalidate_caches(). (Disabling and enabling a trigger sends an invalidation of
-- its own, so a restore that disables them around its data is seen once it enables them; but
-- ENABLE TRIGGER, as pg_restore writes it, leaves them firing in origin mode only.)
ALTER TABLE telemetry.event_types DISABLE TRIGGER USER;
SELECT telemetry.track('kept_type') IS NOT NULL AS catalog_loaded;
INSERT INTO telemetry.event_types (name) VALUES ('restored_quietly');
SELECT telemetry.track('restored_quietly');
SELECT telemetry.invalidate_caches();
SELECT telemetry.track('restored_quietly') IS NOT NULL AS seen_after_invalidate;
ALTER TABLE telemetry.event_types ENABLE ALWAYS TRIGGER event_types_changed, ENABLE ALWAYS TRIGGER event_types_checked,
    ENABLE ALWAYS TRIGGER event_types_within_budget;
SELECT tgname, tgenabled FROM pg_trigger WHERE tgrelid = 'telemetry.event_types'::regclass AND NOT tgisinternal ORDER BY tgname;

-- A DBA's trigger that changes the catalog and tracks again while track() is writing: the
-- outer call still reads the version it decided with (freed only when the transaction ends),
-- so its deprecation warning names its own type.
SELECT telemetry.define_event('legacy_signup', status => 'deprecated');
SELECT telemetry.define_event('signup_audited');
CREATE FUNCTION public.audit_signup() RETURNS trigger LANGUAGE plpgsql SET search_path = pg_catalog AS $$
BEGIN
    IF NEW.name = 'legacy_signup' THEN
        FOR i IN 1..20 LOOP
            PERFORM telemetry.define_event('defined_meanwhile_' || i);
            PERFORM telemetry.track(NEW.tenant_id, 'signup_audited', '{}', NEW.user_id, NULL);
        END LOOP;
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER events_signup_audited AFTER INSERT ON telemetry.events FOR EACH ROW EXECUTE FUNCTION public.audit_signup();
SELECT telemetry.track(:t::uuid, 'legacy_signup', '{}', 'rebuilt-under-me', NULL) IS NOT NULL AS tracked;
SELECT telemetry.track(:t::uuid, 'legacy_signup', '{}', 'rebuilt-under-me', NULL) IS NOT NULL AS tracked_again;
SELECT name, count(*) FROM telemetry.events WHERE user_id = 'rebuilt-under-me' GROUP BY name ORDER BY name;
DROP TRIGGER events_signup_audited ON telemetry.events;
