#include <cstring>

#include "pg/ingest/dedup_ledger.hpp"
#include "pg/boundary/search_path.hpp"
#include "pg/settings.hpp"

extern "C" {
#include "access/xact.h"
#include "utils/resowner.h"
}

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

// Under REPEATABLE READ and SERIALIZABLE a conflict with an id committed after the
// transaction's snapshot is a serialization failure in ON CONFLICT, which would cost the whole
// batch. The ledger is therefore read with the latest snapshot there (like a foreign-key
// check), in a subtransaction retried this many times when an id committed while the insert
// was waiting for it still fails so.
constexpr int snapshot_attempts = 3;

int compare_uuids(const void* a, const void* b) { return std::memcmp(a, b, UUID_LEN); }

// Runs the insert and returns the ids it recorded (palloc'd in the caller's context). No C++
// object is alive here.
int insert_ids(Datum* values, Snapshot snapshot, pg_uuid_t** recorded_out) {
    MemoryContext caller = CurrentMemoryContext;
    SPI_connect();
    if (record_plan == nullptr) {
        Oid types[4] = {UUIDOID, UUIDARRAYOID, TIMESTAMPTZOID, TIMESTAMPTZOID};
        SPIPlanPtr plan = SPI_prepare(record_sql, 4, types);
        if (plan == nullptr)
            elog(ERROR, "telemetry: preparing the dedup ledger insert failed: %s", SPI_result_code_string(SPI_result));
        SPI_keepplan(plan);
        record_plan = plan;
    }
    const int rc = snapshot != InvalidSnapshot
                       ? SPI_execute_snapshot(record_plan, values, nullptr, snapshot, InvalidSnapshot, false, true, 0)
                       : SPI_execute_plan(record_plan, values, nullptr, false, 0);
    if (rc != SPI_OK_INSERT_RETURNING)
        elog(ERROR, "telemetry: dedup ledger insert failed: %s", SPI_result_code_string(rc));
    const int recorded = static_cast<int>(SPI_processed);
    auto* fresh =
        static_cast<pg_uuid_t*>(MemoryContextAlloc(caller, sizeof(pg_uuid_t) * (recorded > 0 ? recorded : 1)));
    for (int i = 0; i < recorded; ++i) {
        bool isnull;
        fresh[i] = *DatumGetUUIDP(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull));
    }
    SPI_finish();
    *recorded_out = fresh;
    return recorded;
}

// The same, for REPEATABLE READ and SERIALIZABLE transactions: with the latest snapshot, in a
// subtransaction, retried on a serialization failure.
int insert_ids_with_latest_snapshot(Datum* values, pg_uuid_t** recorded_out) {
    MemoryContext caller = CurrentMemoryContext;
    ResourceOwner owner = CurrentResourceOwner;
    for (volatile int attempt = 1;; attempt = attempt + 1) {
        volatile int recorded = -1;
        BeginInternalSubTransaction(nullptr);
        MemoryContextSwitchTo(caller);
        PG_TRY();
        {
            recorded = insert_ids(values, GetLatestSnapshot(), recorded_out);
            ReleaseCurrentSubTransaction();
            MemoryContextSwitchTo(caller);
            CurrentResourceOwner = owner;
        }
        PG_CATCH();
        {
            MemoryContextSwitchTo(caller);
            ErrorData* error = CopyErrorData();
            FlushErrorState();
            RollbackAndReleaseCurrentSubTransaction();
            MemoryContextSwitchTo(caller);
            CurrentResourceOwner = owner;
            if (error->sqlerrcode != ERRCODE_T_R_SERIALIZATION_FAILURE || attempt == snapshot_attempts)
                ReThrowError(error);
            FreeErrorData(error);
        }
        PG_END_TRY();
        if (recorded >= 0) return recorded;
        CHECK_FOR_INTERRUPTS();
    }
}

}  // namespace

void record_event_ids(const pg_uuid_t& tenant, const pg_uuid_t* ids, int n, TimestampTz now, bool* is_new) {
    if (n == 0) return;
    Datum* elements = static_cast<Datum*>(palloc(sizeof(Datum) * n));
    for (int i = 0; i < n; ++i) elements[i] = UUIDPGetDatum(&ids[i]);
    ArrayType* array = construct_array(elements, n, UUIDOID, UUID_LEN, false, TYPALIGN_CHAR);
    const TimestampTz window_start = now - static_cast<TimestampTz>(dedup_window_days) * USECS_PER_DAY;
    pg_uuid_t t = tenant;
    Datum values[4] = {UUIDPGetDatum(&t), PointerGetDatum(array), TimestampTzGetDatum(now),
                       TimestampTzGetDatum(window_start)};

    use_safe_search_path();
    pg_uuid_t* fresh = nullptr;
    const int recorded = IsolationUsesXactSnapshot() ? insert_ids_with_latest_snapshot(values, &fresh)
                                                     : insert_ids(values, InvalidSnapshot, &fresh);
    qsort(fresh, recorded, sizeof(pg_uuid_t), compare_uuids);
    for (int i = 0; i < n; ++i)
        is_new[i] = bsearch(&ids[i], fresh, recorded, sizeof(pg_uuid_t), compare_uuids) != nullptr;
}

}  // namespace telemetry::pg
