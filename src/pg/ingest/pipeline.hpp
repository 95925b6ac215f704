// The ingest pipeline of the glue, shared by track(), track_batch() and replay_quarantine():
// opt-out lookups, the core's decision for every event (core/ingest/decide.hpp), deduplication,
// partition checks, and writing events and quarantine rows. One place for all of it, so a
// rule added later (tenant identity, PII detection) applies to every path.
#pragma once

#include <string_view>
#include <type_traits>

#include "core/base/arena.hpp"
#include "core/ingest/decide.hpp"
#include "pg/boundary/pg_headers.hpp"

namespace telemetry::pg {

struct PipelineItem {
    IncomingEvent in;                      // in.event_id is set for every item (the client's or a new one)
    bool client_event_id = false;          // the client sent in.event_id: deduplicate it
    Jsonb* original_properties = nullptr;  // track(): stored as it came unless rewritten
    const char* source = "server";
    TimestampTz received_at = 0;
    // Filled by run_pipeline():
    IngestDecision decision;
    std::string_view schema_version;      // accepted and quarantined
    std::string_view encoded_properties;  // the jsonb to store when there is no original to reuse
};
static_assert(std::is_trivially_destructible_v<PipelineItem>, "pipeline items live in arena memory");

struct PipelineCall {
    pg_uuid_t tenant;
    PipelineItem* items = nullptr;
    int n = 0;
    TimestampTz now = 0;
    bool deduplicate = true;       // false when replaying quarantine (the row is the event)
    bool write_quarantine = true;  // false when replaying (the rows are already there)
    Arena* arena = nullptr;
};

// Decides and stores. Afterwards every item's decision.status is final. Refusals are not errors
// here: the caller reports them. Call with no C++ object alive.
void run_pipeline(PipelineCall& call);

// Decodes a jsonb argument for the pipeline (read_properties_jsonb: within an event's bounds),
// or raises what the core refused. Call with no C++ object alive.
const JsonValue* decode_properties(Jsonb* jsonb, Arena& arena);

}  // namespace telemetry::pg
