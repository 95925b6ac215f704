-- Privacy (docs/pii.md): an audit of what is stored, with telemetry.pii_scan(), and a learner
-- forgotten with telemetry.forget_user().
-- Two rows written directly (as an application writing its own INSERTs did before telemetry
-- checked for undeclared personal data): a support note with an e-mail address and a phone
-- number, and a payment payload; then every stored event of the tenant scanned, by JSON Pointer
-- and detector, never the values.
\pset footer off
\set org '''6a1f0c3e-0000-4000-8000-000000000001'''
INSERT INTO telemetry.events (occurred_at, received_at, tenant_id, event_id, name, user_id, source, schema_version, properties)
VALUES (now(), now(), :org, gen_random_uuid(), 'support_ticket_opened', 'learner-7', 'server', '1-0-0',
        '{"channel": "chat", "note": "please call me back on +44 20 7946 0958 or write to jane.doe@example.com"}'),
       (now(), now(), :org, gen_random_uuid(), 'payment_failed', 'learner-9', 'server', '1-0-0',
        '{"plan": "pro", "card": {"number": "4111 1111 1111 1111", "holderName": "J Doe"}, "attempt": 2}');
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
