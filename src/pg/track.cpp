// telemetry.track(): record one event inside the caller's transaction.
//
// It runs the shared pipeline (pipeline.hpp) on one event. A refusal is an ERROR with the rule's
// SQLSTATE; an event that is not stored without being wrong (opted out, sampled out, kept in
// quarantine) returns NULL; otherwise the event's id. A duplicate of an event_id received
// before returns that id: the event is stored, once.
#include <cstring>

#include "core/schema.hpp"
#include "pg/catalog_cache.hpp"
#include "pg/event_store.hpp"
#include "pg/guard.hpp"
#include "pg/pipeline.hpp"

namespace telemetry::pg {

namespace {

// Positions of track()'s arguments after the tenant: the single-tenant form has no tenant
// argument, so its positions are one less.
struct TrackArgs {
    int name, properties, user_id, session_id, occurred_at, event_id, sent_at;
};
constexpr TrackArgs multi_tenant_args{1, 2, 3, 4, 5, 6, 7};
constexpr TrackArgs single_tenant_args{0, 1, 2, 3, 4, 5, 6};

// The tenant of single-tenant applications: the nil UUID.
constexpr pg_uuid_t default_tenant{};

std::string_view text_view(const text* t) { return {VARDATA_ANY(t), static_cast<std::size_t>(VARSIZE_ANY_EXHDR(t))}; }

// The short forms of track() have no arguments past session_id: those count as NULL.
bool given(FunctionCallInfo fcinfo, int position) { return position < PG_NARGS() && !PG_ARGISNULL(position); }

std::optional<std::string_view> optional_text(FunctionCallInfo fcinfo, int position) {
    if (!given(fcinfo, position)) return std::nullopt;
    return text_view(PG_GETARG_TEXT_PP(position));  // text or varchar: the same representation
}

std::optional<std::int64_t> optional_time(FunctionCallInfo fcinfo, int position, const char* what) {
    if (!given(fcinfo, position)) return std::nullopt;
    const TimestampTz t = PG_GETARG_TIMESTAMPTZ(position);
    if (TIMESTAMP_NOT_FINITE(t))
        ereport(ERROR, (errcode(ERRCODE_DATETIME_FIELD_OVERFLOW), errmsg("%s must be a finite timestamp", what)));
    return to_unix_us(t);
}

Datum track(FunctionCallInfo fcinfo, const pg_uuid_t& tenant, const TrackArgs& at) {
    if (!given(fcinfo, at.properties))
        ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("properties must not be NULL"),
                        errhint("Pass '{}' for an event without properties.")));
    Jsonb* properties = PG_GETARG_JSONB_P(at.properties);

    MemoryContext caller = CurrentMemoryContext;
    MemoryContext call_memory = AllocSetContextCreate(caller, "telemetry.track", ALLOCSET_SMALL_SIZES);
    MemoryContextSwitchTo(call_memory);
    Arena arena(chunks_from(call_memory));

    PipelineItem* item = arena.allocate_array<PipelineItem>(1);
    new (item) PipelineItem();
    IncomingEvent& in = item->in;
    in.name = optional_text(fcinfo, at.name);
    in.user_id = optional_text(fcinfo, at.user_id);
    in.session_id = optional_text(fcinfo, at.session_id);
    in.occurred_at_us = optional_time(fcinfo, at.occurred_at, "occurred_at");
    in.sent_at_us = optional_time(fcinfo, at.sent_at, "sent_at");
    const TimestampTz now = GetCurrentTimestamp();
    pg_uuid_t event_id;
    if (!given(fcinfo, at.event_id)) {
        event_id = new_event_id(now);
    } else {
        event_id = *PG_GETARG_UUID_P(at.event_id);
        item->client_event_id = true;
    }
    Uuid id;
    std::memcpy(id.data(), event_id.data, 16);
    if (item->client_event_id && is_placeholder_uuid(id))
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                        errmsg("event_id: the nil and max UUIDs are placeholders, not event ids"),
                        errhint("Pass NULL to have track() make an id, or send the client's own.")));
    in.event_id = id;
    item->original_properties = properties;
    item->received_at = now;
    item->source = "server";

    PendingError pending;
    in.properties = decode_properties(properties, arena, pending);
    if (pending.set) pending.raise();

    PipelineCall call;
    call.tenant = tenant;
    call.items = item;
    call.n = 1;
    call.now = now;
    call.arena = &arena;
    run_pipeline(call);

    const IngestDecision& d = item->decision;
    MemoryContextSwitchTo(caller);
    switch (d.status) {
        case IngestStatus::rejected:
            ereport(ERROR, (errcode(MAKE_SQLSTATE(d.sqlstate[0], d.sqlstate[1], d.sqlstate[2], d.sqlstate[3], d.sqlstate[4])),
                            errmsg_internal("%.*s", static_cast<int>(d.reason.size()), d.reason.data()),
                            *d.hint ? errhint("%s", d.hint) : 0));
            break;
        case IngestStatus::accepted:
            if (d.type->status == EventStatus::deprecated && first_deprecation_notice(*d.type))
                ereport(WARNING, (errmsg("event type \"%.*s\" is deprecated", static_cast<int>(in.name->size()), in.name->data()),
                                  errhint("It is still recorded; move producers to its replacement.")));
            [[fallthrough]];
        case IngestStatus::duplicate: {
            pg_uuid_t* result = static_cast<pg_uuid_t*>(palloc(sizeof(pg_uuid_t)));
            *result = event_id;
            MemoryContextDelete(call_memory);
            return UUIDPGetDatum(result);
        }
        default:
            break;
    }
    MemoryContextDelete(call_memory);
    PG_RETURN_NULL();
}

}  // namespace

}  // namespace telemetry::pg

// track(tenant_id, name, properties, user_id, session_id[, occurred_at, event_id, sent_at])
TELEMETRY_DEFINER_FUNCTION(telemetry_track) {
    if (PG_ARGISNULL(0))
        ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("tenant_id must not be NULL")));
    return telemetry::pg::track(fcinfo, *PG_GETARG_UUID_P(0), telemetry::pg::multi_tenant_args);
}

// track(name, properties, user_id, session_id[, occurred_at, event_id, sent_at])
TELEMETRY_DEFINER_FUNCTION(telemetry_track_default_tenant) {
    return telemetry::pg::track(fcinfo, telemetry::pg::default_tenant, telemetry::pg::single_tenant_args);
}
