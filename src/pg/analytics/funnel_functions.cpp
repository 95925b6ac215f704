// The SQL functions of funnels (src/sql/66_analytics_funnel.sql): telemetry.funnel()'s engine
// over the events, read through an SPI cursor as the caller (row-level security applies), and
// the aggregate telemetry.window_funnel(). The rules are the engine's (core/analytics/funnel).
#include <algorithm>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "core/analytics/actor_index.hpp"
#include "core/analytics/funnel.hpp"
#include "pg/boundary/context_owned.hpp"
#include "pg/boundary/convert.hpp"
#include "pg/boundary/guard.hpp"
#include "pg/analytics/event_sql.hpp"
#include "pg/boundary/search_path.hpp"
#include "pg/tenancy/tenant_identity.hpp"

extern "C" {
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/jsonb.h"
}

namespace telemetry::pg {

namespace {

using analytics::FunnelEvent;
using analytics::FunnelOutcome;
using analytics::FunnelSpec;
using analytics::FunnelTotals;

// One event as read, of any actor, in any order.
struct GatheredEvent {
    int actor;  // its number in FunnelRun::actors
    int breakdown;
    float weight;
    FunnelEvent event;
};

// What funnel() keeps across the cursor's fetches (owned by a memory context).
struct FunnelRun {
    FunnelSpec spec;
    analytics::ActorIndex actors;
    std::vector<GatheredEvent> gathered;  // this pass's events, grouped by actor once all are read
    std::vector<FunnelEvent> events;      // one actor's, in (time, ingest order)
    std::vector<double> weights;          // each event's sample weight
    std::vector<int> breakdowns;          // each event's breakdown value (an index), -1: none
    std::vector<std::string> values;      // breakdown values, by index
    std::map<std::string, int> value_index;
    std::map<int, FunnelTotals> totals;  // per breakdown value (-1: none, or no breakdown)

    // The actor is complete: decide it and count it (F10-F17).
    void finish_actor() {
        if (events.empty()) return;
        const FunnelOutcome out = analytics::evaluate_funnel(spec, events.data(), events.size());
        if (out.reached > 0) {
            // F16: the first non-null value among the actor's step events.
            int value = -1;
            for (std::size_t i = 0; i < events.size() && value < 0; ++i)
                if (events[i].steps != 0) value = breakdowns[i];
            auto found = totals.find(value);
            if (found == totals.end()) found = totals.emplace(value, FunnelTotals(spec.steps)).first;
            found->second.add(out, weights[out.entry]);  // F17: the entry's weight
        }
        events.clear();
        weights.clear();
        breakdowns.clear();
    }

    // The pass's events are all read: each actor's, in (time, ingest order) (F2), decided.
    void finish_pass() {
        std::sort(gathered.begin(), gathered.end(), [](const GatheredEvent& a, const GatheredEvent& b) {
            if (a.actor != b.actor) return a.actor < b.actor;
            if (a.event.time != b.event.time) return a.event.time < b.event.time;
            return a.event.seq < b.event.seq;
        });
        for (std::size_t i = 0; i < gathered.size(); ++i) {
            if (i > 0 && gathered[i].actor != gathered[i - 1].actor) finish_actor();
            events.push_back(gathered[i].event);
            weights.push_back(gathered[i].weight);
            breakdowns.push_back(gathered[i].breakdown);
        }
        finish_actor();
        forget_pass();
    }

    void forget_pass() noexcept {
        gathered.clear();
        gathered.shrink_to_fit();
        actors.clear();
        events.clear();
        weights.clear();
        breakdowns.clear();
    }

    // Everything counted so far is dropped: the run starts again with more passes.
    void restart() noexcept {
        forget_pass();
        totals.clear();
        values.clear();
        value_index.clear();
    }

    std::size_t bytes() const noexcept { return gathered.capacity() * sizeof(GatheredEvent) + actors.bytes(); }

