// telemetry.replay_quarantine(): re-validate quarantined events against today's catalog.
//
// The quarantined rows go through the same pipeline as new events, without deduplication (the
// row is the event, and its id is already in the ledger). Accepted: moved to telemetry.events,
// once (the row is deleted in the same transaction). Quarantined or rejected again: the row
// stays, with the new reason. Sampled out or opted out: the row is deleted, since the event
// would not have been kept.
#include <cstring>

#include "pg/boundary/convert.hpp"
#include "pg/ingest/event_store.hpp"
#include "pg/boundary/guard.hpp"
#include "pg/ingest/pipeline.hpp"

extern "C" {
#include "catalog/pg_class.h"
#include "utils/acl.h"
#include "utils/syscache.h"
}

namespace telemetry::pg {

namespace {

constexpr int max_replay_rows = 10000;

struct QuarantinedRow {
    int64 id;
    pg_uuid_t event_id;
    char* name;
    Jsonb* properties;
    char* user_id;     // nullptr: none
    char* session_id;  // nullptr: none
    TimestampTz occurred_at;
    TimestampTz received_at;
    char* source;
    PathList pii_rewritten_paths;  // where x-pii rewrote the properties before they were kept
};

int load_rows(const pg_uuid_t& tenant, Datum ids, bool ids_null, QuarantinedRow** out) {
    MemoryContext caller = CurrentMemoryContext;
    SPI_connect();
    Oid types[2] = {UUIDOID, INT8ARRAYOID};
    pg_uuid_t t = tenant;
    Datum values[2] = {UUIDPGetDatum(&t), ids};
    char nulls[2] = {' ', ids_null ? 'n' : ' '};
    char sql[512];
    snprintf(sql, sizeof sql,
             "SELECT id, event_id, name, properties, user_id, session_id, occurred_at, received_at, source, pii_rewritten_paths "
             "FROM telemetry.quarantine WHERE tenant_id OPERATOR(pg_catalog.=) $1 "
             "AND ($2 IS NULL OR id OPERATOR(pg_catalog.=) ANY ($2)) ORDER BY id LIMIT %d FOR UPDATE",
             max_replay_rows);
    SPI_execute_with_args(sql, 2, types, values, nulls, false, 0);
    const int n = static_cast<int>(SPI_processed);
    MemoryContext spi = MemoryContextSwitchTo(caller);
    auto* rows = static_cast<QuarantinedRow*>(palloc0(sizeof(QuarantinedRow) * (n > 0 ? n : 1)));
    TupleDesc desc = SPI_tuptable->tupdesc;
    for (int i = 0; i < n; ++i) {
        HeapTuple tuple = SPI_tuptable->vals[i];
        bool isnull;
        rows[i].id = DatumGetInt64(SPI_getbinval(tuple, desc, 1, &isnull));
        rows[i].event_id = *DatumGetUUIDP(SPI_getbinval(tuple, desc, 2, &isnull));
        rows[i].name = TextDatumGetCString(SPI_getbinval(tuple, desc, 3, &isnull));
        rows[i].properties = DatumGetJsonbPCopy(SPI_getbinval(tuple, desc, 4, &isnull));
        Datum user = SPI_getbinval(tuple, desc, 5, &isnull);
        rows[i].user_id = isnull ? nullptr : TextDatumGetCString(user);
        Datum session = SPI_getbinval(tuple, desc, 6, &isnull);
        rows[i].session_id = isnull ? nullptr : TextDatumGetCString(session);
        rows[i].occurred_at = DatumGetTimestampTz(SPI_getbinval(tuple, desc, 7, &isnull));
        rows[i].received_at = DatumGetTimestampTz(SPI_getbinval(tuple, desc, 8, &isnull));
        rows[i].source = TextDatumGetCString(SPI_getbinval(tuple, desc, 9, &isnull));
        ArrayType* paths = DatumGetArrayTypePCopy(SPI_getbinval(tuple, desc, 10, &isnull));
        Datum* elements;
        bool* element_nulls;
        int count;
        deconstruct_array(paths, TEXTOID, -1, false, TYPALIGN_INT, &elements, &element_nulls, &count);
        auto* views = static_cast<std::string_view*>(palloc(sizeof(std::string_view) * (count > 0 ? count : 1)));
        int kept = 0;
        for (int k = 0; k < count; ++k) {
            if (element_nulls[k]) continue;
            const text* path = DatumGetTextPP(elements[k]);
            views[kept++] = text_view(path);
        }
        rows[i].pii_rewritten_paths = PathList{views, static_cast<std::size_t>(kept)};
    }
    MemoryContextSwitchTo(spi);
    SPI_finish();
    *out = rows;
    return n;
}

void settle_row(const pg_uuid_t& tenant, const QuarantinedRow& row, const PipelineItem& item) {
    const IngestDecision& d = item.decision;
    pg_uuid_t t = tenant;
    SPI_connect();
    if (d.status == IngestStatus::quarantined || d.status == IngestStatus::rejected) {
        const std::string_view reason = d.status == IngestStatus::quarantined ? d.quarantine_reason : d.reason;
        Oid types[7] = {UUIDOID, INT8OID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID};
        const char* path = d.status == IngestStatus::quarantined ? nullptr : "";
        Datum values[7] = {
            UUIDPGetDatum(&t), Int64GetDatum(row.id), CStringGetTextDatum(d.sqlstate),
            PointerGetDatum(cstring_to_text_with_len(reason.data(), static_cast<int>(reason.size()))),
            PointerGetDatum(cstring_to_text_with_len(path ? path : d.violation_path.data(), path ? 0 : static_cast<int>(d.violation_path.size()))),
            PointerGetDatum(cstring_to_text_with_len(path ? "" : d.violation_rule.data(), path ? 0 : static_cast<int>(d.violation_rule.size()))),
            PointerGetDatum(cstring_to_text_with_len(item.schema_version.data(), static_cast<int>(item.schema_version.size())))};
        SPI_execute_with_args(
            "UPDATE telemetry.quarantine SET sqlstate = $3, reason = $4, "
            "json_path = CASE WHEN $5 OPERATOR(pg_catalog.=) '' THEN json_path ELSE $5 END, "
            "rule = CASE WHEN $6 OPERATOR(pg_catalog.=) '' THEN rule ELSE $6 END, "
            "schema_version = CASE WHEN $7 OPERATOR(pg_catalog.=) '' THEN schema_version ELSE $7 END, "
            "replay_attempts = replay_attempts OPERATOR(pg_catalog.+) 1 "
            "WHERE tenant_id OPERATOR(pg_catalog.=) $1 AND id OPERATOR(pg_catalog.=) $2",
            7, types, values, nullptr, false, 0);
    } else {
        Oid types[2] = {UUIDOID, INT8OID};
        Datum values[2] = {UUIDPGetDatum(&t), Int64GetDatum(row.id)};
        SPI_execute_with_args(
            "DELETE FROM telemetry.quarantine WHERE tenant_id OPERATOR(pg_catalog.=) $1 AND id OPERATOR(pg_catalog.=) $2", 2,
            types, values, nullptr, false, 0);
    }
    SPI_finish();
}

// Who may replay a tenant's quarantine: a superuser, a role with UPDATE on telemetry.quarantine
// (a DBA's grant), or an admin of the tenant: a role that has the privileges of a role mapped to
// the tenant in telemetry.tenant_admins. That is asked of the mapping itself, whatever rows the
// caller can read (a BYPASSRLS role reads them all). Returns the owner of telemetry.quarantine,
// as whom the replay then runs.
Oid authorize_replay(const pg_uuid_t& tenant) {
    const Oid caller = GetUserId();
    const Oid quarantine = get_relname_relid("quarantine", get_namespace_oid("telemetry", false));
    if (!OidIsValid(quarantine))
        ereport(ERROR, (errcode(ERRCODE_UNDEFINED_TABLE), errmsg("telemetry.quarantine is missing")));
    // Read from the catalog cache, without a lock: a caller refused below takes none.
    HeapTuple class_tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(quarantine));
    if (!HeapTupleIsValid(class_tuple)) elog(ERROR, "telemetry: cache lookup failed for relation %u", quarantine);
    const Oid owner = reinterpret_cast<Form_pg_class>(GETSTRUCT(class_tuple))->relowner;
    ReleaseSysCache(class_tuple);
    if (superuser_arg(caller) || pg_class_aclcheck(quarantine, caller, ACL_UPDATE) == ACLCHECK_OK) return owner;

