// The sessions engine: an actor's events into sessions, then per bucket the number of sessions,
// bounces, and the average and median duration, by the rules of FUNNELS.md (Engagement,
// Sessions).
//
// Two kinds of session:
// - a client session (events with a session_id) is taken as given: never split by inactivity or
//   length; it starts at its first event and ends at its last. The caller (src/pg/analytics)
//   groups its events (first, last, count) and hands it over with add_client_session().
// - an actor's events without a session_id form sessions among themselves: in time order, a gap
//   of more than `inactivity` (30 minutes) starts a new session, exactly 30 minutes continues it;
//   an event more than `max_length` (24 hours) after its session's first event starts a new one,
//   exactly 24 hours continues it. Nothing else splits: not midnight, in any time zone (the
//   engine sees no calendar at all). The caller streams them actor by actor with add_event() and
//   end_actor(), in time order; the engine keeps one open session, never the actor's events.
//
// Duration = last - first event. A one-event session is a bounce with duration 0, and counts in
// the averages and medians like any other. A range [range_from, range_to) holds the sessions that
// start in it, with their full duration (their events at or after range_to still extend them).
//
// What the caller must read, for id-less events (the split depends on where a run began):
// - back to the start of each actor's run: the first event it gives for an actor must start a
//   session, i.e. have no earlier event of the actor within `inactivity` of it. Events read from
//   a lower bound `read_from` begin a run for certain when the first one is at least
//   `inactivity` after read_from (may_continue_from_before() is false); else the caller reads
//   further back, e.g. the actor's earlier events newest first until splits_at() holds between
//   two of them (the 24-hour cuts inside a run count from the run's first event, so a run read
//   from its middle would be cut in the wrong places).
// - forward, events before read_to(spec): a session starting before range_to ends before that.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace telemetry::analytics {

// Times are microseconds on any common clock (finite: the caller leaves out +-infinity).
struct SessionSpec {
    std::int64_t range_from = 0;  // sessions that start in [range_from, range_to) are counted
    std::int64_t range_to = 0;
    std::int64_t inactivity = 30 * 60 * 1000000LL;    // a longer gap starts a session; > 0
    std::int64_t max_length = 24 * 3600 * 1000000LL;  // a later event starts a session; > 0
    // Bucket starts, ascending (the constructor sorts them and drops repeats): a session goes in
    // the last bucket whose start is <= its start; one that starts before the first bucket goes
    // in none (give bucket_starts[0] <= range_from). Empty: one bucket starting at range_from.
    std::vector<std::int64_t> bucket_starts;
};

// True when `next` starts a new id-less session whatever came before: it is more than
// `inactivity` after `previous` (previous <= next).
bool splits_at(const SessionSpec& spec, std::int64_t previous, std::int64_t next) noexcept;

// Whether an actor's first event read at or after `read_from` may continue a run of events
// before read_from (false: it starts a session for certain, nothing earlier is needed).
bool may_continue_from_before(const SessionSpec& spec, std::int64_t first_read, std::int64_t read_from) noexcept;

// Id-less events before this time are enough to finish every session starting before range_to:
// range_to + max_length (saturated).
std::int64_t read_to(const SessionSpec& spec) noexcept;

class SessionTotals {
public:
    // Throws std::bad_alloc only.
    explicit SessionTotals(SessionSpec spec);

    // The next event without a session_id of the current actor; times never decrease (ties in
    // any order). The first event after construction or end_actor() starts a session (see the
    // header comment: the caller read back to the start of the actor's run). Throws
    // std::bad_alloc only.
    void add_event(std::int64_t time);
    // Ends the current actor: counts its open session. Call it after each actor, the last one
    // too, before buckets(). Throws std::bad_alloc only.
    void end_actor();
    // One actor's events without a session_id at once, sorted by time: add_event() for each,
    // then end_actor(). Throws std::bad_alloc only.
    void add_actor_events(const std::int64_t* times, std::size_t n);

    // One client session, taken as given: its first and last event times and its event count
    // (1: a bounce; more events at one time are not). Throws std::bad_alloc only.
    void add_client_session(std::int64_t first, std::int64_t last, std::int64_t events);

    struct Bucket {
        std::int64_t start;
        std::int64_t sessions;
        std::int64_t bounces;  // one-event sessions (duration 0, in the average and median)
        // The three below are 0 when sessions is 0 (no value: the SQL layer gives NULL).
        double avg_seconds;
        double median_seconds;  // exact; of an even count, the mean of the two middle durations
        double bounce_rate;     // bounces / sessions
    };
    // Every bucket in order, empty ones with sessions 0. Reorders the stored durations (their
    // order means nothing). Throws std::bad_alloc only.
    std::vector<Bucket> buckets();

private:
    SessionSpec spec_;
    struct Totals {
        std::int64_t bounces = 0;
        std::vector<std::int64_t> durations;  // microseconds, one per session: 8 bytes each
    };
    std::vector<Totals> totals_;  // per bucket_starts entry

    // The current actor's open id-less session.
    bool open_ = false;
    std::int64_t first_ = 0;
    std::int64_t last_ = 0;
    std::int64_t events_ = 0;

    void count(std::int64_t first, std::int64_t last, std::int64_t events);
};

}  // namespace telemetry::analytics
