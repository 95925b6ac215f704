// telemetry.check_written_event(): the BEFORE INSERT OR UPDATE row trigger of telemetry.events
// (cloned onto every partition), which holds every row written outside track() and
// track_batch() to the size limit and the PII policy (core/ingest/written_row.hpp). Those two
// store below the executor, where no trigger fires: their events were checked by decide(). (On
// a partition they must write through the executor, the trigger looks again: it changes
// nothing decide() made.)
//
// While telemetry.restoring is on, rows pass as they are: a dump holds what was accepted under
// the rules of its day, and a restore may load the events before the catalog that judges them.
#include <cstring>

#include "core/ingest/written_row.hpp"
#include "core/json/jsonb.hpp"
#include "pg/boundary/context_owned.hpp"
#include "pg/boundary/convert.hpp"
#include "pg/boundary/guard.hpp"
#include "pg/catalog/catalog_cache.hpp"
#include "pg/ingest/event_store.hpp"
#include "pg/ingest/pipeline.hpp"
#include "pg/observe/counters.hpp"
#include "pg/pii/pii_policies.hpp"
#include "pg/settings.hpp"
#include "pg/tenancy/database_secrets.hpp"

extern "C" {
#include "commands/trigger.h"
#include "executor/spi.h"
#include "utils/datum.h"
}

extern "C" {
PGDLLEXPORT Datum telemetry_check_written_event(PG_FUNCTION_ARGS);
}

namespace telemetry::pg {

namespace {

Oid guard_trigger_function = InvalidOid;  // telemetry.check_written_event(), once recognised

// The columns the check reads and may change, by name: a partition attached by hand may order
// its columns differently from the parent.
struct Columns {
    int tenant_id, name, properties, user_id, session_id, flags;
};

Columns find_columns(TupleDesc desc) {
    Columns c;
    c.tenant_id = SPI_fnumber(desc, "tenant_id");
    c.name = SPI_fnumber(desc, "name");
    c.properties = SPI_fnumber(desc, "properties");
    c.user_id = SPI_fnumber(desc, "user_id");
    c.session_id = SPI_fnumber(desc, "session_id");
    c.flags = SPI_fnumber(desc, "flags");
    for (int attnum : {c.tenant_id, c.name, c.properties, c.user_id, c.session_id, c.flags})
        if (attnum <= 0)
            ereport(ERROR, (errcode(ERRCODE_UNDEFINED_COLUMN),
                            errmsg("telemetry.check_written_event(): the table lacks a column of telemetry.events")));
    return c;
}

// Whether column attnum differs between the old and new row of an UPDATE.
bool column_changed(HeapTuple old_row, HeapTuple new_row, TupleDesc desc, int attnum) {
    bool old_null, new_null;
    const Datum a = heap_getattr(old_row, attnum, desc, &old_null);
    const Datum b = heap_getattr(new_row, attnum, desc, &new_null);
    if (old_null || new_null) return old_null != new_null;
    const Form_pg_attribute att = TupleDescAttr(desc, attnum - 1);
    return !datum_image_eq(a, b, att->attbyval, att->attlen);
}

std::optional<std::string_view> optional_text_column(HeapTuple row, TupleDesc desc, int attnum) {
    bool isnull;
    const Datum d = heap_getattr(row, attnum, desc, &isnull);
    if (isnull) return std::nullopt;
    return text_view(DatumGetTextPP(d));
}

}  // namespace

bool is_write_guard_trigger(const Trigger& trigger) {
    if (OidIsValid(guard_trigger_function) && trigger.tgfoid == guard_trigger_function) return true;
    // A C function of this library at our symbol: remember its OID (it changes only when the
    // extension is created again).
    FmgrInfo info;
    fmgr_info(trigger.tgfoid, &info);
    if (info.fn_addr != telemetry_check_written_event) return false;
    guard_trigger_function = trigger.tgfoid;
    return true;
}

}  // namespace telemetry::pg

