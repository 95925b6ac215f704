// telemetry.track(): record one event inside the caller's transaction.
//
// Four typed forms (tenant uuid, properties jsonb; single-tenant; each short and long) and two
// text forms for what drivers send (src/sql/30_ingest.sql says which call takes which), all read
// into one TrackInput. It runs the shared pipeline (pipeline.hpp) on one event. A refusal is an ERROR with the rule's
// SQLSTATE; an event that is not stored without being wrong (opted out, sampled out, kept in
// quarantine) returns NULL; otherwise the event's id. A duplicate of an event_id received
// before returns that id: the event is stored, once.
#include <cstring>
#include <type_traits>

#include "core/ingest/batch.hpp"
#include "core/json/json_text.hpp"
#include "core/catalog/schema.hpp"
#include "core/ingest/track_arguments.hpp"
#include "pg/catalog/catalog_cache.hpp"
#include "pg/boundary/context_owned.hpp"
#include "pg/boundary/convert.hpp"
#include "pg/ingest/event_store.hpp"
#include "pg/boundary/guard.hpp"
#include "pg/ingest/pipeline.hpp"
#include "pg/tenancy/tenant_identity.hpp"

extern "C" {
#include "nodes/primnodes.h"
}

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

// One call of track(), whatever form it came in, read into what the pipeline needs. Trivially
// destructible: PostgreSQL may raise while it is alive.
struct TrackInput {
    pg_uuid_t tenant = default_tenant;
    std::optional<std::string_view> name, user_id, session_id;
    Jsonb* properties_jsonb = nullptr;                // the typed forms
    std::optional<std::string_view> properties_text;  // the text forms
    std::optional<std::int64_t> occurred_at_us, sent_at_us;
    std::optional<pg_uuid_t> event_id;
};
static_assert(std::is_trivially_destructible_v<TrackInput>);

// The short forms of track() have no arguments past session_id: those count as NULL.
bool given(FunctionCallInfo fcinfo, int position) { return position < PG_NARGS() && !PG_ARGISNULL(position); }

std::optional<std::string_view> optional_text(FunctionCallInfo fcinfo, int position) {
    if (!given(fcinfo, position)) return std::nullopt;
    return text_view(PG_GETARG_TEXT_PP(position));
}

std::optional<std::int64_t> optional_time(FunctionCallInfo fcinfo, int position, const char* what) {
    if (!given(fcinfo, position)) return std::nullopt;
    return finite_time(PG_GETARG_TIMESTAMPTZ(position), what);
}

// Core phase for the text forms: properties given as JSON text, read with the same rules and
// bounds as a batch element's. A problem refuses the event (in.read_sqlstate).
void parse_properties_text(std::string_view text, Arena& arena, IncomingEvent& in) {
    core_phase_or_raise([&] { read_properties_text(text, arena, in); });
}

