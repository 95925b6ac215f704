// telemetry.track_batch(): a client's batch of events, one result row per event.
//
// The statuses always add up to the number of events: each event is accepted, duplicate,
// quarantined, rejected, sampled_out or opted_out, with its reason. Only the batch as a whole
// can be an error: not JSON, not a JSON array, larger than max_batch_bytes (refused before it is
// read), or more than max_batch_events events or max_batch_values values (refused as soon as
// the reader counts one too many).
#include <cstring>

#include "core/ingest/batch.hpp"
#include "core/json/jsonb.hpp"
#include "core/json/json_text.hpp"
#include "core/catalog/schema.hpp"
#include "pg/boundary/context_owned.hpp"
#include "pg/boundary/convert.hpp"
#include "pg/ingest/event_store.hpp"
#include "pg/boundary/guard.hpp"
#include "pg/ingest/pipeline.hpp"
#include "pg/tenancy/tenant_identity.hpp"

namespace telemetry::pg {

namespace {

// Core phase: unpack the array's elements into pipeline items. No PostgreSQL call in here.
int unpack(const JsonValue& root, const ElementProblem* problems, Arena& arena, PipelineItem** out) {
    return core_phase_or_raise([&] {
        if (root.kind != JsonKind::array)
            throw DomainError(sqlstate::invalid_parameter_value,
                              std::string("events must be a JSON array, found ") + describe_kind(root));
        if (root.count > max_batch_events)
            throw DomainError(sqlstate::program_limit_exceeded, "a batch holds at most " +
                                                                    std::to_string(max_batch_events) +
                                                                    " events, this one " + std::to_string(root.count));
        PipelineItem* items = arena.allocate_array<PipelineItem>(root.count);
        static const ElementProblem none;
        for (std::uint32_t i = 0; i < root.count; ++i) {
            new (&items[i]) PipelineItem();
            items[i].in = unpack_batch_element(root.elements[i], problems ? problems[i] : none, arena);
        }
        *out = items;
        return static_cast<int>(root.count);
    });
}

void refuse_oversized(std::size_t bytes) {
    ereport(ERROR, (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
                    errmsg("the batch is %zu bytes, over the limit of %zu", bytes, max_batch_bytes),
                    errhint("Send at most %zu events and %zu MB per batch.", max_batch_events, max_batch_bytes >> 20)));
}

// The arguments of a call besides the events, in whichever form they came.
struct BatchCall {
    pg_uuid_t tenant;
    std::optional<std::int64_t> sent_at_us;  // the batch's, for events without their own
};

// The part shared by every form, once the batch is a document.
Datum ingest_batch(FunctionCallInfo fcinfo, const BatchCall& batch, const JsonValue& root,
                   const ElementProblem* problems, Arena& arena, MemoryContext caller, MemoryContext call_memory) {
    PipelineItem* items = nullptr;
    const int n = unpack(root, problems, arena, &items);

    const TimestampTz now = GetCurrentTimestamp();
    for (int i = 0; i < n; ++i) {
        PipelineItem& item = items[i];
        item.source = "client";
        item.received_at = now;
        if (!item.in.sent_at_us) item.in.sent_at_us = batch.sent_at_us;
        if (item.in.event_id) {
            item.client_event_id = true;
        } else {
            item.in.event_id = to_uuid(new_event_id(now));
        }
    }

    PipelineCall call;
    call.tenant = batch.tenant;
    call.items = items;
    call.n = n;
    call.now = now;
    call.arena = &arena;
    run_pipeline(call);

    MemoryContextSwitchTo(caller);
    InitMaterializedSRF(fcinfo, 0);
    ReturnSetInfo* rsinfo = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);
    for (int i = 0; i < n; ++i) {
        const PipelineItem& item = items[i];
        const IngestDecision& d = item.decision;
        // The id: the event's when it is kept, and the client's own id whatever happened.
        const bool show_id =
            item.client_event_id || d.status == IngestStatus::accepted || d.status == IngestStatus::quarantined;
        pg_uuid_t id = to_pg_uuid(*item.in.event_id);
        Datum values[5] = {Int32GetDatum(i), CStringGetTextDatum(to_string(d.status)), UUIDPGetDatum(&id),
                           d.reason.empty() ? (Datum)0 : text_datum(d.reason),
                           *d.sqlstate ? CStringGetTextDatum(d.sqlstate) : (Datum)0};
        bool nulls[5] = {false, false, !show_id, d.reason.empty(), !*d.sqlstate};
        tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
    }
    MemoryContextDelete(call_memory);  // the documents of a large batch need not wait for the query's end
    return (Datum)0;
}

// What every form does before reading the batch: check the arguments, refuse an oversized
// batch before detoasting or parsing anything, and switch to the call's own memory (freed at
// the end of ingest_batch()), where the batch is then detoasted. The tenant and sent_at are
// read by the caller, as its form has them.
struct BatchMemory {
    MemoryContext caller;
    MemoryContext call;
};

BatchMemory begin_batch(FunctionCallInfo fcinfo) {
    if (PG_ARGISNULL(0))
        ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("tenant_id must not be NULL")));
    if (PG_ARGISNULL(1)) ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("events must not be NULL")));
    const std::size_t raw_bytes = toast_raw_datum_size(PG_GETARG_DATUM(1)) - VARHDRSZ;
    if (raw_bytes > max_batch_bytes) refuse_oversized(raw_bytes);
    BatchMemory memory;
    memory.caller = CurrentMemoryContext;
    memory.call = AllocSetContextCreate(memory.caller, "telemetry.track_batch", ALLOCSET_DEFAULT_SIZES);
    MemoryContextSwitchTo(memory.call);
    return memory;
}

