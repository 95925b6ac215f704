#include "core/analytics/funnel.hpp"

#include <algorithm>

namespace telemetry::analytics {

namespace {

bool matches(const FunnelEvent& e, int step) noexcept { return (e.steps >> (step - 1)) & 1u; }

// One attempt, from one entry event.
struct Attempt {
    int reached = 0;
    bool valid = true;
    bool ended = false;  // strict mode: another event ended it (it cannot advance)
    std::int64_t time[max_funnel_steps] = {};
    std::size_t event[max_funnel_steps] = {};  // which event filled each step (F4)
};

bool uses(const Attempt& a, std::size_t index) noexcept {
    for (int k = 0; k < a.reached; ++k)
        if (a.event[k] == index) return true;
    return false;
}

// F10: the better of two attempts: further; then the one that reached that step first; then the
// later entry; then the one whose intermediate steps were reached earliest.
bool better(const Attempt& a, const Attempt& b) noexcept {
    if (a.reached != b.reached) return a.reached > b.reached;
    if (a.reached == 0) return false;
    const int last = a.reached - 1;
    if (a.time[last] != b.time[last]) return a.time[last] < b.time[last];
    if (a.time[0] != b.time[0]) return a.time[0] > b.time[0];
    for (int k = 1; k < last; ++k)
        if (a.time[k] != b.time[k]) return a.time[k] < b.time[k];
    return false;
}

bool within(const FunnelSpec& spec, const Attempt& a, const FunnelEvent& e) noexcept {
    return e.time - a.time[0] <= spec.window && e.time <= spec.now;
}

// F11: an exclusion event strictly after the attempt's step-from event, before the attempt
// reaches step to, inside the window.
void apply_exclusions(const FunnelSpec& spec, Attempt& a, const FunnelEvent& e) noexcept {
    if (!a.valid || e.exclusions == 0 || e.time - a.time[0] > spec.window) return;
    for (std::size_t x = 0; x < spec.exclusions.size(); ++x) {
        if (!((e.exclusions >> x) & 1u)) continue;
        const FunnelExclusion& ex = spec.exclusions[x];
        if (a.reached >= ex.from_step && a.reached < ex.to_step && e.time > a.time[ex.from_step - 1]) a.valid = false;
    }
}

// The end of the group of events at events[begin].time.
std::size_t group_end(const FunnelEvent* events, std::size_t n, std::size_t begin) noexcept {
    std::size_t end = begin;
    while (end < n && events[end].time == events[begin].time) ++end;
    return end;
}

// Ordered mode (F5, F6, F7): from the entry, each step is filled by the earliest event that
// matches it, at or after the previous step; at one instant, every event that fills the next
// step is taken before any other (so A and B at the same instant count as A then B).
Attempt run_ordered(const FunnelSpec& spec, const FunnelEvent* events, std::size_t n, std::size_t entry) {
    Attempt a;
    a.reached = 1;
    a.time[0] = events[entry].time;
    a.event[0] = entry;
    std::size_t begin = entry;
    while (begin > 0 && events[begin - 1].time == events[entry].time) --begin;
    while (begin < n && a.reached < spec.steps) {
        const std::size_t end = group_end(events, n, begin);
        if (!within(spec, a, events[begin])) break;
        bool advanced = true;
        while (advanced && a.reached < spec.steps) {
            advanced = false;
            for (std::size_t i = begin; i < end; ++i) {
                if (i == entry || uses(a, i) || !matches(events[i], a.reached + 1)) continue;
                a.time[a.reached] = events[i].time;
                a.event[a.reached] = i;
                ++a.reached;
                advanced = true;
                break;
            }
        }
        // Exclusions at an instant come after the steps of that instant (equal times are not
        // between).
        for (std::size_t i = begin; i < end; ++i) apply_exclusions(spec, a, events[i]);
        begin = end;
    }
    return a;
}

// Strict mode (F8): after reaching step k, the actor's next event must fill step k+1 or repeat
// step k; anything else ends the attempt (a step-1 event starts another). At one instant (F7):
// events filling the next step first, then step 1, then repeats, then the rest.
Attempt run_strict(const FunnelSpec& spec, const FunnelEvent* events, std::size_t n, std::size_t entry) {
    Attempt a;
    a.reached = 1;
    a.time[0] = events[entry].time;
    a.event[0] = entry;
    std::size_t begin = entry;
    while (begin > 0 && events[begin - 1].time == events[entry].time) --begin;
    while (begin < n && !a.ended) {
        const std::size_t end = group_end(events, n, begin);
        bool advanced = true;
        while (advanced && a.reached < spec.steps && within(spec, a, events[begin])) {
            advanced = false;
            for (std::size_t i = begin; i < end; ++i) {
                if (i == entry || uses(a, i) || !matches(events[i], a.reached + 1)) continue;
                a.time[a.reached] = events[i].time;
                a.event[a.reached] = i;
                ++a.reached;
                advanced = true;
                break;
            }
        }
        // The rest of the instant: a repeat of the current step is tolerated; anything else (a
        // step-1 event that is not one, another step, a non-step event, an event past the
        // window) ends the attempt after what the instant reached.
        for (std::size_t i = begin; i < end; ++i) {
            if (i == entry || uses(a, i)) continue;
            apply_exclusions(spec, a, events[i]);
            const bool repeat = matches(events[i], a.reached) && within(spec, a, events[i]);
            if (!repeat) a.ended = true;
        }
        begin = end;
    }
    return a;
}

// Kuhn's augmenting path for the any-mode matching of steps to events.
bool augment(int step, const std::vector<std::uint32_t>& masks, std::vector<int>& event_of_step,
             std::vector<int>& step_of_event, std::vector<char>& seen) {
    for (std::size_t e = 0; e < masks.size(); ++e) {
        if (!((masks[e] >> step) & 1u) || seen[e]) continue;
        seen[e] = 1;
        if (step_of_event[e] < 0 || augment(step_of_event[e], masks, event_of_step, step_of_event, seen)) {
            step_of_event[e] = step;
            event_of_step[step] = static_cast<int>(e);
            return true;
        }
    }
    return false;
}

// Any mode (F9): the most distinct steps, each filled by a different event, all inside a window
// that starts at the entry (the earliest event of the set, in the range).
FunnelOutcome evaluate_any(const FunnelSpec& spec, const FunnelEvent* events, std::size_t n) {
    FunnelOutcome out;
    std::int64_t best_entry_time = 0;
    for (std::size_t entry = 0; entry < n; ++entry) {
        const FunnelEvent& first = events[entry];
        if (first.steps == 0 || first.time < spec.range_from || first.time >= spec.range_to || first.time > spec.now)
            continue;
        // The entry fills one of its steps; the others are matched among the window's events.
        std::vector<std::uint32_t> masks;
        for (std::size_t i = entry + 1;
             i < n && events[i].time - first.time <= spec.window && events[i].time <= spec.now; ++i)
            if (events[i].steps != 0) masks.push_back(events[i].steps);
        for (int s = 0; s < spec.steps; ++s) {
            if (!((first.steps >> s) & 1u)) continue;
            std::vector<int> event_of_step(spec.steps, -1);
            std::vector<int> step_of_event(masks.size(), -1);
            int matched = 1;
            for (int t = 0; t < spec.steps; ++t) {
                if (t == s) continue;
                std::vector<char> seen(masks.size(), 0);
                if (augment(t, masks, event_of_step, step_of_event, seen)) ++matched;
            }
            // Further, or as far with a later entry (more of the window left, F10).
            if (matched > out.reached || (matched == out.reached && first.time > best_entry_time)) {
                out.reached = matched;
                out.entry = entry;
                best_entry_time = first.time;
            }
        }
    }
    out.in_progress = out.reached > 0 && out.reached < spec.steps && best_entry_time + spec.window > spec.now;
    return out;
}

}  // namespace

FunnelOutcome evaluate_funnel(const FunnelSpec& spec, const FunnelEvent* events, std::size_t n) {
    if (spec.mode == FunnelMode::any) return evaluate_any(spec, events, n);
    auto can_enter = [&](const FunnelEvent& e) {
        return matches(e, 1) && e.time >= spec.range_from && e.time < spec.range_to && e.time <= spec.now;
    };
    // Ordered mode: an entry is skipped when a later one does at least as well (F10): an event
    // that matches step 1 only, at a later instant, with no event that matches a later step at
    // the entry's instant or in between. Every event the earlier attempt could use is then
    // usable by the later one, which has more of its window left and no fewer clean stretches
    // (an exclusion between them spoils only the earlier). Scanned backwards, instant by instant.
    std::vector<char> superseded(n, 0);
    if (spec.mode == FunnelMode::ordered) {
        bool later_entry = false;  // a step-1-only entry after this instant, nothing in between
        std::size_t end = n;
        while (end > 0) {
            std::size_t begin = end - 1;
            while (begin > 0 && events[begin - 1].time == events[end - 1].time) --begin;
            bool later_steps = false, pure_entry = false;
            for (std::size_t i = begin; i < end; ++i) {
                if (events[i].steps & ~1u) later_steps = true;
                if (events[i].steps == 1u && can_enter(events[i])) pure_entry = true;
            }
            for (std::size_t i = begin; i < end; ++i) superseded[i] = later_entry && !later_steps;
            if (pure_entry) later_entry = true;
            else if (later_steps) later_entry = false;
            end = begin;
        }
    }
    Attempt best_valid;
    int furthest = 0;
    bool open_at_furthest = false;
    for (std::size_t entry = 0; entry < n; ++entry) {
        if (!can_enter(events[entry]) || superseded[entry]) continue;
        Attempt a =
            spec.mode == FunnelMode::strict ? run_strict(spec, events, n, entry) : run_ordered(spec, events, n, entry);
        furthest = std::max(furthest, a.reached);
        if (!a.valid) continue;
        // F13: an attempt at its furthest step that can still advance, its window open.
        const bool open = a.reached < spec.steps && !a.ended && a.time[0] + spec.window > spec.now;
        if (better(a, best_valid) || best_valid.reached == 0) {
            if (a.reached > best_valid.reached) open_at_furthest = false;
            best_valid = a;
        }
        if (a.reached == best_valid.reached && open) open_at_furthest = true;
    }
    FunnelOutcome out;
    if (furthest == 0) return out;
    if (best_valid.reached < furthest) {  // F11: no valid attempt reaches the furthest step
        out.excluded = true;
        return out;
    }
    out.reached = best_valid.reached;
    out.entry = best_valid.event[0];
    out.times_known = true;
    for (int k = 0; k < best_valid.reached; ++k) out.step_time[k] = best_valid.time[k];
    out.in_progress = open_at_furthest;
    return out;
}

FunnelTotals::FunnelTotals(int steps) : steps_(steps), actors_(steps, 0.0), in_progress_(steps, 0.0), seconds_(steps) {}

void FunnelTotals::add(const FunnelOutcome& outcome, double weight) {
    for (int k = 0; k < outcome.reached && k < steps_; ++k) actors_[k] += weight;
    if (outcome.in_progress && outcome.reached < steps_) in_progress_[outcome.reached] += weight;
    if (outcome.times_known)
        for (int k = 1; k < outcome.reached && k < steps_; ++k)
            seconds_[k].push_back(static_cast<double>(outcome.step_time[k] - outcome.step_time[k - 1]) / 1e6);
}

FunnelTotals::Step FunnelTotals::step(int k) const {
    Step s{actors_[k - 1], in_progress_[k - 1], false, 0.0, 0.0};
    std::vector<double> times = seconds_[k - 1];
    if (k > 1 && !times.empty()) {
        double sum = 0;
        for (double t : times) sum += t;
        std::sort(times.begin(), times.end());
        const std::size_t m = times.size() / 2;
        s.has_times = true;
        s.average_seconds_from_previous = sum / static_cast<double>(times.size());
        s.median_seconds_from_previous = times.size() % 2 ? times[m] : (times[m - 1] + times[m]) / 2;
    }
    return s;
}

}  // namespace telemetry::analytics

#include "core/base/no_postgres.hpp"
