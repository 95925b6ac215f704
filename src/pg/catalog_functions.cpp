// SQL functions over catalog documents: validate_catalog() and valid_event_name().
// telemetry.load_catalog() (SQL, src/sql/20_catalog.sql) stores what validate_catalog() returns.
#include <cstring>
#include <string>

#include "core/catalog_document.hpp"
#include "core/event_name.hpp"
#include "pg/guard.hpp"

namespace telemetry::pg {

namespace {

// An event type in palloc'd memory, so the SRF can emit it after the C++ objects are gone.
struct PlainEventType {
    char* name;
    char* version;
    const char* status;
    char* description;
    double sample_rate;
    int32 max_bytes;
    const char* on_violation;
    char* schema;
};

// Core phase: parse the document and copy the result out. No PostgreSQL call may raise here:
// allocation goes through palloc_or_throw, which reports failure as std::bad_alloc.
int parse_document(std::string_view text, PlainEventType** out, PendingError& pending) noexcept {
    try {
        ParsedCatalogDocument parsed = parse_catalog_document(text);
        if (failed(parsed.error)) {
            pending.capture(parsed.error);
            return 0;
        }
        const std::size_t n = parsed.events.size();
        auto* rows = static_cast<PlainEventType*>(palloc_or_throw(sizeof(PlainEventType) * (n ? n : 1)));
        for (std::size_t i = 0; i < n; ++i) {
            const EventTypeSpec& spec = parsed.events[i];
            rows[i].name = pstrdup_or_throw(spec.name);
            rows[i].version = pstrdup_or_throw(spec.version.str());
            rows[i].status = to_string(spec.status);  // static strings
            rows[i].description = pstrdup_or_throw(spec.description);
            rows[i].sample_rate = spec.sample_rate;
            rows[i].max_bytes = spec.max_bytes;
            rows[i].on_violation = to_string(spec.on_violation);
            rows[i].schema = pstrdup_or_throw(spec.schema_json);
        }
        *out = rows;
        return static_cast<int>(n);
    } catch (...) {
        pending.capture(current_exception_error());
        return 0;
    }
}

}  // namespace

}  // namespace telemetry::pg

// validate_catalog(document jsonb) RETURNS TABLE (name, version, status, description,
// sample_rate, max_bytes, on_violation, schema): the event types of a catalog document,
// normalised, or an error naming the JSON path of the first problem.
TELEMETRY_FUNCTION(telemetry_validate_catalog) {
    using namespace telemetry::pg;
    if (PG_ARGISNULL(0))
        ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("catalog document must not be NULL")));
    Jsonb* document = PG_GETARG_JSONB_P(0);
    const char* text = JsonbToCString(nullptr, &document->root, VARSIZE(document));

    PlainEventType* rows = nullptr;
    PendingError pending;
    const int n = parse_document(text, &rows, pending);
    if (pending.set) pending.raise();

    InitMaterializedSRF(fcinfo, 0);
    ReturnSetInfo* rsinfo = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);
    for (int i = 0; i < n; ++i) {
        Datum values[8] = {
            CStringGetTextDatum(rows[i].name),
            CStringGetTextDatum(rows[i].version),
            CStringGetTextDatum(rows[i].status),
            CStringGetTextDatum(rows[i].description),
            Float8GetDatum(rows[i].sample_rate),
            Int32GetDatum(rows[i].max_bytes),
            CStringGetTextDatum(rows[i].on_violation),
            DirectFunctionCall1(jsonb_in, CStringGetDatum(rows[i].schema)),
        };
        bool nulls[8] = {};
        tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
    }
    return (Datum)0;
}

// valid_event_name(name text) RETURNS boolean: the naming rule, for CHECK constraints and apps.
TELEMETRY_FUNCTION(telemetry_valid_event_name) {
    text* name = PG_GETARG_TEXT_PP(0);
    const std::string_view view(VARDATA_ANY(name), VARSIZE_ANY_EXHDR(name));
    PG_RETURN_BOOL(telemetry::check_event_name(view) == telemetry::EventNameVerdict::ok);
}
