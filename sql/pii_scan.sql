-- telemetry.pii_scan() (src/sql/40_pii.sql, docs/pii.md "Detection"): what the detectors find in
-- a document, by JSON Pointer and detector, never the values: nested objects and arrays, keys,
-- numbers, normalised forms, look-alikes that must give nothing, pointer escaping, a scalar
-- document, NULL, the work budget, an audit of stored events, and a role without any access.
-- Each test file starts from a fresh extension, so it does not depend on the others.
DROP EXTENSION telemetry;
CREATE EXTENSION telemetry;
SET timezone = 'UTC';

-- A payload with PII at every depth, and keys that name it.
SELECT * FROM telemetry.pii_scan('{
  "user": {"contact": {"email": "Jane.Doe+news@example.co.uk", "phones": ["+44 20 7946 0958", "call (555) 123-4567"]}},
  "payment": {"card": 4111111111111111, "iban": "DE89 3704 0044 0532 0130 00"},
  "password": "hunter2",
  "userEmail": "not shown here",
  "session": {"token": "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"},
  "client_ip": "203.0.113.42",
  "note": "ssn 536-22-1234 on file",
  "aws": "AKIAIOSFODNN7EXAMPLE"
}');

-- Look-alikes give nothing: versions (a dotted quad under a key naming a version is not an
-- address), npm and git specifiers, epoch times, UUIDs, git SHAs, prices, dates, ZIP+4, LLM
-- token counts, order numbers that fail Luhn.
SELECT count(*) AS findings FROM telemetry.pii_scan('{
  "appVersion": "10.2.3.4", "package": "react@18.2.0", "scoped": "@types/node@20.1.0",
  "remote": "git@github.com:org/repo.git", "sentAt": 1700000000000, "epoch": 1700000000,
  "requestId": "0192d5b4-1c2f-7000-8000-00000000a11c", "commit": "3f786850e387550fdab836ed7e6dc881de23001b",
  "price": "$1,299.99", "day": "2024-01-15", "zip": "12345-6789", "inputTokens": 1520, "outputTokens": 340,
  "orderNumber": "4111111111111112", "mention": "@jane", "model": "gpt-4o-mini", "scenarioSlug": "salary-negotiation"
}');

-- Normalised before detection: a fullwidth at sign, a zero-width space inside, percent-encoding.
SELECT * FROM telemetry.pii_scan(jsonb_build_object(
    'fullwidth', 'jane' || chr(65312) || 'example.com',
    'zero_width', 'ja' || chr(8203) || 'ne@example.com',
    'encoded', 'jane%40example.com'));

-- Pointers escape "/" and "~" (RFC 6901); a document that is one string is the root "".
SELECT * FROM telemetry.pii_scan('{"a/b": {"c~d": "mail me: jane@example.com"}}');
-- The same dotted quad elsewhere is an address.
SELECT * FROM telemetry.pii_scan('{"appVersion": "10.2.3.4", "forwardedFor": "10.2.3.4"}');
SELECT * FROM telemetry.pii_scan('"jane@example.com"');
-- A key that shows personal data is not shown either: "~redacted" stands for it.
SELECT * FROM telemetry.pii_scan('{"jane@example.com": {"visits": 3}}');
SELECT count(*) AS rows_for_null FROM telemetry.pii_scan(NULL);

-- The budget: 10,000 strings at most; the scan says where it stopped.
SELECT path, detector FROM telemetry.pii_scan((SELECT jsonb_agg('x' || g) FROM generate_series(1, 10001) g))
ORDER BY path DESC LIMIT 1;

-- An audit of stored events (rows stored before detection, inserted directly here: under the
-- policy allow, the write-path trigger stores them as they come, as releases before 0.7.0 did).
SELECT telemetry.create_partitions(now(), 1, 1) >= 0 AS partitions_made;
SELECT telemetry.set_pii_policy('00000000-0000-4000-8000-000000000001', 'allow');
INSERT INTO telemetry.events (occurred_at, received_at, tenant_id, event_id, name, user_id, source, schema_version, properties)
VALUES (now(), now(), '00000000-0000-4000-8000-000000000001', gen_random_uuid(), 'signup', 'u1', 'server', '1-0-0',
        '{"plan": "pro", "contact": "jane@example.com"}'),
       (now(), now(), '00000000-0000-4000-8000-000000000001', gen_random_uuid(), 'signup', 'u2', 'server', '1-0-0',
        '{"plan": "free"}'),
       (now(), now(), '00000000-0000-4000-8000-000000000001', gen_random_uuid(), 'checkout', 'u3', 'server', '1-0-0',
        '{"items": [{"sku": "A-1"}, {"card": "5555 5555 5555 4444"}]}');
SELECT e.user_id, s.* FROM telemetry.events e, telemetry.pii_scan(e.properties) s ORDER BY e.user_id, s.path;

-- Any role that may use the schema (any access level) may call it: it reads nothing but its
-- argument. One without an access level cannot reach the schema at all.
-- (The refused call carries no personal data: PostgreSQL logs a statement it refuses itself,
-- literals included; docs/pii.md, "Logs".)
CREATE ROLE pii_auditor;
SET ROLE pii_auditor;
SELECT * FROM telemetry.pii_scan('{"email": "none"}');
RESET ROLE;
SELECT telemetry.grant_tenant_access('pii_auditor', '00000000-0000-4000-8000-000000000002', 'read');
SET ROLE pii_auditor;
SELECT * FROM telemetry.pii_scan('{"email": "jane@example.com"}');
RESET ROLE;
SELECT telemetry.revoke_tenant_access('pii_auditor', '00000000-0000-4000-8000-000000000002', 'read');
DROP ROLE pii_auditor;
