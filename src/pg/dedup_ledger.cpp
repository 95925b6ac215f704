#include <cstring>

#include "pg/dedup_ledger.hpp"
#include "pg/settings.hpp"

namespace telemetry::pg {

namespace {

SPIPlanPtr record_plan = nullptr;

// Sorted input keeps concurrent batches that share ids from deadlocking: both take the rows
// in the same order. An entry older than the window is renewed and counts as new.
constexpr const char* record_sql =
    "INSERT INTO telemetry.event_ids AS e (tenant_id, event_id, seen_at) "
    "SELECT $1, u.id, $3 FROM pg_catalog.unnest($2) AS u(id) ORDER BY u.id "
    "ON CONFLICT (tenant_id, event_id) DO UPDATE SET seen_at = EXCLUDED.seen_at "
    "WHERE e.seen_at OPERATOR(pg_catalog.<) $4 "
    "RETURNING e.event_id";

int compare_uuids(const void* a, const void* b) { return std::memcmp(a, b, UUID_LEN); }

}  // namespace

void record_event_ids(const pg_uuid_t& tenant, const pg_uuid_t* ids, int n, TimestampTz now, bool* is_new) {
    if (n == 0) return;
    Datum* elements = static_cast<Datum*>(palloc(sizeof(Datum) * n));
    for (int i = 0; i < n; ++i) elements[i] = UUIDPGetDatum(&ids[i]);
    ArrayType* array = construct_array(elements, n, UUIDOID, UUID_LEN, false, TYPALIGN_CHAR);
    const TimestampTz window_start = now - static_cast<TimestampTz>(dedup_window_days) * USECS_PER_DAY;

    SPI_connect();
    if (record_plan == nullptr) {
        Oid types[4] = {UUIDOID, UUIDARRAYOID, TIMESTAMPTZOID, TIMESTAMPTZOID};
        SPIPlanPtr plan = SPI_prepare(record_sql, 4, types);
        if (plan == nullptr) elog(ERROR, "telemetry: preparing the dedup ledger insert failed: %s", SPI_result_code_string(SPI_result));
        SPI_keepplan(plan);
        record_plan = plan;
    }
    pg_uuid_t t = tenant;
    Datum values[4] = {UUIDPGetDatum(&t), PointerGetDatum(array), TimestampTzGetDatum(now), TimestampTzGetDatum(window_start)};
    const int rc = SPI_execute_plan(record_plan, values, nullptr, false, 0);
    if (rc != SPI_OK_INSERT_RETURNING) elog(ERROR, "telemetry: dedup ledger insert failed: %s", SPI_result_code_string(rc));
    const int recorded = static_cast<int>(SPI_processed);
    pg_uuid_t* fresh = static_cast<pg_uuid_t*>(SPI_palloc(sizeof(pg_uuid_t) * (recorded > 0 ? recorded : 1)));
    for (int i = 0; i < recorded; ++i) {
        bool isnull;
        fresh[i] = *DatumGetUUIDP(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull));
    }
    SPI_finish();
    qsort(fresh, recorded, sizeof(pg_uuid_t), compare_uuids);
    for (int i = 0; i < n; ++i) is_new[i] = bsearch(&ids[i], fresh, recorded, sizeof(pg_uuid_t), compare_uuids) != nullptr;
}

}  // namespace telemetry::pg
