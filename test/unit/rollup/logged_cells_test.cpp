// The per-transaction memory of logged rollup cells, and UTC days.
#include "core/rollup/logged_cells.hpp"

#include <gtest/gtest.h>

namespace telemetry {
namespace {

Uuid tenant(std::uint8_t n) {
    Uuid u{};
    u[0] = n;
    return u;
}

constexpr std::int64_t day_us = 86400LL * 1000000LL;

TEST(UtcDay, RoundsTowardNegativeInfinity) {
    EXPECT_EQ(utc_day(0), 0);
    EXPECT_EQ(utc_day(day_us - 1), 0);
    EXPECT_EQ(utc_day(day_us), 1);
    EXPECT_EQ(utc_day(-1), -1);
    EXPECT_EQ(utc_day(-day_us), -1);
    EXPECT_EQ(utc_day(-day_us - 1), -2);
    // 2026-12-01T00:00:00Z is day 9831 after 2000-01-01 (PostgreSQL's epoch).
    EXPECT_EQ(utc_day(9831LL * day_us + 3600LL * 1000000LL), 9831);
}

TEST(LoggedCells, EachCellOnce) {
    LoggedCells cells;
    EXPECT_TRUE(cells.insert(tenant(1), 10));
    EXPECT_FALSE(cells.insert(tenant(1), 10));
    EXPECT_TRUE(cells.insert(tenant(1), 11));
    EXPECT_TRUE(cells.insert(tenant(2), 10));
    EXPECT_TRUE(cells.contains(tenant(2), 10));
    EXPECT_FALSE(cells.contains(tenant(3), 10));
    EXPECT_EQ(cells.size(), 3);
}

TEST(LoggedCells, ClearForgetsEverything) {
    LoggedCells cells;
    for (int d = 0; d < 100; ++d) cells.insert(tenant(1), d);
    cells.clear();
    EXPECT_EQ(cells.size(), 0);
    for (int d = 0; d < 100; ++d) EXPECT_FALSE(cells.contains(tenant(1), d));
    EXPECT_TRUE(cells.insert(tenant(1), 5));
}

TEST(LoggedCells, EmptiesItselfWhenFullInsteadOfFailing) {
    LoggedCells cells;
    // More distinct cells than it holds: every insert still answers, and a cell it forgot
    // is reported new again (logged twice: a row more, never a wrong rollup).
    for (int d = 0; d < 5 * LoggedCells::capacity; ++d) {
        EXPECT_TRUE(cells.insert(tenant(static_cast<std::uint8_t>(d % 7)), d));
        EXPECT_LE(cells.size(), LoggedCells::capacity * 3 / 4);
    }
    EXPECT_TRUE(cells.contains(tenant((5 * LoggedCells::capacity - 1) % 7), 5 * LoggedCells::capacity - 1));
}

TEST(LoggedCells, CollidingCellsAreKeptApart) {
    LoggedCells cells;
    // Many tenants on one day and one tenant on many days land in shared probe chains.
    for (int t = 0; t < 200; ++t) ASSERT_TRUE(cells.insert(tenant(static_cast<std::uint8_t>(t)), 42));
    for (int t = 0; t < 200; ++t) EXPECT_FALSE(cells.insert(tenant(static_cast<std::uint8_t>(t)), 42));
    for (int t = 0; t < 200; ++t) EXPECT_FALSE(cells.contains(tenant(static_cast<std::uint8_t>(t)), 43));
}

}  // namespace
}  // namespace telemetry
