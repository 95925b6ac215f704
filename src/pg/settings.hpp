// Server settings (GUCs) of the extension. Defined in settings.cpp; documented in docs/operations.md.
#pragma once

namespace telemetry::pg {

// Days of raw events kept by default; also how far back partitions are made, so that any
// event young enough to be accepted has a partition to go to.
extern int retention_days;
// Days ahead of today for which partitions are kept ready.
extern int premake_days;

// Client-supplied event_ids seen within this many days are duplicates.
extern int dedup_window_days;
// An event time later than now by more than this is clamped to now (and flagged).
extern int future_tolerance_seconds;
// The secret behind x-pii "hash" (postgresql.conf only; hidden from non-superusers). Empty: a
// key of this database's own, kept in telemetry.secrets.
extern char* pii_hash_key;

// The key that signs tenant tokens (postgresql.conf only; hidden from non-superusers). Empty: a
// key of this database's own, kept in telemetry.secrets.
extern char* tenant_token_key_setting;
// How many used tenant tokens the server remembers until they expire (shared memory, set at
// server start): a token is accepted once.
extern int token_ledger_size;

// The maintenance worker (src/pg/worker): the database it works in (set at server start, only
// when preloaded), whether it runs maintenance, and the seconds between runs.
extern char* worker_database;
extern bool maintenance_worker;
extern int naptime_seconds;
// Read by the maintenance steps in SQL (current_setting): the lock_timeout of a step, the cap of
// its back-off, the days of rollups and of run history kept.
extern int maintenance_lock_timeout_ms;
extern int maintenance_max_backoff_seconds;
extern int rollup_retention_days;
extern int maintenance_history_days;

// The metrics endpoint (src/pg/worker/metrics_http): host:port to listen on (set at server
// start, only when preloaded; empty: no endpoint), and the files holding its credentials (empty:
// none; reread on SIGHUP). Whether metrics() labels events by tenant.
extern char* metrics_listen;
extern char* metrics_bearer_token_file;
extern char* metrics_basic_auth_file;
extern bool metrics_tenant_labels;

// Set while restoring a dump: CREATE EXTENSION then makes no partitions (the dump has them).
extern bool restoring;

// Defines every setting and reserves the prefix "telemetry." (from _PG_init).
void define_settings();

}  // namespace telemetry::pg
