// The SQL functions that read the counters (counters.hpp): ingest_counters(), pii_counters(),
// recent_counters(), and metrics(), the Prometheus exposition of the counters and of the gauges
// that telemetry.metric_gauges() reads from the database (docs/observe.md, "Metrics").
#include <algorithm>
#include <cstdio>
#include <cstring>

#include "core/observe/exposition.hpp"
#include "pg/observe/counters.hpp"
#include "pg/settings.hpp"
// PostgreSQL's headers last (port.h redefines snprintf).
#include "pg/boundary/convert.hpp"
#include "pg/boundary/guard.hpp"

extern "C" {
#include "executor/spi.h"
}

namespace telemetry::pg {

namespace {

// One row of telemetry.metric_gauges(), copied out of SPI's memory.
struct GaugeRow {
    const char* metric;
    const char* help;
    const char* label;  // nullptr: none
    const char* label_value;
    double value;
    bool known;  // false: value was NULL
};

// The gauges, read in the caller's memory context. PostgreSQL calls only: no C++ object alive.
int fetch_gauges(GaugeRow** rows_out) {
    MemoryContext caller = CurrentMemoryContext;
    SPI_connect();
    const int rc = SPI_execute(
        "SELECT metric, help, label, label_value, value FROM telemetry.metric_gauges(pg_catalog.now())", true, 0);
    if (rc != SPI_OK_SELECT) elog(ERROR, "telemetry.metric_gauges() failed: %s", SPI_result_code_string(rc));
    const int n = static_cast<int>(SPI_processed);
    auto* rows = static_cast<GaugeRow*>(MemoryContextAllocZero(caller, sizeof(GaugeRow) * (n > 0 ? n : 1)));
    for (int i = 0; i < n; ++i) {
        HeapTuple tuple = SPI_tuptable->vals[i];
        TupleDesc desc = SPI_tuptable->tupdesc;
        char* text[4];
        for (int c = 0; c < 4; ++c) {
            char* v = SPI_getvalue(tuple, desc, c + 1);
            text[c] = v != nullptr ? MemoryContextStrdup(caller, v) : nullptr;
        }
        bool isnull;
        const Datum value = SPI_getbinval(tuple, desc, 5, &isnull);
        if (text[0] == nullptr || text[1] == nullptr) continue;
        rows[i] = GaugeRow{text[0], text[1], text[2], text[3], isnull ? 0.0 : DatumGetFloat8(value), !isnull};
    }
    SPI_finish();
    *rows_out = rows;
    return n;
}

const char* const status_help =
    "Events by what ingest decided (status: accepted, duplicate, quarantined, rejected, sampled_out, opted_out) "
    "and event type (the catalog's name; _unknown for names the catalog does not know, _other beyond 256 types), "
    "since the server started.";

std::string uuid_text(const unsigned char* b) {
    char out[37];
    snprintf(out, sizeof out, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2],
             b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
    return out;
}

double as_double(std::uint64_t v) { return static_cast<double>(v); }

// The exposition: counters from the snapshot, then the gauges in the order given.
void write_metrics(observe::Exposition& e, const CounterSnapshot& c, const GaugeRow* gauges, int gauge_count,
                   bool tenant_labels) {
    using observe::Label;
    using observe::MetricType;
    std::uint64_t received = 0;
    for (std::uint64_t n : c.by_status) received += n;
    e.family("telemetry_events_received_total", MetricType::counter,
             "Events offered to track(), track_batch() and replay_quarantine(), whatever was decided, since the "
             "server started.");
    e.sample("telemetry_events_received_total", as_double(received));

    e.family("telemetry_events_total", MetricType::counter, status_help);
    for (int t = 0; t < c.type_count; ++t)
        for (int s = 0; s < status_count; ++s)
            e.sample("telemetry_events_total", Label{"status", to_string(static_cast<IngestStatus>(s))},
                     Label{"event_type", c.types[t].name}, as_double(c.types[t].by_status[s]));

    e.family("telemetry_events_refused_total", MetricType::counter,
             "Events rejected or quarantined, by status and reason class (invalid_event, unknown_type, "
             "inactive_type, invalid_time, schema, personal_data, too_large, internal), since the server started.");
    for (int k = 0; k < 2; ++k)
        for (int r = 1; r < refusal_reason_count; ++r)
            e.sample("telemetry_events_refused_total", Label{"status", k == 0 ? "rejected" : "quarantined"},
                     Label{"reason", to_string(static_cast<RefusalReason>(r))}, as_double(c.refused[k][r]));

    if (tenant_labels) {
        e.family("telemetry_tenant_events_total", MetricType::counter,
                 "Events by tenant and status (telemetry.metrics_tenant_labels = on): the first 64 tenants seen "
                 "since the server started, the others under tenant=\"_other\".");
        for (int t = 0; t < c.tenant_count; ++t) {
            const std::string tenant = uuid_text(c.tenants[t].tenant_id);
            for (int s = 0; s < status_count; ++s)
                e.sample("telemetry_tenant_events_total", Label{"tenant", tenant},
                         Label{"status", to_string(static_cast<IngestStatus>(s))},
                         as_double(c.tenants[t].by_status[s]));
        }
        for (int s = 0; s < status_count; ++s)
            e.sample("telemetry_tenant_events_total", Label{"tenant", "_other"},
                     Label{"status", to_string(static_cast<IngestStatus>(s))}, as_double(c.other_tenants[s]));
    }

    e.family("telemetry_pii_decisions_total", MetricType::counter,
             "Values and ids the policy for undeclared personal data acted on, by detector and action, since the "
             "server started.");
    for (int d = 0; d < pii::detector_count; ++d)
        for (int a = 0; a < undeclared_pii_action_count; ++a) {
            if (c.pii[d][a] == 0) continue;
            const std::string_view detector = pii::detector_name(static_cast<pii::Detector>(d));
            e.sample("telemetry_pii_decisions_total", Label{"detector", detector},
                     Label{"action", to_string(static_cast<UndeclaredPii>(a))}, as_double(c.pii[d][a]));
        }

    e.family("telemetry_event_payload_bytes", MetricType::histogram,
             "Size of the properties of accepted events as stored (canonical JSON), bytes.");
    std::uint64_t cumulative = 0;
    for (int b = 0; b < payload_bucket_count; ++b) {
        cumulative += c.payload_buckets[b];
        const std::string le = b < payload_bucket_count - 1 ? std::to_string(payload_bucket_bounds[b]) : "+Inf";
        e.sample("telemetry_event_payload_bytes_bucket", Label{"le", le}, as_double(cumulative));
    }
    e.sample("telemetry_event_payload_bytes_sum", as_double(c.payload_bytes_sum));
    e.sample("telemetry_event_payload_bytes_count", as_double(cumulative));

    e.family("telemetry_counters_shared", MetricType::gauge,
             "1 when the counters are the server's (telemetry in shared_preload_libraries), 0 when they are only "
             "this backend's.");
    e.sample("telemetry_counters_shared", c.shared ? 1 : 0);

    e.family("telemetry_worker_up", MetricType::gauge, "1 while the maintenance worker process runs.");
    e.sample("telemetry_worker_up", c.worker_pid != 0 ? 1 : 0);
    if (c.worker_last_run_us > 0) {
        e.family("telemetry_worker_last_run_timestamp_seconds", MetricType::gauge,
                 "When the maintenance worker last started a run, Unix seconds.");
        e.sample("telemetry_worker_last_run_timestamp_seconds", static_cast<double>(c.worker_last_run_us) / 1e6);
    }

    // The gauges from the database; the last accepted event's time is the counters' when one
    // came since the server started (metric_gauges() gives the stored one otherwise).
    std::string family;
    for (int i = 0; i < gauge_count; ++i) {
        const GaugeRow& g = gauges[i];
        if (g.metric == nullptr) continue;
        double value = g.value;
        bool known = g.known;
        if (std::strcmp(g.metric, "telemetry_last_event_received_timestamp_seconds") == 0 && c.last_accepted_us > 0) {
            value = std::max(known ? value : 0.0, static_cast<double>(c.last_accepted_us) / 1e6);
            known = true;
        }
        if (!known) continue;  // unknown: absent, as Prometheus expects
        if (family != g.metric) {
            family = g.metric;
            e.family(family, MetricType::gauge, g.help);
        }
        if (g.label != nullptr && g.label_value != nullptr) e.sample(family, Label{g.label, g.label_value}, value);
        else e.sample(family, value);
    }
}

}  // namespace

}  // namespace telemetry::pg

