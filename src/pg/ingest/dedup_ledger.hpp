// The dedup ledger (telemetry.event_ids): exact deduplication of client-supplied event_ids
// within telemetry.dedup_window_days, inside the caller's transaction. A second session that
// sends the same id at the same time waits for the first to commit or roll back (the primary
// key's uniqueness check), so the id is stored once however the two interleave. Under
// REPEATABLE READ and SERIALIZABLE the ledger is read with the latest snapshot, so an id
// committed after the transaction began is a duplicate like any other, never a serialization
// failure that costs the whole batch. That read runs in a subtransaction, one per call: more than
// 64 in one transaction overflow the backend's subtransaction cache (docs/ingest.md).
#pragma once

#include "pg/boundary/pg_headers.hpp"

namespace telemetry::pg {

// Records the ids; is_new[i] tells whether ids[i] was not seen within the window (and is now
// recorded). Ids must be distinct. Call with no C++ object alive.
void record_event_ids(const pg_uuid_t& tenant, const pg_uuid_t* ids, int n, TimestampTz now, bool* is_new);

}  // namespace telemetry::pg
