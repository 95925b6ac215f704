// The engine of telemetry.sessions() (src/sql/69_analytics_sessions.sql): the events read as the
// caller (row-level security applies), split into sessions and counted by
// core/analytics/sessions, by the rules of FUNNELS.md (Engagement, Sessions).
//
// What is read, for a range [from, to):
// - client sessions (events with a session_id): grouped in SQL by session_id, their events
//   within 24 hours either side of the range (a client session lasting longer is measured
//   within that: docs/analytics.md);
// - events without a session_id, per user: from 24 hours before `from` to 24 hours after `to`
//   (a session starting before `to` ends by then). The 24-hour cuts of a run count from where
//   the run began, so for a user whose first event read may continue a run from before (within
//   30 minutes of the lower bound), one more day back is read, and again, until the run's start
//   is found: exact, one extra query per day back, only for users active across those bounds.
#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/analytics/actor_index.hpp"
#include "core/analytics/sessions.hpp"
#include "pg/boundary/context_owned.hpp"
#include "pg/boundary/convert.hpp"
#include "pg/boundary/guard.hpp"
#include "pg/boundary/search_path.hpp"
#include "pg/tenancy/tenant_identity.hpp"

extern "C" {
#include "miscadmin.h"
#include "utils/array.h"
}

namespace telemetry::pg {

namespace {

constexpr std::int64_t read_margin = USECS_PER_DAY;  // around the range, and each step back

// What sessions() keeps across the cursor's fetches (owned by a memory context).
struct SessionsRun {
    explicit SessionsRun(analytics::SessionSpec spec) : spec(spec), totals(std::move(spec)) {}
    analytics::SessionSpec spec;
    analytics::SessionTotals totals;
    analytics::ActorIndex users;
    std::vector<std::vector<std::int64_t>> times;  // by user number: their events without a session_id
    std::vector<std::string> names;                // by user number, for the reads back
    std::vector<bool> read_now;                    // by user number: had events in the last read
    std::vector<int> last_asked;                   // the users of the last read back

    std::size_t bytes = 0;  // about what the events and users held take

    void add(std::string_view user, std::int64_t time) {
        const auto number = static_cast<std::size_t>(users.number(user));
        if (number == times.size()) {
            times.emplace_back();
            names.emplace_back(user);
            read_now.push_back(false);
            bytes += analytics::ActorIndex::bytes_per_actor + sizeof(std::vector<std::int64_t>) + user.size();
        }
        times[number].push_back(time);
        read_now[number] = true;
        bytes += sizeof(std::int64_t);
    }

    // The users whose earliest event read may continue a run from before `bound`. Those in
    // `asked` that had no event in the last read (a day before the old bound) begin there.
    std::vector<int> continuing(std::int64_t bound, const std::vector<int>* asked) const {
        std::vector<int> out;
        auto check = [&](int u) {
            const auto& t = times[static_cast<std::size_t>(u)];
            if (!t.empty() && analytics::may_continue_from_before(spec, *std::min_element(t.begin(), t.end()), bound))
                out.push_back(u);
        };
        if (asked == nullptr) {
            for (int u = 0; u < static_cast<int>(times.size()); ++u) check(u);
        } else {
            for (int u : *asked)
                if (read_now[static_cast<std::size_t>(u)]) check(u);
        }
        return out;
    }

    void forget_last_read() { std::fill(read_now.begin(), read_now.end(), false); }

    void finish() {
        for (auto& t : times) {
            std::sort(t.begin(), t.end());
            totals.add_actor_events(t.data(), t.size());
        }
    }
};

}  // namespace

}  // namespace telemetry::pg