    int breakdown_of(const char* text, std::size_t len) {
        if (text == nullptr) return -1;
        std::string value(text, len);
        auto found = value_index.find(value);
        if (found != value_index.end()) return found->second;
        if (values.size() >= 10000)
            throw DomainError(sqlstate::program_limit_exceeded, "funnel breakdown has more than 10,000 values", "",
                              "Break down by a property with fewer distinct values.");
        values.push_back(value);
        value_index.emplace(std::move(value), static_cast<int>(values.size() - 1));
        return static_cast<int>(values.size() - 1);
    }
};

// An interval in microseconds, a month counting 30 days (as interval arithmetic on days does).
std::int64_t interval_microseconds(const Interval* interval) noexcept {
    return interval->time + static_cast<std::int64_t>(interval->day) * USECS_PER_DAY +
           static_cast<std::int64_t>(interval->month) * DAYS_PER_MONTH * USECS_PER_DAY;
}

analytics::FunnelMode mode_of(std::string_view mode) noexcept {
    if (mode == "ordered") return analytics::FunnelMode::ordered;
    if (mode == "strict") return analytics::FunnelMode::strict;
    return analytics::FunnelMode::any;
}

}  // namespace

}  // namespace telemetry::pg

// funnel_engine(tenant_id uuid, "from" timestamptz, "to" timestamptz, conversion_window interval,
//   step_names text[], step_wheres jsonb[], exclusion_names text[], exclusion_wheres jsonb[],
//   exclusion_from int[], exclusion_to int[], mode text, unit text, breakdown text, now timestamptz)
// RETURNS TABLE (step, breakdown_value, actors, in_progress, median_seconds, avg_seconds): the
// totals per breakdown value and step; funnel() checks the arguments and adds names and rates.
TELEMETRY_FUNCTION(telemetry_funnel_engine) {
    using namespace telemetry;
    using namespace telemetry::pg;
    for (int i = 0; i < 12; ++i)
        if (PG_ARGISNULL(i))
            ereport(ERROR,
                    (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("funnel_engine: argument %d is NULL", i + 1)));
    // Row-level security filters the rows anyway; a tenant the caller may not read is an error.
    require_tenant_access(Caller::current_user, *PG_GETARG_UUID_P(0), Need::read);
    // Plain values only in this frame: PostgreSQL may raise from here on (DESIGN.md §2).
    const TimestampTz from = PG_GETARG_TIMESTAMPTZ(1);
    const TimestampTz to = PG_GETARG_TIMESTAMPTZ(2);
    const Interval* window = PG_GETARG_INTERVAL_P(3);
    const TimestampTz now = PG_ARGISNULL(13) ? GetCurrentTransactionStartTimestamp() : PG_GETARG_TIMESTAMPTZ(13);
    ArrayType* step_names = PG_GETARG_ARRAYTYPE_P(4);
    const int steps = ArrayGetNItems(ARR_NDIM(step_names), ARR_DIMS(step_names));
    const analytics::FunnelMode mode = mode_of(text_view(PG_GETARG_TEXT_PP(10)));
    const bool by_session = text_view(PG_GETARG_TEXT_PP(11)) == "session";
    const bool strict = mode == analytics::FunnelMode::strict;
    // The engine is callable directly (the read level may execute it): every argument funnel()
    // checks is checked again here, so that no call can read out of bounds.
    Datum* from_steps;
    Datum* to_steps;
    bool* from_nulls;
    bool* to_nulls;
    int exclusions;
    int exclusions_to;
    deconstruct_array(PG_GETARG_ARRAYTYPE_P(8), INT4OID, 4, true, TYPALIGN_INT, &from_steps, &from_nulls, &exclusions);
    deconstruct_array(PG_GETARG_ARRAYTYPE_P(9), INT4OID, 4, true, TYPALIGN_INT, &to_steps, &to_nulls, &exclusions_to);
    const std::int64_t window_us = interval_microseconds(window);
    if (steps < 2 || steps > analytics::max_funnel_steps || exclusions != exclusions_to ||
        exclusions > analytics::max_funnel_steps || window_us <= 0 || from >= to || TIMESTAMP_NOT_FINITE(from) ||
        TIMESTAMP_NOT_FINITE(to) || TIMESTAMP_NOT_FINITE(now))
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                        errmsg("funnel_engine: 2 to 32 steps, at most 32 exclusions, a positive window and a finite "
                               "range are needed (call telemetry.funnel())")));
    for (int x = 0; x < exclusions; ++x) {
        if (from_nulls[x] || to_nulls[x] || DatumGetInt32(from_steps[x]) < 1 ||
            DatumGetInt32(from_steps[x]) >= DatumGetInt32(to_steps[x]) || DatumGetInt32(to_steps[x]) > steps)
            ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                            errmsg("funnel_engine: an exclusion must lie between two steps, 1 <= from < to <= steps")));
    }
    // Later steps may fall after `to`, within the window, never after now (F12).
    const TimestampTz read_until = std::min<std::int64_t>(to + window_us, now);

    MemoryContext caller = CurrentMemoryContext;
    MemoryContext call_memory = AllocSetContextCreate(caller, "telemetry.funnel", ALLOCSET_DEFAULT_SIZES);
    FunnelRun* run = core_phase_or_raise([&] {
        FunnelRun* r = make_context_owned<FunnelRun>(call_memory);
        r->spec.steps = steps;
        r->spec.window = window_us;
        r->spec.mode = mode;
        r->spec.range_from = from;
        r->spec.range_to = to;
        r->spec.now = now;
        for (int x = 0; x < exclusions; ++x)
            r->spec.exclusions.push_back({DatumGetInt32(from_steps[x]), DatumGetInt32(to_steps[x])});
        return r;
    });

    // Each event's steps and exclusions as bit masks (F3), read unsorted and grouped here.
    Datum* names;
    Datum* wheres;
    int n_names;
    int n_wheres;
    bool* name_nulls;
    bool* where_nulls;
    bool* x_name_nulls;
    bool* x_where_nulls;
    deconstruct_array(step_names, TEXTOID, -1, false, TYPALIGN_INT, &names, &name_nulls, &n_names);
    deconstruct_array(PG_GETARG_ARRAYTYPE_P(5), JSONBOID, -1, false, TYPALIGN_INT, &wheres, &where_nulls, &n_wheres);
    Datum* x_names;
    Datum* x_wheres;
    int n_x_names;
    int n_x_wheres;
    deconstruct_array(PG_GETARG_ARRAYTYPE_P(6), TEXTOID, -1, false, TYPALIGN_INT, &x_names, &x_name_nulls, &n_x_names);
    deconstruct_array(PG_GETARG_ARRAYTYPE_P(7), JSONBOID, -1, false, TYPALIGN_INT, &x_wheres, &x_where_nulls,
                      &n_x_wheres);
    if (n_names != steps || n_wheres != steps || n_x_names != exclusions || n_x_wheres != exclusions)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                        errmsg("funnel_engine: each step and exclusion needs a name and a condition")));
    for (int k = 0; k < steps; ++k)
        if (name_nulls[k] || where_nulls[k])
            ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
                            errmsg("funnel_engine: a step's name and condition must not be NULL")));
    for (int x = 0; x < exclusions; ++x)
        if (x_name_nulls[x] || x_where_nulls[x])
            ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
                            errmsg("funnel_engine: an exclusion's name and condition must not be NULL")));
    const char* actor_column = by_session ? "session_id" : "user_id";
    Interval window_as_read = {window_us, 0, 0};  // 30-day months, as the engine counts them
    // The memory a pass may hold: 8 times what a hash join may (work_mem x hash_mem_multiplier;
    // 64 MB by default). Past it, the actors are split by a hash of their id into 8 times as
    // many passes, each reading the events again (and all are counted again).
    const std::size_t budget = static_cast<std::size_t>(get_hash_memory_limit()) * 8;
    int passes = 1;
    use_safe_search_path();
    SPI_connect();
    for (int pass = 0; pass < passes;) {
        StringInfoData sql;
        initStringInfo(&sql);
        appendStringInfo(&sql, "SELECT e.%s::pg_catalog.text, e.occurred_at, e.id, ", actor_column);
        append_masks(&sql, names, wheres, steps);
        appendStringInfoString(&sql, ", ");
        append_masks(&sql, x_names, x_wheres, exclusions);
        appendStringInfo(
            &sql,
            ", e.sample_weight, e.properties OPERATOR(pg_catalog.->>) $6 "
            "FROM telemetry.events e JOIN ("
            // Only actors with an entry in the range can be in the funnel (F12): a
            // step-1 event in ordered and strict modes, any step's in any mode (F9);
            // and of theirs only the events from the first entry (from "from" with
            // a breakdown, F16) to the window's end after the last.
            "SELECT x.%s AS actor, pg_catalog.min(x.occurred_at) AS first_entry, "
            "(pg_catalog.max(x.occurred_at) OPERATOR(pg_catalog.+) $5) AS read_end FROM telemetry.events x "
            "WHERE x.tenant_id OPERATOR(pg_catalog.=) $1 AND x.occurred_at OPERATOR(pg_catalog.>=) $2 "
            "AND x.occurred_at OPERATOR(pg_catalog.<) $4 AND x.%s IS NOT NULL AND ",
            actor_column, actor_column);
        if (mode == analytics::FunnelMode::any) append_name_list(&sql, "x", names, steps, nullptr, 0);
        else append_condition(&sql, "x", names[0], wheres[0]);
        if (passes > 1)
            appendStringInfo(&sql,
                             " AND (pg_catalog.hashtext(x.%s) OPERATOR(pg_catalog.&) %d) OPERATOR(pg_catalog.=) $7",
                             actor_column, passes - 1);
        appendStringInfo(&sql,
                         " GROUP BY 1) r ON r.actor OPERATOR(pg_catalog.=) e.%s "
                         "AND e.occurred_at OPERATOR(pg_catalog.>=) %s "
                         "AND e.occurred_at OPERATOR(pg_catalog.<=) r.read_end "
                         "WHERE e.tenant_id OPERATOR(pg_catalog.=) $1 AND e.occurred_at OPERATOR(pg_catalog.>=) $2 "
                         "AND e.occurred_at OPERATOR(pg_catalog.<=) $3",
                         actor_column, PG_ARGISNULL(12) ? "r.first_entry" : "$2");
        // In strict mode every event of the actor counts (F8); else only the steps' and
        // exclusions'.
        if (!strict) {
            appendStringInfoString(&sql, " AND ");
            append_name_list(&sql, "e", names, steps, x_names, exclusions);
        }
        Oid types[7] = {UUIDOID, TIMESTAMPTZOID, TIMESTAMPTZOID, TIMESTAMPTZOID, INTERVALOID, TEXTOID, INT4OID};
        Datum values[7] = {PG_GETARG_DATUM(0),
                           TimestampTzGetDatum(from),
                           TimestampTzGetDatum(read_until),
                           TimestampTzGetDatum(std::min<std::int64_t>(to, now)),
                           IntervalPGetDatum(&window_as_read),
                           PG_ARGISNULL(12) ? (Datum)0 : PG_GETARG_DATUM(12),
                           Int32GetDatum(pass)};
        char nulls[7] = {' ', ' ', ' ', ' ', ' ', PG_ARGISNULL(12) ? 'n' : ' ', ' '};
        Portal cursor = SPI_cursor_open_with_args(nullptr, sql.data, 7, types, values, nulls, true, 0);
        pfree(sql.data);
        bool over_budget = false;
        constexpr int batch = 1000;
        struct Row {
            text* actor;
            TimestampTz time;
            int64 id;
            int64 steps;
            int64 exclusions;
            float4 weight;
            text* breakdown;
        };
        Row* rows = static_cast<Row*>(palloc(sizeof(Row) * batch));
        while (!over_budget) {
            SPI_cursor_fetch(cursor, true, batch);
            const int n = static_cast<int>(SPI_processed);
            if (n == 0) break;
            TupleDesc desc = SPI_tuptable->tupdesc;
            for (int i = 0; i < n; ++i) {
                HeapTuple tuple = SPI_tuptable->vals[i];
                bool isnull;
                rows[i].actor = DatumGetTextPP(SPI_getbinval(tuple, desc, 1, &isnull));
                rows[i].time = DatumGetTimestampTz(SPI_getbinval(tuple, desc, 2, &isnull));
                rows[i].id = DatumGetInt64(SPI_getbinval(tuple, desc, 3, &isnull));
                rows[i].steps = DatumGetInt64(SPI_getbinval(tuple, desc, 4, &isnull));
                rows[i].exclusions = DatumGetInt64(SPI_getbinval(tuple, desc, 5, &isnull));
                rows[i].weight = DatumGetFloat4(SPI_getbinval(tuple, desc, 6, &isnull));
                const Datum value = SPI_getbinval(tuple, desc, 7, &isnull);
                rows[i].breakdown = isnull ? nullptr : DatumGetTextPP(value);
            }
            over_budget = core_phase_or_raise([&] {
                for (int i = 0; i < n; ++i) {
                    const std::string_view value =
                        rows[i].breakdown ? text_view(rows[i].breakdown) : std::string_view();
                    run->gathered.push_back(GatheredEvent{
                        run->actors.number(text_view(rows[i].actor)),
                        rows[i].breakdown ? run->breakdown_of(value.data(), value.size()) : -1, rows[i].weight,
                        FunnelEvent{rows[i].time, rows[i].id, static_cast<std::uint32_t>(rows[i].steps),
                                    static_cast<std::uint32_t>(rows[i].exclusions)}});
                }
                return run->bytes() > budget;
            });
            SPI_freetuptable(SPI_tuptable);
            CHECK_FOR_INTERRUPTS();
        }
        SPI_cursor_close(cursor);
        pfree(rows);
        if (over_budget && passes < 4096) {
            // Start again with the actors split 8 times finer; nothing of this pass is counted.
            core_phase_or_raise([&] { run->restart(); });
            passes *= 8;
            pass = 0;
            continue;
        }
        if (over_budget)
            ereport(ERROR, (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
                            errmsg("funnel(): the actors' events do not fit in memory in 4,096 passes"),
                            errhint("Narrow the range, or raise work_mem.")));
        core_phase_or_raise([&] { run->finish_pass(); });
        ++pass;
    }
    SPI_finish();
    if (passes > 1) elog(DEBUG1, "telemetry.funnel(): the actors' events were read in %d passes", passes);

    // One row per breakdown value and step, computed in a core phase (the medians sort), then
    // handed to PostgreSQL from plain memory.
    struct OutRow {
        int step;
        int value;  // breakdown value index, -1: none
        FunnelTotals::Step totals;
    };
    struct OutRows {
        OutRow* rows;
        std::size_t count;
    };
    const OutRows out_rows = core_phase_or_raise([&] {
        OutRows r{static_cast<OutRow*>(palloc_or_throw(sizeof(OutRow) * (run->totals.size() * steps + 1))), 0};
        for (auto& [value, totals] : run->totals)
            for (int k = 1; k <= steps; ++k) r.rows[r.count++] = OutRow{k, value, totals.step(k)};
        return r;
    });
    InitMaterializedSRF(fcinfo, 0);
    ReturnSetInfo* rsinfo = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);
    for (std::size_t i = 0; i < out_rows.count; ++i) {
        const OutRow& row = out_rows.rows[i];
        const FunnelTotals::Step& step = row.totals;
        Datum out[6];
        bool out_nulls[6] = {false, row.value < 0, false, false, !step.has_times, !step.has_times};
        out[0] = Int32GetDatum(row.step);
        out[1] = row.value < 0 ? (Datum)0
                               : PointerGetDatum(cstring_to_text_with_len(
                                     run->values[row.value].data(), static_cast<int>(run->values[row.value].size())));
        out[2] = Float8GetDatum(step.actors);
        out[3] = Float8GetDatum(step.in_progress);
        out[4] = Float8GetDatum(step.median_seconds_from_previous);
        out[5] = Float8GetDatum(step.average_seconds_from_previous);
        tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, out, out_nulls);
    }
    MemoryContextSwitchTo(caller);
    MemoryContextDelete(call_memory);  // runs ~FunnelRun
    return (Datum)0;
}