// metrics() RETURNS text: the Prometheus text exposition (version 0.0.4).
TELEMETRY_FUNCTION(telemetry_metrics) {
    using namespace telemetry;
    auto* snapshot = static_cast<pg::CounterSnapshot*>(palloc(sizeof(pg::CounterSnapshot)));
    pg::snapshot_counters(*snapshot);
    pg::GaugeRow* gauges = nullptr;
    const int gauge_count = pg::fetch_gauges(&gauges);
    const bool tenant_labels = pg::metrics_tenant_labels;
    text* result = pg::core_phase_or_raise([&] {
        observe::Exposition e;
        pg::write_metrics(e, *snapshot, gauges, gauge_count, tenant_labels);
        const std::string& body = e.text();
        auto* out = static_cast<text*>(pg::palloc_or_throw(VARHDRSZ + body.size()));
        SET_VARSIZE(out, VARHDRSZ + body.size());
        std::memcpy(VARDATA(out), body.data(), body.size());
        return out;
    });
    PG_RETURN_TEXT_P(result);
}

// pii_counters() RETURNS TABLE (detector text, action text, decisions bigint): the pairs seen.
TELEMETRY_FUNCTION(telemetry_pii_counters) {
    using namespace telemetry;
    auto* snapshot = static_cast<pg::CounterSnapshot*>(palloc(sizeof(pg::CounterSnapshot)));
    pg::snapshot_counters(*snapshot);
    InitMaterializedSRF(fcinfo, 0);
    ReturnSetInfo* rsinfo = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);
    for (int d = 0; d < pii::detector_count; ++d) {
        for (int a = 0; a < undeclared_pii_action_count; ++a) {
            const std::uint64_t n = snapshot->pii[d][a];
            if (n == 0) continue;
            const std::string_view name = pii::detector_name(static_cast<pii::Detector>(d));
            Datum values[3] = {PointerGetDatum(cstring_to_text_with_len(name.data(), static_cast<int>(name.size()))),
                               CStringGetTextDatum(to_string(static_cast<UndeclaredPii>(a))),
                               Int64GetDatum(static_cast<int64>(n))};
            bool nulls[3] = {false, false, false};
            tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
        }
    }
    return (Datum)0;
}

