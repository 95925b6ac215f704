#include <cstring>

#include "core/uuid.hpp"
#include "pg/event_store.hpp"

namespace telemetry::pg {

namespace {

Oid cached_events_relid = InvalidOid;
bool callback_registered = false;
SPIPlanPtr insert_plan = nullptr;

void on_relcache_invalidation(Datum, Oid relid) {
    // Forget the OID when the table goes away (DROP EXTENSION); a new one is looked up.
    if (relid == InvalidOid || relid == cached_events_relid) cached_events_relid = InvalidOid;
}

Oid events_relid() {
    if (!callback_registered) {
        CacheRegisterRelcacheCallback(on_relcache_invalidation, 0);
        callback_registered = true;
    }
    if (!OidIsValid(cached_events_relid)) {
        const Oid namespace_oid = get_namespace_oid("telemetry", false);
        cached_events_relid = get_relname_relid("events", namespace_oid);
        if (!OidIsValid(cached_events_relid))
            ereport(ERROR, (errcode(ERRCODE_UNDEFINED_TABLE), errmsg("telemetry.events is missing")));
    }
    return cached_events_relid;
}

constexpr const char* insert_sql =
    "INSERT INTO telemetry.events (tenant_id, event_id, name, properties, user_id, session_id, "
    "occurred_at, received_at, sample_weight, source, schema_version) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)";
constexpr int insert_nargs = 11;

}  // namespace

bool partition_accepts(TimestampTz t) {
    // The same lock the insert takes, so this adds no lock conflict and keeps the partition
    // set from changing until the transaction ends.
    Relation rel = table_open(events_relid(), RowExclusiveLock);
    PartitionKey key = RelationGetPartitionKey(rel);
    PartitionDesc desc = RelationGetPartitionDesc(rel, true);
    bool accepts = false;
    PartitionBoundInfo bounds = desc->boundinfo;
    if (bounds != nullptr && bounds->ndatums > 0) {
        // As get_partition_for_tuple() does for range partitioning: the bound at `offset` is
        // <= t, so indexes[offset + 1] is the partition whose range holds t, or -1 for a gap.
        Datum value = TimestampTzGetDatum(t);
        bool equal;
        const int offset =
            partition_range_datum_bsearch(key->partsupfunc, key->partcollation, bounds, 1, &value, &equal);
        accepts = bounds->indexes[offset + 1] >= 0;
    }
    table_close(rel, NoLock);
    return accepts;
}

void insert_event(const StoredEvent& e) {
    SPI_connect();
    if (insert_plan == nullptr) {
        Oid types[insert_nargs] = {UUIDOID,        UUIDOID,        TEXTOID,   JSONBOID, TEXTOID, TEXTOID,
                                   TIMESTAMPTZOID, TIMESTAMPTZOID, FLOAT4OID, TEXTOID,  TEXTOID};
        SPIPlanPtr plan = SPI_prepare(insert_sql, insert_nargs, types);
        if (plan == nullptr) elog(ERROR, "telemetry: preparing the event insert failed: %s", SPI_result_code_string(SPI_result));
        SPI_keepplan(plan);
        insert_plan = plan;
    }
    Datum values[insert_nargs] = {
        UUIDPGetDatum(&e.tenant_id),
        UUIDPGetDatum(&e.event_id),
        PointerGetDatum(e.name),
        JsonbPGetDatum(e.properties),
        PointerGetDatum(e.user_id),
        PointerGetDatum(e.session_id),
        TimestampTzGetDatum(e.occurred_at),
        TimestampTzGetDatum(e.received_at),
        Float4GetDatum(e.sample_weight),
        CStringGetTextDatum(e.source),
        CStringGetTextDatum(e.schema_version),
    };
    char nulls[insert_nargs];
    std::memset(nulls, ' ', sizeof nulls);
    if (e.user_id == nullptr) nulls[4] = 'n';
    if (e.session_id == nullptr) nulls[5] = 'n';
    const int rc = SPI_execute_plan(insert_plan, values, nulls, false, 0);
    if (rc != SPI_OK_INSERT) elog(ERROR, "telemetry: event insert failed: %s", SPI_result_code_string(rc));
    SPI_finish();
}

pg_uuid_t new_event_id(TimestampTz now) {
    uint8 random_bytes[10];
    if (!pg_strong_random(random_bytes, sizeof random_bytes))
        ereport(ERROR, (errcode(ERRCODE_INTERNAL_ERROR), errmsg("could not generate random bytes for an event id")));
    const int64 unix_ms = now / 1000 + (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * INT64CONST(86400000);
    const Uuid id = make_uuid_v7(unix_ms, random_bytes);
    pg_uuid_t out;
    static_assert(sizeof out.data == sizeof(Uuid));
    std::memcpy(out.data, id.data(), sizeof out.data);
    return out;
}

}  // namespace telemetry::pg
