// telemetry.track(): record one event inside the caller's transaction.
//
// The steps run in a fixed order, each refusing with its own SQLSTATE (docs/errors.md):
// arguments present -> name follows the naming rule -> the catalog knows the type and it is
// accepting -> properties is a JSON object -> ids are sane -> a partition takes the event time
// -> insert. Messages name the rule, never a payload value: properties, user and session ids
// may be personal data. An event name is echoed only once it has passed the naming rule.
#include <cstdio>
#include <string_view>

#include "core/catalog.hpp"
#include "core/event_name.hpp"
#include "pg/catalog_cache.hpp"
#include "pg/event_store.hpp"
#include "pg/guard.hpp"

namespace telemetry::pg {

namespace {

constexpr int max_id_bytes = 256;

// Positions of track()'s arguments after the tenant: the single-tenant form has no tenant
// argument, so its positions are one less.
struct TrackArgs {
    int name, properties, user_id, session_id, occurred_at;
};
constexpr TrackArgs multi_tenant_args{1, 2, 3, 4, 5};
constexpr TrackArgs single_tenant_args{0, 1, 2, 3, 4};

// The tenant of single-tenant applications: the nil UUID.
constexpr pg_uuid_t default_tenant{};

std::string_view text_view(const text* t) {
    return {VARDATA_ANY(t), static_cast<std::size_t>(VARSIZE_ANY_EXHDR(t))};
}

[[noreturn]] void refuse(int code, const char* message, const char* hint = nullptr) {
    ereport(ERROR, (errcode(code), errmsg_internal("%s", message), hint ? errhint("%s", hint) : 0));
    pg_unreachable();
}

void require_argument(FunctionCallInfo fcinfo, int position, const char* message, const char* hint = nullptr) {
    if (PG_ARGISNULL(position)) refuse(ERRCODE_NULL_VALUE_NOT_ALLOWED, message, hint);
}

// user_id and session_id: optional, but when given neither empty nor oversized.
text* optional_id(FunctionCallInfo fcinfo, int position, const char* what) {
    if (PG_ARGISNULL(position)) return nullptr;
    text* id = PG_GETARG_TEXT_PP(position);
    const int bytes = VARSIZE_ANY_EXHDR(id);
    char message[160];
    if (bytes == 0) {
        snprintf(message, sizeof message, "%s must not be empty", what);
        refuse(ERRCODE_INVALID_PARAMETER_VALUE, message, "Pass NULL for an event without one.");
    }
    if (bytes > max_id_bytes) {
        snprintf(message, sizeof message, "%s must be at most %d bytes", what, max_id_bytes);
        refuse(ERRCODE_STRING_DATA_RIGHT_TRUNCATION, message);
    }
    return id;
}

const char* json_kind(const Jsonb* j) {
    if (JB_ROOT_IS_OBJECT(j)) return "an object";
    if (JB_ROOT_IS_ARRAY(j) && !JB_ROOT_IS_SCALAR(j)) return "an array";
    JsonbValue scalar;
    if (JsonbExtractScalar(const_cast<JsonbContainer*>(&j->root), &scalar)) {
        switch (scalar.type) {
            case jbvNull: return "null";
            case jbvString: return "a string";
            case jbvNumeric: return "a number";
            case jbvBool: return "a boolean";
            default: break;
        }
    }
    return "a scalar";
}

// The catalog's verdict on an event type, copied out as plain data so the catalog reference
// is not held across the insert.
struct TypeCheck {
    bool known;
    EventStatus status;
    char schema_version[32];
};

TypeCheck check_type(std::string_view name) {
    TypeCheck out{};
    const EventTypeSpec* type = current_catalog().find(name);
    if (type == nullptr) return out;
    out.known = true;
    out.status = type->status;
    const SchemaVer& v = type->version;
    snprintf(out.schema_version, sizeof out.schema_version, "%u-%u-%u", v.model, v.revision, v.addition);
    if (type->status == EventStatus::deprecated && first_deprecation_notice(*type))
        ereport(WARNING, (errmsg("event type \"%.*s\" is deprecated", static_cast<int>(name.size()), name.data()),
                          errhint("It is still recorded; move producers to its replacement.")));
    return out;
}

Datum track(FunctionCallInfo fcinfo, const pg_uuid_t* tenant, const TrackArgs& at) {
    require_argument(fcinfo, at.name, "event name must not be NULL");
    require_argument(fcinfo, at.properties, "properties must not be NULL",
                     "Pass '{}' for an event without properties.");

    text* name = PG_GETARG_TEXT_PP(at.name);
    const std::string_view name_view = text_view(name);
    const EventNameVerdict verdict = check_event_name(name_view);
    if (verdict != EventNameVerdict::ok) refuse(ERRCODE_INVALID_NAME, describe(verdict));

    const TypeCheck type = check_type(name_view);
    char message[256];
    const int name_len = static_cast<int>(name_view.size());
    if (!type.known) {
        snprintf(message, sizeof message, "event type \"%.*s\" is not in the catalog", name_len, name_view.data());
        refuse(ERRCODE_UNDEFINED_OBJECT, message,
               "Declare it with telemetry.load_catalog() or telemetry.define_event() first.");
    }
    if (type.status == EventStatus::planned || type.status == EventStatus::blocked) {
        snprintf(message, sizeof message, "event type \"%.*s\" is %s: it does not accept events", name_len,
                      name_view.data(), to_string(type.status));
        refuse(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE, message,
               type.status == EventStatus::planned ? "Set its status to active in the catalog to start recording it."
                                                   : nullptr);
    }

    Jsonb* properties = PG_GETARG_JSONB_P(at.properties);
    if (!JB_ROOT_IS_OBJECT(properties)) {
        snprintf(message, sizeof message, "properties must be a JSON object, found %s", json_kind(properties));
        refuse(ERRCODE_INVALID_PARAMETER_VALUE, message);
    }

    text* user_id = optional_id(fcinfo, at.user_id, "user_id");
    text* session_id = optional_id(fcinfo, at.session_id, "session_id");

    const TimestampTz now = GetCurrentTimestamp();
    TimestampTz occurred_at = now;
    if (!PG_ARGISNULL(at.occurred_at)) {
        occurred_at = PG_GETARG_TIMESTAMPTZ(at.occurred_at);
        if (TIMESTAMP_NOT_FINITE(occurred_at))
            refuse(ERRCODE_DATETIME_FIELD_OVERFLOW, "occurred_at must be a finite timestamp");
    }
    if (!partition_accepts(occurred_at))
        refuse(ERRCODE_DATETIME_FIELD_OVERFLOW, "occurred_at falls on a day without a partition of telemetry.events",
               "Partitions cover telemetry.retention_days back and telemetry.premake_days ahead; "
               "SELECT telemetry.create_partitions() makes any that are missing.");

    StoredEvent event{};
    event.tenant_id = *tenant;
    event.event_id = new_event_id(now);
    event.name = name;
    event.properties = properties;
    event.user_id = user_id;
    event.session_id = session_id;
    event.occurred_at = occurred_at;
    event.received_at = now;
    event.sample_weight = 1.0f;
    event.source = "server";
    event.schema_version = type.schema_version;
    insert_event(event);

    pg_uuid_t* result = static_cast<pg_uuid_t*>(palloc(sizeof(pg_uuid_t)));
    *result = event.event_id;
    return UUIDPGetDatum(result);
}

}  // namespace

}  // namespace telemetry::pg

// track(tenant_id uuid, name text, properties jsonb, user_id text, session_id text, occurred_at timestamptz)
TELEMETRY_FUNCTION(telemetry_track) {
    if (PG_ARGISNULL(0))
        ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("tenant_id must not be NULL")));
    return telemetry::pg::track(fcinfo, PG_GETARG_UUID_P(0), telemetry::pg::multi_tenant_args);
}

// track(name text, properties jsonb, user_id text, session_id text, occurred_at timestamptz)
TELEMETRY_FUNCTION(telemetry_track_default_tenant) {
    return telemetry::pg::track(fcinfo, &telemetry::pg::default_tenant, telemetry::pg::single_tenant_args);
}
