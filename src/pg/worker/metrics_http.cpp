// The metrics endpoint's worker (metrics_http.hpp), in the maintenance worker's shape:
//  - started once the server reaches a consistent state (a standby serves its metrics too),
//    restarted by the postmaster 10 s after it exits with an error (a port still taken, say);
//    an invalid telemetry.metrics_listen ends it for good (the setting needs a restart anyway);
//  - SIGTERM ends it through die(), SIGHUP rereads the configuration and the credential files,
//    postmaster death ends it at the next round (a round is at most ~100 ms of I/O);
//  - each round runs the endpoint's I/O for up to 100 ms (core code: no PostgreSQL call, no
//    exception out); when GET /metrics requests wait, one read-only transaction takes the text
//    of telemetry.metrics() under a 10 s statement timeout, and every waiting request is
//    answered with it, or with 503 when it could not be had.
// The endpoint lives on the heap, reached through a file-static pointer; the C++ helpers that
// use std::string finish before any PostgreSQL call and hand back fixed buffers only. So no C++
// object is alive in a frame that PostgreSQL's errors cross.
#include "pg/worker/metrics_http.hpp"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "core/observe/endpoint_settings.hpp"
#include "core/observe/http_endpoint.hpp"
#include "pg/boundary/guard.hpp"
#include "pg/settings.hpp"
#include "pg/worker/worker.hpp"

extern "C" {
#include "access/xact.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/pmsignal.h"
#include "tcop/tcopprot.h"
#include "utils/timeout.h"

PGDLLEXPORT void telemetry_metrics_http_main(Datum);
}

