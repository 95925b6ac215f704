#include "pg/rollup/rollup_log.hpp"

#include <cstring>

#include "core/rollup/logged_cells.hpp"
#include "pg/boundary/guard.hpp"
#include "pg/boundary/search_path.hpp"
#include "pg/boundary/table_watch.hpp"

extern "C" {
#include "access/xact.h"
#include "storage/lmgr.h"
#include "utils/date.h"
}

extern "C" {
PGDLLEXPORT Datum telemetry_log_event_changes(PG_FUNCTION_ARGS);
}

namespace telemetry::pg {

namespace {

TableWatch state_watch("rollup_state");
// The threshold as last read: days before it are closed. None before the first advance.
bool threshold_loaded = false;
bool threshold_set = false;
DateADT threshold = 0;
// The cells this transaction logged from the direct write path.
LoggedCells logged_cells;
SPIPlanPtr log_cell_plan = nullptr;
Oid log_trigger_function = InvalidOid;  // telemetry.log_event_changes(), once recognised

// Runs an SPI statement as the owner of the log, with the safe search path, and back.
struct AsOwner {
    Oid saved_user;
    int saved_context;
};
AsOwner become_owner(Oid relid) {
    AsOwner saved;
    GetUserIdAndSecContext(&saved.saved_user, &saved.saved_context);
    SetUserIdAndSecContext(relation_owner(relid),
                           saved.saved_context | SECURITY_LOCAL_USERID_CHANGE | SECURITY_NOFORCE_RLS);
    return saved;
}
void restore_user(const AsOwner& saved) { SetUserIdAndSecContext(saved.saved_user, saved.saved_context); }

// The threshold, read again when rollup_state changed (or was never read). With the latest
// snapshot, not the transaction's: under REPEATABLE READ a snapshot older than the lock on
// telemetry.events could miss a threshold that moved before the lock was granted. False when
// this database has no rollups yet (a release before them, or no advance yet).
bool current_threshold(DateADT* out) {
    if (!threshold_loaded || state_watch.stale()) {
        if (!OidIsValid(telemetry_relid("rollup_state", true))) return false;  // before 0.5.0
        const TableWatch::Reading reading = state_watch.begin_reading();
        threshold_loaded = false;
        const AsOwner saved = become_owner(reading.relid);
        use_safe_search_path();
        SPI_connect();
        PushActiveSnapshot(GetLatestSnapshot());
        SPI_execute("SELECT threshold FROM telemetry.rollup_state", true, 1);
        PopActiveSnapshot();
        restore_user(saved);
        bool isnull = true;
        Datum value = 0;
        if (SPI_processed == 1) value = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
        threshold_set = !isnull;
        threshold = isnull ? 0 : DatumGetDateADT(value);
        SPI_finish();
        threshold_loaded = true;
        state_watch.finished(reading);
    }
    *out = threshold;
    return threshold_set;
}

void log_cell(Oid log_relid, const pg_uuid_t& tenant, DateADT day) {
    const AsOwner saved = become_owner(log_relid);
    use_safe_search_path();
    SPI_connect();
    if (log_cell_plan == nullptr) {
        Oid types[2] = {UUIDOID, DATEOID};
        SPIPlanPtr plan = SPI_prepare(
            "INSERT INTO telemetry.rollup_invalidations (tenant_id, first_day, last_day, reason) "
            "VALUES ($1, $2, $2, 'insert')",
            2, types);
        if (plan == nullptr) elog(ERROR, "telemetry: preparing the invalidation insert failed");
        SPI_keepplan(plan);
        log_cell_plan = plan;
    }
    Datum values[2] = {UUIDPGetDatum(&tenant), DateADTGetDatum(day)};
    const int rc = SPI_execute_plan(log_cell_plan, values, nullptr, false, 0);
    if (rc != SPI_OK_INSERT)
        elog(ERROR, "telemetry: logging a rollup invalidation failed: %s", SPI_result_code_string(rc));
    SPI_finish();
    restore_user(saved);
}

void on_transaction_end(XactEvent event, void*) {
    switch (event) {
        case XACT_EVENT_COMMIT:
        case XACT_EVENT_PARALLEL_COMMIT:
        case XACT_EVENT_ABORT:
        case XACT_EVENT_PARALLEL_ABORT:
        case XACT_EVENT_PREPARE:
            logged_cells.clear();
            break;
        default:
            break;
    }
}

// A subtransaction rolled back may have taken logged rows with it: forget them all (logging a
// cell again costs a row).
void on_subtransaction_end(SubXactEvent event, SubTransactionId, SubTransactionId, void*) {
    if (event == SUBXACT_EVENT_ABORT_SUB) logged_cells.clear();
}

}  // namespace

bool is_rollup_log_trigger(const Trigger& trigger) {
    if (trigger.tgfoid == log_trigger_function && OidIsValid(log_trigger_function)) return true;
    // A C function of this library with our symbol: remember its OID (it changes only when the
    // extension is created again).
    FmgrInfo info;
    fmgr_info(trigger.tgfoid, &info);
    if (info.fn_addr != telemetry_log_event_changes) return false;
    log_trigger_function = trigger.tgfoid;
    return true;
}

void log_written_events(const StoredEvent* events, const int* which, int n) {
    DateADT closed_before;
    if (n <= 0 || !current_threshold(&closed_before)) return;
    Oid log_relid = InvalidOid;
    for (int k = 0; k < n; ++k) {
        const StoredEvent& e = events[which[k]];
        const DateADT day = utc_day(e.occurred_at);
        if (day >= closed_before) continue;
        Uuid tenant;
        std::memcpy(tenant.data(), e.tenant_id.data, tenant.size());
        if (!logged_cells.insert(tenant, day)) continue;
        if (!OidIsValid(log_relid)) log_relid = telemetry_relid("rollup_invalidations", false);
        log_cell(log_relid, e.tenant_id, day);
    }
}

void register_rollup_callbacks() {
    RegisterXactCallback(on_transaction_end, nullptr);
    RegisterSubXactCallback(on_subtransaction_end, nullptr);
}

}  // namespace telemetry::pg

