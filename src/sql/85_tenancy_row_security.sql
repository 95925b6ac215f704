-- Row-level security on every table that holds tenant data (DESIGN.md §5, docs/security.md).
--
-- ENABLE and FORCE: the tables' owner is subject to the policies too, unless it is a superuser
-- (superusers and BYPASSRLS roles never are; never grant BYPASSRLS to a tenant's role). A role
-- sees and changes only the rows of the tenants its identity (tenant_access, or a token) gives it
-- for the work: read for events; admin for the rest; ingest to insert events directly.
--
-- Each policy is the same predicate on tenant_id, written so that the identity is computed once
-- per query (each sub-select is an InitPlan) and the (tenant_id, ...) indexes serve it: the
-- tenants form an index range [lower, upper], exact for one tenant or every tenant; for a role
-- with several tenants the range is scanned and only the members kept. row_security = off makes
-- a query that these policies would filter fail instead of showing more.

ALTER TABLE telemetry.events ENABLE ROW LEVEL SECURITY;
ALTER TABLE telemetry.events FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_read ON telemetry.events FOR SELECT
    USING (tenant_id OPERATOR(pg_catalog.>=) (SELECT telemetry.tenant_scope_lower('read'))
           AND tenant_id OPERATOR(pg_catalog.<=) (SELECT telemetry.tenant_scope_upper('read'))
           AND ((SELECT telemetry.tenant_scope_is_range('read'))
                OR tenant_id OPERATOR(pg_catalog.=) ANY ((SELECT telemetry.tenant_scope_members('read'))::pg_catalog.uuid[])));
COMMENT ON POLICY tenant_read ON telemetry.events IS 'A role reads only the rows of the tenants it has read access to (telemetry.tenant_access, or the token presented in the transaction).';
CREATE POLICY tenant_ingest ON telemetry.events FOR INSERT
    WITH CHECK (tenant_id OPERATOR(pg_catalog.>=) (SELECT telemetry.tenant_scope_lower('ingest'))
           AND tenant_id OPERATOR(pg_catalog.<=) (SELECT telemetry.tenant_scope_upper('ingest'))
           AND ((SELECT telemetry.tenant_scope_is_range('ingest'))
                OR tenant_id OPERATOR(pg_catalog.=) ANY ((SELECT telemetry.tenant_scope_members('ingest'))::pg_catalog.uuid[])));
COMMENT ON POLICY tenant_ingest ON telemetry.events IS 'A role inserts only the rows of the tenants it has ingest access to (telemetry.tenant_access, or the token presented in the transaction).';
CREATE POLICY tenant_update ON telemetry.events FOR UPDATE
    USING (tenant_id OPERATOR(pg_catalog.>=) (SELECT telemetry.tenant_scope_lower('admin'))
           AND tenant_id OPERATOR(pg_catalog.<=) (SELECT telemetry.tenant_scope_upper('admin'))
           AND ((SELECT telemetry.tenant_scope_is_range('admin'))
                OR tenant_id OPERATOR(pg_catalog.=) ANY ((SELECT telemetry.tenant_scope_members('admin'))::pg_catalog.uuid[])))
    WITH CHECK (tenant_id OPERATOR(pg_catalog.>=) (SELECT telemetry.tenant_scope_lower('admin'))
           AND tenant_id OPERATOR(pg_catalog.<=) (SELECT telemetry.tenant_scope_upper('admin'))
           AND ((SELECT telemetry.tenant_scope_is_range('admin'))
                OR tenant_id OPERATOR(pg_catalog.=) ANY ((SELECT telemetry.tenant_scope_members('admin'))::pg_catalog.uuid[])));
COMMENT ON POLICY tenant_update ON telemetry.events IS 'A role updates only the rows of the tenants it has admin access to (telemetry.tenant_access, or the token presented in the transaction).';
CREATE POLICY tenant_delete ON telemetry.events FOR DELETE
    USING (tenant_id OPERATOR(pg_catalog.>=) (SELECT telemetry.tenant_scope_lower('admin'))
           AND tenant_id OPERATOR(pg_catalog.<=) (SELECT telemetry.tenant_scope_upper('admin'))
           AND ((SELECT telemetry.tenant_scope_is_range('admin'))
                OR tenant_id OPERATOR(pg_catalog.=) ANY ((SELECT telemetry.tenant_scope_members('admin'))::pg_catalog.uuid[])));
COMMENT ON POLICY tenant_delete ON telemetry.events IS 'A role deletes only the rows of the tenants it has admin access to (telemetry.tenant_access, or the token presented in the transaction).';

ALTER TABLE telemetry.quarantine ENABLE ROW LEVEL SECURITY;
ALTER TABLE telemetry.quarantine FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_admin ON telemetry.quarantine FOR ALL
    USING (tenant_id OPERATOR(pg_catalog.>=) (SELECT telemetry.tenant_scope_lower('admin'))
           AND tenant_id OPERATOR(pg_catalog.<=) (SELECT telemetry.tenant_scope_upper('admin'))
           AND ((SELECT telemetry.tenant_scope_is_range('admin'))
                OR tenant_id OPERATOR(pg_catalog.=) ANY ((SELECT telemetry.tenant_scope_members('admin'))::pg_catalog.uuid[])))
    WITH CHECK (tenant_id OPERATOR(pg_catalog.>=) (SELECT telemetry.tenant_scope_lower('admin'))
           AND tenant_id OPERATOR(pg_catalog.<=) (SELECT telemetry.tenant_scope_upper('admin'))
           AND ((SELECT telemetry.tenant_scope_is_range('admin'))
                OR tenant_id OPERATOR(pg_catalog.=) ANY ((SELECT telemetry.tenant_scope_members('admin'))::pg_catalog.uuid[])));
COMMENT ON POLICY tenant_admin ON telemetry.quarantine IS 'A role reads and changes only the rows of the tenants it has admin access to (telemetry.tenant_access, or the token presented in the transaction).';

ALTER TABLE telemetry.event_ids ENABLE ROW LEVEL SECURITY;
ALTER TABLE telemetry.event_ids FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_admin ON telemetry.event_ids FOR ALL
    USING (tenant_id OPERATOR(pg_catalog.>=) (SELECT telemetry.tenant_scope_lower('admin'))
           AND tenant_id OPERATOR(pg_catalog.<=) (SELECT telemetry.tenant_scope_upper('admin'))
           AND ((SELECT telemetry.tenant_scope_is_range('admin'))
                OR tenant_id OPERATOR(pg_catalog.=) ANY ((SELECT telemetry.tenant_scope_members('admin'))::pg_catalog.uuid[])))
    WITH CHECK (tenant_id OPERATOR(pg_catalog.>=) (SELECT telemetry.tenant_scope_lower('admin'))
           AND tenant_id OPERATOR(pg_catalog.<=) (SELECT telemetry.tenant_scope_upper('admin'))
           AND ((SELECT telemetry.tenant_scope_is_range('admin'))
                OR tenant_id OPERATOR(pg_catalog.=) ANY ((SELECT telemetry.tenant_scope_members('admin'))::pg_catalog.uuid[])));
COMMENT ON POLICY tenant_admin ON telemetry.event_ids IS 'A role reads and changes only the rows of the tenants it has admin access to (telemetry.tenant_access, or the token presented in the transaction).';

ALTER TABLE telemetry.opt_outs ENABLE ROW LEVEL SECURITY;
ALTER TABLE telemetry.opt_outs FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_admin ON telemetry.opt_outs FOR ALL
    USING (tenant_id OPERATOR(pg_catalog.>=) (SELECT telemetry.tenant_scope_lower('admin'))
           AND tenant_id OPERATOR(pg_catalog.<=) (SELECT telemetry.tenant_scope_upper('admin'))
           AND ((SELECT telemetry.tenant_scope_is_range('admin'))
                OR tenant_id OPERATOR(pg_catalog.=) ANY ((SELECT telemetry.tenant_scope_members('admin'))::pg_catalog.uuid[])))
    WITH CHECK (tenant_id OPERATOR(pg_catalog.>=) (SELECT telemetry.tenant_scope_lower('admin'))
           AND tenant_id OPERATOR(pg_catalog.<=) (SELECT telemetry.tenant_scope_upper('admin'))
           AND ((SELECT telemetry.tenant_scope_is_range('admin'))
                OR tenant_id OPERATOR(pg_catalog.=) ANY ((SELECT telemetry.tenant_scope_members('admin'))::pg_catalog.uuid[])));
COMMENT ON POLICY tenant_admin ON telemetry.opt_outs IS 'A role reads and changes only the rows of the tenants it has admin access to (telemetry.tenant_access, or the token presented in the transaction).';

ALTER TABLE telemetry.tenant_settings ENABLE ROW LEVEL SECURITY;
ALTER TABLE telemetry.tenant_settings FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_admin ON telemetry.tenant_settings FOR ALL
    USING (tenant_id OPERATOR(pg_catalog.>=) (SELECT telemetry.tenant_scope_lower('admin'))
           AND tenant_id OPERATOR(pg_catalog.<=) (SELECT telemetry.tenant_scope_upper('admin'))
           AND ((SELECT telemetry.tenant_scope_is_range('admin'))
                OR tenant_id OPERATOR(pg_catalog.=) ANY ((SELECT telemetry.tenant_scope_members('admin'))::pg_catalog.uuid[])))
    WITH CHECK (tenant_id OPERATOR(pg_catalog.>=) (SELECT telemetry.tenant_scope_lower('admin'))
           AND tenant_id OPERATOR(pg_catalog.<=) (SELECT telemetry.tenant_scope_upper('admin'))
           AND ((SELECT telemetry.tenant_scope_is_range('admin'))
                OR tenant_id OPERATOR(pg_catalog.=) ANY ((SELECT telemetry.tenant_scope_members('admin'))::pg_catalog.uuid[])));
COMMENT ON POLICY tenant_admin ON telemetry.tenant_settings IS 'A role reads and changes only the rows of the tenants it has admin access to (telemetry.tenant_access, or the token presented in the transaction).';

ALTER TABLE telemetry.pii_policies ENABLE ROW LEVEL SECURITY;
ALTER TABLE telemetry.pii_policies FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_admin ON telemetry.pii_policies FOR ALL
    USING (tenant_id OPERATOR(pg_catalog.>=) (SELECT telemetry.tenant_scope_lower('admin'))
           AND tenant_id OPERATOR(pg_catalog.<=) (SELECT telemetry.tenant_scope_upper('admin'))
           AND ((SELECT telemetry.tenant_scope_is_range('admin'))
                OR tenant_id OPERATOR(pg_catalog.=) ANY ((SELECT telemetry.tenant_scope_members('admin'))::pg_catalog.uuid[])))
    WITH CHECK (tenant_id OPERATOR(pg_catalog.>=) (SELECT telemetry.tenant_scope_lower('admin'))
           AND tenant_id OPERATOR(pg_catalog.<=) (SELECT telemetry.tenant_scope_upper('admin'))
           AND ((SELECT telemetry.tenant_scope_is_range('admin'))
                OR tenant_id OPERATOR(pg_catalog.=) ANY ((SELECT telemetry.tenant_scope_members('admin'))::pg_catalog.uuid[])));
COMMENT ON POLICY tenant_admin ON telemetry.pii_policies IS 'A role reads and changes only the rows of the tenants it has admin access to (telemetry.tenant_access, or the token presented in the transaction).';

ALTER TABLE telemetry.tenant_access ENABLE ROW LEVEL SECURITY;
ALTER TABLE telemetry.tenant_access FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_admin ON telemetry.tenant_access FOR ALL
    USING ((tenant_id IS NULL AND (SELECT telemetry.tenant_scope_lower('maintain')) IS NOT NULL)
           OR tenant_id OPERATOR(pg_catalog.>=) (SELECT telemetry.tenant_scope_lower('admin'))
           AND tenant_id OPERATOR(pg_catalog.<=) (SELECT telemetry.tenant_scope_upper('admin'))
           AND ((SELECT telemetry.tenant_scope_is_range('admin'))
                OR tenant_id OPERATOR(pg_catalog.=) ANY ((SELECT telemetry.tenant_scope_members('admin'))::pg_catalog.uuid[])))
    WITH CHECK ((tenant_id IS NULL AND (SELECT telemetry.tenant_scope_lower('maintain')) IS NOT NULL)
           OR tenant_id OPERATOR(pg_catalog.>=) (SELECT telemetry.tenant_scope_lower('admin'))
           AND tenant_id OPERATOR(pg_catalog.<=) (SELECT telemetry.tenant_scope_upper('admin'))
           AND ((SELECT telemetry.tenant_scope_is_range('admin'))
                OR tenant_id OPERATOR(pg_catalog.=) ANY ((SELECT telemetry.tenant_scope_members('admin'))::pg_catalog.uuid[])));
COMMENT ON POLICY tenant_admin ON telemetry.tenant_access IS 'A role reads and changes only the rows of the tenants it has admin access to (telemetry.tenant_access, or the token presented in the transaction); the rows without a tenant (service, maintenance, token, issuers of every tenant) only with maintenance access, as the extension''s owner has.';

ALTER TABLE telemetry.daily_rollups ENABLE ROW LEVEL SECURITY;
ALTER TABLE telemetry.daily_rollups FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_read ON telemetry.daily_rollups FOR SELECT
    USING (tenant_id OPERATOR(pg_catalog.>=) (SELECT telemetry.tenant_scope_lower('read'))
           AND tenant_id OPERATOR(pg_catalog.<=) (SELECT telemetry.tenant_scope_upper('read'))
           AND ((SELECT telemetry.tenant_scope_is_range('read'))
                OR tenant_id OPERATOR(pg_catalog.=) ANY ((SELECT telemetry.tenant_scope_members('read'))::pg_catalog.uuid[])));
COMMENT ON POLICY tenant_read ON telemetry.daily_rollups IS 'A role reads only the rollups of the tenants it has read access to (telemetry.tenant_access, or the token presented in the transaction).';
CREATE POLICY tenant_admin ON telemetry.daily_rollups FOR ALL
    USING (tenant_id OPERATOR(pg_catalog.>=) (SELECT telemetry.tenant_scope_lower('admin'))
           AND tenant_id OPERATOR(pg_catalog.<=) (SELECT telemetry.tenant_scope_upper('admin'))
           AND ((SELECT telemetry.tenant_scope_is_range('admin'))
                OR tenant_id OPERATOR(pg_catalog.=) ANY ((SELECT telemetry.tenant_scope_members('admin'))::pg_catalog.uuid[])))
    WITH CHECK (tenant_id OPERATOR(pg_catalog.>=) (SELECT telemetry.tenant_scope_lower('admin'))
           AND tenant_id OPERATOR(pg_catalog.<=) (SELECT telemetry.tenant_scope_upper('admin'))
           AND ((SELECT telemetry.tenant_scope_is_range('admin'))
                OR tenant_id OPERATOR(pg_catalog.=) ANY ((SELECT telemetry.tenant_scope_members('admin'))::pg_catalog.uuid[])));
COMMENT ON POLICY tenant_admin ON telemetry.daily_rollups IS 'Rollups are written by the maintenance steps, as the extension''s owner; a role with the privilege to change them could change only the rows of the tenants it has admin access to (no access level grants it).';

ALTER TABLE telemetry.daily_totals ENABLE ROW LEVEL SECURITY;
ALTER TABLE telemetry.daily_totals FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_read ON telemetry.daily_totals FOR SELECT
    USING (tenant_id OPERATOR(pg_catalog.>=) (SELECT telemetry.tenant_scope_lower('read'))
           AND tenant_id OPERATOR(pg_catalog.<=) (SELECT telemetry.tenant_scope_upper('read'))
           AND ((SELECT telemetry.tenant_scope_is_range('read'))
                OR tenant_id OPERATOR(pg_catalog.=) ANY ((SELECT telemetry.tenant_scope_members('read'))::pg_catalog.uuid[])));
COMMENT ON POLICY tenant_read ON telemetry.daily_totals IS 'A role reads only the daily totals of the tenants it has read access to (telemetry.tenant_access, or the token presented in the transaction).';
CREATE POLICY tenant_admin ON telemetry.daily_totals FOR ALL
    USING (tenant_id OPERATOR(pg_catalog.>=) (SELECT telemetry.tenant_scope_lower('admin'))
           AND tenant_id OPERATOR(pg_catalog.<=) (SELECT telemetry.tenant_scope_upper('admin'))
           AND ((SELECT telemetry.tenant_scope_is_range('admin'))
                OR tenant_id OPERATOR(pg_catalog.=) ANY ((SELECT telemetry.tenant_scope_members('admin'))::pg_catalog.uuid[])))
    WITH CHECK (tenant_id OPERATOR(pg_catalog.>=) (SELECT telemetry.tenant_scope_lower('admin'))
           AND tenant_id OPERATOR(pg_catalog.<=) (SELECT telemetry.tenant_scope_upper('admin'))
           AND ((SELECT telemetry.tenant_scope_is_range('admin'))
                OR tenant_id OPERATOR(pg_catalog.=) ANY ((SELECT telemetry.tenant_scope_members('admin'))::pg_catalog.uuid[])));
COMMENT ON POLICY tenant_admin ON telemetry.daily_totals IS 'Daily totals are written by the maintenance steps, as the extension''s owner; a role with the privilege to change them could change only the rows of the tenants it has admin access to (no access level grants it).';

ALTER TABLE telemetry.activity ENABLE ROW LEVEL SECURITY;
ALTER TABLE telemetry.activity FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_read ON telemetry.activity FOR SELECT
    USING (tenant_id OPERATOR(pg_catalog.>=) (SELECT telemetry.tenant_scope_lower('read'))
           AND tenant_id OPERATOR(pg_catalog.<=) (SELECT telemetry.tenant_scope_upper('read'))
           AND ((SELECT telemetry.tenant_scope_is_range('read'))
                OR tenant_id OPERATOR(pg_catalog.=) ANY ((SELECT telemetry.tenant_scope_members('read'))::pg_catalog.uuid[])));
COMMENT ON POLICY tenant_read ON telemetry.activity IS 'A role reads only the activity of the tenants it has read access to (telemetry.tenant_access, or the token presented in the transaction); the maintenance step sample_activity writes it as the extension''s owner.';

ALTER TABLE telemetry.erasures ENABLE ROW LEVEL SECURITY;
ALTER TABLE telemetry.erasures FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_admin ON telemetry.erasures FOR SELECT
    USING (tenant_id OPERATOR(pg_catalog.>=) (SELECT telemetry.tenant_scope_lower('admin'))
           AND tenant_id OPERATOR(pg_catalog.<=) (SELECT telemetry.tenant_scope_upper('admin'))
           AND ((SELECT telemetry.tenant_scope_is_range('admin'))
                OR tenant_id OPERATOR(pg_catalog.=) ANY ((SELECT telemetry.tenant_scope_members('admin'))::pg_catalog.uuid[])));
COMMENT ON POLICY tenant_admin ON telemetry.erasures IS 'A tenant''s admins read its erasures (the ledger is written as the extension''s owner by forget_user() and anonymize_user()).';

ALTER TABLE telemetry.rollup_invalidations ENABLE ROW LEVEL SECURITY;
ALTER TABLE telemetry.rollup_invalidations FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_admin ON telemetry.rollup_invalidations FOR SELECT
    USING (tenant_id OPERATOR(pg_catalog.>=) (SELECT telemetry.tenant_scope_lower('admin'))
           AND tenant_id OPERATOR(pg_catalog.<=) (SELECT telemetry.tenant_scope_upper('admin'))
           AND ((SELECT telemetry.tenant_scope_is_range('admin'))
                OR tenant_id OPERATOR(pg_catalog.=) ANY ((SELECT telemetry.tenant_scope_members('admin'))::pg_catalog.uuid[])));
COMMENT ON POLICY tenant_admin ON telemetry.rollup_invalidations IS 'A role reads only the log rows of the tenants it has admin access to.';
CREATE POLICY tenant_admin_invalidates ON telemetry.rollup_invalidations FOR INSERT
    WITH CHECK (reason OPERATOR(pg_catalog.=) 'manual'
           AND tenant_id OPERATOR(pg_catalog.>=) (SELECT telemetry.tenant_scope_lower('admin'))
           AND tenant_id OPERATOR(pg_catalog.<=) (SELECT telemetry.tenant_scope_upper('admin'))
           AND ((SELECT telemetry.tenant_scope_is_range('admin'))
                OR tenant_id OPERATOR(pg_catalog.=) ANY ((SELECT telemetry.tenant_scope_members('admin'))::pg_catalog.uuid[])));
COMMENT ON POLICY tenant_admin_invalidates ON telemetry.rollup_invalidations IS 'A role adds only manual log rows (telemetry.invalidate_rollups()), and only for the tenants it has admin access to.';
CREATE POLICY maintenance ON telemetry.rollup_invalidations FOR ALL
    USING ((SELECT telemetry.tenant_scope_lower('maintain')) IS NOT NULL)
    WITH CHECK ((SELECT telemetry.tenant_scope_lower('maintain')) IS NOT NULL);
COMMENT ON POLICY maintenance ON telemetry.rollup_invalidations IS 'Maintenance access, as the extension''s owner has, reads and writes every row, those of every tenant (NULL) included: the refresh takes the log, the ingest paths and advance_rollups() write it.';
