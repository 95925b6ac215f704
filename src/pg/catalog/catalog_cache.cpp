#include <string>
#include <unordered_set>
#include <vector>

#include "core/catalog/schema.hpp"
#include "pg/catalog/catalog_cache.hpp"
#include "pg/boundary/guard.hpp"
#include "pg/boundary/search_path.hpp"
#include "pg/boundary/table_watch.hpp"

extern "C" {
#include "access/xact.h"
#include "storage/proc.h"
}

namespace telemetry::pg {

namespace {

// One row of telemetry.event_types copied out of SPI into palloc'd memory.
struct RawEventType {
    const char* name;
    const char* version;
    const char* status;
    const char* description;
    double sample_rate;
    int32 max_bytes;
    const char* on_violation;
    const char* schema;
};

Catalog* cached_catalog = nullptr;  // C++ heap; replaced whole when the table changes
// Versions replaced during this transaction. A call's decisions point into the version it used
// (IngestDecision::type), and a call may outlive it: a DBA's trigger that fires while the call
// writes can change the catalog and track() again, which rebuilds. So a replaced version is
// freed when the transaction ends, when no call can be using it.
std::vector<Catalog*>* retired_catalogs = nullptr;
TableWatch event_types_watch("event_types");
// The statement the cached version is pinned to: its start, within one transaction (a CALL
// that commits runs one statement over many transactions, each of which takes in changes).
TimestampTz pinned_statement = 0;
LocalTransactionId pinned_transaction = InvalidLocalTransactionId;
bool own_change_pending = false;  // this session changed the catalog since the last rebuild
SubTransactionId own_change_subtransaction = InvalidSubTransactionId;  // the latest that did
std::unordered_set<std::string>* deprecation_noticed = nullptr;
bool callbacks_registered = false;

// A (sub)transaction that changed the catalog rolled back: the change is gone, and with it the
// pinned version (PostgreSQL replays the rolled-back invalidations locally, so the watch is
// stale too).
void on_subtransaction_event(SubXactEvent event, SubTransactionId subid, SubTransactionId, void*) {
    if (event == SUBXACT_EVENT_ABORT_SUB && own_change_subtransaction != InvalidSubTransactionId &&
        own_change_subtransaction >= subid)
        own_change_pending = true;
}

void on_transaction_event(XactEvent event, void*) {
    if (event == XACT_EVENT_ABORT && own_change_subtransaction != InvalidSubTransactionId) own_change_pending = true;
    if (event == XACT_EVENT_ABORT || event == XACT_EVENT_COMMIT || event == XACT_EVENT_PREPARE ||
        event == XACT_EVENT_PARALLEL_ABORT || event == XACT_EVENT_PARALLEL_COMMIT) {
        own_change_subtransaction = InvalidSubTransactionId;
        if (retired_catalogs != nullptr) {
            for (Catalog* retired : *retired_catalogs) delete retired;
            retired_catalogs->clear();
        }
    }
}

// Keeps a replaced version until the transaction ends (see retired_catalogs). Out of memory for
// the list, it is kept for good rather than freed under a caller.
void retire(Catalog* replaced) noexcept {
    if (replaced == nullptr) return;
    try {
        if (retired_catalogs == nullptr) retired_catalogs = new std::vector<Catalog*>();
        retired_catalogs->push_back(replaced);
    } catch (...) {}
}

const char* text_column(HeapTuple tuple, TupleDesc desc, int column) {
    bool isnull;
    const Datum d = SPI_getbinval(tuple, desc, column, &isnull);
    return isnull ? "" : TextDatumGetCString(d);
}

// Glue phase: read the table with SPI into palloc'd rows. No C++ object is alive here.
int load_rows(RawEventType** rows_out) {
    MemoryContext caller = CurrentMemoryContext;
    use_safe_search_path();
    SPI_connect();
    PushActiveSnapshot(GetLatestSnapshot());
    SPI_execute(
        "SELECT name, version, status, description, sample_rate, max_bytes, on_violation, schema::pg_catalog.text "
        "FROM telemetry.event_types",
        true, 0);
    PopActiveSnapshot();
    const int n = static_cast<int>(SPI_processed);
    MemoryContext spi = MemoryContextSwitchTo(caller);
    RawEventType* rows = static_cast<RawEventType*>(palloc0(sizeof(RawEventType) * (n > 0 ? n : 1)));
    TupleDesc desc = SPI_tuptable->tupdesc;
    for (int i = 0; i < n; ++i) {
        HeapTuple tuple = SPI_tuptable->vals[i];
        bool isnull;
        rows[i].name = text_column(tuple, desc, 1);
        rows[i].version = text_column(tuple, desc, 2);
        rows[i].status = text_column(tuple, desc, 3);
        rows[i].description = text_column(tuple, desc, 4);
        rows[i].sample_rate = DatumGetFloat8(SPI_getbinval(tuple, desc, 5, &isnull));
        rows[i].max_bytes = DatumGetInt32(SPI_getbinval(tuple, desc, 6, &isnull));
        rows[i].on_violation = text_column(tuple, desc, 7);
        rows[i].schema = text_column(tuple, desc, 8);
    }
    MemoryContextSwitchTo(spi);
    SPI_finish();
    *rows_out = rows;
    return n;
}

// Core phase: build the lookup structure. No PostgreSQL call in here. Schemas are not compiled
// here but on first use (Catalog::schema), so a large catalog costs a backend little.
Catalog* build_catalog(const RawEventType* rows, int n) {
    return core_phase_or_raise([&] {
        std::vector<EventTypeSpec> specs;
        specs.reserve(static_cast<std::size_t>(n));
        for (int i = 0; i < n; ++i) {
            EventTypeSpec spec;
            spec.name = rows[i].name;
            const auto version = parse_schema_ver(rows[i].version);
            const auto status = parse_event_status(rows[i].status);
            const auto policy = parse_violation_policy(rows[i].on_violation);
            if (!version || !status || !policy)
                throw DomainError(sqlstate::internal_error,
                                  "telemetry.event_types holds a row its checks should refuse");
            spec.version = *version;
            spec.status = *status;
            spec.on_violation = *policy;
            spec.description = rows[i].description;
            spec.sample_rate = rows[i].sample_rate;
            spec.max_bytes = rows[i].max_bytes;
            spec.schema_json = rows[i].schema;
            specs.push_back(std::move(spec));
        }
        return new Catalog(std::move(specs));
    });
}

}  // namespace

const Catalog& current_catalog() {
    const TimestampTz statement = GetCurrentStatementStartTimestamp();
    const LocalTransactionId transaction = MyProc->lxid;
    if (cached_catalog != nullptr && statement == pinned_statement && transaction == pinned_transaction &&
        !own_change_pending)
        return *cached_catalog;  // same statement: same version, even if the table changed meanwhile

    if (cached_catalog == nullptr || own_change_pending || event_types_watch.stale()) {
        const TableWatch::Reading reading = event_types_watch.begin_reading();
        RawEventType* rows = nullptr;
        const int n = load_rows(&rows);
        Catalog* fresh = build_catalog(rows, n);
        retire(cached_catalog);
        cached_catalog = fresh;
        own_change_pending = false;
        if (deprecation_noticed) deprecation_noticed->clear();
        event_types_watch.finished(reading);
    }
    // Pinned only once this version is known good: a reload that failed half way leaves
    // nothing pinned, and the next call of the statement tries again.
    pinned_statement = statement;
    pinned_transaction = transaction;
    return *cached_catalog;
}

void note_own_catalog_change() {
    own_change_pending = true;
    const SubTransactionId current = GetCurrentSubTransactionId();
    if (own_change_subtransaction == InvalidSubTransactionId || current > own_change_subtransaction)
        own_change_subtransaction = current;
}

void register_catalog_callbacks() {
    if (callbacks_registered) return;
    RegisterSubXactCallback(on_subtransaction_event, nullptr);
    RegisterXactCallback(on_transaction_event, nullptr);
    callbacks_registered = true;
}

bool first_deprecation_notice(const EventTypeSpec& type) {
    if (!deprecation_noticed) deprecation_noticed = new std::unordered_set<std::string>();
    return deprecation_noticed->insert(type.name).second;
}

}  // namespace telemetry::pg

// Statement trigger on telemetry.event_types: tell every backend to rebuild its catalog.
TELEMETRY_FUNCTION(telemetry_catalog_changed) {
    if (!CALLED_AS_TRIGGER(fcinfo))
        ereport(ERROR, (errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
                        errmsg("telemetry.catalog_changed() must be called as a trigger")));
    TriggerData* trigger = reinterpret_cast<TriggerData*>(fcinfo->context);
    CacheInvalidateRelcache(trigger->tg_relation);
    telemetry::pg::note_own_catalog_change();
    return PointerGetDatum(nullptr);
}
