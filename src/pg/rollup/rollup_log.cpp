#include "pg/rollup/rollup_log.hpp"

#include <cstring>

#include "core/rollup/changed_days.hpp"
#include "pg/boundary/guard.hpp"
#include "pg/boundary/table_watch.hpp"

extern "C" {
#include "access/xact.h"
#include "catalog/pg_inherits.h"
#include "storage/lmgr.h"
#include "utils/date.h"

PGDLLEXPORT Datum telemetry_log_event_changes(PG_FUNCTION_ARGS);
}

namespace telemetry::pg {

namespace {

TableWatch state_watch("rollup_state");
// The threshold as last read: days before it are closed. None before the first advance.
bool threshold_loaded = false;
bool threshold_set = false;
DateADT threshold = 0;
// This transaction's view of it, read once (after the transaction's first lock on the events).
bool read_this_transaction = false;
bool closed_days_exist = false;
DateADT closed_before = 0;
// What this transaction changed in closed days, written at pre-commit.
ChangedDays changed_days;
Oid log_trigger_function = InvalidOid;  // telemetry.log_event_changes(), once recognised

// Our tables are written as their owner (become_owner_of), whoever changed the events: the log
// is no one's to write but the extension's.

// The committed threshold, read again when rollup_state changed (or was never read). With the
// latest snapshot, not the transaction's: under REPEATABLE READ a snapshot older than the lock
// on the events could miss a threshold that moved before the lock was granted. False when this
// database has no threshold (no advance yet, or a release before rollups).
bool committed_threshold(DateADT* out) {
    if (!threshold_loaded || state_watch.stale()) {
        if (!OidIsValid(telemetry_relid("rollup_state", true))) return false;  // before 0.5.0
        const TableWatch::Reading reading = state_watch.begin_reading();
        threshold_loaded = false;
        const SavedUser saved = become_owner_of(reading.relid);
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

// Notes a change to (tenant, day) if the day is closed.
void note_change(const pg_uuid_t& tenant_id, TimestampTz occurred_at, ChangeKind kind) {
    if (!read_this_transaction) {
        closed_days_exist = committed_threshold(&closed_before);
        read_this_transaction = true;
    }
    if (!closed_days_exist) return;
    const DateADT day = utc_day(occurred_at);
    if (day >= closed_before) return;
    Uuid tenant;
    std::memcpy(tenant.data(), tenant_id.data, tenant.size());
    changed_days.add(tenant, day, kind);
}

// Writes the note to the log, as one INSERT, in the committing transaction.
void write_changed_days() {
    const Oid log_relid = telemetry_relid("rollup_invalidations", true);
    if (!OidIsValid(log_relid)) return;  // the extension was dropped in this transaction
    const int n = changed_days.size();
    Datum* tenants = static_cast<Datum*>(palloc(sizeof(Datum) * n));
    bool* tenant_nulls = static_cast<bool*>(palloc0(sizeof(bool) * n));
    Datum* first_days = static_cast<Datum*>(palloc(sizeof(Datum) * n));
    Datum* last_days = static_cast<Datum*>(palloc(sizeof(Datum) * n));
    Datum* reasons = static_cast<Datum*>(palloc(sizeof(Datum) * n));
    for (int i = 0; i < n; ++i) {
        const ChangedRange& range = changed_days[i];
        auto* tenant = static_cast<pg_uuid_t*>(palloc(sizeof(pg_uuid_t)));
        std::memcpy(tenant->data, range.tenant.data(), sizeof tenant->data);
        tenants[i] = UUIDPGetDatum(tenant);
        tenant_nulls[i] = range.every_tenant;
        first_days[i] = DateADTGetDatum(range.first_day);
        last_days[i] = DateADTGetDatum(range.last_day);
        reasons[i] = CStringGetTextDatum(to_string(range.kind));
    }
    int dims[1] = {n};
    int lower_bounds[1] = {1};
    Datum arrays[4] = {PointerGetDatum(construct_md_array(tenants, tenant_nulls, 1, dims, lower_bounds, UUIDOID,
                                                          UUID_LEN, false, TYPALIGN_CHAR)),
                       PointerGetDatum(construct_array(first_days, n, DATEOID, sizeof(DateADT), true, TYPALIGN_INT)),
                       PointerGetDatum(construct_array(last_days, n, DATEOID, sizeof(DateADT), true, TYPALIGN_INT)),
                       PointerGetDatum(construct_array(reasons, n, TEXTOID, -1, false, TYPALIGN_INT))};
    Oid types[4] = {UUIDARRAYOID, DATEARRAYOID, DATEARRAYOID, TEXTARRAYOID};
    const SavedUser saved = become_owner_of(log_relid);
    SPI_connect();
    PushActiveSnapshot(GetTransactionSnapshot());
    const int rc = SPI_execute_with_args(
        "INSERT INTO telemetry.rollup_invalidations (tenant_id, first_day, last_day, reason) "
        "SELECT * FROM ROWS FROM (pg_catalog.unnest($1), pg_catalog.unnest($2), pg_catalog.unnest($3), pg_catalog.unnest($4))",
        4, types, arrays, nullptr, false, 0);
    PopActiveSnapshot();
    if (rc != SPI_OK_INSERT)
        elog(ERROR, "telemetry: logging rollup invalidations failed: %s", SPI_result_code_string(rc));
    SPI_finish();
    restore_user(saved);
}

void on_transaction_event(XactEvent event, void*) {
    switch (event) {
        case XACT_EVENT_PRE_COMMIT:
        case XACT_EVENT_PRE_PREPARE:
            // After deferred triggers, before the commit record: the log rows commit, or abort,
            // with the changes they describe.
            if (!changed_days.empty()) write_changed_days();
            changed_days.clear();
            break;
        case XACT_EVENT_COMMIT:
        case XACT_EVENT_ABORT:
        case XACT_EVENT_PREPARE:
            changed_days.clear();
            read_this_transaction = false;
            break;
        default:
            break;
    }
}

// The tenant_id and occurred_at of a row of an events partition, found by name (a partition's
// columns may be numbered otherwise than the parent's).
void note_row(Relation rel, HeapTuple tuple, ChangeKind kind) {
    TupleDesc desc = RelationGetDescr(rel);
    const int tenant_attnum = SPI_fnumber(desc, "tenant_id");
    const int time_attnum = SPI_fnumber(desc, "occurred_at");
    if (tenant_attnum <= 0 || time_attnum <= 0)
        ereport(ERROR, (errcode(ERRCODE_UNDEFINED_COLUMN),
                        errmsg("telemetry.log_event_changes() fired on a table without tenant_id and occurred_at")));
    bool tenant_null, time_null;
    const Datum tenant = heap_getattr(tuple, tenant_attnum, desc, &tenant_null);
    const Datum time = heap_getattr(tuple, time_attnum, desc, &time_null);
    if (tenant_null || time_null) return;  // NOT NULL in the events table
    note_change(*DatumGetUUIDP(tenant), DatumGetTimestampTz(time), kind);
}

}  // namespace

bool is_rollup_log_trigger(const Trigger& trigger) {
    if (OidIsValid(log_trigger_function) && trigger.tgfoid == log_trigger_function) return true;
    // A C function of this library at our symbol: remember its OID (it changes only when the
    // extension is created again).
    FmgrInfo info;
    fmgr_info(trigger.tgfoid, &info);
    if (info.fn_addr != telemetry_log_event_changes) return false;
    log_trigger_function = trigger.tgfoid;
    return true;
}

void log_written_events(const StoredEvent* events, const int* which, int n) {
    for (int k = 0; k < n; ++k) {
        const StoredEvent& e = events[which[k]];
        note_change(e.tenant_id, e.occurred_at, ChangeKind::insert);
        if (!closed_days_exist) return;  // nothing is closed: no event needs a look
    }
}

void register_rollup_callbacks() { RegisterXactCallback(on_transaction_event, nullptr); }

}  // namespace telemetry::pg

// ---------------------------------------------------------------------------------------------
// SQL functions (src/sql/50_rollup.sql).

// The triggers of telemetry.events: AFTER INSERT OR UPDATE OR DELETE FOR EACH ROW (cloned onto
// every partition) notes a change of a closed day; AFTER TRUNCATE FOR EACH STATEMENT logs every
// closed day of every tenant at once.
TELEMETRY_FUNCTION(telemetry_log_event_changes) {
    using namespace telemetry;
    using namespace telemetry::pg;
    if (!CALLED_AS_TRIGGER(fcinfo))
        ereport(ERROR, (errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
                        errmsg("telemetry.log_event_changes() must be called as a trigger")));
    TriggerData* trigger = reinterpret_cast<TriggerData*>(fcinfo->context);
    const TriggerEvent event = trigger->tg_event;
    if (!TRIGGER_FIRED_AFTER(event))
        ereport(ERROR, (errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
                        errmsg("telemetry.log_event_changes() must be an AFTER trigger")));
    if (TRIGGER_FIRED_FOR_ROW(event)) {
        if (TRIGGER_FIRED_BY_INSERT(event)) {
            note_row(trigger->tg_relation, trigger->tg_trigtuple, ChangeKind::insert);
        } else if (TRIGGER_FIRED_BY_UPDATE(event)) {
            note_row(trigger->tg_relation, trigger->tg_trigtuple, ChangeKind::update);
            note_row(trigger->tg_relation, trigger->tg_newtuple, ChangeKind::update);
        } else if (TRIGGER_FIRED_BY_DELETE(event)) {
            note_row(trigger->tg_relation, trigger->tg_trigtuple, ChangeKind::remove);
        }
        return PointerGetDatum(nullptr);
    }
    if (!TRIGGER_FIRED_BY_TRUNCATE(event))
        ereport(ERROR, (errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
                        errmsg("telemetry.log_event_changes() runs for each row, or for each TRUNCATE statement")));
    DateADT before;
    if (!committed_threshold(&before)) return PointerGetDatum(nullptr);
    const Oid log_relid = telemetry_relid("rollup_invalidations", false);
    const SavedUser saved = become_owner_of(log_relid);
    SPI_connect();
    Oid types[1] = {DATEOID};
    Datum values[1] = {DateADTGetDatum(before)};
    const int rc = SPI_execute_with_args(
        "INSERT INTO telemetry.rollup_invalidations (tenant_id, first_day, last_day, reason) "
        "VALUES (NULL, '-infinity', $1 OPERATOR(pg_catalog.-) 1, 'truncate')",
        1, types, values, nullptr, false, 0);
    if (rc != SPI_OK_INSERT) elog(ERROR, "telemetry: logging a TRUNCATE failed: %s", SPI_result_code_string(rc));
    SPI_finish();
    restore_user(saved);
    return PointerGetDatum(nullptr);
}

// wait_for_event_writers() RETURNS void: waits for every transaction writing the events table or
// any of its partitions (a writer may lock a partition only) to end, without blocking new ones.
TELEMETRY_FUNCTION(telemetry_wait_for_event_writers) {
    using namespace telemetry::pg;
    if (IsolationUsesXactSnapshot())
        ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                        errmsg("telemetry.wait_for_event_writers() needs READ COMMITTED"),
                        errdetail("What follows the wait must read with snapshots taken after it."),
                        errhint("CALL telemetry.run_maintenance() sets it for each step.")));
    List* relations = find_all_inheritors(telemetry_relid("events", false), NoLock, nullptr);
    List* tags = NIL;
    ListCell* cell;
    foreach (cell, relations) {
        auto* tag = static_cast<LOCKTAG*>(palloc(sizeof(LOCKTAG)));
        SET_LOCKTAG_RELATION(*tag, MyDatabaseId, lfirst_oid(cell));
        tags = lappend(tags, tag);
    }
    // ShareLock conflicts with what INSERT, UPDATE, DELETE and COPY take (ROW EXCLUSIVE).
    WaitForLockersMultiple(tags, ShareLock, false);
    PG_RETURN_VOID();
}
