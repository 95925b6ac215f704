-- Tenancy (docs/security.md): who acts for which tenant comes from what no caller can set.
-- Two tenants' analysts read through row-level security; a pooled application role (PgBouncer
-- in transaction mode, Prisma) presents a signed, single-use token per transaction.
\pset footer off
\set northwind '''6a1f0c3e-0000-4000-8000-000000000001'''
\set contoso '''6a1f0c3e-0000-4000-8000-000000000002'''
CREATE ROLE northwind_analyst;
CREATE ROLE contoso_analyst;
CREATE ROLE app_pool;
CREATE ROLE auth_service;
SELECT telemetry.grant_tenant_access('northwind_analyst', :northwind, 'read') AS northwind_read,
       telemetry.grant_tenant_access('contoso_analyst', :contoso, 'read') AS contoso_read,
       telemetry.grant_tenant_access('app_pool', NULL, 'token') AS pool_token,
       telemetry.grant_tenant_access('auth_service', NULL, 'issuer') AS issuer;
\echo 'Each analyst counts events with no WHERE clause, and sees only its own tenant:'
SET ROLE northwind_analyst;
SELECT current_user AS analyst, tenant_id, count(*) AS events FROM telemetry.events GROUP BY tenant_id;
SET ROLE contoso_analyst;
SELECT current_user AS analyst, tenant_id, count(*) AS events FROM telemetry.events GROUP BY tenant_id;
\echo 'SET of a setting does not change that, and row_security = off fails rather than show more:'
SELECT set_config('app.tenant_id', :northwind, false) IS NOT NULL AS set_a_setting,
       (SELECT count(*) FROM telemetry.events WHERE tenant_id = :northwind) AS northwind_rows_seen;
\set ON_ERROR_STOP off
SET row_security = off;
SELECT count(*) FROM telemetry.events;
RESET row_security;
\set ON_ERROR_STOP on
RESET ROLE;

\echo 'The auth service mints a token for Northwind (it expires in 5 minutes and works once):'
SET ROLE auth_service;
SELECT telemetry.tenant_token(:northwind) AS token \gset
SELECT left(:'token', 24) || '...' AS token;
RESET ROLE;
\echo 'The pooled role acts for Northwind in its transaction:'
SET ROLE app_pool;
BEGIN;
SELECT telemetry.set_tenant(:'token') AS acting_for;
SELECT telemetry.track(:northwind::uuid, 'user_authenticated', '{"provider": "email", "isNewUser": false}', 'learner-0001') IS NOT NULL AS tracked;
SELECT tenant_id, count(*) AS events_visible FROM telemetry.events GROUP BY tenant_id;
\echo 'and is refused Contoso''s id (42501), whose message names no tenant:'
\set ON_ERROR_STOP off
SELECT telemetry.track(:contoso::uuid, 'user_authenticated', '{"provider": "email", "isNewUser": false}', 'learner-0101');
ROLLBACK;
\echo 'After its transaction the role acts for no tenant, and the token cannot be replayed:'
SELECT telemetry.current_tenant() AS current_tenant, (SELECT count(*) FROM telemetry.events) AS events_visible;
SELECT telemetry.set_tenant(:'token');
\set ON_ERROR_STOP on
RESET ROLE;