// sessions_engine(tenant_id uuid, "from" timestamptz, "to" timestamptz, bucket_starts
// timestamptz[]) RETURNS TABLE (bucket_start timestamptz, sessions int8, bounces int8,
// avg_seconds float8, median_seconds float8): per bucket (the last whose start is at or before a
// session's start). telemetry.sessions() checks the arguments.
TELEMETRY_FUNCTION(telemetry_sessions_engine) {
    using namespace telemetry;
    using namespace telemetry::pg;
    for (int i = 0; i < 4; ++i)
        if (PG_ARGISNULL(i))
            ereport(ERROR,
                    (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("sessions_engine: argument %d is NULL", i + 1)));
    require_tenant_access(Caller::current_user, *PG_GETARG_UUID_P(0), Need::read);
    const TimestampTz from = PG_GETARG_TIMESTAMPTZ(1);
    const TimestampTz to = PG_GETARG_TIMESTAMPTZ(2);
    Datum* starts;
    bool* start_nulls;
    int buckets;
    deconstruct_array(PG_GETARG_ARRAYTYPE_P(3), TIMESTAMPTZOID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE, &starts,
                      &start_nulls, &buckets);
    for (int i = 0; i < buckets; ++i)
        if (start_nulls[i])
            ereport(ERROR,
                    (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("sessions_engine: a bucket start is NULL")));
    if (buckets < 1 || buckets > 10000 || DatumGetTimestampTz(starts[0]) > from || to < from ||
        from < MIN_TIMESTAMP + 8 * USECS_PER_DAY || to > END_TIMESTAMP - 8 * USECS_PER_DAY)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                        errmsg("sessions_engine: a finite range and buckets starting at or before it are needed")));

    MemoryContext caller = CurrentMemoryContext;
    MemoryContext call_memory = AllocSetContextCreate(caller, "telemetry.sessions", ALLOCSET_DEFAULT_SIZES);
    SessionsRun* run = core_phase_or_raise([&] {
        analytics::SessionSpec spec;
        spec.range_from = from;
        spec.range_to = to;
        for (int i = 0; i < buckets; ++i) spec.bucket_starts.push_back(DatumGetTimestampTz(starts[i]));
        return make_context_owned<SessionsRun>(call_memory, std::move(spec));
    });
    // The memory the events without a session id may take: 8 times what a hash join may, as
    // funnel() allows (about 8 bytes an event and 150 a user).
    const std::size_t budget = static_cast<std::size_t>(get_hash_memory_limit()) * 8;
    const TimestampTz read_from = from - read_margin;
    const TimestampTz read_until = to + read_margin;
    use_safe_search_path();
    SPI_connect();
    constexpr int batch = 1000;
    struct Row {
        text* user;
        TimestampTz time;
    };
    Row* rows = static_cast<Row*>(palloc(sizeof(Row) * batch));

    // Client sessions, whole within the margins: first and last event, and how many.
    {
        Oid types[3] = {UUIDOID, TIMESTAMPTZOID, TIMESTAMPTZOID};
        Datum values[3] = {PG_GETARG_DATUM(0), TimestampTzGetDatum(read_from), TimestampTzGetDatum(read_until)};
        Portal cursor = SPI_cursor_open_with_args(
            nullptr,
            "SELECT pg_catalog.min(e.occurred_at), pg_catalog.max(e.occurred_at), pg_catalog.count(*) "
            "FROM telemetry.events e WHERE e.tenant_id OPERATOR(pg_catalog.=) $1 AND e.session_id IS NOT NULL "
            "AND e.occurred_at OPERATOR(pg_catalog.>=) $2 AND e.occurred_at OPERATOR(pg_catalog.<) $3 "
            "GROUP BY e.session_id",
            3, types, values, nullptr, true, 0);
        struct Session {
            TimestampTz first;
            TimestampTz last;
            int64 events;
        };
        Session* sessions = static_cast<Session*>(palloc(sizeof(Session) * batch));
        for (;;) {
            SPI_cursor_fetch(cursor, true, batch);
            const int n = static_cast<int>(SPI_processed);
            if (n == 0) break;
            for (int i = 0; i < n; ++i) {
                bool isnull;
                HeapTuple tuple = SPI_tuptable->vals[i];
                sessions[i].first = DatumGetTimestampTz(SPI_getbinval(tuple, SPI_tuptable->tupdesc, 1, &isnull));
                sessions[i].last = DatumGetTimestampTz(SPI_getbinval(tuple, SPI_tuptable->tupdesc, 2, &isnull));
                sessions[i].events = DatumGetInt64(SPI_getbinval(tuple, SPI_tuptable->tupdesc, 3, &isnull));
            }
            core_phase_or_raise([&] {
                for (int i = 0; i < n; ++i)
                    run->totals.add_client_session(sessions[i].first, sessions[i].last, sessions[i].events);
            });
            SPI_freetuptable(SPI_tuptable);
            CHECK_FOR_INTERRUPTS();
        }
        SPI_cursor_close(cursor);
        pfree(sessions);
    }

    // Events without a session_id: first the range with its margins, then a day further back
    // at a time for the users whose run may have begun before what was read.
    ArrayType* asked = nullptr;  // the users read back (text[]); nullptr: every user
    TimestampTz lower = read_from;
    TimestampTz upper = read_until;
    for (;;) {
        Oid types[4] = {UUIDOID, TIMESTAMPTZOID, TIMESTAMPTZOID, TEXTARRAYOID};
        Datum values[4] = {PG_GETARG_DATUM(0), TimestampTzGetDatum(lower), TimestampTzGetDatum(upper),
                           PointerGetDatum(asked)};
        Portal cursor = SPI_cursor_open_with_args(
            nullptr,
            asked == nullptr
                ? "SELECT e.user_id::pg_catalog.text, e.occurred_at FROM telemetry.events e "
                  "WHERE e.tenant_id OPERATOR(pg_catalog.=) $1 AND e.session_id IS NULL AND e.user_id IS NOT NULL "
                  "AND e.occurred_at OPERATOR(pg_catalog.>=) $2 AND e.occurred_at OPERATOR(pg_catalog.<) $3"
                : "SELECT e.user_id::pg_catalog.text, e.occurred_at FROM telemetry.events e "
                  "WHERE e.tenant_id OPERATOR(pg_catalog.=) $1 AND e.session_id IS NULL "
                  "AND e.user_id::pg_catalog.text OPERATOR(pg_catalog.=) ANY ($4) "
                  "AND e.occurred_at OPERATOR(pg_catalog.>=) $2 AND e.occurred_at OPERATOR(pg_catalog.<) $3",
            asked == nullptr ? 3 : 4, types, values, nullptr, true, 0);
        core_phase_or_raise([&] { run->forget_last_read(); });
        for (;;) {
            SPI_cursor_fetch(cursor, true, batch);
            const int n = static_cast<int>(SPI_processed);
            if (n == 0) break;
            for (int i = 0; i < n; ++i) {
                bool isnull;
                HeapTuple tuple = SPI_tuptable->vals[i];
                rows[i].user = DatumGetTextPP(SPI_getbinval(tuple, SPI_tuptable->tupdesc, 1, &isnull));
                rows[i].time = DatumGetTimestampTz(SPI_getbinval(tuple, SPI_tuptable->tupdesc, 2, &isnull));
            }
            const bool over_budget = core_phase_or_raise([&] {
                for (int i = 0; i < n; ++i) run->add(text_view(rows[i].user), rows[i].time);
                return run->bytes > budget;
            });
            if (over_budget)
                ereport(ERROR,
                        (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
                         errmsg("sessions(): the range's events without a session id do not fit in memory"),
                         errhint("Narrow the range, or raise work_mem (8 x work_mem x hash_mem_multiplier is the "
                                 "limit).")));
            SPI_freetuptable(SPI_tuptable);
            CHECK_FOR_INTERRUPTS();
        }
        SPI_cursor_close(cursor);
        // Who may continue from before `lower`: their names, as text[], for the next read.
        struct Names {
            int count;
            const char** data;
            int* lengths;
        };
        const Names next = core_phase_or_raise([&] {
            std::vector<int>* previous = asked == nullptr ? nullptr : &run->last_asked;
            run->last_asked = run->continuing(lower, previous);
            Names out{static_cast<int>(run->last_asked.size()), nullptr, nullptr};
            if (out.count > 0) {
                out.data = static_cast<const char**>(palloc_or_throw(sizeof(char*) * out.count));
                out.lengths = static_cast<int*>(palloc_or_throw(sizeof(int) * out.count));
                for (int i = 0; i < out.count; ++i) {
                    const std::string& name = run->names[static_cast<std::size_t>(run->last_asked[i])];
                    out.data[i] = name.data();
                    out.lengths[i] = static_cast<int>(name.size());
                }
            }
            return out;
        });
        if (next.count == 0) break;
        if (lower < MIN_TIMESTAMP + 2 * read_margin) break;  // nothing is older
        Datum* elements = static_cast<Datum*>(palloc(sizeof(Datum) * next.count));
        for (int i = 0; i < next.count; ++i)
            elements[i] = PointerGetDatum(cstring_to_text_with_len(next.data[i], next.lengths[i]));
        asked = construct_array(elements, next.count, TEXTOID, -1, false, TYPALIGN_INT);
        upper = lower;
        lower -= read_margin;
    }
    SPI_finish();

    struct BucketList {
        analytics::SessionTotals::Bucket* buckets;
        std::size_t count;
    };
    const BucketList list = core_phase_or_raise([&] {
        run->finish();
        const std::vector<analytics::SessionTotals::Bucket> all = run->totals.buckets();
        auto* out = static_cast<analytics::SessionTotals::Bucket*>(
            palloc_or_throw(sizeof(analytics::SessionTotals::Bucket) * (all.size() + 1)));
        std::copy(all.begin(), all.end(), out);
        return BucketList{out, all.size()};
    });
    MemoryContextSwitchTo(caller);
    InitMaterializedSRF(fcinfo, 0);
    ReturnSetInfo* rsinfo = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);
    for (std::size_t i = 0; i < list.count; ++i) {
        const analytics::SessionTotals::Bucket& b = list.buckets[i];
        Datum out[5] = {TimestampTzGetDatum(b.start), Int64GetDatum(b.sessions), Int64GetDatum(b.bounces),
                        Float8GetDatum(b.avg_seconds), Float8GetDatum(b.median_seconds)};
        bool nulls[5] = {false, false, false, b.sessions == 0, b.sessions == 0};
        tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, out, nulls);
    }
    MemoryContextDelete(call_memory);  // runs ~SessionsRun (the buckets were copied out before)
    return (Datum)0;
}