TELEMETRY_FUNCTION(telemetry_check_written_event) {
    using namespace telemetry;
    using namespace telemetry::pg;
    if (!CALLED_AS_TRIGGER(fcinfo))
        ereport(ERROR, (errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
                        errmsg("telemetry.check_written_event() must be called as a trigger")));
    TriggerData* trigger = reinterpret_cast<TriggerData*>(fcinfo->context);
    if (!TRIGGER_FIRED_BEFORE(trigger->tg_event) || !TRIGGER_FIRED_FOR_ROW(trigger->tg_event) ||
        !(TRIGGER_FIRED_BY_INSERT(trigger->tg_event) || TRIGGER_FIRED_BY_UPDATE(trigger->tg_event)))
        ereport(ERROR, (errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
                        errmsg("telemetry.check_written_event() must fire BEFORE INSERT OR UPDATE FOR EACH ROW")));
    const bool updating = TRIGGER_FIRED_BY_UPDATE(trigger->tg_event);
    HeapTuple row = updating ? trigger->tg_newtuple : trigger->tg_trigtuple;
    if (restoring) return PointerGetDatum(row);

    TupleDesc desc = RelationGetDescr(trigger->tg_relation);
    const Columns col = find_columns(desc);
    // An UPDATE that changes none of the checked columns (name, tenant, properties, ids), such as
    // one of flags or times, is not checked again; one that changes only the ids (anonymize_user()'s
    // pseudonym) has only its ids checked.
    bool ids_only = false;
    if (updating) {
        const bool rest_changed = column_changed(trigger->tg_trigtuple, row, desc, col.name) ||
                                  column_changed(trigger->tg_trigtuple, row, desc, col.properties) ||
                                  column_changed(trigger->tg_trigtuple, row, desc, col.tenant_id);
        const bool ids_changed = column_changed(trigger->tg_trigtuple, row, desc, col.user_id) ||
                                 column_changed(trigger->tg_trigtuple, row, desc, col.session_id);
        if (!rest_changed && !ids_changed) return PointerGetDatum(row);
        ids_only = !rest_changed;
    }

    bool isnull[4];
    const Datum tenant_datum = heap_getattr(row, col.tenant_id, desc, &isnull[0]);
    const Datum name_datum = heap_getattr(row, col.name, desc, &isnull[1]);
    const Datum properties_datum = heap_getattr(row, col.properties, desc, &isnull[2]);
    const Datum flags_datum = heap_getattr(row, col.flags, desc, &isnull[3]);
    // NOT NULL constraints are checked after BEFORE triggers: leave those rows to them.
    if (isnull[0] || isnull[1] || isnull[2]) return PointerGetDatum(row);

    MemoryContext caller = CurrentMemoryContext;
    MemoryContext call_memory = AllocSetContextCreate(caller, "telemetry.check_written_event", ALLOCSET_SMALL_SIZES);
    MemoryContextSwitchTo(call_memory);
    Arena arena(chunks_from(call_memory));

    const pg_uuid_t tenant = *DatumGetUUIDP(tenant_datum);
    WrittenRow written;
    written.name = text_view(DatumGetTextPP(name_datum));
    written.user_id = optional_text_column(row, desc, col.user_id);
    written.session_id = optional_text_column(row, desc, col.session_id);
    written.ids_only = ids_only;
    IngestSettings settings;
    settings.tenant_id = uuid_bytes(tenant);
    RowCheck check;
    std::string_view encoded;
    // What the core raises here (a document over its limits, a duplicate key) is raised again
    // without the statement and the context, like the refusals below: COPY's CONTEXT line
    // quotes the row. Only trivially destructible objects are alive across this block.
    PG_TRY();
    {
        // (Only ids checked: the properties are not read, and stay as they are.)
        if (!ids_only) written.properties = decode_properties(DatumGetJsonbP(properties_datum), arena);
        settings.pii_master_key = pii_master_key();
        settings.pii_policy = tenant_pii_policy(tenant);
        const Catalog& catalog = current_catalog();
        core_phase_or_raise([&] {
            check = check_written_row(catalog, settings, written, arena);
            if (!check.refused && check.properties_rewritten) encoded = encode_jsonb(*check.properties, arena);
        });
    }
    PG_CATCH();
    {
        MemoryContextSwitchTo(caller);
        ErrorData* error = CopyErrorData();
        FlushErrorState();
        ereport(ERROR,
                (errcode(error->sqlerrcode), errmsg_internal("%s", error->message),
                 error->detail != nullptr ? errdetail_internal("%s", error->detail) : 0,
                 error->hint != nullptr ? errhint("%s", error->hint) : 0, errhidestmt(true), errhidecontext(true)));
    }
    PG_END_TRY();
    for (std::uint32_t k = 0; k < check.pii_decision_count; ++k)
        count_pii_decision(check.pii_decisions[k].detector, check.pii_decisions[k].action);
    if (check.refused) {
        // Never the statement or the row (COPY's CONTEXT line quotes it): they may hold the
        // personal data this refused (log_min_error_statement logs a failing statement).
        ereport(ERROR, (errcode(MAKE_SQLSTATE(check.sqlstate[0], check.sqlstate[1], check.sqlstate[2],
                                              check.sqlstate[3], check.sqlstate[4])),
                        errmsg_internal("%.*s", static_cast<int>(check.reason.size()), check.reason.data()),
                        *check.hint ? errhint("%s", check.hint) : 0, errhidestmt(true), errhidecontext(true)));
    }
    if (check.flags == 0 && !check.properties_rewritten && !check.ids_rewritten) {
        MemoryContextSwitchTo(caller);
        MemoryContextDelete(call_memory);
        return PointerGetDatum(row);
    }

    MemoryContextSwitchTo(caller);
    int columns[4];
    Datum values[4];
    bool nulls[4] = {false, false, false, false};
    int n = 0;
    columns[n] = col.flags;
    values[n++] = Int16GetDatum(static_cast<int16>((isnull[3] ? 0 : DatumGetInt16(flags_datum)) | check.flags));
    if (check.properties_rewritten) {
        columns[n] = col.properties;
        values[n++] = PointerGetDatum(as_jsonb(encoded));
    }
    if (check.ids_rewritten) {
        columns[n] = col.user_id;
        nulls[n] = !check.user_id;
        values[n++] = check.user_id ? PointerGetDatum(to_text(*check.user_id)) : Datum(0);
        columns[n] = col.session_id;
        nulls[n] = !check.session_id;
        values[n++] = check.session_id ? PointerGetDatum(to_text(*check.session_id)) : Datum(0);
    }
    HeapTuple changed = heap_modify_tuple_by_cols(row, desc, n, columns, values, nulls);
    MemoryContextDelete(call_memory);
    return PointerGetDatum(changed);
}
