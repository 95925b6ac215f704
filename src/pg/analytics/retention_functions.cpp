// The engine of telemetry.retention() (src/sql/67_analytics_retention.sql): each actor's start
// and return events, their periods numbered in SQL (calendar periods in the time zone, R2), read
// through an SPI cursor as the caller, counted by core/analytics/retention.
#include <cstdint>
#include <string>
#include <vector>

#include "core/analytics/retention.hpp"
#include "pg/boundary/context_owned.hpp"
#include "pg/boundary/convert.hpp"
#include "pg/boundary/guard.hpp"
#include "pg/boundary/search_path.hpp"
#include "pg/tenancy/tenant_identity.hpp"

namespace telemetry::pg {

namespace {

struct RetentionRun {
    explicit RetentionRun(const analytics::RetentionSpec& spec) : table(spec) {}
    analytics::RetentionTable table;
    std::string actor;
    std::vector<std::int64_t> starts;
    std::vector<std::int64_t> returns;

    void finish_actor() {
        table.add(starts, returns);  // nothing for an actor without a start
        starts.clear();
        returns.clear();
    }
};

}  // namespace

}  // namespace telemetry::pg

// retention_engine(tenant_id uuid, start_name text, start_where jsonb, return_name text,
//   return_where jsonb, period text, tz text, read_from timestamptz, read_until timestamptz,
//   first_cohort int8, last_cohort int8, current int8, periods int, first_time bool,
//   on_or_after bool, unit text) RETURNS TABLE (cohort int8, period_index int, cohort_size int8,
//   retained int8, complete bool). telemetry.retention() checks the arguments.
TELEMETRY_FUNCTION(telemetry_retention_engine) {
    using namespace telemetry;
    using namespace telemetry::pg;
    for (int i = 0; i < 16; ++i)
        if (PG_ARGISNULL(i))
            ereport(ERROR,
                    (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("retention_engine: argument %d is NULL", i + 1)));
    require_tenant_access(Caller::current_user, *PG_GETARG_UUID_P(0), Need::read);
    analytics::RetentionSpec spec;
    spec.first_cohort = PG_GETARG_INT64(9);
    spec.last_cohort = PG_GETARG_INT64(10);
    spec.current = PG_GETARG_INT64(11);
    spec.periods = PG_GETARG_INT32(12);
    spec.first_time = PG_GETARG_BOOL(13);
    spec.on_or_after = PG_GETARG_BOOL(14);
    const bool by_session = text_view(PG_GETARG_TEXT_PP(15)) == "session";

    MemoryContext caller = CurrentMemoryContext;
    MemoryContext call_memory = AllocSetContextCreate(caller, "telemetry.retention", ALLOCSET_DEFAULT_SIZES);
    RetentionRun* run = core_phase_or_raise([&] { return make_context_owned<RetentionRun>(call_memory, spec); });

    // Start events: for first_time all of the actor's history before the range's end (R1);
    // returns: from the first cohort on. The period number of each, in SQL.
    char sql[2048];
    snprintf(sql, sizeof sql,
             "SELECT e.%s::pg_catalog.text, "
             "e.name OPERATOR(pg_catalog.=) $2 AND e.properties OPERATOR(pg_catalog.@>) $3, "
             "e.name OPERATOR(pg_catalog.=) $4 AND e.properties OPERATOR(pg_catalog.@>) $5, "
             "telemetry.period_number(e.occurred_at, $6, $7) "
             "FROM telemetry.events e "
             "WHERE e.tenant_id OPERATOR(pg_catalog.=) $1 AND e.%s IS NOT NULL "
             "AND e.occurred_at OPERATOR(pg_catalog.<) $9 "
             "AND ((e.name OPERATOR(pg_catalog.=) $2 AND ($10 OR e.occurred_at OPERATOR(pg_catalog.>=) $8)) "
             "     OR (e.name OPERATOR(pg_catalog.=) $4 AND e.occurred_at OPERATOR(pg_catalog.>=) $8)) "
             "ORDER BY 1",
             by_session ? "session_id" : "user_id", by_session ? "session_id" : "user_id");
    Oid types[10] = {UUIDOID, TEXTOID, JSONBOID,       TEXTOID,        JSONBOID,
                     TEXTOID, TEXTOID, TIMESTAMPTZOID, TIMESTAMPTZOID, BOOLOID};
    Datum values[10] = {PG_GETARG_DATUM(0), PG_GETARG_DATUM(1),           PG_GETARG_DATUM(2), PG_GETARG_DATUM(3),
                        PG_GETARG_DATUM(4), PG_GETARG_DATUM(5),           PG_GETARG_DATUM(6), PG_GETARG_DATUM(7),
                        PG_GETARG_DATUM(8), BoolGetDatum(spec.first_time)};
    use_safe_search_path();
    SPI_connect();
    Portal cursor = SPI_cursor_open_with_args(nullptr, sql, 10, types, values, nullptr, true, 0);
    constexpr int batch = 1000;
    struct Row {
        text* actor;
        bool start;
        bool back;
        int64 period;
    };
    Row* rows = static_cast<Row*>(palloc(sizeof(Row) * batch));
    for (;;) {
        SPI_cursor_fetch(cursor, true, batch);
        const int n = static_cast<int>(SPI_processed);
        if (n == 0) break;
        TupleDesc desc = SPI_tuptable->tupdesc;
        for (int i = 0; i < n; ++i) {
            HeapTuple tuple = SPI_tuptable->vals[i];
            bool isnull;
            rows[i].actor = DatumGetTextPP(SPI_getbinval(tuple, desc, 1, &isnull));
            const Datum start = SPI_getbinval(tuple, desc, 2, &isnull);
            rows[i].start = !isnull && DatumGetBool(start);
            const Datum back = SPI_getbinval(tuple, desc, 3, &isnull);
            rows[i].back = !isnull && DatumGetBool(back);
            rows[i].period = DatumGetInt64(SPI_getbinval(tuple, desc, 4, &isnull));
        }
        core_phase_or_raise([&] {
            for (int i = 0; i < n; ++i) {
                const std::string_view actor = text_view(rows[i].actor);
                if (actor != run->actor) {
                    run->finish_actor();
                    run->actor.assign(actor.data(), actor.size());
                }
                if (rows[i].start) run->starts.push_back(rows[i].period);
                if (rows[i].back) run->returns.push_back(rows[i].period);
            }
        });
        SPI_freetuptable(SPI_tuptable);
    }
    SPI_cursor_close(cursor);
    SPI_finish();
    struct CellList {
        analytics::RetentionTable::Cell* cells;
        std::size_t count;
    };
    const CellList list = core_phase_or_raise([&] {
        run->finish_actor();
        const std::vector<analytics::RetentionTable::Cell> cells = run->table.cells();
        auto* out = static_cast<analytics::RetentionTable::Cell*>(
            palloc_or_throw(sizeof(analytics::RetentionTable::Cell) * (cells.size() + 1)));
        std::copy(cells.begin(), cells.end(), out);
        return CellList{out, cells.size()};
    });
    MemoryContextSwitchTo(caller);
    InitMaterializedSRF(fcinfo, 0);
    ReturnSetInfo* rsinfo = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);
    for (std::size_t i = 0; i < list.count; ++i) {
        const analytics::RetentionTable::Cell& c = list.cells[i];
        Datum out[5] = {Int64GetDatum(c.cohort), Int32GetDatum(c.index), Int64GetDatum(c.cohort_size),
                        Int64GetDatum(c.retained), BoolGetDatum(c.complete)};
        bool nulls[5] = {false, false, false, !c.complete, false};
        tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, out, nulls);
    }
    MemoryContextDelete(call_memory);  // runs ~RetentionRun (the cells were copied out before)
    return (Datum)0;
}
