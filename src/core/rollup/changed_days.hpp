// The days whose rollups a transaction's changes to events invalidated, before they are logged.
//
// Changes to events of closed days (before the rollup threshold) are noted as they happen (a
// row trigger, or track()'s own write path) and written to telemetry.rollup_invalidations once,
// when the transaction commits: one row per tenant and kind of change, covering the days it
// touched. This is that note: a fixed-size table with no allocation, so it can live in a static
// and be used between PostgreSQL calls. It may say more than happened, never less: a tenant's
// days become one range from the first to the last, and when more tenants changed than it holds,
// the changes of the newest fold into one range for every tenant.
#pragma once

#include <cstdint>

#include "core/base/uuid.hpp"

namespace telemetry {

// The UTC day of a time in microseconds since an epoch at midnight UTC, as days since that
// epoch, rounded toward negative infinity (PostgreSQL: timestamptz and date share 2000-01-01).
constexpr std::int32_t utc_day(std::int64_t microseconds) noexcept {
    constexpr std::int64_t per_day = 86400LL * 1000000LL;
    std::int64_t day = microseconds / per_day;
    if (microseconds % per_day < 0) --day;
    return static_cast<std::int32_t>(day);
}

enum class ChangeKind : std::uint8_t { insert, update, remove };
const char* to_string(ChangeKind kind) noexcept;  // insert, update, delete (the log's reasons)

struct ChangedRange {
    bool every_tenant;  // the range holds for every tenant (tenant is then unused)
    Uuid tenant;
    ChangeKind kind;
    std::int32_t first_day;
    std::int32_t last_day;
};

class ChangedDays {
public:
    static constexpr int capacity = 64;

    void add(const Uuid& tenant, std::int32_t day, ChangeKind kind) noexcept;
    void clear() noexcept { count_ = 0; }
    bool empty() const noexcept { return count_ == 0; }
    int size() const noexcept { return count_; }
    const ChangedRange& operator[](int i) const noexcept { return ranges_[i]; }

private:
    static void widen(ChangedRange& range, std::int32_t day) noexcept;

    ChangedRange ranges_[capacity] = {};
    int count_ = 0;
};

}  // namespace telemetry
