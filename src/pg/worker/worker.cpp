// The maintenance worker, in pg_cron's shape (research/engineering-anchors.md §3):
//  - started once recovery has finished (never on a standby; after a promotion, at once), and
//    restarted by the postmaster 10 s after it exits with an error or is terminated;
//  - SIGTERM ends it through die() (FATAL at the next interrupt check, as a backend), SIGHUP
//    rereads the configuration at the next wake-up, and postmaster death ends its wait at once;
//  - each run checks that the extension is there and complete (not being created, not at a
//    release without maintenance), then runs the steps of maintenance_step_names(), each in
//    its own READ COMMITTED transaction; an error is reported, its transaction rolled back, the
//    session's maintenance lock released, and the next run comes after a back-off.
// No C++ object lives here: PostgreSQL's errors cross these frames freely.
#include "pg/worker/worker.hpp"

#include <cstdio>
#include <cstring>

#include "pg/boundary/convert.hpp"
#include "pg/boundary/guard.hpp"
#include "pg/observe/counters.hpp"
#include "pg/settings.hpp"

extern "C" {
#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/pg_extension.h"
#include "commands/extension.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/lock.h"
#include "tcop/tcopprot.h"
#include "utils/ps_status.h"
#include "utils/wait_event.h"

PGDLLEXPORT void telemetry_worker_main(Datum);
}

