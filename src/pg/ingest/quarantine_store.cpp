#include <cstring>

#include "pg/boundary/convert.hpp"
#include "pg/boundary/search_path.hpp"
#include "pg/ingest/quarantine_store.hpp"

namespace telemetry::pg {

namespace {

// The insert, prepared once per table layout: with pii_rewritten_paths, and without it for the
// 0.1.0 table (see quarantine_has_pii_paths()).
SPIPlanPtr insert_plans[2] = {nullptr, nullptr};
constexpr int insert_columns = 17;

SPIPlanPtr insert_plan(bool with_paths) {
    SPIPlanPtr& cached = insert_plans[with_paths ? 1 : 0];
    if (cached != nullptr) return cached;
    Oid types[insert_columns] = {UUIDOID,        UUIDOID,        TEXTOID, JSONBOID,  TEXTOID,     TEXTOID,
                                 TIMESTAMPTZOID, TIMESTAMPTZOID, TEXTOID, FLOAT4OID, INT2OID,     TEXTOID,
                                 TEXTOID,        TEXTOID,        TEXTOID, TEXTOID,   TEXTARRAYOID};
    SPIPlanPtr plan = SPI_prepare(
        with_paths
            ? "INSERT INTO telemetry.quarantine (tenant_id, event_id, name, properties, user_id, session_id, occurred_at, "
              "received_at, source, sample_weight, flags, schema_version, sqlstate, reason, json_path, rule, "
              "pii_rewritten_paths) "
              "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)"
            : "INSERT INTO telemetry.quarantine (tenant_id, event_id, name, properties, user_id, session_id, occurred_at, "
              "received_at, source, sample_weight, flags, schema_version, sqlstate, reason, json_path, rule) "
              "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
        with_paths ? insert_columns : insert_columns - 1, types);
    if (plan == nullptr) elog(ERROR, "telemetry: preparing the quarantine insert failed");
    SPI_keepplan(plan);
    cached = plan;
    return plan;
}

Datum nullable(void* p) { return p != nullptr ? PointerGetDatum(p) : (Datum)0; }

}  // namespace

void insert_quarantine_row(const QuarantineRow& row) {
    use_safe_search_path();
    const bool with_paths = quarantine_has_pii_paths();
    SPI_connect();
    SPIPlanPtr plan = insert_plan(with_paths);
    const StoredEvent& e = row.event;
    pg_uuid_t tenant = e.tenant_id;
    pg_uuid_t event_id = e.event_id;
    Datum values[insert_columns] = {UUIDPGetDatum(&tenant),
                                    UUIDPGetDatum(&event_id),
                                    PointerGetDatum(e.name),
                                    JsonbPGetDatum(e.properties),
                                    nullable(e.user_id),
                                    nullable(e.session_id),
                                    TimestampTzGetDatum(e.occurred_at),
                                    TimestampTzGetDatum(e.received_at),
                                    PointerGetDatum(e.source),
                                    Float4GetDatum(e.sample_weight),
                                    Int16GetDatum(e.flags),
                                    PointerGetDatum(e.schema_version),
                                    PointerGetDatum(row.sqlstate),
                                    PointerGetDatum(row.reason),
                                    PointerGetDatum(row.json_path),
                                    PointerGetDatum(row.rule),
                                    PointerGetDatum(row.pii_rewritten_paths)};
    char nulls[insert_columns];
    std::memset(nulls, ' ', sizeof nulls);
    if (e.user_id == nullptr) nulls[4] = 'n';
    if (e.session_id == nullptr) nulls[5] = 'n';
    const int rc = SPI_execute_plan(plan, values, nulls, false, 0);
    if (rc != SPI_OK_INSERT) elog(ERROR, "telemetry: quarantine insert failed: %s", SPI_result_code_string(rc));
    SPI_finish();
}

int lock_quarantined_events(const pg_uuid_t& tenant, Datum ids, bool ids_null, int limit, QuarantinedEvent** out) {
    MemoryContext caller = CurrentMemoryContext;
    SPI_connect();
    Oid types[3] = {UUIDOID, INT8ARRAYOID, INT4OID};
    pg_uuid_t t = tenant;
    Datum values[3] = {UUIDPGetDatum(&t), ids, Int32GetDatum(limit)};
    char nulls[3] = {' ', ids_null ? 'n' : ' ', ' '};
    SPI_execute_with_args(
        "SELECT id, event_id, name, properties, user_id, session_id, occurred_at, received_at, source, pii_rewritten_paths "
        "FROM telemetry.quarantine WHERE tenant_id OPERATOR(pg_catalog.=) $1 "
        "AND ($2 IS NULL OR id OPERATOR(pg_catalog.=) ANY ($2)) ORDER BY id LIMIT $3 FOR UPDATE",
        3, types, values, nulls, false, 0);
    const int n = static_cast<int>(SPI_processed);
    MemoryContext spi = MemoryContextSwitchTo(caller);
    auto* rows = static_cast<QuarantinedEvent*>(palloc0(sizeof(QuarantinedEvent) * (n > 0 ? n : 1)));
    TupleDesc desc = SPI_tuptable->tupdesc;
    for (int i = 0; i < n; ++i) {
        HeapTuple tuple = SPI_tuptable->vals[i];
        bool isnull;
        QuarantinedEvent& row = rows[i];
        row.id = DatumGetInt64(SPI_getbinval(tuple, desc, 1, &isnull));
        row.event_id = *DatumGetUUIDP(SPI_getbinval(tuple, desc, 2, &isnull));
        row.name = TextDatumGetCString(SPI_getbinval(tuple, desc, 3, &isnull));
        row.properties = DatumGetJsonbPCopy(SPI_getbinval(tuple, desc, 4, &isnull));
        const Datum user = SPI_getbinval(tuple, desc, 5, &isnull);
        row.user_id = isnull ? nullptr : TextDatumGetCString(user);
        const Datum session = SPI_getbinval(tuple, desc, 6, &isnull);
        row.session_id = isnull ? nullptr : TextDatumGetCString(session);
        row.occurred_at = DatumGetTimestampTz(SPI_getbinval(tuple, desc, 7, &isnull));
        row.received_at = DatumGetTimestampTz(SPI_getbinval(tuple, desc, 8, &isnull));
        row.source = TextDatumGetCString(SPI_getbinval(tuple, desc, 9, &isnull));
        row.pii_rewritten_paths = path_list_from(DatumGetArrayTypePCopy(SPI_getbinval(tuple, desc, 10, &isnull)));
    }
    MemoryContextSwitchTo(spi);
    SPI_finish();
    *out = rows;
    return n;
}

void record_replay_refusal(const pg_uuid_t& tenant, int64 id, const char* sqlstate, std::string_view reason,
                           std::string_view json_path, std::string_view rule, std::string_view schema_version) {
    pg_uuid_t t = tenant;
    Oid types[7] = {UUIDOID, INT8OID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID};
    Datum values[7] = {UUIDPGetDatum(&t),     Int64GetDatum(id), CStringGetTextDatum(sqlstate), text_datum(reason),
                       text_datum(json_path), text_datum(rule),  text_datum(schema_version)};
    SPI_connect();
    SPI_execute_with_args(
        "UPDATE telemetry.quarantine SET sqlstate = $3, reason = $4, "
        "json_path = CASE WHEN $5 OPERATOR(pg_catalog.=) '' THEN json_path ELSE $5 END, "
        "rule = CASE WHEN $6 OPERATOR(pg_catalog.=) '' THEN rule ELSE $6 END, "
        "schema_version = CASE WHEN $7 OPERATOR(pg_catalog.=) '' THEN schema_version ELSE $7 END, "
        "replay_attempts = replay_attempts OPERATOR(pg_catalog.+) 1 "
        "WHERE tenant_id OPERATOR(pg_catalog.=) $1 AND id OPERATOR(pg_catalog.=) $2",
        7, types, values, nullptr, false, 0);
    SPI_finish();
}

void delete_quarantine_row(const pg_uuid_t& tenant, int64 id) {
    pg_uuid_t t = tenant;
    Oid types[2] = {UUIDOID, INT8OID};
    Datum values[2] = {UUIDPGetDatum(&t), Int64GetDatum(id)};
    SPI_connect();
    SPI_execute_with_args(
        "DELETE FROM telemetry.quarantine WHERE tenant_id OPERATOR(pg_catalog.=) $1 AND id OPERATOR(pg_catalog.=) $2",
        2, types, values, nullptr, false, 0);
    SPI_finish();
}

bool quarantine_has_pii_paths() {
    const Oid schema = get_namespace_oid("telemetry", true);
    const Oid quarantine = OidIsValid(schema) ? get_relname_relid("quarantine", schema) : InvalidOid;
    return OidIsValid(quarantine) && get_attnum(quarantine, "pii_rewritten_paths") != InvalidAttrNumber;
}

}  // namespace telemetry::pg
