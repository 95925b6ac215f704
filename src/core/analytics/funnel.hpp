// The funnel engine: one actor's events in, the furthest step of its counted attempt out, by the
// rules of FUNNELS.md (F1-F17), then the totals per step over actors.
//
// The caller (src/pg/analytics) reads each actor's events in (event time, ingest order) (F2),
// marks for each the steps and the exclusions it matches (F3), and hands them over actor by
// actor. In ordered and any modes only events that match a step or an exclusion are needed; in
// strict mode every event of the actor is (F8: any other event ends an attempt).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace telemetry::analytics {

inline constexpr int max_funnel_steps = 32;

enum class FunnelMode { ordered, strict, any };

// One event of an actor. Times are microseconds on any common clock.
struct FunnelEvent {
    std::int64_t time;
    std::int64_t seq;          // ingest order: orders events of the same time (F2)
    std::uint32_t steps;       // bit k-1: the event matches step k (F3)
    std::uint32_t exclusions;  // bit i: the event matches exclusion i
};

// An exclusion event between steps from and to (1-based, from < to) invalidates an attempt (F11).
struct FunnelExclusion {
    int from_step;
    int to_step;
};

struct FunnelSpec {
    int steps = 2;            // 2..32
    std::int64_t window = 0;  // the conversion window, > 0 (F5)
    FunnelMode mode = FunnelMode::ordered;
    std::int64_t range_from = 0;  // step 1 must lie in [range_from, range_to) (F12)
    std::int64_t range_to = 0;
    std::int64_t now = 0;  // no step after now (F12); windows open at now (F13)
    std::vector<FunnelExclusion> exclusions;
};

// What one actor contributes.
struct FunnelOutcome {
    int reached = 0;           // the furthest step of the counted attempt; 0: not in the funnel
    bool excluded = false;     // every attempt reaching the furthest step was invalidated (F11)
    bool in_progress = false;  // not at the last step, and can still advance (F13)
    bool times_known = false;  // step_time holds the counted attempt's times (not in any mode)
    std::size_t entry = 0;     // the index of the counted attempt's step-1 event (entry, F9/F16)
    std::int64_t step_time[max_funnel_steps] = {};
};

// Evaluates one actor. events: the actor's events sorted by (time, seq). Throws
// std::bad_alloc only.
FunnelOutcome evaluate_funnel(const FunnelSpec& spec, const FunnelEvent* events, std::size_t n);

// The totals over actors (F14, F15, F17): weighted actors per step, in progress, times between
// steps.
class FunnelTotals {
public:
    explicit FunnelTotals(int steps);
    // weight: the actor's weight (the inverse of its sampling rate, F17); 1 when not sampled.
    void add(const FunnelOutcome& outcome, double weight);

    struct Step {
        double actors;       // actors whose result reached at least this step
        double in_progress;  // of those not reaching it, the ones that still can (F13)
        bool has_times;      // the two below are set (a step after the first, with converters)
        double average_seconds_from_previous;
        double median_seconds_from_previous;
    };
    Step step(int k) const;  // 1-based

private:
    int steps_;
    std::vector<double> actors_;
    std::vector<double> in_progress_;
    std::vector<std::vector<double>> seconds_;  // per step, per converted actor
};

}  // namespace telemetry::analytics