namespace telemetry::pg {

namespace {

constexpr int statement_timeout_ms = 10000;
constexpr std::chrono::milliseconds poll_budget{100};

// The endpoint, for the life of the process (its exit closes the sockets).
observe::HttpEndpoint* endpoint = nullptr;

// Text for the log, out of C++ code: a fixed buffer, nothing to destroy.
struct Note {
    char text[512];
};

void copy_note(Note& note, std::string_view text) noexcept {
    const std::size_t n = std::min(text.size(), sizeof note.text - 1);
    std::memcpy(note.text, text.data(), n);
    note.text[n] = '\0';
}

enum class Opening { opened, invalid_address, failed };

// Parses telemetry.metrics_listen and binds it. C++ only: no PostgreSQL call in here. On
// success the note holds the address bound, otherwise the reason.
Opening open_endpoint(const char* listen, Note& note, bool& loopback) noexcept {
    try {
        std::string host, error;
        std::uint16_t port = 0;
        if (!observe::parse_listen_address(listen, host, port, error)) {
            copy_note(note, error);
            return Opening::invalid_address;
        }
        loopback = host.rfind("127.", 0) == 0 || host == "::1";
        observe::HttpEndpointConfig config;
        config.address = host;
        config.port = port;
        // Nothing is served before the credentials are loaded: poll() has not run yet.
        config.require_credentials = true;
        std::unique_ptr<observe::HttpEndpoint> opened = observe::HttpEndpoint::open(config, error);
        if (!opened) {
            copy_note(note, error);
            return Opening::failed;
        }
        endpoint = opened.release();
        copy_note(note, endpoint->local_address());
        return Opening::opened;
    } catch (...) {
        copy_note(note, "out of memory");
        return Opening::failed;
    }
}

struct CredentialNotes {
    bool required = false;  // a credential file is configured
    bool bearer_failed = false;
    bool basic_failed = false;
    Note bearer;
    Note basic;
};

// Reads the credential files the settings name and gives them to the endpoint. C++ only. A
// file that is configured but cannot be read gives no credential, never an open endpoint:
// with no usable credential at all, every request gets 401.
void load_credentials(const char* bearer_file, const char* basic_file, CredentialNotes& notes) noexcept {
    const bool want_bearer = bearer_file != nullptr && bearer_file[0] != '\0';
    const bool want_basic = basic_file != nullptr && basic_file[0] != '\0';
    notes.required = want_bearer || want_basic;
    try {
        std::string bearer, basic, error;
        if (want_bearer && !observe::read_credential_file(bearer_file, bearer, error)) {
            notes.bearer_failed = true;
            copy_note(notes.bearer, error);
        }
        if (want_basic) {
            if (!observe::read_credential_file(basic_file, basic, error)) {
                notes.basic_failed = true;
                copy_note(notes.basic, error);
            } else if (basic.find(':') == std::string::npos) {
                basic.clear();
                notes.basic_failed = true;
                copy_note(notes.basic, "the first line of \"" + std::string(basic_file) + "\" is not user:password");
            }
        }
        endpoint->set_credentials(std::move(bearer), std::move(basic), notes.required);
    } catch (...) {
        endpoint->set_credentials(std::string(), std::string(), true);
        notes.bearer_failed = want_bearer;
        notes.basic_failed = want_basic;
        copy_note(notes.bearer, "out of memory");
        copy_note(notes.basic, "out of memory");
    }
}

void report_credentials(const CredentialNotes& notes) {
    if (notes.bearer_failed)
        ereport(WARNING,
                (errmsg("telemetry metrics endpoint: telemetry.metrics_bearer_token_file: %s", notes.bearer.text),
                 errdetail("No bearer token is accepted until the file can be read; it is read again on reload.")));
    if (notes.basic_failed)
        ereport(WARNING, (errmsg("telemetry metrics endpoint: telemetry.metrics_basic_auth_file: %s", notes.basic.text),
                          errdetail("No basic credentials are accepted until the file can be read; it is read again on "
                                    "reload.")));
}

// The text of one round, in the round's memory context.
struct MetricsText {
    const char* data = nullptr;
    std::size_t size = 0;
    bool available = false;
};

// Whether the last round failed, or found no telemetry.metrics(): each is logged once, when
// it starts, not at every scrape.
bool failing = false;
bool reported_missing = false;

// One read-only transaction: whether this database has the extension's telemetry.metrics(),
// then its text, copied into `into`. Errors propagate (the statement timeout included).
void read_metrics(MemoryContext into, MetricsText* out) {
    SetCurrentStatementStartTimestamp();
    StartTransactionCommand();
    PushActiveSnapshot(GetTransactionSnapshot());
    pgstat_report_activity(STATE_RUNNING, "SELECT telemetry.metrics()");
    SPI_connect();
    // SPI does not arm statement_timeout (only a client's statement does): armed here, for
    // both statements together.
    enable_timeout_after(STATEMENT_TIMEOUT, statement_timeout_ms);
    // The extension's own function, not one of that name that someone else made: this
    // worker's session is a superuser's.
    int rc = SPI_execute(
        "SELECT EXISTS (SELECT FROM pg_catalog.pg_depend d JOIN pg_catalog.pg_extension e "
        "ON d.refobjid OPERATOR(pg_catalog.=) e.oid "
        "WHERE d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_proc'::pg_catalog.regclass "
        "AND d.objid OPERATOR(pg_catalog.=) "
        "pg_catalog.to_regprocedure('telemetry.metrics()')::pg_catalog.oid "
        "AND d.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_extension'::pg_catalog.regclass "
        "AND d.deptype OPERATOR(pg_catalog.=) 'e' AND e.extname OPERATOR(pg_catalog.=) 'telemetry')",
        true, 1);
    if (rc != SPI_OK_SELECT || SPI_processed != 1)
        elog(ERROR, "telemetry metrics endpoint: looking for telemetry.metrics() failed: %s",
             SPI_result_code_string(rc));
    bool isnull = false;
    const bool present = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
    if (present) {
        rc = SPI_execute("SELECT telemetry.metrics()", true, 1);
        if (rc != SPI_OK_SELECT || SPI_processed != 1)
            elog(ERROR, "telemetry metrics endpoint: telemetry.metrics() failed: %s", SPI_result_code_string(rc));
        const Datum value = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
        if (!isnull) {  // NULL: unavailable
            MemoryContext previous = MemoryContextSwitchTo(into);
            text* copy = DatumGetTextPCopy(value);  // detoasted, out of SPI's memory
            MemoryContextSwitchTo(previous);
            out->data = VARDATA_ANY(copy);
            out->size = VARSIZE_ANY_EXHDR(copy);
            out->available = true;
        }
    }
    disable_timeout(STATEMENT_TIMEOUT, false);
    SPI_finish();
    PopActiveSnapshot();
    CommitTransactionCommand();
    pgstat_report_stat(false);
    pgstat_report_activity(STATE_IDLE, nullptr);
    if (!present && !reported_missing)
        ereport(LOG, (errmsg("telemetry metrics endpoint: database \"%s\" has no telemetry.metrics(); "
                             "answering 503 until it has",
                             worker_database),
                      errhint("CREATE EXTENSION telemetry CASCADE (or ALTER EXTENSION telemetry UPDATE) there, "
                              "or set telemetry.database to the database that has it.")));
    reported_missing = !present;
}

// The text for this round, or unavailable: an error is logged (its message only, once per
// streak of failures), its transaction rolled back, and the worker goes on.
MetricsText fetch_metrics(MemoryContext into) {
    static MetricsText result;
    result = MetricsText{};
    MemoryContextSwitchTo(into);
    PG_TRY();
    {
        read_metrics(into, &result);
        if (failing) ereport(LOG, (errmsg("telemetry metrics endpoint: telemetry.metrics() answers again")));
        failing = false;
    }
    PG_CATCH();
    {
        MemoryContextSwitchTo(into);
        ErrorData* error = CopyErrorData();
        FlushErrorState();
        disable_timeout(STATEMENT_TIMEOUT, false);
        AbortCurrentTransaction();
        pgstat_report_activity(STATE_IDLE, nullptr);
        if (!failing)
            ereport(WARNING, (errmsg("telemetry metrics endpoint: telemetry.metrics() failed, answering 503: %s",
                                     error->message != nullptr ? error->message : "")));
        failing = true;
        result = MetricsText{};
    }
    PG_END_TRY();
    return result;
}

void metrics_http_main() {
    pqsignal(SIGHUP, SignalHandlerForConfigReload);
    pqsignal(SIGTERM, die);
    BackgroundWorkerUnblockSignals();

    Note bound;
    bool loopback = false;
    const char* listen = metrics_listen != nullptr ? metrics_listen : "";
    switch (open_endpoint(listen, bound, loopback)) {
        case Opening::opened:
            break;
        case Opening::invalid_address:
            ereport(LOG, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                          errmsg("telemetry metrics endpoint not started: telemetry.metrics_listen = \"%s\": %s",
                                 listen, bound.text),
                          errhint("Set it to host:port, e.g. 127.0.0.1:9187, and restart the server.")));
            proc_exit(0);  // not restarted: the setting only changes with the server's restart
        case Opening::failed:
            ereport(FATAL, (errmsg("telemetry metrics endpoint could not listen on \"%s\": %s", listen, bound.text),
                            errdetail("It is started again in 10 seconds.")));
    }
    CredentialNotes notes;
    load_credentials(metrics_bearer_token_file, metrics_basic_auth_file, notes);

