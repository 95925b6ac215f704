// The engine of telemetry.retention() (src/sql/67_analytics_retention.sql): each actor's start
// and return events, their periods numbered in SQL (calendar periods in the time zone, R2), read
// through an SPI cursor as the caller, counted by core/analytics/retention.
#include <algorithm>
#include <cstdint>
#include <string_view>
#include <vector>

#include "core/analytics/actor_index.hpp"
#include "core/analytics/retention.hpp"
#include "pg/analytics/event_sql.hpp"
#include "pg/boundary/context_owned.hpp"
#include "pg/boundary/convert.hpp"
#include "pg/boundary/guard.hpp"
#include "pg/boundary/search_path.hpp"
#include "pg/tenancy/tenant_identity.hpp"

extern "C" {
#include "miscadmin.h"
#include "utils/datetime.h"
}

namespace telemetry::pg {

namespace {

// The periods of one actor's start and return events.
struct ActorPeriods {
    std::vector<std::int64_t> starts;
    std::vector<std::int64_t> returns;
};

// What retention() gathers from the rows, read in any order: each actor's periods, kept
// distinct (an actor's memory grows with the periods it was active in, not its events).
struct RetentionRun {
    explicit RetentionRun(const analytics::RetentionSpec& spec) : table(spec) {}
    analytics::RetentionTable table;
    analytics::ActorIndex actors;
    std::vector<ActorPeriods> periods;  // by actor number

    void add(std::string_view actor, bool start, bool back, std::int64_t period) {
        const auto number = static_cast<std::size_t>(actors.number(actor));
        if (number == periods.size()) periods.emplace_back();
        if (start) add_distinct(periods[number].starts, period);
        if (back) add_distinct(periods[number].returns, period);
    }

    void finish() {
        for (const ActorPeriods& p : periods) table.add(p.starts, p.returns);  // nothing without a start
    }

private:
    static void add_distinct(std::vector<std::int64_t>& list, std::int64_t period) {
        if (!list.empty() && list.back() == period) return;  // an actor's events of a period often come together
        list.push_back(period);
        // At 64, 128, 256, ... entries, drop the repeats.
        if (list.size() >= 64 && (list.size() & (list.size() - 1)) == 0) {
            std::sort(list.begin(), list.end());
            list.erase(std::unique(list.begin(), list.end()), list.end());
        }
    }
};

enum class Period { hour, day, week, month };

std::int64_t floor_div(std::int64_t a, std::int64_t b) noexcept {
    return a / b - ((a % b != 0) && ((a < 0) != (b < 0)));
}

// The number of the calendar period an event falls in, as telemetry.period_number() numbers
// them (67_analytics_retention.sql): hours of Unix time; days since 2000-01-01, weeks since
// Monday 2000-01-03 and months since year 0 of its local time in the time zone (R2).
std::int64_t period_number(Period period, TimestampTz utc, Timestamp local) noexcept {
    const std::int64_t day = floor_div(local, USECS_PER_DAY);  // 0: 2000-01-01
    switch (period) {
        case Period::hour:
            return floor_div(to_unix_us(utc), USECS_PER_HOUR);
        case Period::day:
            return day;
        case Period::week:
            return floor_div(day - 2, 7);
        case Period::month: {
            int year, month, mday;
            j2date(static_cast<int>(day + POSTGRES_EPOCH_JDATE), &year, &month, &mday);
            return static_cast<std::int64_t>(year) * 12 + month - 1;
        }
    }
    return 0;
}

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
    // Callable directly by readers: the bounds retention() checks, checked again (the table
    // holds a cell per cohort and index).
    if (spec.periods < 1 || spec.periods > 1000 || spec.last_cohort < spec.first_cohort ||
        spec.last_cohort - spec.first_cohort >= 100000 ||
        (spec.last_cohort - spec.first_cohort + 1) * (spec.periods + 1) > 100000)
        ereport(ERROR,
                (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
                 errmsg("retention_engine: 1 to 1000 periods and at most 100,000 cells (call telemetry.retention())")));

