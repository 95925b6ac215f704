// The sessions engine against FUNNELS.md (Engagement, Sessions): one test per rule.
#include "core/analytics/sessions.hpp"

#include <gtest/gtest.h>

#include <limits>
#include <vector>

namespace telemetry::analytics {
namespace {

constexpr std::int64_t second = 1000000;
constexpr std::int64_t minute = 60 * second;
constexpr std::int64_t hour = 60 * minute;
constexpr std::int64_t day = 24 * hour;
constexpr std::int64_t day10 = 10 * day;  // midnight of some day, in UTC or the caller's zone

// The range [from, to) with one bucket starting at from.
SessionSpec spec(std::int64_t from = day10, std::int64_t to = day10 + 5 * day) {
    SessionSpec s;
    s.range_from = from;
    s.range_to = to;
    return s;
}

// The only bucket of a totals with one.
SessionTotals::Bucket only(SessionTotals& t) {
    const auto b = t.buckets();
    EXPECT_EQ(b.size(), 1u);
    return b.empty() ? SessionTotals::Bucket{} : b[0];
}

void add(SessionTotals& t, const std::vector<std::int64_t>& times) { t.add_actor_events(times.data(), times.size()); }

TEST(Sessions, NoEventsGiveNoSessions) {
    SessionTotals t(spec());
    t.end_actor();  // an actor with nothing is harmless
    const auto b = only(t);
    EXPECT_EQ(b.start, day10);
    EXPECT_EQ(b.sessions, 0);
    EXPECT_EQ(b.bounces, 0);
    EXPECT_EQ(b.avg_seconds, 0.0);
    EXPECT_EQ(b.median_seconds, 0.0);
    EXPECT_EQ(b.bounce_rate, 0.0);
}

TEST(Sessions, GapOfExactlyThirtyMinutesContinues) {
    SessionTotals t(spec());
    add(t, {day10 + hour, day10 + hour + 30 * minute, day10 + hour + 60 * minute});
    const auto b = only(t);
    EXPECT_EQ(b.sessions, 1);
    EXPECT_EQ(b.bounces, 0);
    EXPECT_DOUBLE_EQ(b.avg_seconds, 3600.0);
}

TEST(Sessions, GapOfThirtyMinutesAndOneMicrosecondSplits) {
    SessionTotals t(spec());
    add(t, {day10 + hour, day10 + hour + 10 * minute, day10 + hour + 40 * minute + 1});
    const auto b = only(t);
    EXPECT_EQ(b.sessions, 2);
    EXPECT_EQ(b.bounces, 1);  // the event after the gap is alone
    EXPECT_DOUBLE_EQ(b.avg_seconds, 300.0);
}

TEST(Sessions, SteadyEventsAreCutTwentyFourHoursAfterTheSessionsFirstEvent) {
    // An event every 10 minutes for 30 hours: no gap ever splits, the 24-hour cap does. The
    // event at exactly 24 h stays in the first session; the next (24 h 10 min) starts the second.
    SessionSpec s = spec();
    s.bucket_starts = {day10, day10 + day};
    SessionTotals t(s);
    std::vector<std::int64_t> times;
    for (std::int64_t at = 0; at <= 30 * hour; at += 10 * minute) times.push_back(day10 + at);
    add(t, times);
    const auto b = t.buckets();
    ASSERT_EQ(b.size(), 2u);
    EXPECT_EQ(b[0].sessions, 1);
    EXPECT_DOUBLE_EQ(b[0].avg_seconds, 24.0 * 3600);
    EXPECT_EQ(b[1].sessions, 1);  // starts at day10 + 24 h 10 min, in the second day's bucket
    EXPECT_DOUBLE_EQ(b[1].avg_seconds, (30.0 * 3600) - (24.0 * 3600 + 600));
}

TEST(Sessions, ExactlyTwentyFourHoursContinuesOneMicrosecondMoreSplits) {
    std::vector<std::int64_t> times;
    for (std::int64_t at = 0; at < 24 * hour; at += 20 * minute) times.push_back(day10 + at);
    std::vector<std::int64_t> exactly = times, more = times;
    exactly.push_back(day10 + 24 * hour);
    more.push_back(day10 + 24 * hour + 1);  // 20 min + 1 us after the previous: only the cap splits
    SessionTotals a(spec());
    add(a, exactly);
    const auto one = only(a);
    EXPECT_EQ(one.sessions, 1);
    EXPECT_DOUBLE_EQ(one.avg_seconds, 24.0 * 3600);
    SessionTotals b(spec());
    add(b, more);
    const auto two = only(b);
    EXPECT_EQ(two.sessions, 2);
    EXPECT_EQ(two.bounces, 1);
}

TEST(Sessions, MidnightDoesNotSplit) {
    // 23:50 to 00:10 the next day: one session of 20 minutes, in the bucket of the day it began.
    SessionSpec s = spec();
    s.bucket_starts = {day10, day10 + day};
    SessionTotals t(s);
    add(t, {day10 + day - 10 * minute, day10 + day + 10 * minute});
    const auto b = t.buckets();
    ASSERT_EQ(b.size(), 2u);
    EXPECT_EQ(b[0].sessions, 1);
    EXPECT_DOUBLE_EQ(b[0].avg_seconds, 1200.0);
    EXPECT_EQ(b[1].sessions, 0);
}

TEST(Sessions, BounceHasDurationZeroAndCountsInTheAverage) {
    SessionTotals t(spec());
    add(t, {day10 + hour, day10 + hour + 10 * minute});  // 600 s
    add(t, {day10 + 2 * hour});                          // a bounce: 0 s
    const auto b = only(t);
    EXPECT_EQ(b.sessions, 2);
    EXPECT_EQ(b.bounces, 1);
    EXPECT_DOUBLE_EQ(b.avg_seconds, 300.0);  // (600 + 0) / 2, not 600
    EXPECT_DOUBLE_EQ(b.median_seconds, 300.0);
}

TEST(Sessions, TwoEventsAtOneTimeAreNotABounce) {
    SessionTotals t(spec());
    add(t, {day10 + hour, day10 + hour});
    t.add_client_session(day10 + 2 * hour, day10 + 2 * hour, 3);
    const auto b = only(t);
    EXPECT_EQ(b.sessions, 2);
    EXPECT_EQ(b.bounces, 0);
    EXPECT_DOUBLE_EQ(b.avg_seconds, 0.0);
}

TEST(Sessions, SessionStartingBeforeTheRangeIsExcluded) {
    // Started 10 minutes before from, events well inside the range: not the range's session,
    // even with a bucket that would take it (the day before from).
    SessionSpec s = spec();
    s.bucket_starts = {day10 - day, day10};
    SessionTotals t(s);
    add(t, {day10 - 10 * minute, day10 + 10 * minute, day10 + 30 * minute});
    t.add_client_session(day10 - 1, day10 + hour, 5);
    add(t, {day10 + hour});  // one that does start in it
    const auto b = t.buckets();
    ASSERT_EQ(b.size(), 2u);
    EXPECT_EQ(b[0].sessions, 0);
    EXPECT_EQ(b[1].sessions, 1);
}

TEST(Sessions, SessionStartingInTheRangeKeepsItsEventsAfterTo) {
    const std::int64_t to = day10 + day;
    SessionTotals t(spec(day10, to));
    add(t, {to - 10 * minute, to + 20 * minute});  // 30 minutes, two thirds after to
    t.add_client_session(to - 1, to + hour - 1, 2);
    const auto b = only(t);
    EXPECT_EQ(b.sessions, 2);
    EXPECT_DOUBLE_EQ(b.avg_seconds, (1800.0 + 3600.0) / 2);
}

TEST(Sessions, RangeIsHalfOpen) {
    const std::int64_t to = day10 + day;
    SessionTotals t(spec(day10, to));
    add(t, {day10});  // starts at from: in
    add(t, {to});     // starts at to: out
    t.add_client_session(to, to + minute, 2);
    EXPECT_EQ(only(t).sessions, 1);
}

TEST(Sessions, ClientSessionIsNotSplitByAGapOrByLength) {
    SessionTotals t(spec());
    t.add_client_session(day10 + hour, day10 + 3 * hour, 2);         // a 2-hour gap
    t.add_client_session(day10 + 2 * hour, day10 + 50 * hour, 500);  // 48 hours long
    const auto b = only(t);
    EXPECT_EQ(b.sessions, 2);
    EXPECT_DOUBLE_EQ(b.avg_seconds, (2.0 + 48.0) * 3600 / 2);
    // The same two-hour gap without a session_id is two sessions.
    SessionTotals idless(spec());
    add(idless, {day10 + hour, day10 + 3 * hour});
    EXPECT_EQ(only(idless).sessions, 2);
}

TEST(Sessions, EachActorStartsItsOwnSession) {
    // Two actors a minute apart: two sessions, not one.
    SessionTotals t(spec());
    t.add_event(day10 + hour);
    t.end_actor();
    t.add_event(day10 + hour + minute);
    t.add_event(day10 + hour + 2 * minute);
    t.end_actor();
    const auto b = only(t);
    EXPECT_EQ(b.sessions, 2);
    EXPECT_EQ(b.bounces, 1);
}

TEST(Sessions, BucketsTakeSessionsByStartAndEmptyOnesAreGiven) {
    SessionSpec s = spec(day10, day10 + 3 * day);
    s.bucket_starts = {day10 + 2 * day, day10, day10 + day, day10};  // sorted, repeat dropped
    SessionTotals t(s);
    add(t, {day10 + 5 * hour});
    add(t, {day10 + day - 1, day10 + day + minute});  // begins in day 0, ends in day 1
    add(t, {day10 + 2 * day, day10 + 2 * day + 2 * minute});
    const auto b = t.buckets();
    ASSERT_EQ(b.size(), 3u);
    EXPECT_EQ(b[0].start, day10);
    EXPECT_EQ(b[0].sessions, 2);
    EXPECT_EQ(b[0].bounces, 1);
    EXPECT_EQ(b[1].start, day10 + day);
    EXPECT_EQ(b[1].sessions, 0);
    EXPECT_EQ(b[1].avg_seconds, 0.0);
    EXPECT_EQ(b[2].start, day10 + 2 * day);
    EXPECT_EQ(b[2].sessions, 1);
    EXPECT_DOUBLE_EQ(b[2].avg_seconds, 120.0);
}

TEST(Sessions, SessionBeforeTheFirstBucketIsInNone) {
    SessionSpec s = spec(day10, day10 + 2 * day);
    s.bucket_starts = {day10 + day};
    SessionTotals t(s);
    add(t, {day10 + hour});
    add(t, {day10 + day + hour});
    EXPECT_EQ(only(t).sessions, 1);
}

TEST(Sessions, MedianOfAnOddCountIsTheMiddleDuration) {
    SessionTotals t(spec());
    for (std::int64_t minutes : {10, 1, 2}) add(t, {day10 + hour, day10 + hour + minutes * minute});
    const auto b = only(t);
    EXPECT_DOUBLE_EQ(b.median_seconds, 120.0);
    EXPECT_DOUBLE_EQ(b.avg_seconds, 260.0);
}

TEST(Sessions, MedianOfAnEvenCountIsTheMeanOfTheTwoMiddleDurations) {
    SessionTotals t(spec());
    for (std::int64_t minutes : {10, 4, 1, 2}) add(t, {day10 + hour, day10 + hour + minutes * minute});
    const auto b = only(t);
    EXPECT_DOUBLE_EQ(b.median_seconds, 180.0);  // (2 + 4) / 2 minutes
    EXPECT_DOUBLE_EQ(b.avg_seconds, 255.0);
}

TEST(Sessions, BounceRateIsBouncesOverSessions) {
    SessionTotals t(spec());
    add(t, {day10 + hour});
    add(t, {day10 + 2 * hour});
    t.add_client_session(day10 + 3 * hour, day10 + 3 * hour, 1);
    add(t, {day10 + 4 * hour, day10 + 4 * hour + minute});
    const auto b = only(t);
    EXPECT_EQ(b.sessions, 4);
    EXPECT_EQ(b.bounces, 3);
    EXPECT_DOUBLE_EQ(b.bounce_rate, 0.75);
    EXPECT_DOUBLE_EQ(b.median_seconds, 0.0);
}

TEST(Sessions, ReadBackRules) {
    const SessionSpec s = spec();
    // The first event read starts a session for certain once it is inactivity after the bound.
    EXPECT_FALSE(may_continue_from_before(s, day10 + 30 * minute, day10));
    EXPECT_TRUE(may_continue_from_before(s, day10 + 30 * minute - 1, day10));
    EXPECT_TRUE(may_continue_from_before(s, day10, day10));
    EXPECT_FALSE(splits_at(s, day10, day10 + 30 * minute));
    EXPECT_TRUE(splits_at(s, day10, day10 + 30 * minute + 1));
    EXPECT_EQ(read_to(s), s.range_to + day);
    SessionSpec far = s;
    far.range_to = std::numeric_limits<std::int64_t>::max() - 1;
    EXPECT_EQ(read_to(far), std::numeric_limits<std::int64_t>::max());
}

TEST(Sessions, StreamedRunEqualsRunReadFromItsStart) {
    // The caller reads back to the run's start (events before from): the split of the in-range
    // part is the one the whole run gives, here a session starting at from + 4 h 10 min.
    SessionTotals t(spec(day10 + day, day10 + 2 * day));
    std::vector<std::int64_t> times;
    for (std::int64_t at = 4 * hour; at <= day + 10 * hour; at += 10 * minute) times.push_back(day10 + at);
    add(t, times);
    const auto b = only(t);
    EXPECT_EQ(b.sessions, 1);
    EXPECT_DOUBLE_EQ(b.avg_seconds, 10.0 * 3600 - (4.0 * 3600 + 600));
}

}  // namespace
}  // namespace telemetry::analytics
