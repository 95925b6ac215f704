// telemetry.replay_quarantine(): re-validate quarantined events against today's catalog.
//
// The quarantined rows go through the same pipeline as new events, without deduplication (the
// row is the event, and its id is already in the ledger). Accepted: moved to telemetry.events,
// once (the row is deleted in the same transaction). Quarantined or rejected again: the row
// stays, with the new reason. Sampled out or opted out: the row is deleted, since the event
// would not have been kept.
#include "pg/boundary/context_owned.hpp"
#include "pg/boundary/convert.hpp"
#include "pg/boundary/guard.hpp"
#include "pg/ingest/pipeline.hpp"
#include "pg/ingest/quarantine_store.hpp"
#include "pg/tenancy/tenant_identity.hpp"

namespace telemetry::pg {

namespace {

constexpr int max_replay_rows = 10000;

// What a replay's decision does to the row: refused again (quarantined or rejected), the row
// stays with the new reason; otherwise (stored, sampled out, opted out) it goes.
void settle(const pg_uuid_t& tenant, const QuarantinedEvent& row, const PipelineItem& item) {
    const IngestDecision& d = item.decision;
    if (d.status == IngestStatus::quarantined)
        record_replay_refusal(tenant, row.id, d.sqlstate, d.quarantine_reason, d.violation_path, d.violation_rule,
                              item.schema_version);
    else if (d.status == IngestStatus::rejected)
        record_replay_refusal(tenant, row.id, d.sqlstate, d.reason, {}, {}, item.schema_version);
    else delete_quarantine_row(tenant, row.id);
}

}  // namespace

}  // namespace telemetry::pg

// replay_quarantine(tenant_id uuid, ids bigint[]) RETURNS TABLE (quarantine_id, status, id, reason)
TELEMETRY_FUNCTION(telemetry_replay_quarantine) {
    using namespace telemetry;
    using namespace telemetry::pg;
    if (PG_ARGISNULL(0))
        ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("tenant_id must not be NULL")));
    const pg_uuid_t tenant = *PG_GETARG_UUID_P(0);

    // Checked as the caller, done as the owner. An error on the way leaves the switch to
    // (sub)transaction abort, which restores the caller.
    const Oid owner = authorize_quarantine_replay(tenant);
    // A replay needs to know where x-pii rewrote each row, which the 0.1.0 table does not say.
    if (!quarantine_has_pii_paths())
        ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                        errmsg("telemetry's SQL objects are older than its library"),
                        errhint("Run ALTER EXTENSION telemetry UPDATE.")));
    Oid caller_user;
    int caller_security;
    GetUserIdAndSecContext(&caller_user, &caller_security);
    SetUserIdAndSecContext(owner, caller_security | SECURITY_LOCAL_USERID_CHANGE | SECURITY_NOFORCE_RLS);

    MemoryContext caller = CurrentMemoryContext;
    MemoryContext call_memory = AllocSetContextCreate(caller, "telemetry.replay_quarantine", ALLOCSET_DEFAULT_SIZES);
    MemoryContextSwitchTo(call_memory);
    Arena arena(chunks_from(call_memory));

    QuarantinedEvent* rows = nullptr;
    const int n = lock_quarantined_events(tenant, PG_ARGISNULL(1) ? (Datum)0 : PG_GETARG_DATUM(1), PG_ARGISNULL(1),
                                          max_replay_rows, &rows);
    PipelineItem* items = arena.allocate_array<PipelineItem>(n);
    for (int i = 0; i < n; ++i) {
        PipelineItem& item = *new (&items[i]) PipelineItem();
        item.in.name = std::string_view(rows[i].name);
        if (rows[i].user_id) item.in.user_id = std::string_view(rows[i].user_id);
        if (rows[i].session_id) item.in.session_id = std::string_view(rows[i].session_id);
        item.in.occurred_at_us = to_unix_us(rows[i].occurred_at);
        item.in.event_id = to_uuid(rows[i].event_id);
        item.original_properties = rows[i].properties;
        item.received_at = rows[i].received_at;
        item.source = rows[i].source;
        item.in.pii_rewritten_before = rows[i].pii_rewritten_paths;  // as x-pii left them
        item.in.properties = decode_properties(rows[i].properties, arena);
    }

    PipelineCall call;
    call.tenant = tenant;
    call.items = items;
    call.n = n;
    call.now = GetCurrentTimestamp();
    call.deduplicate = false;
    call.write_quarantine = false;
    call.arena = &arena;
    run_pipeline(call);

    for (int i = 0; i < n; ++i) {
        settle(tenant, rows[i], items[i]);
        CHECK_FOR_INTERRUPTS();
    }

    MemoryContextSwitchTo(caller);
    InitMaterializedSRF(fcinfo, 0);
    ReturnSetInfo* rsinfo = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);
    for (int i = 0; i < n; ++i) {
        const IngestDecision& d = items[i].decision;
        Datum values[4] = {Int64GetDatum(rows[i].id), CStringGetTextDatum(to_string(d.status)),
                           UUIDPGetDatum(&rows[i].event_id), d.reason.empty() ? (Datum)0 : text_datum(d.reason)};
        bool nulls[4] = {false, false, false, d.reason.empty()};
        tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
    }
    SetUserIdAndSecContext(caller_user, caller_security);
    return (Datum)0;
}