// ingest_counters() RETURNS TABLE (status text, events bigint)
TELEMETRY_FUNCTION(telemetry_ingest_counters) {
    using namespace telemetry;
    auto* snapshot = static_cast<pg::CounterSnapshot*>(palloc(sizeof(pg::CounterSnapshot)));
    pg::snapshot_counters(*snapshot);
    InitMaterializedSRF(fcinfo, 0);
    ReturnSetInfo* rsinfo = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);
    for (int i = 0; i < pg::status_count; ++i) {
        Datum values[2] = {CStringGetTextDatum(to_string(static_cast<IngestStatus>(i))),
                           Int64GetDatum(static_cast<int64>(snapshot->by_status[i]))};
        bool nulls[2] = {false, false};
        tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
    }
    return (Datum)0;
}

// last_event_received_at() RETURNS timestamptz: the counters' last accepted event, or NULL.
TELEMETRY_FUNCTION(telemetry_last_event_received_at) {
    using namespace telemetry;
    auto* snapshot = static_cast<pg::CounterSnapshot*>(palloc(sizeof(pg::CounterSnapshot)));
    pg::snapshot_counters(*snapshot);
    if (snapshot->last_accepted_us <= 0) PG_RETURN_NULL();
    PG_RETURN_TIMESTAMPTZ(pg::from_unix_us(snapshot->last_accepted_us));
}

namespace {
void put_recent_row(const char* event_type, telemetry::IngestStatus status, std::uint64_t events, void* arg) {
    auto* rsinfo = static_cast<ReturnSetInfo*>(arg);
    Datum values[3] = {CStringGetTextDatum(event_type), CStringGetTextDatum(telemetry::to_string(status)),
                       Int64GetDatum(static_cast<int64>(events))};
    bool nulls[3] = {false, false, false};
    tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
}
}  // namespace

// recent_counters(minutes integer, "at" timestamptz) RETURNS TABLE (event_type text, status
// text, events bigint): the per-minute counts of the minutes (at - minutes, at].
TELEMETRY_FUNCTION(telemetry_recent_counters) {
    using namespace telemetry;
    if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
        ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("minutes and at must not be NULL")));
    const int32 minutes = PG_GETARG_INT32(0);
    if (minutes < 1 || minutes > pg::recent_minutes)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                        errmsg("minutes must be between 1 and %d", pg::recent_minutes)));
    const TimestampTz at = PG_GETARG_TIMESTAMPTZ(1);
    InitMaterializedSRF(fcinfo, 0);
    // The per-minute cells hold only the last hour: an instant outside it has no counts.
    pg::recent_counts(pg::to_unix_us(at), minutes, put_recent_row, fcinfo->resultinfo);
    return (Datum)0;
}