// The typed forms: tenant uuid, sent_at timestamptz.
BatchCall typed_call(FunctionCallInfo fcinfo) {
    BatchCall batch;
    batch.tenant = *PG_GETARG_UUID_P(0);
    require_tenant_access(Caller::session_role, batch.tenant, Need::ingest);
    if (!PG_ARGISNULL(2)) batch.sent_at_us = finite_time(PG_GETARG_TIMESTAMPTZ(2), "sent_at");
    return batch;
}

// The text forms: parse the batch here, once, then ingest it.
Datum ingest_text(FunctionCallInfo fcinfo, const BatchCall& batch, const BatchMemory& memory) {
    text* events = PG_GETARG_TEXT_PP(1);
    Arena arena(chunks_from(memory.call));
    const std::string_view text = telemetry::pg::text_view(events);
    // Core phase: parse the text of a batch, within the batch's bounds (core/ingest/batch.hpp).
    const ParsedText parsed = core_phase_or_raise([&] { return parse_batch_text(text, arena); });
    return ingest_batch(fcinfo, batch, parsed.root, parsed.problems, arena, memory.caller, memory.call);
}

}  // namespace

}  // namespace telemetry::pg

// track_batch(tenant_id uuid, events text, sent_at timestamptz): parsed here, once.
TELEMETRY_DEFINER_FUNCTION(telemetry_track_batch_text) {
    using namespace telemetry::pg;
    const BatchMemory memory = begin_batch(fcinfo);
    return ingest_text(fcinfo, typed_call(fcinfo), memory);
}

// track_batch(tenant_id text, events text, sent_at text): what untyped and text-typed calls
// (drivers) resolve to; the tenant and sent_at read as the uuid and timestamptz forms would.
TELEMETRY_DEFINER_FUNCTION(telemetry_track_batch_untyped) {
    using namespace telemetry::pg;
    const BatchMemory memory = begin_batch(fcinfo);
    BatchCall batch;
    batch.tenant = *uuid_from_text(text_view(PG_GETARG_TEXT_PP(0)), "tenant_id");
    require_tenant_access(Caller::session_role, batch.tenant, telemetry::Need::ingest);
    if (!PG_ARGISNULL(2)) batch.sent_at_us = time_from_text(text_view(PG_GETARG_TEXT_PP(2)), "sent_at");
    return ingest_text(fcinfo, batch, memory);
}

// track_batch(tenant_id uuid, events jsonb, sent_at timestamptz): already parsed by PostgreSQL.
TELEMETRY_DEFINER_FUNCTION(telemetry_track_batch_jsonb) {
    using namespace telemetry::pg;
    const BatchMemory memory = begin_batch(fcinfo);
    const BatchCall batch = typed_call(fcinfo);
    Jsonb* events = PG_GETARG_JSONB_P(1);
    telemetry::Arena arena(chunks_from(memory.call));
    // Core phase: decode the jsonb of a batch, within the same bounds.
    const JsonbBytes bytes = jsonb_bytes(events);
    const telemetry::JsonValue root =
        core_phase_or_raise([&] { return decode_batch_jsonb(bytes.data, bytes.size, arena); });
    return ingest_batch(fcinfo, batch, root, nullptr, arena, memory.caller, memory.call);
}