Datum record(FunctionCallInfo fcinfo, const TrackInput& input) {
    // The tenant is the caller's to ingest for (its role's grants, or the token it presented).
    require_tenant_access(Caller::session_role, input.tenant, Need::ingest);
    MemoryContext caller = CurrentMemoryContext;
    MemoryContext call_memory = AllocSetContextCreate(caller, "telemetry.track", ALLOCSET_SMALL_SIZES);
    MemoryContextSwitchTo(call_memory);
    Arena arena(chunks_from(call_memory));

    PipelineItem* item = arena.allocate_array<PipelineItem>(1);
    new (item) PipelineItem();
    IncomingEvent& in = item->in;
    in.name = input.name;
    in.user_id = input.user_id;
    in.session_id = input.session_id;
    in.occurred_at_us = input.occurred_at_us;
    in.sent_at_us = input.sent_at_us;
    const TimestampTz now = GetCurrentTimestamp();
    item->client_event_id = input.event_id.has_value();
    const pg_uuid_t event_id = input.event_id ? *input.event_id : new_event_id(now);
    const Uuid id = to_uuid(event_id);
    if (item->client_event_id && is_placeholder_uuid(id))
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                        errmsg("event_id: the nil and max UUIDs are placeholders, not event ids"),
                        errhint("Pass NULL to have track() make an id, or send the client's own.")));
    in.event_id = id;
    item->original_properties = input.properties_jsonb;
    item->received_at = now;
    item->source = "server";

    if (input.properties_jsonb != nullptr) in.properties = decode_properties(input.properties_jsonb, arena);
    else if (input.properties_text) parse_properties_text(*input.properties_text, arena, in);

    PipelineCall call;
    call.tenant = input.tenant;
    call.items = item;
    call.n = 1;
    call.now = now;
    call.arena = &arena;
    run_pipeline(call);

    const IngestDecision& d = item->decision;
    MemoryContextSwitchTo(caller);
    switch (d.status) {
        case IngestStatus::rejected:
            ereport(ERROR,
                    (errcode(MAKE_SQLSTATE(d.sqlstate[0], d.sqlstate[1], d.sqlstate[2], d.sqlstate[3], d.sqlstate[4])),
                     errmsg_internal("%.*s", static_cast<int>(d.reason.size()), d.reason.data()),
                     *d.hint ? errhint("%s", d.hint) : 0,
                     // Never the statement, nor the context (a caller's SQL statement quoted in
                     // it): their literals may hold the personal data refused
                     // (log_min_error_statement logs a failing statement).
                     errhidestmt(true), errhidecontext(true)));
            break;
        case IngestStatus::accepted:
            if (d.type->status == EventStatus::deprecated && first_deprecation_notice(*d.type))
                ereport(WARNING, (errmsg("event type \"%.*s\" is deprecated", static_cast<int>(in.name->size()),
                                         in.name->data()),
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

// The typed forms: (uuid, text, jsonb, text|varchar, ...) and (text, jsonb, ...).
Datum track_typed(FunctionCallInfo fcinfo, const pg_uuid_t& tenant, const TrackArgs& at) {
    if (!given(fcinfo, at.properties))
        ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("properties must not be NULL"),
                        errhint("Pass '{}' for an event without properties.")));
    TrackInput input;
    input.tenant = tenant;
    input.properties_jsonb = PG_GETARG_JSONB_P(at.properties);
    input.name = optional_text(fcinfo, at.name);
    input.user_id = optional_text(fcinfo, at.user_id);
    input.session_id = optional_text(fcinfo, at.session_id);
    input.occurred_at_us = optional_time(fcinfo, at.occurred_at, "occurred_at");
    input.sent_at_us = optional_time(fcinfo, at.sent_at, "sent_at");
    if (given(fcinfo, at.event_id)) input.event_id = *PG_GETARG_UUID_P(at.event_id);
    return record(fcinfo, input);
}

// The fields of a text call, resolved (core/ingest/track_arguments.hpp). Trivially destructible.
struct TextCall {
    bool multi_tenant;
    std::optional<std::string_view> fields[track_field_count];
};

// Core phase: resolve the arguments of a text call. No PostgreSQL call in here. `given` is for
// the named form only.
void resolve(const std::optional<std::string_view>* values, std::size_t count, const bool* given, TextCall& out) {
    core_phase_or_raise([&] {
        TrackArguments resolved;
        if (given != nullptr) {
            std::optional<std::string_view> slots[track_field_count];
            bool given_slots[track_field_count] = {};
            for (std::size_t i = 0; i < track_field_count && i < count; ++i) {
                slots[i] = values[i];
                given_slots[i] = given[i];
            }
            resolved = resolve_named_track_arguments(slots, given_slots);
        } else {
            resolved = resolve_positional_track_arguments(values, count);
        }
        out.multi_tenant = resolved.multi_tenant;
        for (std::size_t f = 0; f < track_field_count; ++f) out.fields[f] = resolved.fields[f];
    });
}

// The text forms: every argument text (untyped or text-typed, as drivers send them). `given`:
// for the named form, which parameters the call gave.
Datum track_text(FunctionCallInfo fcinfo, const std::optional<std::string_view>* values, std::size_t count,
                 const bool* given) {
    TextCall call;
    resolve(values, count, given, call);
    TrackInput input;
    if (call.multi_tenant) {
        input.tenant = to_pg_uuid(*parse_uuid(*call.fields[tenant_field]));  // a UUID by resolution
    }
    input.name = call.fields[name_field];
    input.properties_text = call.fields[properties_field];
    if (!input.properties_text) {
        if (call.multi_tenant)
            ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("properties must not be NULL"),
                            errhint("Pass '{}' for an event without properties.")));
        input.properties_text = std::string_view("{}");  // as the typed single-tenant form's default
    }
    input.user_id = call.fields[user_id_field];
    input.session_id = call.fields[session_id_field];
    input.occurred_at_us = time_from_text(call.fields[occurred_at_field], "occurred_at");
    input.sent_at_us = time_from_text(call.fields[sent_at_field], "sent_at");
    input.event_id = uuid_from_text(call.fields[event_id_field], "event_id");
    return record(fcinfo, input);
}