    pg_uuid_t t = tenant;
    Oid types[2] = {UUIDOID, OIDOID};
    Datum values[2] = {UUIDPGetDatum(&t), ObjectIdGetDatum(caller)};
    SPI_connect();
    SPI_execute_with_args(
        "SELECT FROM telemetry.tenant_admins a JOIN pg_catalog.pg_roles r ON r.rolname OPERATOR(pg_catalog.=) a.role_name "
        "WHERE a.tenant_id OPERATOR(pg_catalog.=) $1 AND pg_catalog.pg_has_role($2, r.oid, 'USAGE')",
        2, types, values, nullptr, true, 1);
    const bool admin = SPI_processed > 0;
    SPI_finish();
    if (!admin)
        ereport(ERROR, (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE), errmsg("permission denied to replay this tenant's quarantine"),
                        errhint("An admin of the tenant (telemetry.tenant_admins) or a role with UPDATE on telemetry.quarantine can.")));
    return owner;
}

}  // namespace

}  // namespace telemetry::pg

// replay_quarantine(tenant_id uuid, ids bigint[]) RETURNS TABLE (quarantine_id, status, id, reason)
TELEMETRY_FUNCTION(telemetry_replay_quarantine) {
    using namespace telemetry;
    using namespace telemetry::pg;
    if (PG_ARGISNULL(0)) ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("tenant_id must not be NULL")));
    const pg_uuid_t tenant = *PG_GETARG_UUID_P(0);

    // Checked as the caller, done as the owner. An error on the way leaves the switch to
    // (sub)transaction abort, which restores the caller.
    const Oid owner = authorize_replay(tenant);
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

    QuarantinedRow* rows = nullptr;
    const int n = load_rows(tenant, PG_ARGISNULL(1) ? (Datum)0 : PG_GETARG_DATUM(1), PG_ARGISNULL(1), &rows);
    PipelineItem* items = arena.allocate_array<PipelineItem>(n);
    PendingError pending;
    for (int i = 0; i < n; ++i) {
        PipelineItem& item = *new (&items[i]) PipelineItem();
        item.in.name = std::string_view(rows[i].name);
        if (rows[i].user_id) item.in.user_id = std::string_view(rows[i].user_id);
        if (rows[i].session_id) item.in.session_id = std::string_view(rows[i].session_id);
        item.in.occurred_at_us = to_unix_us(rows[i].occurred_at);
        Uuid id;
        std::memcpy(id.data(), rows[i].event_id.data, 16);
        item.in.event_id = id;
        item.original_properties = rows[i].properties;
        item.received_at = rows[i].received_at;
        item.source = rows[i].source;
        item.in.pii_rewritten_before = rows[i].pii_rewritten_paths;  // as x-pii left them
        item.in.properties = decode_properties(rows[i].properties, arena, pending);
        if (pending.set) pending.raise();
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
        settle_row(tenant, rows[i], items[i]);
        CHECK_FOR_INTERRUPTS();
    }

    MemoryContextSwitchTo(caller);
    InitMaterializedSRF(fcinfo, 0);
    ReturnSetInfo* rsinfo = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);
    for (int i = 0; i < n; ++i) {
        const IngestDecision& d = items[i].decision;
        Datum values[4] = {Int64GetDatum(rows[i].id), CStringGetTextDatum(to_string(d.status)), UUIDPGetDatum(&rows[i].event_id),
                           d.reason.empty() ? (Datum)0 : PointerGetDatum(cstring_to_text_with_len(d.reason.data(), static_cast<int>(d.reason.size())))};
        bool nulls[4] = {false, false, false, d.reason.empty()};
        tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
    }
    SetUserIdAndSecContext(caller_user, caller_security);
    return (Datum)0;
}