namespace telemetry::pg {

namespace {

constexpr int max_steps = 32;
constexpr int step_name_size = 64;

// One transaction running `sql` (with up to three text/bigint/timestamptz arguments), which
// returns one value; copied into the caller's buffer as text. Errors propagate.
bool run_in_transaction(const char* activity, const char* sql, int nargs, Oid* types, Datum* values, char* out,
                        std::size_t out_size) {
    SetCurrentStatementStartTimestamp();
    StartTransactionCommand();
    PushActiveSnapshot(GetTransactionSnapshot());
    pgstat_report_activity(STATE_RUNNING, activity);
    SPI_connect();
    const int rc = SPI_execute_with_args(sql, nargs, types, values, nullptr, false, 1);
    if (rc < 0) elog(ERROR, "telemetry maintenance: %s failed: %s", activity, SPI_result_code_string(rc));
    bool has_value = false;
    if (out != nullptr) {
        out[0] = '\0';
        if (SPI_processed == 1) {
            char* text = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
            if (text != nullptr) {
                snprintf(out, out_size, "%s", text);
                has_value = true;
            }
        }
    }
    SPI_finish();
    PopActiveSnapshot();
    CommitTransactionCommand();
    pgstat_report_stat(false);
    pgstat_report_activity(STATE_IDLE, nullptr);
    return has_value;
}

// Whether this database has the extension, complete: created (its row is visible only once
// CREATE EXTENSION committed) and at a release with maintenance (before ALTER EXTENSION UPDATE,
// an older release has none).
bool extension_ready() {
    if (IsBinaryUpgrade) return false;
    char answer[8];
    run_in_transaction("telemetry maintenance: checking the extension",
                       "SELECT pg_catalog.to_regprocedure('telemetry.begin_maintenance_run()') IS NOT NULL "
                       "AND EXISTS (SELECT FROM pg_catalog.pg_extension WHERE extname OPERATOR(pg_catalog.=) "
                       "'telemetry')",
                       0, nullptr, nullptr, answer, sizeof answer);
    return std::strcmp(answer, "t") == 0;
}

// Whether the worker last found the extension missing and said so (it says so once, not at
// every run).
bool reported_missing = false;

// One run: every step due, each in its own transaction. Errors escape to the caller.
void run_once(char (*steps)[step_name_size], int* step_count, char* run_id, std::size_t run_id_size) {
    run_id[0] = '\0';
    if (!extension_ready()) {
        if (!reported_missing)
            ereport(LOG, (errmsg("telemetry maintenance worker: database \"%s\" has no telemetry extension of "
                                 "release 0.5.0 or later; waiting for it",
                                 worker_database),
                          errhint("CREATE EXTENSION telemetry CASCADE (or ALTER EXTENSION telemetry UPDATE) there, "
                                  "or set telemetry.database to the database that has it.")));
        reported_missing = true;
        return;
    }
    reported_missing = false;
    if (!run_in_transaction("telemetry maintenance: starting a run", "SELECT telemetry.begin_maintenance_run()", 0,
                            nullptr, nullptr, run_id, run_id_size))
        return;  // another run holds the lock
    // The steps, parsed from the array's text form {a,b,...} (plain identifiers).
    char list[max_steps * step_name_size];
    run_in_transaction("telemetry maintenance: listing the steps", "SELECT telemetry.maintenance_step_names()", 0,
                       nullptr, nullptr, list, sizeof list);
    *step_count = 0;
    for (char* p = list; *p != '\0' && *step_count < max_steps;) {
        if (*p == '{' || *p == ',' || *p == '}') {
            ++p;
            continue;
        }
        int len = 0;
        while (p[len] != '\0' && p[len] != ',' && p[len] != '}') ++len;
        snprintf(steps[*step_count], step_name_size, "%.*s", len, p);
        ++*step_count;
        p += len;
    }
    Oid types[3] = {INT8OID, TEXTOID, TIMESTAMPTZOID};
    for (int i = 0; i < *step_count; ++i) {
        CHECK_FOR_INTERRUPTS();
        Datum values[3] = {DirectFunctionCall1(int8in, CStringGetDatum(run_id)), CStringGetTextDatum(steps[i]), 0};
        char due[8];
        char activity[128];
        snprintf(activity, sizeof activity, "telemetry maintenance: %s", steps[i]);
        run_in_transaction(activity, "SELECT telemetry.begin_maintenance_step($1, $2)", 2, types, values, due,
                           sizeof due);
        if (std::strcmp(due, "t") != 0) continue;
        values[2] = TimestampTzGetDatum(GetCurrentTimestamp());
        char outcome[16];
        run_in_transaction(activity, "SELECT telemetry.perform_maintenance_step($1, $2, $3)", 3, types, values, outcome,
                           sizeof outcome);
        if (std::strcmp(outcome, "canceled") == 0) break;  // pg_cancel_backend: the run ends here
    }
    Datum values[1] = {DirectFunctionCall1(int8in, CStringGetDatum(run_id))};
    run_in_transaction("telemetry maintenance: ending the run", "SELECT telemetry.end_maintenance_run($1)", 1, types,
                       values, nullptr, 0);
}

// A run, with its errors caught: reported to the log, the transaction rolled back, the
// session's advisory lock (held across the run's transactions) released. True when it went
// through.
bool guarded_run(MemoryContext run_context) {
    static char steps[max_steps][step_name_size];
    int step_count = 0;
    char run_id[32];
    volatile bool ok = true;
    PG_TRY();
    { run_once(steps, &step_count, run_id, sizeof run_id); }
    PG_CATCH();
    {
        MemoryContextSwitchTo(run_context);
        EmitErrorReport();
        FlushErrorState();
        AbortCurrentTransaction();
        LockReleaseAll(USER_LOCKMETHOD, true);
        pgstat_report_activity(STATE_IDLE, nullptr);
        ok = false;
    }
    PG_END_TRY();
    return ok;
}

// The worker is gone: telemetry_worker_up says so.
void forget_worker(int, Datum) { note_maintenance_worker(0); }

void worker_main() {
    pqsignal(SIGHUP, SignalHandlerForConfigReload);
    pqsignal(SIGTERM, die);
    BackgroundWorkerUnblockSignals();
    BackgroundWorkerInitializeConnection(worker_database, nullptr, 0);
    pgstat_report_appname("telemetry maintenance");
    // refresh_rollups waits for writers, then reads with snapshots taken after the wait.
    SetConfigOption("default_transaction_isolation", "read committed", PGC_SUSET, PGC_S_OVERRIDE);
    ereport(LOG, (errmsg("telemetry maintenance worker started in database \"%s\"", worker_database)));
    note_maintenance_worker(MyProcPid);
    before_shmem_exit(forget_worker, 0);

    MemoryContext run_context =
        AllocSetContextCreate(TopMemoryContext, "telemetry maintenance run", ALLOCSET_DEFAULT_SIZES);
    int failures_in_a_row = 0;
    for (;;) {
        CHECK_FOR_INTERRUPTS();
        if (ConfigReloadPending) {
            ConfigReloadPending = false;
            ProcessConfigFile(PGC_SIGHUP);
        }
        long wait_ms = static_cast<long>(naptime_seconds) * 1000L;
        if (maintenance_worker && !RecoveryInProgress()) {
            note_maintenance_run(to_unix_us(GetCurrentTimestamp()));
            MemoryContextSwitchTo(run_context);
            if (guarded_run(run_context)) {
                failures_in_a_row = 0;
            } else {
                // The run itself failed (not a step: those back off on their own): wait
                // longer each time, up to telemetry.maintenance_max_backoff.
                ++failures_in_a_row;
                const int shift = failures_in_a_row < 10 ? failures_in_a_row : 10;
                const long capped = static_cast<long>(maintenance_max_backoff_seconds) * 1000L;
                wait_ms = wait_ms << shift > capped ? capped : wait_ms << shift;
            }
            MemoryContextSwitchTo(TopMemoryContext);
            MemoryContextReset(run_context);
        }
        (void)WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, wait_ms, PG_WAIT_EXTENSION);
        ResetLatch(MyLatch);
    }
}

}  // namespace

void register_telemetry_worker(WorkerStart start, const char* function_name, const char* name, const char* type) {
    BackgroundWorker worker;
    std::memset(&worker, 0, sizeof worker);
    worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
    worker.bgw_start_time =
        start == WorkerStart::consistent_state ? BgWorkerStart_ConsistentState : BgWorkerStart_RecoveryFinished;
    worker.bgw_restart_time = 10;
    snprintf(worker.bgw_library_name, BGW_MAXLEN, "telemetry");
    snprintf(worker.bgw_function_name, BGW_MAXLEN, "%s", function_name);
    snprintf(worker.bgw_name, BGW_MAXLEN, "%s", name);
    snprintf(worker.bgw_type, BGW_MAXLEN, "%s", type);
    RegisterBackgroundWorker(&worker);
}

void register_maintenance_worker() {
    register_telemetry_worker(WorkerStart::recovery_finished, "telemetry_worker_main", "telemetry maintenance worker",
                              "telemetry maintenance");
}

}  // namespace telemetry::pg

void telemetry_worker_main(Datum) { telemetry::pg::guarded_call(telemetry::pg::worker_main); }
