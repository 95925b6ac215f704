// The retention engine against FUNNELS.md R1-R6 and its vectors.
#include "core/analytics/retention.hpp"

#include <gtest/gtest.h>

namespace telemetry::analytics {
namespace {

RetentionSpec spec(std::int64_t first, std::int64_t last, std::int64_t current, int periods = 3) {
    RetentionSpec s;
    s.periods = periods;
    s.first_cohort = first;
    s.last_cohort = last;
    s.current = current;
    return s;
}

const RetentionTable::Cell& cell(const std::vector<RetentionTable::Cell>& cells, std::int64_t cohort, int index) {
    for (const auto& c : cells)
        if (c.cohort == cohort && c.index == index) return c;
    static RetentionTable::Cell none{};
    ADD_FAILURE() << "no cell " << cohort << "/" << index;
    return none;
}

TEST(Retention, ReturnInTheNextCalendarPeriod) {
    // Vector: start Mon 23:50, return Tue 00:10 (calendar days 10 and 11): retained at day 1.
    RetentionTable t(spec(10, 10, 100));
    t.add({10}, {11});
    const auto cells = t.cells();
    EXPECT_EQ(cell(cells, 10, 0).cohort_size, 1);
    EXPECT_EQ(cell(cells, 10, 0).retained, 1);
    EXPECT_EQ(cell(cells, 10, 1).retained, 1);
    EXPECT_EQ(cell(cells, 10, 2).retained, 0);
}

TEST(Retention, R3_AStartEventIsNotItsOwnReturn) {
    // Start event = return event, two events on day 0 only: not retained at day 1.
    RetentionTable t(spec(10, 10, 100));
    t.add({10, 10}, {10, 10});
    EXPECT_EQ(cell(t.cells(), 10, 1).retained, 0);
}

TEST(Retention, R1_FirstTimeCohortIsTheFirstEverStart) {
    // First start before the range: the actor is in no cohort of the range.
    RetentionTable t(spec(10, 12, 100));
    t.add({8, 11}, {12});
    for (const auto& c : t.cells()) EXPECT_EQ(c.cohort_size, 0);
    // Recurring: every period in the range with a start.
    RetentionSpec recurring = spec(10, 12, 100);
    recurring.first_time = false;
    RetentionTable r(recurring);
    r.add({8, 11, 12}, {12, 13});
    const auto cells = r.cells();
    EXPECT_EQ(cell(cells, 11, 0).cohort_size, 1);
    EXPECT_EQ(cell(cells, 11, 1).retained, 1);
    EXPECT_EQ(cell(cells, 12, 0).cohort_size, 1);
    EXPECT_EQ(cell(cells, 12, 1).retained, 1);
    EXPECT_EQ(cell(cells, 10, 0).cohort_size, 0);
}

TEST(Retention, R4_OnOrAfter) {
    RetentionSpec s = spec(10, 10, 100);
    RetentionTable on(s);
    on.add({10}, {13});
    s.on_or_after = true;
    RetentionTable after(s);
    after.add({10}, {13});
    EXPECT_EQ(cell(on.cells(), 10, 1).retained, 0);
    EXPECT_EQ(cell(on.cells(), 10, 3).retained, 1);
    EXPECT_EQ(cell(after.cells(), 10, 1).retained, 1);
    EXPECT_EQ(cell(after.cells(), 10, 2).retained, 1);
    EXPECT_EQ(cell(after.cells(), 10, 3).retained, 1);
}

TEST(Retention, R5_DistinctActors) {
    RetentionTable t(spec(10, 10, 100));
    t.add({10}, {11, 11, 11});
    t.add({10}, {});
    const auto cells = t.cells();
    EXPECT_EQ(cell(cells, 10, 0).cohort_size, 2);
    EXPECT_EQ(cell(cells, 10, 1).retained, 1);
}

TEST(Retention, R6_UnfinishedPeriodsAreIncompleteAndEmptyCohortsAreGiven) {
    // Now is in period 12: periods 12 and later are not finished, period 0 of cohort 12 included.
    RetentionTable t(spec(10, 12, 12, 2));
    t.add({10}, {11});
    const auto cells = t.cells();
    EXPECT_EQ(cells.size(), 9u);  // cohorts 10..12, indexes 0..2
    EXPECT_TRUE(cell(cells, 10, 1).complete);
    EXPECT_FALSE(cell(cells, 10, 2).complete);
    EXPECT_FALSE(cell(cells, 12, 0).complete);
    EXPECT_EQ(cell(cells, 11, 0).cohort_size, 0);
}

}  // namespace
}  // namespace telemetry::analytics
