#include <cstring>

#include "core/base/uuid.hpp"
#include "pg/boundary/convert.hpp"
#include "pg/ingest/event_store.hpp"
#include "pg/boundary/search_path.hpp"
#include "pg/boundary/table_watch.hpp"
#include "pg/rollup/rollup_log.hpp"

extern "C" {
#include "access/heapam.h"
#include "access/relation.h"
#include "access/tableam.h"
#include "access/transam.h"
#include "catalog/pg_class.h"
#include "catalog/pg_index.h"
#include "catalog/pg_trigger.h"
#include "commands/sequence.h"
#include "executor/executor.h"
#include "nodes/makefuncs.h"
#include "rewrite/prs2lock.h"
#include "utils/rls.h"
#include "utils/syscache.h"
}

namespace telemetry::pg {

namespace {

TableWatch events_watch("events");
Oid events_oid = InvalidOid;
Oid events_sequence_oid = InvalidOid;
SPIPlanPtr insert_plan = nullptr;

Oid events_relid() {
    if (events_watch.stale() || !OidIsValid(events_oid)) {
        const TableWatch::Reading reading = events_watch.begin_reading();
        events_oid = InvalidOid;
        const Oid sequence = get_relname_relid("events_id_seq", get_rel_namespace(reading.relid));
        if (!OidIsValid(sequence))
            ereport(ERROR, (errcode(ERRCODE_UNDEFINED_TABLE), errmsg("telemetry.events_id_seq is missing")));
        events_sequence_oid = sequence;
        events_oid = reading.relid;
        events_watch.finished(reading);
    }
    return events_oid;
}

// The columns we fill, in the parent's order. A partition with any other live column is
// written through INSERT, which applies that column's default.
constexpr const char* column_names[] = {
    "id",   "occurred_at", "received_at", "tenant_id",      "event_id", "sample_weight", "flags",
    "name", "user_id",     "session_id",  "schema_version", "source",   "properties"};
constexpr int column_count = sizeof(column_names) / sizeof(column_names[0]);
enum Column {
    c_id,
    c_occurred_at,
    c_received_at,
    c_tenant_id,
    c_event_id,
    c_sample_weight,
    c_flags,
    c_name,
    c_user_id,
    c_session_id,
    c_schema_version,
    c_source,
    c_properties
};

// The executor's way in: one INSERT for all the rows of a call, column by column as arrays.
constexpr const char* insert_sql =
    "INSERT INTO telemetry.events (tenant_id, event_id, name, properties, user_id, session_id, "
    "occurred_at, received_at, sample_weight, flags, source, schema_version) "
    "SELECT * FROM ROWS FROM (pg_catalog.unnest($1), pg_catalog.unnest($2), pg_catalog.unnest($3), "
    "pg_catalog.unnest($4), pg_catalog.unnest($5), pg_catalog.unnest($6), pg_catalog.unnest($7), pg_catalog.unnest($8), "
    "pg_catalog.unnest($9), pg_catalog.unnest($10), pg_catalog.unnest($11), pg_catalog.unnest($12))";
constexpr int insert_nargs = 12;

int partition_index(Relation parent, PartitionDesc desc, TimestampTz t) {
    PartitionKey key = RelationGetPartitionKey(parent);
    PartitionBoundInfo bounds = desc->boundinfo;
    if (bounds == nullptr || bounds->ndatums == 0) return -1;
    // As get_partition_for_tuple() does for range partitioning: the bound at `offset` is <= t,
    // so indexes[offset + 1] is the partition whose range holds t, or -1 for a gap.
    Datum value = TimestampTzGetDatum(t);
    bool equal;
    const int offset = partition_range_datum_bsearch(key->partsupfunc, key->partcollation, bounds, 1, &value, &equal);
    return bounds->indexes[offset + 1];
}

// Whether an oidvector holds an object a user created (not PostgreSQL's own, made by initdb).
bool any_user_object(Datum vector) {
    const auto* oids = reinterpret_cast<const oidvector*>(DatumGetPointer(vector));
    for (int i = 0; i < oids->dim1; ++i)
        if (oids->values[i] >= FirstNormalObjectId) return true;
    return false;
}

// What an index runs beyond PostgreSQL's own comparisons of our column values, or nullptr: an
// expression or a predicate (which may call a DBA's functions), an exclusion constraint, or an
// access method, operator class or collation that someone created (an extension's or a DBA's
// code, which an INSERT runs in its own way). Read from the catalog caches, without locking the
// index.
const char* what_index_runs(Oid index_oid) {
    HeapTuple relation = SearchSysCache1(RELOID, ObjectIdGetDatum(index_oid));
    if (!HeapTupleIsValid(relation)) return "an index changed meanwhile";
    const bool own_access_method = reinterpret_cast<Form_pg_class>(GETSTRUCT(relation))->relam < FirstNormalObjectId;
    ReleaseSysCache(relation);
    if (!own_access_method) return "an index of an access method that is not PostgreSQL's own";
    HeapTuple tuple = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(index_oid));
    if (!HeapTupleIsValid(tuple)) return "an index changed meanwhile";
    const auto* index = reinterpret_cast<Form_pg_index>(GETSTRUCT(tuple));
    const char* runs = nullptr;
    bool isnull = false;
    if (index->indisexclusion) runs = "an exclusion constraint";
    else if (!heap_attisnull(tuple, Anum_pg_index_indexprs, nullptr)) runs = "an index on an expression";
    else if (!heap_attisnull(tuple, Anum_pg_index_indpred, nullptr)) runs = "a partial index";
    if (runs == nullptr) {
        const Datum classes = SysCacheGetAttr(INDEXRELID, tuple, Anum_pg_index_indclass, &isnull);
        if (isnull || any_user_object(classes)) runs = "an index with an operator class that is not PostgreSQL's own";
    }
    if (runs == nullptr) {
        const Datum collations = SysCacheGetAttr(INDEXRELID, tuple, Anum_pg_index_indcollation, &isnull);
        if (isnull || any_user_object(collations)) runs = "an index with a collation that is not PostgreSQL's own";
    }
    ReleaseSysCache(tuple);
    return runs;
}

// Attribute numbers of our columns in a partition, and nullptr; or why the direct path would
// not do exactly what an INSERT does there. The direct path was written for one thing: a plain
// heap table whose columns are exactly ours, with nothing to run but PostgreSQL's own index
// code. Anything else goes through the executor: a partition that is itself partitioned or a
// foreign table (it has no table access method of its own to call), another access method,
// triggers (which also carry foreign keys and deferred unique checks), CHECK constraints, NOT
// NULL on a column we may leave NULL, generated or extra columns, and indexes with
// expressions, predicates, exclusion, or access methods, operator classes or collations that are
// not PostgreSQL's own.
const char* find_direct_path_attnums(Relation rel, AttrNumber* attnums) {
    if (rel->rd_rel->relkind == RELKIND_PARTITIONED_TABLE) return "it is partitioned itself";
    if (rel->rd_rel->relkind == RELKIND_FOREIGN_TABLE) return "it is a foreign table";
    if (rel->rd_rel->relkind != RELKIND_RELATION) return "it is not a table";
    if (rel->rd_tableam != GetHeapamTableAmRoutine()) return "its access method is not heap";
    // The direct path stands in for two triggers: the rollups' invalidation log (it notes what
    // it wrote itself, log_written_events) and the write-path check (decide() made the same).
    if (rel->trigdesc != nullptr)
        for (int i = 0; i < rel->trigdesc->numtriggers; ++i)
            if (!is_rollup_log_trigger(rel->trigdesc->triggers[i]) &&
                !is_write_guard_trigger(rel->trigdesc->triggers[i]))
                return "it has triggers (foreign keys and deferred constraints among them)";
    TupleDesc desc = RelationGetDescr(rel);
    if (desc->constr != nullptr && desc->constr->num_check > 0) return "it has CHECK constraints";
    int live = 0;
    for (int i = 0; i < desc->natts; ++i) {
        Form_pg_attribute att = TupleDescAttr(desc, i);
        if (att->attisdropped) continue;
        ++live;
        int which = -1;
        for (int c = 0; c < column_count; ++c)
            if (std::strcmp(NameStr(att->attname), column_names[c]) == 0) which = c;
        if (which < 0) return "it has a column of its own";
        if (att->attgenerated) return "it has a generated column";
        if (att->attnotnull && (which == c_user_id || which == c_session_id))
            return "user_id or session_id is NOT NULL there";
        attnums[which] = att->attnum;
    }
    if (live != column_count) return "it lacks one of the columns";
    List* indexes = RelationGetIndexList(rel);
    const char* runs = nullptr;
    ListCell* cell;
    foreach (cell, indexes) {
        runs = what_index_runs(lfirst_oid(cell));
        if (runs != nullptr) break;
    }
    list_free(indexes);
    return runs;
}

// Whether an INSERT into the parent would run something for the statement as a whole that the
// direct path skips: statement triggers (with or without transition tables), INSERT rules, or
// row-level security that applies to us (FORCE ROW LEVEL SECURITY: we write as the owner). Row
// triggers on the parent are cloned onto each partition and seen there. Cheap: it reads the
// parent's relcache entry, which the caller has open.
bool parent_allows_direct_path(Relation parent) {
    const TriggerDesc* triggers = parent->trigdesc;
    if (triggers != nullptr && (triggers->trig_insert_before_statement || triggers->trig_insert_after_statement ||
                                triggers->trig_insert_new_table))
        return false;
    if (parent->rd_rules != nullptr)
        for (int i = 0; i < parent->rd_rules->numLocks; ++i)
            if (parent->rd_rules->rules[i]->event == CMD_INSERT) return false;
    if (parent->rd_rel->relrowsecurity && check_enable_rls(RelationGetRelid(parent), InvalidOid, false) == RLS_ENABLED)
        return false;
    return true;
}

// What find_direct_path_attnums() found for the partitions written recently, so an event does not
// pay for matching column names. An entry goes when its partition's relcache entry is
// invalidated (ALTER TABLE, CREATE TRIGGER, ... all send one), before the next use.
struct PartitionLayout {
    Oid relid;
    bool direct;
    AttrNumber attnums[column_count];
};
constexpr int layout_slots = 16;
PartitionLayout layouts[layout_slots];
int next_layout_slot = 0;
bool layout_callback_registered = false;

void forget_layout(Datum, Oid relid) {
    // A relcache callback: flag only, no catalog access, no failure.
    for (PartitionLayout& layout : layouts)
        if (relid == InvalidOid || layout.relid == relid) layout.relid = InvalidOid;
}

// The layout of a partition opened (and so locked) by the caller.
const PartitionLayout& partition_layout(Relation rel) {
    if (!layout_callback_registered) {
        CacheRegisterRelcacheCallback(forget_layout, 0);
        layout_callback_registered = true;
    }
    const Oid relid = RelationGetRelid(rel);
    for (const PartitionLayout& layout : layouts)
        if (layout.relid == relid) return layout;
    PartitionLayout& slot = layouts[next_layout_slot];
    next_layout_slot = (next_layout_slot + 1) % layout_slots;
    slot.relid = InvalidOid;
    const char* refusal = find_direct_path_attnums(rel, slot.attnums);
    // Once per partition and backend, for a DBA who wonders what a change did to track()'s speed.
    if (refusal != nullptr)
        ereport(DEBUG1, (errmsg_internal("telemetry: events go through INSERT into a partition: %s", refusal),
                         errdetail_internal("The partition is %s.", RelationGetRelationName(rel))));
    slot.direct = refusal == nullptr;
    slot.relid = relid;
    return slot;
}

// Builds a one-dimensional array of n datums (nulls where isnull[i]) of a built-in type.
ArrayType* column_array(const Datum* values, const bool* isnull, int n, Oid type) {
    int16 length;
    bool by_value;
    char align;
    get_typlenbyvalalign(type, &length, &by_value, &align);
    int dims[1] = {n};
    int lower_bounds[1] = {1};
    return construct_md_array(const_cast<Datum*>(values), const_cast<bool*>(isnull), 1, dims, lower_bounds, type,
                              length, by_value, align);
}

// The events events[which[0..n)] as one INSERT through the executor, which routes each row and
// runs whatever the event store has: triggers (a statement trigger fires once for the call, as
// for a multi-row INSERT), rules, constraints, sub-partitions, foreign tables.
void insert_through_executor(const StoredEvent* events, const int* which, int n) {
    if (n == 0) return;
    Datum* values[insert_nargs];
    bool* nulls[insert_nargs];
    for (int c = 0; c < insert_nargs; ++c) {
        values[c] = static_cast<Datum*>(palloc(sizeof(Datum) * n));
        nulls[c] = static_cast<bool*>(palloc0(sizeof(bool) * n));
    }
    for (int k = 0; k < n; ++k) {
        const StoredEvent& e = events[which[k]];
        values[0][k] = UUIDPGetDatum(&e.tenant_id);
        values[1][k] = UUIDPGetDatum(&e.event_id);
        values[2][k] = PointerGetDatum(e.name);
        values[3][k] = JsonbPGetDatum(e.properties);
        values[4][k] = PointerGetDatum(e.user_id);
        nulls[4][k] = e.user_id == nullptr;
        values[5][k] = PointerGetDatum(e.session_id);
        nulls[5][k] = e.session_id == nullptr;
        values[6][k] = TimestampTzGetDatum(e.occurred_at);
        values[7][k] = TimestampTzGetDatum(e.received_at);
        values[8][k] = Float4GetDatum(e.sample_weight);
        values[9][k] = Int16GetDatum(e.flags);
        values[10][k] = PointerGetDatum(e.source);
        values[11][k] = PointerGetDatum(e.schema_version);
    }
    constexpr Oid element_types[insert_nargs] = {UUIDOID,        UUIDOID,        TEXTOID,   JSONBOID, TEXTOID, TEXTOID,
                                                 TIMESTAMPTZOID, TIMESTAMPTZOID, FLOAT4OID, INT2OID,  TEXTOID, TEXTOID};
    Datum arrays[insert_nargs];
    for (int c = 0; c < insert_nargs; ++c)
        arrays[c] = PointerGetDatum(column_array(values[c], nulls[c], n, element_types[c]));

    use_safe_search_path();
    SPI_connect();
    if (insert_plan == nullptr) {
        Oid types[insert_nargs];
        for (int c = 0; c < insert_nargs; ++c) types[c] = get_array_type(element_types[c]);
        SPIPlanPtr plan = SPI_prepare(insert_sql, insert_nargs, types);
        if (plan == nullptr)
            elog(ERROR, "telemetry: preparing the event insert failed: %s", SPI_result_code_string(SPI_result));
        SPI_keepplan(plan);
        insert_plan = plan;
    }
    // Through the executor the write-path trigger checks these events again: decide() made
    // them what the trigger keeps (tagged values are never rewritten twice), at the price of a
    // second look on this rarer path, rather than an exemption other writers could ride on.
    const int rc = SPI_execute_plan(insert_plan, arrays, nullptr, false, 0);
    if (rc != SPI_OK_INSERT && rc != SPI_OK_INSERT_RETURNING)
        elog(ERROR, "telemetry: event insert failed: %s", SPI_result_code_string(rc));
    SPI_finish();
}

// The rows[first..] of one partition, written directly.
void insert_directly(Relation rel, const AttrNumber* attnums, const StoredEvent* events, const int* which, int n,
                     Oid sequence) {
    ResultRelInfo* info = makeNode(ResultRelInfo);
    InitResultRelInfo(info, rel, 1, nullptr, 0);
    ExecOpenIndices(info, false);
    EState* estate = CreateExecutorState();
    // For a batch, an unpinned copy of the partition's descriptor for the slots: a slot made on
    // the relcache's own descriptor registers a pin with the resource owner, whose lookup on
    // release grows with the number of pins held, quadratic over a batch of 1,000 events. A
    // few pins cost less than the copy.
    TupleDesc desc = n > 8 ? CreateTupleDescCopy(RelationGetDescr(rel)) : RelationGetDescr(rel);
    const CommandId command = GetCurrentCommandId(true);

    TupleTableSlot** slots = static_cast<TupleTableSlot**>(palloc(sizeof(TupleTableSlot*) * n));
    for (int k = 0; k < n; ++k) {
        const StoredEvent& e = events[which[k]];
        TupleTableSlot* slot = MakeSingleTupleTableSlot(desc, table_slot_callbacks(rel));
        ExecClearTuple(slot);
        std::memset(slot->tts_isnull, true, sizeof(bool) * desc->natts);
        auto set = [&](Column c, Datum d) {
            slot->tts_values[attnums[c] - 1] = d;
            slot->tts_isnull[attnums[c] - 1] = false;
        };
        set(c_id, Int64GetDatum(nextval_internal(sequence, false)));
        set(c_occurred_at, TimestampTzGetDatum(e.occurred_at));
        set(c_received_at, TimestampTzGetDatum(e.received_at));
        set(c_tenant_id, UUIDPGetDatum(&e.tenant_id));
        set(c_event_id, UUIDPGetDatum(&e.event_id));
        set(c_sample_weight, Float4GetDatum(e.sample_weight));
        set(c_flags, Int16GetDatum(e.flags));
        set(c_name, PointerGetDatum(e.name));
        if (e.user_id) set(c_user_id, PointerGetDatum(e.user_id));
        if (e.session_id) set(c_session_id, PointerGetDatum(e.session_id));
        set(c_schema_version, PointerGetDatum(e.schema_version));
        set(c_source, PointerGetDatum(e.source));
        set(c_properties, JsonbPGetDatum(e.properties));
        ExecStoreVirtualTuple(slot);
        slots[k] = slot;
    }
    if (n == 1) {
        table_tuple_insert(rel, slots[0], command, 0, nullptr);
    } else {
        BulkInsertState bulk = GetBulkInsertState();
        table_multi_insert(rel, slots, n, command, 0, bulk);
        FreeBulkInsertState(bulk);
    }
    for (int k = 0; k < n; ++k) {
        if (info->ri_NumIndices > 0) {
            List* recheck = ExecInsertIndexTuples(info, slots[k], estate, false, false, nullptr, NIL);
            list_free(recheck);
        }
        ExecDropSingleTupleTableSlot(slots[k]);
    }
    ExecCloseIndices(info);
    FreeExecutorState(estate);
}

}  // namespace

