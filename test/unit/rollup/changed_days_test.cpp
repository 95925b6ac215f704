// The note of the days a transaction changed, and UTC days.
#include "core/rollup/changed_days.hpp"

#include <gtest/gtest.h>

namespace telemetry {
namespace {

Uuid tenant(int n) {
    Uuid u{};
    u[0] = static_cast<std::uint8_t>(n);
    u[1] = static_cast<std::uint8_t>(n >> 8);
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
    // 2026-12-01T01:00:00Z is day 9831 after 2000-01-01 (PostgreSQL's epoch).
    EXPECT_EQ(utc_day(9831LL * day_us + 3600LL * 1000000LL), 9831);
}

TEST(ChangedDays, OneRangePerTenantAndKind) {
    ChangedDays days;
    EXPECT_TRUE(days.empty());
    days.add(tenant(1), 10, ChangeKind::insert);
    days.add(tenant(1), 12, ChangeKind::insert);
    days.add(tenant(1), 7, ChangeKind::insert);
    days.add(tenant(2), 10, ChangeKind::insert);
    days.add(tenant(1), 11, ChangeKind::remove);
    ASSERT_EQ(days.size(), 3);
    EXPECT_FALSE(days[0].every_tenant);
    EXPECT_EQ(days[0].tenant, tenant(1));
    EXPECT_EQ(days[0].first_day, 7);
    EXPECT_EQ(days[0].last_day, 12);
    EXPECT_STREQ(to_string(days[0].kind), "insert");
    EXPECT_EQ(days[1].tenant, tenant(2));
    EXPECT_EQ(days[1].first_day, 10);
    EXPECT_EQ(days[1].last_day, 10);
    EXPECT_STREQ(to_string(days[2].kind), "delete");
    EXPECT_EQ(days[2].first_day, 11);
    days.clear();
    EXPECT_TRUE(days.empty());
}

TEST(ChangedDays, NamesTheLogsReasons) {
    EXPECT_STREQ(to_string(ChangeKind::insert), "insert");
    EXPECT_STREQ(to_string(ChangeKind::update), "update");
    EXPECT_STREQ(to_string(ChangeKind::remove), "delete");
}

// Whether the note covers (tenant, day): what must hold for every change added.
bool covers(const ChangedDays& days, const Uuid& t, std::int32_t day) {
    for (int i = 0; i < days.size(); ++i)
        if ((days[i].every_tenant || days[i].tenant == t) && days[i].first_day <= day && day <= days[i].last_day)
            return true;
    return false;
}

TEST(ChangedDays, MoreTenantsThanItHoldsFoldIntoEveryTenantNeverLosingOne) {
    ChangedDays days;
    const int tenants = 3 * ChangedDays::capacity;
    for (int t = 0; t < tenants; ++t) days.add(tenant(t), 100 + t % 5, t % 2 ? ChangeKind::update : ChangeKind::insert);
    EXPECT_EQ(days.size(), ChangedDays::capacity);
    for (int t = 0; t < tenants; ++t) EXPECT_TRUE(covers(days, tenant(t), 100 + t % 5)) << t;
    int every = 0;
    for (int i = 0; i < days.size(); ++i) every += days[i].every_tenant;
    EXPECT_EQ(every, 1);
}

TEST(ChangedDays, EveryChangeIsCoveredWhateverTheOrder) {
    // A pseudo-random stream of changes: each one added must stay covered to the end.
    ChangedDays days;
    std::uint32_t state = 12345;
    struct Change {
        int tenant;
        std::int32_t day;
    } changes[2000];
    for (Change& c : changes) {
        state = state * 1103515245u + 12345u;
        c.tenant = static_cast<int>((state >> 8) % 300);
        c.day = static_cast<std::int32_t>((state >> 20) % 90) - 45;
        days.add(tenant(c.tenant), c.day, static_cast<ChangeKind>((state >> 4) % 3));
    }
    for (const Change& c : changes) EXPECT_TRUE(covers(days, tenant(c.tenant), c.day));
}

}  // namespace
}  // namespace telemetry