// Whether the call gave the named text form's argument `position`, or left it to its default.
// The defaults call telemetry.unset_argument() (VOLATILE, so the planner leaves the call in
// place), which a caller never writes: an argument whose expression is that call was left out.
bool written_by_caller(const FuncExpr* call, int position) {
    if (position >= list_length(call->args)) return false;
    const Node* argument = static_cast<const Node*>(list_nth(call->args, position));
    while (argument != nullptr && IsA(argument, RelabelType))
        argument = reinterpret_cast<const Node*>(reinterpret_cast<const RelabelType*>(argument)->arg);
    if (argument == nullptr || !IsA(argument, FuncExpr)) return true;
    const Oid function = reinterpret_cast<const FuncExpr*>(argument)->funcid;
    const char* name = get_func_name(function);
    return name == nullptr || std::strcmp(name, "unset_argument") != 0 ||
           get_func_namespace(function) != get_namespace_oid("telemetry", true);
}

// The arguments the call gave. They are the same at every call from one call site, so they are
// worked out once and kept with its call info (fn_extra). Without the call's expression (a
// direct call from C), NULL counts as left out.
void given_arguments(FunctionCallInfo fcinfo, bool (&given)[track_field_count]) {
    const Node* expression = fcinfo->flinfo != nullptr ? fcinfo->flinfo->fn_expr : nullptr;
    if (expression == nullptr || !IsA(expression, FuncExpr)) {
        for (int i = 0; i < static_cast<int>(track_field_count); ++i) given[i] = i < PG_NARGS() && !PG_ARGISNULL(i);
        return;
    }
    if (fcinfo->flinfo->fn_extra == nullptr) {
        bool* mask = static_cast<bool*>(MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof given));
        for (int i = 0; i < static_cast<int>(track_field_count); ++i)
            mask[i] = written_by_caller(reinterpret_cast<const FuncExpr*>(expression), i);
        fcinfo->flinfo->fn_extra = mask;
    }
    std::memcpy(given, fcinfo->flinfo->fn_extra, sizeof given);
}

}  // namespace

}  // namespace telemetry::pg

// track(tenant_id, name, properties, user_id, session_id[, occurred_at, event_id, sent_at])
TELEMETRY_DEFINER_FUNCTION(telemetry_track) {
    if (PG_ARGISNULL(0))
        ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("tenant_id must not be NULL")));
    return telemetry::pg::track_typed(fcinfo, *PG_GETARG_UUID_P(0), telemetry::pg::multi_tenant_args);
}

// track(name, properties, user_id, session_id[, occurred_at, event_id, sent_at])
TELEMETRY_DEFINER_FUNCTION(telemetry_track_default_tenant) {
    return telemetry::pg::track_typed(fcinfo, telemetry::pg::default_tenant, telemetry::pg::single_tenant_args);
}

// track(VARIADIC arguments text[]): untyped or text-typed positional calls.
TELEMETRY_DEFINER_FUNCTION(telemetry_track_positional_text) {
    using namespace telemetry;
    if (PG_ARGISNULL(0))
        ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("the arguments of track() must not be NULL")));
    ArrayType* array = PG_GETARG_ARRAYTYPE_P(0);
    Datum* elements;
    bool* nulls;
    int count;
    deconstruct_array(array, TEXTOID, -1, false, TYPALIGN_INT, &elements, &nulls, &count);
    if (count > static_cast<int>(track_field_count))
        ereport(ERROR, (errcode(ERRCODE_TOO_MANY_ARGUMENTS), errmsg("track() takes at most 8 arguments")));
    std::optional<std::string_view> values[track_field_count];
    for (int i = 0; i < count; ++i)
        if (!nulls[i]) values[i] = pg::text_view(DatumGetTextPP(elements[i]));
    return pg::track_text(fcinfo, values, static_cast<std::size_t>(count), nullptr);
}

// track(tenant_id text, name text, properties bpchar, user_id text, ...): untyped or text-typed
// calls with named arguments.
TELEMETRY_DEFINER_FUNCTION(telemetry_track_named_text) {
    using namespace telemetry;
    std::optional<std::string_view> slots[track_field_count];
    for (int i = 0; i < static_cast<int>(track_field_count) && i < PG_NARGS(); ++i)
        slots[i] = pg::optional_text(fcinfo, i);
    bool given[track_field_count];
    pg::given_arguments(fcinfo, given);
    return pg::track_text(fcinfo, slots, track_field_count, given);
}

// unset_argument() RETURNS text: NULL. The default of the named text form's arguments, by which
// it knows an argument the call left out (given_arguments).
TELEMETRY_FUNCTION(telemetry_unset_argument) { PG_RETURN_NULL(); }
