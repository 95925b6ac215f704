// The funnel engine against the rules and vectors of FUNNELS.md (F1-F17, V1-V16).
#include "core/analytics/funnel.hpp"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

namespace telemetry::analytics {
namespace {

constexpr std::int64_t s = 1000000;  // a second, in microseconds
constexpr std::int64_t day = 86400 * s;

struct Timeline {
    std::string steps;       // one letter per step: "ABC", "PP", "ABA"
    std::string exclusions;  // one letter per exclusion, matching the exclusions of the spec
    std::vector<FunnelEvent> events;

    explicit Timeline(std::string step_letters, std::string exclusion_letters = "")
        : steps(std::move(step_letters)), exclusions(std::move(exclusion_letters)) {}

    // An event named by one letter at a time in seconds; ingest order is the order of calls.
    Timeline& at(char name, double seconds) {
        FunnelEvent e{static_cast<std::int64_t>(seconds * s), static_cast<std::int64_t>(events.size()), 0, 0};
        for (std::size_t k = 0; k < steps.size(); ++k)
            if (steps[k] == name) e.steps |= 1u << k;
        for (std::size_t x = 0; x < exclusions.size(); ++x)
            if (exclusions[x] == name) e.exclusions |= 1u << x;
        events.push_back(e);
        return *this;
    }
    // Sorted by (time, ingest order), as the caller reads them (F2).
    FunnelOutcome run(FunnelSpec spec) {
        std::stable_sort(events.begin(), events.end(), [](const FunnelEvent& a, const FunnelEvent& b) {
            return a.time != b.time ? a.time < b.time : a.seq < b.seq;
        });
        spec.steps = static_cast<int>(steps.size());
        return evaluate_funnel(spec, events.data(), events.size());
    }
};

FunnelSpec spec(FunnelMode mode = FunnelMode::ordered, std::int64_t window = 10 * s) {
    FunnelSpec f;
    f.window = window;
    f.mode = mode;
    f.range_from = -1000 * day;
    f.range_to = 1000 * day;
    f.now = 2000 * day;
    return f;
}

int reached(Timeline t, FunnelSpec f = spec()) { return t.run(f).reached; }

TEST(Funnel, V1_AllStepsInsideTheWindow) { EXPECT_EQ(reached(Timeline{"ABC"}.at('A', 0).at('B', 5).at('C', 9)), 3); }

TEST(Funnel, V2_TheWindowIsAnchoredAtStepOne) {
    EXPECT_EQ(reached(Timeline{"ABC"}.at('A', 0).at('B', 5).at('C', 11)), 2);
    // Inclusive: ts_k - ts_1 <= window (F5).
    EXPECT_EQ(reached(Timeline{"ABC"}.at('A', 0).at('B', 5).at('C', 10)), 3);
}

TEST(Funnel, V3_TheLaterEntryStartsTheAttemptThatConverts) {
    Timeline t{"ABC"};
    t.at('A', 0).at('A', 8).at('B', 12).at('C', 15);
    const FunnelOutcome out = t.run(spec());
    EXPECT_EQ(out.reached, 3);
    EXPECT_EQ(out.step_time[0], 8 * s);
}

TEST(Funnel, V4_EventsOfOneInstantArePermutable) {
    EXPECT_EQ(reached(Timeline{"ABC"}.at('A', 100).at('B', 100).at('C', 105)), 3);
    // Ingested in the other order, the same (F7).
    EXPECT_EQ(reached(Timeline{"ABC"}.at('B', 100).at('A', 100).at('C', 105)), 3);
}

TEST(Funnel, V5_OneEventCannotFillTwoSteps) { EXPECT_EQ(reached(Timeline{"PP"}.at('P', 0)), 1); }

TEST(Funnel, V6_TwoEventsOfOneInstantFillTwoSteps) { EXPECT_EQ(reached(Timeline{"PP"}.at('P', 0).at('P', 0)), 2); }

TEST(Funnel, F7_RepeatedStepsAtOneInstant) {
    // Steps A -> B -> A: A@0, B@5, A@5 reach step 3, whatever the ingest order at 5.
    EXPECT_EQ(reached(Timeline{"ABA"}.at('A', 0).at('B', 5).at('A', 5)), 3);
    EXPECT_EQ(reached(Timeline{"ABA"}.at('A', 0).at('A', 5).at('B', 5)), 3);
}

TEST(Funnel, V7_StrictModeEndsAtAnotherEvent) {
    Timeline t{"AB"};
    t.at('A', 0).at('X', 1).at('B', 2);
    EXPECT_EQ(reached(t, spec(FunnelMode::strict)), 1);
    EXPECT_EQ(reached(t, spec(FunnelMode::ordered)), 2);
}

TEST(Funnel, V8_StrictRepeatsOfStepOneReanchor) {
    EXPECT_EQ(reached(Timeline{"AB"}.at('A', 0).at('A', 1).at('B', 2), spec(FunnelMode::strict)), 2);
}

TEST(Funnel, V8a_StrictToleratesARepeatOfTheStepJustReached) {
    EXPECT_EQ(reached(Timeline{"ABC"}.at('A', 0).at('B', 1).at('B', 2).at('C', 3), spec(FunnelMode::strict)), 3);
}

TEST(Funnel, V8b_StrictANewStepOneEndsTheAttempt) {
    EXPECT_EQ(reached(Timeline{"ABC"}.at('A', 0).at('B', 1).at('A', 2).at('C', 3), spec(FunnelMode::strict)), 2);
}

TEST(Funnel, F7_StrictNonStepEventAtTheSameInstantComesLast) {
    // X at the instant of B: B is taken first, then X ends the attempt at step 2.
    EXPECT_EQ(reached(Timeline{"ABC"}.at('A', 0).at('X', 1).at('B', 1).at('C', 2), spec(FunnelMode::strict)), 2);
}

FunnelSpec with_exclusion(int from, int to, FunnelMode mode = FunnelMode::ordered) {
    FunnelSpec f = spec(mode);
    f.exclusions.push_back({from, to});
    return f;
}

TEST(Funnel, V9_AnExclusionBetweenStepsRemovesTheActor) {
    Timeline t{"ABC", "X"};
    t.at('A', 0).at('X', 1).at('B', 2);
    const FunnelOutcome out = t.run(with_exclusion(1, 2));
    EXPECT_EQ(out.reached, 0);
    EXPECT_TRUE(out.excluded);
}

TEST(Funnel, V10_AnExclusionOutsideTheBracketIsIgnored) {
    EXPECT_EQ(reached(Timeline{"ABC", "X"}.at('A', 0).at('B', 2).at('X', 3), with_exclusion(1, 2)), 2);
}

TEST(Funnel, V11_ACleanLaterAttemptCounts) {
    EXPECT_EQ(reached(Timeline{"ABC", "X"}.at('A', 0).at('X', 1).at('A', 3).at('B', 5), with_exclusion(1, 2)), 2);
}

TEST(Funnel, F11_EqualTimesAreNotBetween) {
    // X at the instant of A, or of B, is not between them.
    EXPECT_EQ(reached(Timeline{"AB", "X"}.at('A', 0).at('X', 0).at('B', 2), with_exclusion(1, 2)), 2);
    EXPECT_EQ(reached(Timeline{"AB", "X"}.at('A', 0).at('X', 2).at('B', 2), with_exclusion(1, 2)), 2);
    // An exclusion past the window does not count.
    EXPECT_EQ(reached(Timeline{"ABC", "X"}.at('A', 0).at('B', 1).at('X', 20), with_exclusion(1, 3)), 2);
}

TEST(Funnel, F11_AnAttemptThatNeverReachesStepToIsInvalidatedToo) {
    // Exclusion 1..3, the actor reached 2 and then X: the attempt at its furthest step is invalid.
    const FunnelOutcome out = Timeline{"ABC", "X"}.at('A', 0).at('B', 1).at('X', 2).run(with_exclusion(1, 3));
    EXPECT_TRUE(out.excluded);
    EXPECT_EQ(out.reached, 0);
}

TEST(Funnel, F11_StrictModeExclusions) {
    const FunnelOutcome out =
        Timeline{"ABC", "X"}.at('A', 0).at('X', 1).at('B', 2).run(with_exclusion(1, 2, FunnelMode::strict));
    EXPECT_TRUE(out.excluded);
}

TEST(Funnel, V12_AnyOrder) {
    EXPECT_EQ(reached(Timeline{"ABC"}.at('B', 0).at('A', 3).at('C', 5), spec(FunnelMode::any)), 3);
}

TEST(Funnel, V13_AnyOrderInsideOneWindow) {
    EXPECT_EQ(reached(Timeline{"ABC"}.at('B', 0).at('A', 3).at('C', 15), spec(FunnelMode::any)), 2);
}

TEST(Funnel, F9_AnyOrderMatchesEventsToStepsAtBest) {
    // An event matching two steps must not be taken for the one another event could fill.
    Timeline t{"ABC"};
    t.steps = "ABC";
    FunnelEvent both{0, 0, 0b011, 0};  // matches A and B
    FunnelEvent only_a{1 * s, 1, 0b001, 0};
    FunnelEvent c{2 * s, 2, 0b100, 0};
    t.events = {both, only_a, c};
    EXPECT_EQ(t.run(spec(FunnelMode::any)).reached, 3);
}

TEST(Funnel, V14_TheRangeBoundsEntryOnly) {
    FunnelSpec f = spec(FunnelMode::ordered, 14 * day);
    f.range_from = 0;       // Jul 1
    f.range_to = 31 * day;  // Aug 1
    EXPECT_EQ(reached(Timeline{"AB"}.at('A', 29.0 * 86400).at('B', 35.0 * 86400), f), 2);
    // Step 1 outside the range: not in the funnel.
    EXPECT_EQ(reached(Timeline{"AB"}.at('A', 32.0 * 86400).at('B', 33.0 * 86400), f), 0);
}

TEST(Funnel, V15_InProgressWhileTheWindowIsOpen) {
    FunnelSpec f = spec();
    f.now = 5 * s;
    const FunnelOutcome open = Timeline{"AB"}.at('A', 0).run(f);
    EXPECT_EQ(open.reached, 1);
    EXPECT_TRUE(open.in_progress);
    f.now = 11 * s;
    EXPECT_FALSE(Timeline{"AB"}.at('A', 0).run(f).in_progress);
    // No step after now (F12).
    f.now = 5 * s;
    EXPECT_EQ(reached(Timeline{"AB"}.at('A', 0).at('B', 6), f), 1);
}

TEST(Funnel, F13_AStrictAttemptEndedByAnotherEventIsNotInProgress) {
    FunnelSpec f = spec(FunnelMode::strict);
    f.now = 5 * s;
    EXPECT_FALSE(Timeline{"AB"}.at('A', 0).at('X', 1).run(f).in_progress);
    EXPECT_TRUE(Timeline{"AB"}.at('A', 0).at('A', 1).run(f).in_progress);
}

TEST(Funnel, V16_LateArrivalsTakeTheirPlaceByEventTime) {
    // B ingested before A, A earlier in event time.
    Timeline t{"AB"};
    t.at('B', 5).at('A', 2);
    EXPECT_EQ(t.run(spec()).reached, 2);
}

TEST(Funnel, F10_TheCountedAttemptReachedTheFurthestStepFirstThenHasTheLaterEntry) {
    // Two attempts reach step 3; the first to reach it counts.
    Timeline t{"ABC"};
    t.at('A', 0).at('B', 1).at('A', 2).at('C', 3).at('B', 4).at('C', 6);
    const FunnelOutcome out = t.run(spec());
    EXPECT_EQ(out.reached, 3);
    EXPECT_EQ(out.step_time[2], 3 * s);
    EXPECT_EQ(out.step_time[0], 0);
}

// The furthest step by brute force (ordered mode, no exclusions): distinct events e1..ek with
// e1 an entry, each matching its step, times non-decreasing (events of one instant in any
// order, F7), all within the window of e1 (F5).
int brute_force_reach(const std::vector<FunnelEvent>& events, const FunnelSpec& f, int steps, int k,
                      std::vector<std::size_t>& chosen) {
    int best = k;
    if (k == steps) return best;
    for (std::size_t i = 0; i < events.size(); ++i) {
        const FunnelEvent& e = events[i];
        if (!((e.steps >> k) & 1u)) continue;
        bool used = false;
        for (std::size_t c : chosen) used = used || c == i;
        if (used) continue;
        if (k == 0 && (e.time < f.range_from || e.time >= f.range_to)) continue;
        if (k > 0 && (e.time < events[chosen.back()].time || e.time - events[chosen[0]].time > f.window)) continue;
        chosen.push_back(i);
        best = std::max(best, brute_force_reach(events, f, steps, k + 1, chosen));
        chosen.pop_back();
    }
    return best;
}

TEST(Funnel, OrderedModeAgreesWithBruteForceOnRandomTimelines) {
    std::uint32_t state = 20261201;
    auto next = [&state](std::uint32_t bound) {
        state = state * 1664525u + 1013904223u;
        return (state >> 8) % bound;
    };
    const char* patterns[] = {"ABC", "ABA", "AAB", "AB", "ABCB"};
    for (int round = 0; round < 3000; ++round) {
        Timeline t{patterns[round % 5]};
        const int n = 1 + static_cast<int>(next(8));
        for (int i = 0; i < n; ++i) t.at("ABCX"[next(4)], next(14));
        FunnelSpec f = spec();
        f.range_from = 0;
        f.range_to = 6 * s;
        const FunnelOutcome out = t.run(f);  // sorts t.events
        std::vector<std::size_t> chosen;
        const int expected = brute_force_reach(t.events, f, static_cast<int>(t.steps.size()), 0, chosen);
        ASSERT_EQ(out.reached, expected) << "round " << round;
    }
}

TEST(FunnelTotals, CountsConversionsTimesAndInProgress) {
    FunnelTotals totals(3);
    FunnelOutcome a;  // reached 3: 0 -> 10 s -> 40 s
    a.reached = 3;
    a.times_known = true;
    a.step_time[0] = 0;
    a.step_time[1] = 10 * s;
    a.step_time[2] = 40 * s;
    FunnelOutcome b;  // reached 2: 0 -> 20 s, still in progress
    b.reached = 2;
    b.times_known = true;
    b.step_time[1] = 20 * s;
    b.in_progress = true;
    FunnelOutcome c;  // reached 1
    c.reached = 1;
    c.times_known = true;
    totals.add(a, 1);
    totals.add(b, 1);
    totals.add(c, 2);  // sampled at 0.5: weighs 2 (F17)
    EXPECT_DOUBLE_EQ(totals.step(1).actors, 4);
    EXPECT_DOUBLE_EQ(totals.step(2).actors, 2);
    EXPECT_DOUBLE_EQ(totals.step(3).actors, 1);
    EXPECT_DOUBLE_EQ(totals.step(3).in_progress, 1);
    EXPECT_FALSE(totals.step(1).has_times);
    EXPECT_DOUBLE_EQ(totals.step(2).average_seconds_from_previous, 15);
    EXPECT_DOUBLE_EQ(totals.step(2).median_seconds_from_previous, 15);
    EXPECT_DOUBLE_EQ(totals.step(3).median_seconds_from_previous, 30);
}

}  // namespace
}  // namespace telemetry::analytics
