// telemetry.quarantine: every statement on the table, in one place. The pipeline inserts the
// events it keeps aside; replay_quarantine() reads them back, locked, and then updates the
// reason of those still refused and deletes those settled. Rows are plain structs in PostgreSQL
// representation, as in the event store: nothing here knows the pipeline.
#pragma once

#include "core/json/json_path.hpp"
#include "pg/boundary/pg_headers.hpp"
#include "pg/ingest/event_store.hpp"

namespace telemetry::pg {

// One event to keep aside: the row it would have been in telemetry.events, and why it was not.
struct QuarantineRow {
    StoredEvent event;
    text* sqlstate;
    text* reason;
    text* json_path;
    text* rule;
    ArrayType* pii_rewritten_paths;  // text[]; not written to the 0.1.0 table, which lacks it
};

void insert_quarantine_row(const QuarantineRow& row);

// A kept event as read back for a replay, allocated in the caller's memory context.
struct QuarantinedEvent {
    int64 id;
    pg_uuid_t event_id;
    char* name;
    Jsonb* properties;
    char* user_id;     // nullptr: none
    char* session_id;  // nullptr: none
    TimestampTz occurred_at;
    TimestampTz received_at;
    char* source;
    PathList pii_rewritten_paths;  // where x-pii rewrote the properties before they were kept
};

// The tenant's kept events, those of `ids` only unless ids_null, oldest first, at most `limit`,
// locked FOR UPDATE until the end of the transaction. Returns how many; *out holds them.
int lock_quarantined_events(const pg_uuid_t& tenant, Datum ids, bool ids_null, int limit, QuarantinedEvent** out);

// A replayed event refused again: its new SQLSTATE and reason, and the path, rule and schema
// version of the violation when they are not empty (else the row keeps its own). One more
// replay attempt is counted.
void record_replay_refusal(const pg_uuid_t& tenant, int64 id, const char* sqlstate, std::string_view reason,
                           std::string_view json_path, std::string_view rule, std::string_view schema_version);

// A replayed event settled (stored, sampled out or opted out): its row goes.
void delete_quarantine_row(const pg_uuid_t& tenant, int64 id);

// Whether telemetry.quarantine has its pii_rewritten_paths column (0.2.0). A library newer than
// the extension's SQL objects (installed, ALTER EXTENSION UPDATE not run yet) keeps ingesting
// into the older table. Two catalog cache lookups.
bool quarantine_has_pii_paths();

}  // namespace telemetry::pg
