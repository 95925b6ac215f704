// Writing events into telemetry.events.
#pragma once

#include "pg/pg_headers.hpp"

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
    const char* source;
    const char* schema_version;
};

// True when some partition of telemetry.events takes an event at time t. Uses the partition
// bounds PostgreSQL keeps in the relcache: exact (gaps included) and no query per call.
bool partition_accepts(TimestampTz t);

// Inserts one event. Raises on failure; call with no C++ object alive.
void insert_event(const StoredEvent& event);

// A fresh UUIDv7 for an event recorded at `now`.
pg_uuid_t new_event_id(TimestampTz now);

}  // namespace telemetry::pg
