#include <string>
#include <unordered_set>
#include <vector>

#include "pg/catalog_cache.hpp"
#include "pg/guard.hpp"

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

Catalog* cached_catalog = nullptr;  // C++ heap; replaced whole when invalidated
bool cache_valid = false;
uint64 invalidations = 0;  // counts callbacks, to notice one that arrives during a rebuild
Oid event_types_relid = InvalidOid;
bool callback_registered = false;
TimestampTz pinned_statement = 0;  // statement start of the statement the catalog is pinned to
bool own_change_pending = false;   // this session changed the catalog since the last rebuild
std::unordered_set<std::string>* deprecation_noticed = nullptr;

// Relcache callbacks must not fail or touch the catalogs: only compare and flag.
void on_relcache_invalidation(Datum, Oid relid) {
    if (relid == InvalidOid || relid == event_types_relid) {
        cache_valid = false;
        ++invalidations;
    }
}

const char* text_column(HeapTuple tuple, TupleDesc desc, int column) {
    bool isnull;
    const Datum d = SPI_getbinval(tuple, desc, column, &isnull);
    return isnull ? "" : TextDatumGetCString(d);
}

// Glue phase: read the table with SPI into palloc'd rows. No C++ object is alive here.
int load_rows(RawEventType** rows_out) {
    const Oid namespace_oid = get_namespace_oid("telemetry", false);
    event_types_relid = get_relname_relid("event_types", namespace_oid);
    if (!OidIsValid(event_types_relid))
        ereport(ERROR, (errcode(ERRCODE_UNDEFINED_TABLE), errmsg("telemetry.event_types is missing"),
                        errhint("Is the extension installed in this database?")));

    MemoryContext caller = CurrentMemoryContext;
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

// Core phase: build the lookup structure. No PostgreSQL call in here.
Catalog* build_catalog(const RawEventType* rows, int n, PendingError& pending) noexcept {
    try {
        std::vector<EventTypeSpec> specs;
        specs.reserve(static_cast<std::size_t>(n));
        for (int i = 0; i < n; ++i) {
            EventTypeSpec spec;
            spec.name = rows[i].name;
            const auto version = parse_schema_ver(rows[i].version);
            const auto status = parse_event_status(rows[i].status);
            const auto policy = parse_violation_policy(rows[i].on_violation);
            if (!version || !status || !policy)
                throw DomainError(sqlstate::internal_error, "telemetry.event_types holds a row its checks should refuse");
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
    } catch (...) {
        pending.capture(current_exception_error());
        return nullptr;
    }
}

}  // namespace

const Catalog& current_catalog() {
    const TimestampTz statement = GetCurrentStatementStartTimestamp();
    if (statement != pinned_statement || own_change_pending) {
        // A new statement (or our own change): take in waiting invalidations, cheap when there
        // are none, and from here on this statement keeps the version it gets now.
        AcceptInvalidationMessages();
        pinned_statement = statement;
        if (cached_catalog && cache_valid && !own_change_pending) return *cached_catalog;
    } else if (cached_catalog) {
        return *cached_catalog;  // same statement: same version, even if invalidated meanwhile
    }
    if (!callback_registered) {
        CacheRegisterRelcacheCallback(on_relcache_invalidation, 0);
        callback_registered = true;
    }
    const uint64 invalidations_before = invalidations;
    RawEventType* rows = nullptr;
    const int n = load_rows(&rows);

    PendingError pending;
    Catalog* fresh = build_catalog(rows, n, pending);
    if (!fresh) pending.raise();
    delete cached_catalog;
    cached_catalog = fresh;
    own_change_pending = false;
    if (deprecation_noticed) deprecation_noticed->clear();
    // An invalidation that arrived while we read means what we read may be stale already: this
    // statement uses it, the next one rebuilds.
    cache_valid = invalidations == invalidations_before;
    return *cached_catalog;
}

void note_own_catalog_change() { own_change_pending = true; }

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
