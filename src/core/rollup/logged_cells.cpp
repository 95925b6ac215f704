#include "core/rollup/logged_cells.hpp"

#include <cstring>

namespace telemetry {

std::uint32_t LoggedCells::slot_for(const Uuid& tenant, std::int32_t day) const noexcept {
    // FNV-1a over the tenant and the day.
    std::uint32_t hash = 2166136261u;
    for (std::uint8_t b : tenant) hash = (hash ^ b) * 16777619u;
    for (int i = 0; i < 4; ++i) hash = (hash ^ ((static_cast<std::uint32_t>(day) >> (8 * i)) & 0xFF)) * 16777619u;
    return hash & (capacity - 1);
}

bool LoggedCells::contains(const Uuid& tenant, std::int32_t day) const noexcept {
    for (std::uint32_t i = slot_for(tenant, day), probes = 0; probes < capacity;
         i = (i + 1) & (capacity - 1), ++probes) {
        const Slot& slot = slots_[i];
        if (slot.generation != generation_) return false;
        if (slot.day == day && slot.tenant == tenant) return true;
    }
    return false;
}

bool LoggedCells::insert(const Uuid& tenant, std::int32_t day) noexcept {
    // Kept at most three quarters full, so probes stay short and always end on a free slot.
    if (used_ >= capacity * 3 / 4) clear();
    for (std::uint32_t i = slot_for(tenant, day);; i = (i + 1) & (capacity - 1)) {
        Slot& slot = slots_[i];
        if (slot.generation != generation_) {
            slot.tenant = tenant;
            slot.day = day;
            slot.generation = generation_;
            ++used_;
            return true;
        }
        if (slot.day == day && slot.tenant == tenant) return false;
    }
}

}  // namespace telemetry

#include "core/base/no_postgres.hpp"
