-- PII detection (docs/pii.md, "Detection"): an audit of what is stored, with telemetry.pii_scan().
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
