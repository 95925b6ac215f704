-- Exact deduplication by client event_id within the window, opt-out and opt-in, and the
-- counters that account for every decision.
-- Each test file starts from a fresh extension, so it does not depend on the others.
DROP EXTENSION telemetry;
CREATE EXTENSION telemetry;
SET timezone = 'UTC';
\set SHOW_CONTEXT never

SELECT telemetry.define_event('order_shipped');
\set t '''99999999-9999-9999-9999-999999999999'''
\set id '''0192d5b4-0000-7000-8000-0000000000aa'''

-- track() with the client's event_id: the second call is a duplicate that returns the same id;
-- the event is stored once.
SELECT telemetry.track(:t::uuid, 'order_shipped', '{}', 'u1', NULL, NULL, :id::uuid) = :id::uuid AS first;
SELECT telemetry.track(:t::uuid, 'order_shipped', '{"retry": true}', 'u1', NULL, NULL, :id::uuid) = :id::uuid AS retried;
SELECT count(*) AS stored FROM telemetry.events WHERE event_id = :id::uuid;
-- The same id for another tenant is another event.
SELECT telemetry.track('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa'::uuid, 'order_shipped', '{}', NULL, NULL, NULL, :id::uuid) IS NOT NULL AS other_tenant;
SELECT count(*) AS stored_in_both FROM telemetry.events WHERE event_id = :id::uuid;

-- Past the window (telemetry.dedup_window_days, 7) an id counts as new again.
UPDATE telemetry.event_ids SET seen_at = now() - interval '8 days' WHERE tenant_id = :t::uuid;
SELECT status FROM telemetry.track_batch(:t::uuid, format('[{"name": "order_shipped", "event_id": %s}]', to_json(:id::uuid)));
SELECT count(*) AS stored_again_after_the_window FROM telemetry.events WHERE event_id = :id::uuid AND tenant_id = :t::uuid;
SELECT status FROM telemetry.track_batch(:t::uuid, format('[{"name": "order_shipped", "event_id": %s}]', to_json(:id::uuid)));
-- purge_event_ids() reclaims entries older than the window.
UPDATE telemetry.event_ids SET seen_at = now() - interval '30 days' WHERE tenant_id = 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa';
SELECT telemetry.purge_event_ids() AS purged;
SELECT tenant_id, event_id FROM telemetry.event_ids;

-- Ids made by track() are not written to the ledger: they are unique by construction.
SELECT count(*) AS ledger_before FROM telemetry.event_ids \gset
SELECT count(telemetry.track(:t::uuid, 'order_shipped', '{}')) FROM generate_series(1, 100);
SELECT count(*) - :ledger_before AS ledger_growth FROM telemetry.event_ids;

-- Opt-out: no event of the user is stored, by any path; opt-in resumes.
SELECT telemetry.opt_out(:t::uuid, 'privacy-minded') AS opted_out, telemetry.opt_out(:t::uuid, 'privacy-minded') AS again;
SELECT telemetry.track(:t::uuid, 'order_shipped', '{}', 'privacy-minded') AS track_returns;
SELECT status FROM telemetry.track_batch(:t::uuid, '[{"name": "order_shipped", "user_id": "privacy-minded"}]');
-- Even an event that would be refused is just opted out: nothing about it is looked at.
SELECT status FROM telemetry.track_batch(:t::uuid, '[{"name": "no_such_event", "user_id": "privacy-minded"}]');
-- Opt-out is per tenant.
SELECT telemetry.track('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa'::uuid, 'order_shipped', '{}', 'privacy-minded') IS NOT NULL AS other_tenant_tracked;
SELECT count(*) AS stored_for_opted_out FROM telemetry.events WHERE tenant_id = :t::uuid AND user_id = 'privacy-minded';
SELECT telemetry.opt_in(:t::uuid, 'privacy-minded') AS opted_in;
SELECT telemetry.track(:t::uuid, 'order_shipped', '{}', 'privacy-minded') IS NOT NULL AS tracked_after_opt_in;
-- A session sees its own opt-out at once, even within one statement.
DO $$
BEGIN
    PERFORM telemetry.opt_out('99999999-9999-9999-9999-999999999999', 'changed-mind');
    IF telemetry.track('99999999-9999-9999-9999-999999999999'::uuid, 'order_shipped', '{}', 'changed-mind') IS NOT NULL THEN
        RAISE EXCEPTION 'an opted-out user was tracked';
    END IF;
END
$$;
SELECT telemetry.opt_out(NULL, 'x');
SELECT telemetry.opt_out(:t::uuid, '');

