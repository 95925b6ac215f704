-- Privileges: nothing is granted to PUBLIC but what is harmless (docs/security.md). Each
-- access level's privileges are granted by telemetry.grant_tenant_access().

REVOKE ALL ON ALL FUNCTIONS IN SCHEMA telemetry FROM PUBLIC;
REVOKE ALL ON ALL TABLES IN SCHEMA telemetry FROM PUBLIC;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA telemetry FROM PUBLIC;

-- The naming rule is harmless and is used by CHECK constraints, which need EXECUTE.
GRANT EXECUTE ON FUNCTION telemetry.valid_event_name(text) TO PUBLIC;
-- The default of the named text form of track() is evaluated as the caller: it returns NULL.
GRANT EXECUTE ON FUNCTION telemetry.unset_argument() TO PUBLIC;
-- The PII detectors over a document the caller gives: they read nothing else.
GRANT EXECUTE ON FUNCTION telemetry.pii_scan(jsonb) TO PUBLIC;
-- Row-level policies run as the querying role, and call these; each answers only about the
-- caller's own identity.
GRANT EXECUTE ON FUNCTION telemetry.tenant_scope_lower(text), telemetry.tenant_scope_upper(text),
                          telemetry.tenant_scope_is_range(text), telemetry.tenant_scope_members(text),
                          telemetry.current_tenant(), telemetry.current_access(),
                          telemetry.require_tenant_access(uuid, text) TO PUBLIC;
-- PostgreSQL's monitoring role reads the server-wide figures (as for pg_stat_statements): the
-- metrics, health and alerts name no tenant; recent() shows it the events of no tenant (it has
-- no tenant access), only the server-wide refusal counts.
GRANT USAGE ON SCHEMA telemetry TO pg_monitor;
GRANT EXECUTE ON FUNCTION telemetry.metrics(), telemetry.metric_gauges(timestamptz), telemetry.health(timestamptz),
                          telemetry.alerts(timestamptz), telemetry.recent(interval, timestamptz),
                          telemetry.recent_counters(integer, timestamptz), telemetry.last_event_received_at(),
                          telemetry.ingest_counters(), telemetry.pii_counters() TO pg_monitor;
