// The server settings (GUCs) of the extension: their variables and definitions, read by
// _PG_init (module.cpp). Documented in docs/operations.md, "Settings".
#include "pg/settings.hpp"

#include "pg/boundary/pg_headers.hpp"

namespace telemetry::pg {

int retention_days = 90;
int premake_days = 7;
bool restoring = false;
int dedup_window_days = 7;
int future_tolerance_seconds = 300;
char* pii_hash_key = nullptr;
char* tenant_token_key_setting = nullptr;
int token_ledger_size = 65536;
char* worker_database = nullptr;
bool maintenance_worker = true;
int naptime_seconds = 60;
char* metrics_listen = nullptr;
bool metrics_tenant_labels = false;
char* metrics_bearer_token_file = nullptr;
char* metrics_basic_auth_file = nullptr;
int maintenance_lock_timeout_ms = 5000;
int maintenance_max_backoff_seconds = 3600;
int rollup_retention_days = 730;
int maintenance_history_days = 30;

void define_settings() {
    DefineCustomIntVariable("telemetry.retention_days", "Days of raw events kept, unless a tenant sets its own.",
                            "Partitions are made this many days back, so every event recent enough to be "
                            "accepted has somewhere to go.",
                            &retention_days, 90, 1, 3650, PGC_SUSET, 0, nullptr, nullptr, nullptr);
    DefineCustomIntVariable("telemetry.premake_days", "Days ahead of today for which partitions are kept ready.",
                            nullptr, &premake_days, 7, 1, 365, PGC_SUSET, 0, nullptr, nullptr, nullptr);
    DefineCustomIntVariable("telemetry.dedup_window_days",
                            "Days during which a client-supplied event_id seen before is a duplicate.", nullptr,
                            &dedup_window_days, 7, 1, 365, PGC_SUSET, 0, nullptr, nullptr, nullptr);
    DefineCustomIntVariable("telemetry.future_tolerance_seconds",
                            "How far ahead of the server's clock an event time may be before it is clamped to now.",
                            nullptr, &future_tolerance_seconds, 300, 0, 86400, PGC_SUSET, GUC_UNIT_S, nullptr, nullptr,
                            nullptr);
    DefineCustomStringVariable("telemetry.pii_hash_key", "The secret key behind x-pii \"hash\".",
                               "Set it in postgresql.conf to keep hashes stable across databases and restores; "
                               "unset, each database uses a key of its own.",
                               &pii_hash_key, "", PGC_SIGHUP, GUC_SUPERUSER_ONLY | GUC_NO_SHOW_ALL | GUC_NOT_IN_SAMPLE,
                               nullptr, nullptr, nullptr);
    DefineCustomStringVariable("telemetry.tenant_token_key", "The secret key that signs tenant tokens.",
                               "Set it in postgresql.conf so that tokens minted on one server are accepted by "
                               "another (a standby, a restored copy); unset, each database uses a key of its own.",
                               &tenant_token_key_setting, "", PGC_SIGHUP,
                               GUC_SUPERUSER_ONLY | GUC_NO_SHOW_ALL | GUC_NOT_IN_SAMPLE, nullptr, nullptr, nullptr);
    // Shared memory is sized at server start: only a preloaded library may define it (PostgreSQL
    // refuses, FATAL, a PGC_POSTMASTER setting defined later).
    if (process_shared_preload_libraries_in_progress)
        DefineCustomIntVariable(
            "telemetry.token_ledger_size", "How many used tenant tokens the server remembers until they expire.",
            "Each token is accepted once; when this many unexpired tokens were used, "
            "set_tenant() refuses new ones until some expire.",
            &token_ledger_size, 65536, 1024, 16777216, PGC_POSTMASTER, 0, nullptr, nullptr, nullptr);
    if (process_shared_preload_libraries_in_progress)
        DefineCustomStringVariable("telemetry.database", "The database the maintenance worker works in.",
                                   "The worker needs telemetry in shared_preload_libraries; elsewhere, run "
                                   "CALL telemetry.run_maintenance() from cron or pg_cron.",
                                   &worker_database, "postgres", PGC_POSTMASTER, 0, nullptr, nullptr, nullptr);
    DefineCustomBoolVariable("telemetry.maintenance_worker", "Whether the maintenance worker runs maintenance.",
                             "Off, the worker stays connected and idle; run_maintenance() still works.",
                             &maintenance_worker, true, PGC_SIGHUP, 0, nullptr, nullptr, nullptr);
    DefineCustomIntVariable("telemetry.naptime", "Seconds between two maintenance runs of the worker.",
                            "Also the unit of the back-off of a failing step.", &naptime_seconds, 60, 1, 86400,
                            PGC_SIGHUP, GUC_UNIT_S, nullptr, nullptr, nullptr);
    DefineCustomIntVariable("telemetry.maintenance_lock_timeout",
                            "The longest a maintenance step waits for a lock before it fails (and backs off).",
                            "Retention's DETACH and DROP queue ingest behind them for at most this long.",
                            &maintenance_lock_timeout_ms, 5000, 1, 600000, PGC_SUSET, GUC_UNIT_MS, nullptr, nullptr,
                            nullptr);
    DefineCustomIntVariable("telemetry.maintenance_max_backoff",
                            "The longest a failing maintenance step is skipped before it is tried again.", nullptr,
                            &maintenance_max_backoff_seconds, 3600, 1, 604800, PGC_SUSET, GUC_UNIT_S, nullptr, nullptr,
                            nullptr);
    DefineCustomIntVariable("telemetry.rollup_retention_days", "Days of daily rollups kept.",
                            "Longer than raw events: a rollup outlives the events it was made of.",
                            &rollup_retention_days, 730, 1, 36500, PGC_SUSET, 0, nullptr, nullptr, nullptr);
    DefineCustomIntVariable("telemetry.maintenance_history_days", "Days of maintenance run history kept.",
                            "At most 1,000 rows per step and status are kept in any case.", &maintenance_history_days,
                            30, 1, 3650, PGC_SUSET, 0, nullptr, nullptr, nullptr);
    if (process_shared_preload_libraries_in_progress)
        DefineCustomStringVariable("telemetry.metrics_listen",
                                   "The address and port of the HTTP endpoint that serves GET /metrics.",
                                   "host:port, e.g. 127.0.0.1:9187 (loopback unless another address is given). "
                                   "Empty (the default): no endpoint, and no process for it.",
                                   &metrics_listen, "", PGC_POSTMASTER, 0, nullptr, nullptr, nullptr);
    DefineCustomBoolVariable("telemetry.metrics_tenant_labels",
                             "Whether metrics() reports events per tenant (a tenant label).",
                             "At most the first 64 tenants seen since the server started get their own label; "
                             "the others are counted under tenant=\"_other\".",
                             &metrics_tenant_labels, false, PGC_SUSET, 0, nullptr, nullptr, nullptr);
    DefineCustomStringVariable("telemetry.metrics_bearer_token_file",
                               "A file holding the bearer token the metrics endpoint requires.",
                               "Empty: no token. Reread on reload.", &metrics_bearer_token_file, "", PGC_SIGHUP,
                               GUC_SUPERUSER_ONLY, nullptr, nullptr, nullptr);
    DefineCustomStringVariable("telemetry.metrics_basic_auth_file",
                               "A file holding user:password, the basic authentication the metrics endpoint requires.",
                               "Empty: none. Reread on reload.", &metrics_basic_auth_file, "", PGC_SIGHUP,
                               GUC_SUPERUSER_ONLY, nullptr, nullptr, nullptr);
    DefineCustomBoolVariable(
        "telemetry.restoring", "Set while restoring a dump of a database that uses telemetry.",
        "CREATE EXTENSION then makes no partitions (the dump brings its own), and the write-path trigger lets rows in as they were stored.",
        &restoring, false, PGC_SUSET, 0, nullptr, nullptr, nullptr);
    MarkGUCPrefixReserved("telemetry");
}

}  // namespace telemetry::pg
