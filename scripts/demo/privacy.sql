-- Privacy (docs/pii.md): personal data found where the catalog declares none, at ingest and on
-- every write path; an audit of what was stored before, with telemetry.pii_scan(); and a learner
-- forgotten with telemetry.forget_user().
\pset footer off
\set org '''6a1f0c3e-0000-4000-8000-000000000001'''
\set strict_org '''6a1f0c3e-0000-4000-8000-0000000000f1'''
SELECT telemetry.load_catalog('{"events": [{"name": "callback_requested", "description": "A learner asks to be called back.",
  "schema": {"properties": {"topic": {"type": "string"}, "note": {"type": "string"},
                            "phone": {"type": "string", "x-pii": "redact"}}}}]}') IS NOT NULL AS catalog_loaded \gset
\echo 'track() under the default policy (redact): an undeclared e-mail address in the note is redacted, the declared phone number (x-pii redact) too, and a user id that is an e-mail address is stored as its keyed hash. Flags say which (8 x-pii, 32 undeclared PII, 64 user id hashed):'
SELECT telemetry.track(:org::uuid, 'callback_requested',
         '{"topic": "billing", "note": "or write to sam.learner@example.com", "phone": "+44 20 7946 0958"}',
         'Sam.Learner@example.com') IS NOT NULL AS tracked \gset
SELECT user_id, flags, properties FROM telemetry.events WHERE tenant_id = :org AND name = 'callback_requested';
\echo 'A tenant that chose reject (telemetry.set_pii_policy()): the event is refused with 23514, naming the path and the detector, never the value:'
SELECT telemetry.set_pii_policy(:strict_org, 'reject') \gset
DO $$
BEGIN
    PERFORM telemetry.track('6a1f0c3e-0000-4000-8000-0000000000f1'::uuid, 'callback_requested',
                            '{"topic": "billing", "note": "or write to sam.learner@example.com"}');
EXCEPTION WHEN check_violation THEN
    RAISE NOTICE 'track() refused it: %', SQLERRM;
END $$;
\echo 'A privileged role writing the table itself (an INSERT of its own) meets the same rules in the trigger check_written_event:'
CREATE ROLE demo_backfill;
GRANT USAGE ON SCHEMA telemetry TO demo_backfill;
GRANT INSERT ON telemetry.events TO demo_backfill;
GRANT USAGE ON SEQUENCE telemetry.events_id_seq TO demo_backfill;
SELECT telemetry.grant_tenant_access('demo_backfill', :strict_org, 'ingest') \gset
SET ROLE demo_backfill;
DO $$
BEGIN
    INSERT INTO telemetry.events (occurred_at, received_at, tenant_id, event_id, name, source, schema_version, properties)
    VALUES (now(), now(), '6a1f0c3e-0000-4000-8000-0000000000f1', gen_random_uuid(), 'callback_requested', 'backfill', '1-0-0',
            '{"note": "call +1 415 555 2671"}');
EXCEPTION WHEN check_violation THEN
    RAISE NOTICE 'the INSERT was refused: %', SQLERRM;
END $$;
RESET ROLE;
\echo 'What the policy did, by detector and action (telemetry.pii_counters()):'
SELECT detector, action, decisions FROM telemetry.pii_counters() ORDER BY detector, action;

-- Two rows as a release before 0.7.0 stored them, without looking for undeclared personal data
-- (the tenant's policy is allow for the moment): a support note with an e-mail address and a
-- phone number, and a payment payload; then every stored event of the tenant scanned, by JSON
-- Pointer and detector, never the values.
SELECT telemetry.set_pii_policy(:org, 'allow') \gset
INSERT INTO telemetry.events (occurred_at, received_at, tenant_id, event_id, name, user_id, source, schema_version, properties)
VALUES (now(), now(), :org, gen_random_uuid(), 'support_ticket_opened', 'learner-7', 'server', '1-0-0',
        '{"channel": "chat", "note": "please call me back on +44 20 7946 0958 or write to jane.doe@example.com"}'),
       (now(), now(), :org, gen_random_uuid(), 'payment_failed', 'learner-9', 'server', '1-0-0',
        '{"plan": "pro", "card": {"number": "4111 1111 1111 1111", "holderName": "J Doe"}, "attempt": 2}');
SELECT telemetry.set_pii_policy(:org, NULL) \gset
\echo 'Findings in the tenant''s stored events (telemetry.pii_scan(e.properties)):'
SELECT e.name, e.user_id, s.path, s.detector
FROM telemetry.events e, telemetry.pii_scan(e.properties) s
WHERE e.tenant_id = :org
ORDER BY e.name, s.path, s.detector;
\echo 'Events scanned, and with findings:'
SELECT count(*) AS events, count(*) FILTER (WHERE EXISTS (SELECT FROM telemetry.pii_scan(e.properties))) AS with_findings
FROM telemetry.events e WHERE e.tenant_id = :org;
\echo 'A learner asks to be forgotten (telemetry.forget_user(): events, quarantined payloads, dedup entries and opt-out erased, and the rollup cells of their days recomputed, in one transaction):'
SELECT user_id AS learner FROM telemetry.events WHERE tenant_id = :org AND user_id IS NOT NULL
GROUP BY user_id ORDER BY count(*) DESC, user_id LIMIT 1 \gset
SELECT :'learner' AS learner, count(*) AS events FROM telemetry.events WHERE tenant_id = :org AND user_id = :'learner';
BEGIN;
SELECT * FROM telemetry.forget_user(:org, :'learner');
SELECT (SELECT count(*) FROM telemetry.events WHERE tenant_id = :org AND user_id = :'learner') AS events_left,
       (SELECT count(*) FROM (
            SELECT tenant_id, (occurred_at AT TIME ZONE 'UTC')::date, name, count(*), count(DISTINCT user_id) FROM telemetry.events
            WHERE occurred_at < telemetry.rollup_watermark()::timestamp AT TIME ZONE 'UTC' GROUP BY 1, 2, 3
            EXCEPT SELECT tenant_id, day, name, raw_events, users FROM telemetry.daily_rollups) x) AS rollup_cells_differing_from_a_group_by;
COMMIT;
\echo 'The erasure ledger keeps a keyed hash of the id, never the id:'
SELECT user_hash, kind, events, quarantined, event_ids, opt_outs, rollup_days FROM telemetry.erasures;