// ---------------------------------------------------------------------------------------------
// The aggregate window_funnel(window interval, ts timestamptz, VARIADIC conditions boolean[]):
// the furthest step an actor's rows reach, by funnel()'s ordered rules (F2-F7, F10), for the
// analyst's own GROUP BY. A row's step k is met when conditions[k] is true; step 1's condition
// bounds entry (F12 is the caller's to write). The state is plain memory of the aggregate's
// context: the rows, in arrival order (which breaks ties of time, F2).

namespace telemetry::pg {
namespace {

struct WindowFunnelState {
    std::int64_t window;
    int steps;
    int count;
    int capacity;
    analytics::FunnelEvent* events;
};

}  // namespace
}  // namespace telemetry::pg

TELEMETRY_FUNCTION(telemetry_window_funnel_transition) {
    using namespace telemetry::pg;
    MemoryContext aggregate_memory;
    if (!AggCheckCallContext(fcinfo, &aggregate_memory))
        ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                        errmsg("telemetry.window_funnel() is an aggregate: call it with GROUP BY or over all rows")));
    auto* state = PG_ARGISNULL(0) ? nullptr : reinterpret_cast<WindowFunnelState*>(PG_GETARG_POINTER(0));
    if (PG_ARGISNULL(1) || PG_ARGISNULL(3))
        ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
                        errmsg("window_funnel() needs a window and its step conditions")));
    if (state == nullptr) {
        const std::int64_t window = interval_microseconds(PG_GETARG_INTERVAL_P(1));
        if (window <= 0)
            ereport(ERROR,
                    (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("window_funnel(): the window must be positive")));
        ArrayType* conditions = PG_GETARG_ARRAYTYPE_P(3);
        const int steps = ArrayGetNItems(ARR_NDIM(conditions), ARR_DIMS(conditions));
        if (steps < 1 || steps > telemetry::analytics::max_funnel_steps)
            ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                            errmsg("window_funnel() takes 1 to 32 step conditions")));
        state = static_cast<WindowFunnelState*>(MemoryContextAllocZero(aggregate_memory, sizeof(WindowFunnelState)));
        state->window = window;
        state->steps = steps;
        state->capacity = 64;
        state->events = static_cast<telemetry::analytics::FunnelEvent*>(
            MemoryContextAlloc(aggregate_memory, sizeof(telemetry::analytics::FunnelEvent) * state->capacity));
    }
    if (PG_ARGISNULL(2)) PG_RETURN_POINTER(state);  // a row without a time reaches nothing
    ArrayType* conditions = PG_GETARG_ARRAYTYPE_P(3);
    Datum* values;
    bool* nulls;
    int n;
    deconstruct_array(conditions, BOOLOID, 1, true, TYPALIGN_CHAR, &values, &nulls, &n);
    if (n != state->steps)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                        errmsg("window_funnel(): every row must give the same number of step conditions")));
    std::uint32_t mask = 0;
    for (int k = 0; k < n; ++k)
        if (!nulls[k] && DatumGetBool(values[k])) mask |= 1u << k;
    if (mask == 0) PG_RETURN_POINTER(state);
    if (state->count == state->capacity) {
        state->capacity *= 2;
        state->events = static_cast<telemetry::analytics::FunnelEvent*>(
            repalloc(state->events, sizeof(telemetry::analytics::FunnelEvent) * state->capacity));
    }
    state->events[state->count] = telemetry::analytics::FunnelEvent{PG_GETARG_TIMESTAMPTZ(2), state->count, mask, 0};
    ++state->count;
    PG_RETURN_POINTER(state);
}

TELEMETRY_FUNCTION(telemetry_window_funnel_final) {
    using namespace telemetry;
    using namespace telemetry::pg;
    if (PG_ARGISNULL(0)) PG_RETURN_INT32(0);
    auto* state = reinterpret_cast<WindowFunnelState*>(PG_GETARG_POINTER(0));
    const int reached = core_phase_or_raise([&] {
        analytics::FunnelEvent* begin = state->events;
        analytics::FunnelEvent* end = state->events + state->count;
        std::sort(begin, end, [](const analytics::FunnelEvent& a, const analytics::FunnelEvent& b) {
            return a.time != b.time ? a.time < b.time : a.seq < b.seq;
        });
        analytics::FunnelSpec spec;
        spec.steps = state->steps;
        spec.window = state->window;
        spec.mode = analytics::FunnelMode::ordered;
        spec.range_from = DT_NOBEGIN;
        spec.range_to = DT_NOEND;
        spec.now = DT_NOEND;
        if (spec.steps == 1) return state->count > 0 ? 1 : 0;
        return analytics::evaluate_funnel(spec, begin, static_cast<std::size_t>(state->count)).reached;
    });
    PG_RETURN_INT32(reached);
}
