-- The boundary between the extension and PostgreSQL: how backends learn that a table they
-- cache changed (src/pg/boundary/table_watch), and the diagnostics of the C++/PostgreSQL error
-- boundary (src/pg/boundary/diagnostics).

-- The statement trigger of every table whose rows backends cache (tenant settings, tenant
-- access, opt-outs, secrets, the rollup threshold): it tells them to reload (the same mechanism as the catalog's). The triggers fire
-- ALWAYS, also under session_replication_role = replica.
CREATE FUNCTION telemetry.table_changed()
RETURNS trigger
LANGUAGE c
AS 'MODULE_PATHNAME', 'telemetry_table_changed';
COMMENT ON FUNCTION telemetry.table_changed() IS
    'Internal trigger function: the statement trigger of telemetry.tenant_settings, tenant_access, opt_outs, secrets and rollup_state (enabled ALWAYS), which makes every backend reload its cache of the table at its next statement. Raises 39P01 when not called as a trigger.';

-- The caches every backend keeps of the catalog, opt-outs, tenant settings and secrets follow
-- their tables through their change triggers. A change made with the triggers disabled
-- (ALTER TABLE ... DISABLE TRIGGER, pg_restore --disable-triggers) needs this call.
CREATE FUNCTION telemetry.invalidate_caches()
RETURNS void
LANGUAGE c VOLATILE
AS 'MODULE_PATHNAME', 'telemetry_invalidate_caches';
COMMENT ON FUNCTION telemetry.invalidate_caches() IS
    'Makes every backend reload its caches of the catalog, opt-outs, tenant settings, tenant access, secrets and the rollup threshold at its next call: for changes made with triggers disabled.';

-- Drives each path of the C++/PostgreSQL error boundary on purpose (docs/errors.md).
CREATE FUNCTION telemetry.self_test(kind text)
RETURNS text
LANGUAGE c VOLATILE
AS 'MODULE_PATHNAME', 'telemetry_self_test';
COMMENT ON FUNCTION telemetry.self_test(text) IS
    'Internal diagnostic, not granted to PUBLIC (docs/errors.md): drives the path of the C++/PostgreSQL error boundary that kind names, on purpose. A failure kind (domain_error, cpp_exception, bad_alloc, postgres_error, ...) raises the ERROR that failure becomes (22023, XX000, 53200...); ok returns ok, and unwound how many C++ objects were destroyed while a PostgreSQL error was carried through them. An unknown kind raises 22023 with a hint listing every kind; NULL raises 22004.';

-- NULL when this build's jsonb reader and writer agree with PostgreSQL on a document, else what
-- differs (docs/errors.md). Used by test/t/004_jsonb_codec.pl.
CREATE FUNCTION telemetry.self_test_jsonb(document text)
RETURNS text
LANGUAGE c VOLATILE STRICT
AS 'MODULE_PATHNAME', 'telemetry_self_test_jsonb';
COMMENT ON FUNCTION telemetry.self_test_jsonb(text) IS
    'Internal diagnostic (test/t/004_jsonb_codec.pl): NULL when this build''s jsonb reader and writer agree with PostgreSQL on the JSON text document (the bytes jsonb_in makes, and the value read back), else what differs. A document either reader refuses raises that reader''s error (22P02 for text that is not JSON); NULL gives NULL.';