    BackgroundWorkerInitializeConnection(worker_database, nullptr, 0);
    pgstat_report_appname("telemetry metrics");
    // Scrapes read: on a primary as on a standby.
    SetConfigOption("default_transaction_read_only", "on", PGC_SUSET, PGC_S_OVERRIDE);
    ereport(LOG, (errmsg("telemetry metrics endpoint listening on %s", bound.text),
                  errdetail("GET /metrics answers with telemetry.metrics() of database \"%s\"%s.", worker_database,
                            notes.required ? ", to authenticated requests only" : "")));
    report_credentials(notes);
    if (!loopback && !notes.required)
        ereport(WARNING,
                (errmsg("telemetry metrics endpoint serves %s without authentication", bound.text),
                 errhint("Set telemetry.metrics_bearer_token_file or telemetry.metrics_basic_auth_file, or listen on "
                         "a loopback address.")));

    MemoryContext round_context =
        AllocSetContextCreate(TopMemoryContext, "telemetry metrics round", ALLOCSET_DEFAULT_SIZES);
    for (;;) {
        // A cancel (pg_cancel_backend) between scrapes has no statement to cancel: left pending,
        // it would end the worker at the next check instead.
        QueryCancelPending = false;
        CHECK_FOR_INTERRUPTS();
        if (!PostmasterIsAlive()) proc_exit(1);
        if (ConfigReloadPending) {
            ConfigReloadPending = false;
            ProcessConfigFile(PGC_SIGHUP);
            CredentialNotes reloaded;
            load_credentials(metrics_bearer_token_file, metrics_basic_auth_file, reloaded);
            report_credentials(reloaded);
        }
        if (endpoint->poll(poll_budget) == 0) continue;
        const MetricsText text = fetch_metrics(round_context);
        endpoint->respond(std::string_view(text.data != nullptr ? text.data : "", text.size), text.available);
        MemoryContextSwitchTo(TopMemoryContext);
        MemoryContextReset(round_context);
    }
}

}  // namespace

void register_metrics_http_worker() {
    register_telemetry_worker(WorkerStart::consistent_state, "telemetry_metrics_http_main",
                              "telemetry metrics endpoint", "telemetry metrics");
}

}  // namespace telemetry::pg

void telemetry_metrics_http_main(Datum) { telemetry::pg::guarded_call(telemetry::pg::metrics_http_main); }