bool partition_accepts(TimestampTz t) {
    // The same lock the insert takes, so this adds no lock conflict and keeps the partition
    // set from changing until the transaction ends.
    Relation rel = table_open(events_relid(), RowExclusiveLock);
    const bool accepts = partition_index(rel, RelationGetPartitionDesc(rel, true), t) >= 0;
    table_close(rel, NoLock);
    return accepts;
}

namespace {

// write_events, without the care for what its errors say.
void write_to_partitions(const StoredEvent* events, int n) {
    Relation parent = table_open(events_relid(), RowExclusiveLock);
    const Oid sequence = events_sequence_oid;
    // One descriptor for all rows: PostgreSQL keeps it valid while the parent is open, even if
    // a partition is attached meanwhile.
    PartitionDesc desc = RelationGetPartitionDesc(parent, true);
    int* partition = static_cast<int*>(palloc(sizeof(int) * n));
    for (int i = 0; i < n; ++i) {
        partition[i] = partition_index(parent, desc, events[i].occurred_at);
        if (partition[i] < 0) elog(ERROR, "telemetry: no partition for an accepted event (checked before writing)");
    }
    // The rows the executor must write, in their input order.
    int* through_executor = static_cast<int*>(palloc(sizeof(int) * n));
    int executor_rows = 0;
    if (!parent_allows_direct_path(parent)) {
        for (int i = 0; i < n; ++i) through_executor[executor_rows++] = i;
    } else {
        // One partition at a time, in the order the partitions first appear (usually one).
        int* which = static_cast<int*>(palloc(sizeof(int) * n));
        bool* done = static_cast<bool*>(palloc0(sizeof(bool) * n));
        for (int i = 0; i < n; ++i) {
            if (done[i]) continue;
            int count = 0;
            for (int j = i; j < n; ++j)
                if (!done[j] && partition[j] == partition[i]) {
                    which[count++] = j;
                    done[j] = true;
                }
            // relation_open: the partition may be a partitioned or a foreign table.
            Relation rel = relation_open(desc->oids[partition[i]], RowExclusiveLock);
            const PartitionLayout& layout = partition_layout(rel);
            if (layout.direct) {
                insert_directly(rel, layout.attnums, events, which, count, sequence);
                log_written_events(events, which, count);
            } else {
                for (int k = 0; k < count; ++k) through_executor[executor_rows++] = which[k];
            }
            relation_close(rel, NoLock);
            CHECK_FOR_INTERRUPTS();
        }
    }
    insert_through_executor(events, through_executor, executor_rows);
    table_close(parent, NoLock);
}

}  // namespace

