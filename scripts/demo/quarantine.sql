-- Quarantine instead of refusal, and who may see it. feedback_given keeps what breaks its schema
-- aside (on_violation "quarantine"); each tenant's admins read and replay their own quarantine
-- and no one else's (telemetry.tenant_access, enforced by row-level security).
\pset footer off
SELECT telemetry.define_event('feedback_given',
    schema => '{"properties": {"rating": {"type": "integer", "minimum": 1, "maximum": 5},
                               "comment": {"type": "string", "maxLength": 280},
                               "contact": {"type": "string", "x-pii": "hash"}},
                "additionalProperties": false}',
    on_violation => 'quarantine') AS feedback_given;
-- A new app release sends half-star ratings before the catalog allows them.
SELECT telemetry.track('6a1f0c3e-0000-4000-8000-000000000001'::uuid, 'feedback_given', '{"rating": 4.5}', 'learner-0001') AS northwind_id,
       telemetry.track('6a1f0c3e-0000-4000-8000-000000000001'::uuid, 'feedback_given', '{"rating": 3.5, "comment": "ok", "contact": "ana@example.com"}', 'learner-0002') AS northwind_id_2,
       telemetry.track('6a1f0c3e-0000-4000-8000-000000000002'::uuid, 'feedback_given', '{"rating": 0.5}', 'learner-0101') AS contoso_id;

CREATE ROLE northwind_admins;
SELECT telemetry.grant_tenant_access('northwind_admins', '6a1f0c3e-0000-4000-8000-000000000001', 'admin') AS granted;

\echo 'Northwind''s admin sees Northwind''s quarantine, not Contoso''s (3 rows are there in all), with'
\echo 'contact hashed before it was kept (pii_rewritten_paths: where; a replay does not hash it twice):'
SET ROLE northwind_admins;
SELECT tenant_id, user_id, json_path, rule, reason, properties ->> 'contact' AS contact, pii_rewritten_paths
FROM telemetry.quarantine ORDER BY id;
\echo 'and may not replay Contoso''s:'
\set ON_ERROR_STOP off
SELECT * FROM telemetry.replay_quarantine('6a1f0c3e-0000-4000-8000-000000000002');
\set ON_ERROR_STOP on
RESET ROLE;

\echo 'The catalog allows half stars from version 2-0-0; Northwind''s admin replays its quarantine:'
SELECT telemetry.define_event('feedback_given', version => '2-0-0',
    schema => '{"properties": {"rating": {"type": "number", "minimum": 0.5, "maximum": 5},
                               "comment": {"type": "string", "maxLength": 280},
                               "contact": {"type": "string", "x-pii": "hash"}},
                "additionalProperties": false}',
    on_violation => 'quarantine') AS feedback_given;
SET ROLE northwind_admins;
SELECT quarantine_id, status FROM telemetry.replay_quarantine('6a1f0c3e-0000-4000-8000-000000000001') ORDER BY quarantine_id;
RESET ROLE;
SELECT tenant_id, user_id, properties FROM telemetry.events WHERE name = 'feedback_given' ORDER BY user_id;
SELECT tenant_id, count(*) AS still_quarantined FROM telemetry.quarantine GROUP BY tenant_id;