// ---------------------------------------------------------------------------------------------
// SQL functions (src/sql/50_rollup.sql).

// The statement triggers of telemetry.events: one log row per tenant of the statement's rows
// whose day is closed (its transition tables, grouped in SQL), or, for TRUNCATE, every day
// before the threshold of every tenant.
TELEMETRY_FUNCTION(telemetry_log_event_changes) {
    using namespace telemetry::pg;
    if (!CALLED_AS_TRIGGER(fcinfo))
        ereport(ERROR, (errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
                        errmsg("telemetry.log_event_changes() must be called as a trigger")));
    TriggerData* trigger = reinterpret_cast<TriggerData*>(fcinfo->context);
    if (!TRIGGER_FIRED_FOR_STATEMENT(trigger->tg_event) || !TRIGGER_FIRED_AFTER(trigger->tg_event))
        ereport(ERROR, (errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
                        errmsg("telemetry.log_event_changes() must be an AFTER ... FOR EACH STATEMENT trigger")));
    DateADT closed_before;
    if (!current_threshold(&closed_before)) return PointerGetDatum(nullptr);
    const Oid log_relid = telemetry_relid("rollup_invalidations", false);
    const Trigger* t = trigger->tg_trigger;
    StringInfoData sql;
    initStringInfo(&sql);
    const char* reason;
    if (TRIGGER_FIRED_BY_TRUNCATE(trigger->tg_event)) {
        reason = "truncate";
        appendStringInfoString(
            &sql,
            "INSERT INTO telemetry.rollup_invalidations (tenant_id, first_day, last_day, reason) "
            "SELECT NULL::pg_catalog.uuid, '-infinity'::pg_catalog.date, $1 OPERATOR(pg_catalog.-) 1, $2");
    } else {
        reason = TRIGGER_FIRED_BY_INSERT(trigger->tg_event)   ? "insert"
                 : TRIGGER_FIRED_BY_UPDATE(trigger->tg_event) ? "update"
                                                              : "delete";
        const char* tables[2] = {t->tgoldtable, t->tgnewtable};
        appendStringInfoString(&sql,
                               "INSERT INTO telemetry.rollup_invalidations (tenant_id, first_day, last_day, reason) "
                               "SELECT c.tenant_id, pg_catalog.min(c.day), pg_catalog.max(c.day), $2 FROM (");
        bool first = true;
        for (const char* table : tables) {
            if (table == nullptr) continue;
            if (!first) appendStringInfoString(&sql, " UNION ALL ");
            first = false;
            appendStringInfo(&sql,
                             "SELECT r.tenant_id, (r.occurred_at AT TIME ZONE 'UTC')::pg_catalog.date AS day FROM %s r",
                             quote_identifier(table));
        }
        if (first)
            ereport(ERROR, (errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
                            errmsg("telemetry.log_event_changes() needs the statement's transition tables")));
        appendStringInfoString(&sql, ") c WHERE c.day OPERATOR(pg_catalog.<) $1 GROUP BY c.tenant_id");
    }
    const AsOwner saved = become_owner(log_relid);
    use_safe_search_path();
    SPI_connect();
    SPI_register_trigger_data(trigger);
    Oid types[2] = {DATEOID, TEXTOID};
    Datum values[2] = {DateADTGetDatum(closed_before), CStringGetTextDatum(reason)};
    const int rc = SPI_execute_with_args(sql.data, 2, types, values, nullptr, false, 0);
    if (rc != SPI_OK_INSERT)
        elog(ERROR, "telemetry: logging rollup invalidations failed: %s", SPI_result_code_string(rc));
    SPI_finish();
    restore_user(saved);
    return PointerGetDatum(nullptr);
}

// wait_for_event_writers() RETURNS void.
TELEMETRY_FUNCTION(telemetry_wait_for_event_writers) {
    using namespace telemetry::pg;
    if (IsolationUsesXactSnapshot())
        ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                        errmsg("telemetry.wait_for_event_writers() needs READ COMMITTED"),
                        errdetail("What follows the wait must read with snapshots taken after it."),
                        errhint("CALL telemetry.run_maintenance() sets it for each step.")));
    LOCKTAG tag;
    SET_LOCKTAG_RELATION(tag, MyDatabaseId, telemetry_relid("events", false));
    // ShareLock conflicts with what INSERT, UPDATE, DELETE and COPY take (ROW EXCLUSIVE).
    WaitForLockers(tag, ShareLock, false);
    PG_RETURN_VOID();
}