void write_events(const StoredEvent* events, int n) {
    if (n <= 0) return;
    // A DBA's constraint on the event store (a unique index, CHECK, NOT NULL, exclusion) says in
    // its error's detail which values broke it ("Key (user_id)=(...)", "Failing row contains
    // (...)"): an event's values, which may be personal data, shown to the caller and logged.
    // Such errors go on with their SQLSTATE, message and constraint, without the detail. (A
    // deferred constraint fails at commit, where PostgreSQL reports it itself.)
    MemoryContext context = CurrentMemoryContext;
    PG_TRY();
    { write_to_partitions(events, n); }
    PG_CATCH();
    {
        MemoryContextSwitchTo(context);
        ErrorData* error = CopyErrorData();
        if (ERRCODE_TO_CATEGORY(error->sqlerrcode) != ERRCODE_INTEGRITY_CONSTRAINT_VIOLATION) PG_RE_THROW();
        FlushErrorState();
        error->detail = nullptr;
        error->detail_log = nullptr;
        ReThrowError(error);
    }
    PG_END_TRY();
}

pg_uuid_t new_event_id(TimestampTz now) {
    // Strong random bytes are drawn 100 ids at a time: one call to the generator costs more
    // than the rest of making the id. The pool belongs to the process that filled it, so a
    // forked process never reuses its parent's bytes.
    static uint8 pool[1000];
    static std::size_t pool_used = sizeof pool;
    static int pool_owner = 0;
    constexpr std::size_t per_id = 10;
    if (pool_used + per_id > sizeof pool || pool_owner != MyProcPid) {
        if (!pg_strong_random(pool, sizeof pool))
            ereport(ERROR,
                    (errcode(ERRCODE_INTERNAL_ERROR), errmsg("could not generate random bytes for an event id")));
        pool_used = 0;
        pool_owner = MyProcPid;
    }
    const uint8* random_bytes = pool + pool_used;
    pool_used += per_id;
    const Uuid id = make_uuid_v7(to_unix_us(now) / 1000, random_bytes);
    pg_uuid_t out;
    static_assert(sizeof out.data == sizeof(Uuid));
    std::memcpy(out.data, id.data(), sizeof out.data);
    return out;
}

}  // namespace telemetry::pg
