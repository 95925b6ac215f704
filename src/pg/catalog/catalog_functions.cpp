// SQL functions over catalog documents: validate_catalog() and valid_event_name().
// telemetry.load_catalog() (SQL, src/sql/20_catalog.sql) stores what validate_catalog() returns.
#include <cstring>
#include <string>

#include "core/catalog/catalog_document.hpp"
#include "core/catalog/event_name.hpp"
#include "core/catalog/schema.hpp"
#include "core/catalog/schema_compat.hpp"
#include "pg/boundary/convert.hpp"
#include "pg/boundary/guard.hpp"

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
int parse_document(std::string_view text, PlainEventType** out) {
    return core_phase_or_raise([&] {
        const std::vector<EventTypeSpec> events = parse_catalog_document(text);
        const std::size_t n = events.size();
        auto* rows = static_cast<PlainEventType*>(palloc_or_throw(sizeof(PlainEventType) * (n ? n : 1)));
        for (std::size_t i = 0; i < n; ++i) {
            const EventTypeSpec& spec = events[i];
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
    });
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
    const int n = parse_document(text, &rows);

    InitMaterializedSRF(fcinfo, 0);
    ReturnSetInfo* rsinfo = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);
    for (int i = 0; i < n; ++i) {
        Datum values[8] = {
            CStringGetTextDatum(rows[i].name),         CStringGetTextDatum(rows[i].version),
            CStringGetTextDatum(rows[i].status),       CStringGetTextDatum(rows[i].description),
            Float8GetDatum(rows[i].sample_rate),       Int32GetDatum(rows[i].max_bytes),
            CStringGetTextDatum(rows[i].on_violation), DirectFunctionCall1(jsonb_in, CStringGetDatum(rows[i].schema)),
        };
        bool nulls[8] = {};
        tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
    }
    return (Datum)0;
}

// valid_event_name(name text) RETURNS boolean: the naming rule, for CHECK constraints and apps.
TELEMETRY_FUNCTION(telemetry_valid_event_name) {
    text* name = PG_GETARG_TEXT_PP(0);
    const std::string_view view = telemetry::pg::text_view(name);
    PG_RETURN_BOOL(telemetry::check_event_name(view) == telemetry::EventNameVerdict::ok);
}

namespace telemetry::pg {
namespace {

std::string_view jsonb_text(Jsonb* j) {
    const char* s = JsonbToCString(nullptr, &j->root, VARSIZE(j));
    return {s, std::strlen(s)};
}

// Core phase for the trigger: does the schema compile, and how large are its patterns?
std::size_t check_schema(std::string_view name, std::string_view schema) {
    return core_phase_or_raise([&] {
        return compile_schema(schema, "event type \"" + std::string(name) + "\": $.schema")->pattern_instructions();
    });
}

}  // namespace
}  // namespace telemetry::pg

// BEFORE INSERT OR UPDATE trigger on telemetry.event_types: hand edits get the checks that
// load_catalog() applies to documents (the CHECK constraints cover the rest), and every row
// records the size of its compiled patterns, for the catalog's budget.
TELEMETRY_FUNCTION(telemetry_check_event_type) {
    using namespace telemetry::pg;
    if (!CALLED_AS_TRIGGER(fcinfo))
        ereport(ERROR, (errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
                        errmsg("check_event_type() must be called as a trigger")));
    TriggerData* trigger = reinterpret_cast<TriggerData*>(fcinfo->context);
    HeapTuple row = TRIGGER_FIRED_BY_UPDATE(trigger->tg_event) ? trigger->tg_newtuple : trigger->tg_trigtuple;
    TupleDesc desc = trigger->tg_relation->rd_att;
    bool isnull;
    const Datum schema = heap_getattr(row, SPI_fnumber(desc, "schema"), desc, &isnull);
    bool name_null;
    const Datum name_datum = heap_getattr(row, SPI_fnumber(desc, "name"), desc, &name_null);
    if (isnull || name_null) return PointerGetDatum(row);  // the NOT NULL constraints say so
    const std::string_view schema_text = jsonb_text(DatumGetJsonbP(schema));
    const char* name_text = TextDatumGetCString(name_datum);
    const std::size_t instructions = check_schema(name_text, schema_text);
    int column = SPI_fnumber(desc, "pattern_instructions");
    if (column <= 0) return PointerGetDatum(row);  // the 0.1.0 table, until ALTER EXTENSION UPDATE
    Datum value = Int32GetDatum(static_cast<int32>(instructions));
    bool value_null = false;
    return PointerGetDatum(heap_modify_tuple_by_cols(row, desc, 1, &column, &value, &value_null));
}

// AFTER statement trigger on telemetry.event_types: the patterns of the whole catalog stay
// within their budget (core/catalog/schema.hpp).
TELEMETRY_FUNCTION(telemetry_check_catalog_budget) {
    using namespace telemetry;
    if (!CALLED_AS_TRIGGER(fcinfo))
        ereport(ERROR, (errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
                        errmsg("check_catalog_budget() must be called as a trigger")));
    SPI_connect();  // (its SQL names everything by schema: no search path to set)
    // Not read-only: SPI then takes a snapshot that sees the rows of the statement that fired us.
    SPI_execute("SELECT pg_catalog.sum(pattern_instructions)::pg_catalog.int8 FROM telemetry.event_types", false, 1);
    bool isnull = true;
    const Datum sum =
        SPI_processed == 1 ? SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull) : (Datum)0;
    const int64 total = isnull ? 0 : DatumGetInt64(sum);
    SPI_finish();
    if (total > static_cast<int64>(max_catalog_pattern_instructions))
        ereport(ERROR,
                (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
                 errmsg("the patterns of the catalog compile to %lld RE2 instructions, over the budget of %zu",
                        static_cast<long long>(total), max_catalog_pattern_instructions),
                 errhint("Simplify the patterns (fewer alternatives and repetitions), or check less with them.")));
    return PointerGetDatum(nullptr);
}

// catalog_change_refusal(name, old_version, old_schema, old_max_bytes, new_version, new_schema,
// new_max_bytes): why load_catalog() must refuse this change, or NULL.
TELEMETRY_FUNCTION(telemetry_catalog_change_refusal) {
    using namespace telemetry;
    using namespace telemetry::pg;
    const char* name = text_to_cstring(PG_GETARG_TEXT_PP(0));
    const char* old_version = text_to_cstring(PG_GETARG_TEXT_PP(1));
    const std::string_view old_schema = jsonb_text(PG_GETARG_JSONB_P(2));
    const int32 old_max_bytes = PG_GETARG_INT32(3);
    const char* new_version = text_to_cstring(PG_GETARG_TEXT_PP(4));
    const std::string_view new_schema = jsonb_text(PG_GETARG_JSONB_P(5));
    const int32 new_max_bytes = PG_GETARG_INT32(6);
    const std::optional<SchemaVer> before_version = parse_schema_ver(old_version);
    const std::optional<SchemaVer> after_version = parse_schema_ver(new_version);
    if (!before_version || !after_version)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                        errmsg("versions must be SchemaVer MODEL-REVISION-ADDITION")));
    const CatalogChange before{*before_version, old_schema, old_max_bytes};
    const CatalogChange after{*after_version, new_schema, new_max_bytes};
    const char* refusal = core_phase_or_raise([&]() -> const char* {
        const std::string why = refuse_catalog_change(name, before, after);
        return why.empty() ? nullptr : pstrdup_or_throw(why);
    });
    if (refusal == nullptr) PG_RETURN_NULL();
    PG_RETURN_TEXT_P(cstring_to_text(refusal));
}