    MemoryContext caller = CurrentMemoryContext;
    MemoryContext call_memory = AllocSetContextCreate(caller, "telemetry.retention", ALLOCSET_DEFAULT_SIZES);
    RetentionRun* run = core_phase_or_raise([&] { return make_context_owned<RetentionRun>(call_memory, spec); });

    const std::string_view period_name = text_view(PG_GETARG_TEXT_PP(5));
    const Period period = period_name == "hour"   ? Period::hour
                          : period_name == "day"  ? Period::day
                          : period_name == "week" ? Period::week
                                                  : Period::month;
    // Start events: for first_time all of the actor's history before the range's end (R1);
    // returns: from the first cohort on. Each with its local time in the time zone, numbered
    // here; read unsorted.
    const char* actor_column = by_session ? "session_id" : "user_id";
    const Datum start_name = PG_GETARG_DATUM(1);
    const Datum return_name = PG_GETARG_DATUM(3);
    StringInfoData sql;
    initStringInfo(&sql);
    appendStringInfo(&sql, "SELECT e.%s::pg_catalog.text, ", actor_column);
    append_condition(&sql, "e", PG_GETARG_DATUM(1), PG_GETARG_DATUM(2));
    appendStringInfoString(&sql, ", ");
    append_condition(&sql, "e", PG_GETARG_DATUM(3), PG_GETARG_DATUM(4));
    appendStringInfo(&sql,
                     ", e.occurred_at, pg_catalog.timezone($2, e.occurred_at) "
                     "FROM telemetry.events e "
                     "WHERE e.tenant_id OPERATOR(pg_catalog.=) $1 AND e.%s IS NOT NULL "
                     "AND e.occurred_at OPERATOR(pg_catalog.<) $4 AND (",
                     actor_column);
    // Start events from the cohorts' first period on (all history with first_time); returns
    // likewise from the first cohort's start: by name here, the conditions are the columns.
    append_name_list(&sql, "e", &start_name, 1, nullptr, 0);
    appendStringInfoString(&sql, " AND ($5 OR e.occurred_at OPERATOR(pg_catalog.>=) $3) OR ");
    append_name_list(&sql, "e", &return_name, 1, nullptr, 0);
    appendStringInfoString(&sql, " AND e.occurred_at OPERATOR(pg_catalog.>=) $3)");
    Oid types[5] = {UUIDOID, TEXTOID, TIMESTAMPTZOID, TIMESTAMPTZOID, BOOLOID};
    Datum values[5] = {PG_GETARG_DATUM(0), PG_GETARG_DATUM(6), PG_GETARG_DATUM(7), PG_GETARG_DATUM(8),
                       BoolGetDatum(spec.first_time)};
    use_safe_search_path();
    SPI_connect();
    Portal cursor = SPI_cursor_open_with_args(nullptr, sql.data, 5, types, values, nullptr, true, 0);
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
            const TimestampTz utc = DatumGetTimestampTz(SPI_getbinval(tuple, desc, 4, &isnull));
            const Timestamp local = DatumGetTimestamp(SPI_getbinval(tuple, desc, 5, &isnull));
            rows[i].period = period_number(period, utc, local);
        }
        core_phase_or_raise([&] {
            for (int i = 0; i < n; ++i)
                if (rows[i].start || rows[i].back)
                    run->add(text_view(rows[i].actor), rows[i].start, rows[i].back, rows[i].period);
        });
        SPI_freetuptable(SPI_tuptable);
        CHECK_FOR_INTERRUPTS();
    }
    SPI_cursor_close(cursor);
    SPI_finish();
    struct CellList {
        analytics::RetentionTable::Cell* cells;
        std::size_t count;
    };
    const CellList list = core_phase_or_raise([&] {
        run->finish();
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
