// Writing events into telemetry.events.
#pragma once

#include "pg/boundary/pg_headers.hpp"

namespace telemetry::pg {

// One event ready to store, in PostgreSQL representation. Nullable fields are null pointers.
struct StoredEvent {
    pg_uuid_t tenant_id;
    pg_uuid_t event_id;
    text* name;
    Jsonb* properties;
    text* user_id;
    text* session_id;
    TimestampTz occurred_at;
    TimestampTz received_at;
    float4 sample_weight;
    int16 flags;
    text* source;
    text* schema_version;
};

// True when some partition of telemetry.events takes an event at time t. Uses the partition
// bounds PostgreSQL keeps in the relcache: exact (gaps included) and no query per call.
bool partition_accepts(TimestampTz t);

// Inserts events the way COPY does: routed to their partitions here, one multi-insert per
// partition, then their index entries. Where that would not do exactly what an INSERT does (a
// partition that is partitioned or foreign, a trigger, rule, constraint or expression index, a
// statement trigger or forced row-level security on the parent: event_store.cpp has the list),
// the events go through the executor as plain INSERTs. Every event must have a partition
// (partition_accepts). Call with no C++ object alive.
void write_events(const StoredEvent* events, int n);

// Whether a trigger calls telemetry.check_written_event(), the write-path check
// (src/pg/ingest/write_guard.cpp), which the direct path stands in for.
bool is_write_guard_trigger(const Trigger& trigger);

// A fresh UUIDv7 for an event recorded at `now`.
pg_uuid_t new_event_id(TimestampTz now);

}  // namespace telemetry::pg
