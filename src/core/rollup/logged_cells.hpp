// Which rollup cells a transaction has already logged as changed.
//
// track() writes events below the executor, so no statement trigger logs what it changed
// (src/sql/50_rollup.sql): it logs each (tenant, UTC day) of a closed day itself, once per
// transaction. This is the memory of what it logged: a fixed-size open-addressing set with no
// allocation, so it can live in a static and be used between PostgreSQL calls. When full it is
// emptied: logging a cell twice costs a row, never a wrong rollup.
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

class LoggedCells {
public:
    static constexpr int capacity = 1024;  // a power of two

    // Records the cell; true when it was not there yet (the caller logs it).
    bool insert(const Uuid& tenant, std::int32_t day) noexcept;
    bool contains(const Uuid& tenant, std::int32_t day) const noexcept;
    void clear() noexcept { used_ = 0, generation_ = generation_ + 1 == 0 ? 1 : generation_ + 1; }
    int size() const noexcept { return used_; }

private:
    struct Slot {
        Uuid tenant;
        std::int32_t day;
        std::uint32_t generation;  // the slot is in use when it equals the set's generation
    };
    std::uint32_t slot_for(const Uuid& tenant, std::int32_t day) const noexcept;

    Slot slots_[capacity] = {};
    int used_ = 0;
    std::uint32_t generation_ = 1;
};

}  // namespace telemetry
