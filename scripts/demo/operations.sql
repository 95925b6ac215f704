-- Operations: what the database says about itself (docs/observe.md).
\echo '-- telemetry.health(): one row per check'
SELECT "check", status, round(value::numeric, 3) AS value, threshold, detail FROM telemetry.health();
\echo '-- telemetry.alerts(): what fires now (the same rules as monitoring/prometheus/telemetry.rules.yml)'
SELECT alert, severity, round(value::numeric, 1) AS value, threshold, summary FROM telemetry.alerts();
\echo '-- ... and a week from now, had maintenance stopped today: maintenance overdue, the partitions running out'
SELECT alert, severity, summary FROM telemetry.alerts(now() + interval '6 days 12 hours') WHERE alert <> 'TelemetryNoEvents';
\echo '-- telemetry.recent(): the debug drawer, the last 5 minutes per event type'
SELECT event_type, events, rejected, quarantined, users, averages FROM telemetry.recent('5 minutes');
\echo '-- telemetry.activity: who was active, per tenant (sampled by the maintenance step sample_activity)'
SELECT tenant_id, events_1h, active_users_1h, active_users_24h, active_users_7d FROM telemetry.activity ORDER BY tenant_id;
