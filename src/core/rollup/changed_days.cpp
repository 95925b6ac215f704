#include "core/rollup/changed_days.hpp"

namespace telemetry {

const char* to_string(ChangeKind kind) noexcept {
    switch (kind) {
        case ChangeKind::insert:
            return "insert";
        case ChangeKind::update:
            return "update";
        case ChangeKind::remove:
            return "delete";
    }
    return "update";
}

void ChangedDays::widen(ChangedRange& range, std::int32_t day) noexcept {
    if (day < range.first_day) range.first_day = day;
    if (day > range.last_day) range.last_day = day;
}

void ChangedDays::add(const Uuid& tenant, std::int32_t day, ChangeKind kind) noexcept {
    // A range for every tenant already covers this tenant's change of that kind.
    for (int i = 0; i < count_; ++i) {
        ChangedRange& range = ranges_[i];
        if (range.kind != kind) continue;
        if (range.every_tenant || range.tenant == tenant) {
            widen(range, day);
            return;
        }
    }
    if (count_ < capacity) {
        ranges_[count_++] = ChangedRange{false, tenant, kind, day, day};
        return;
    }
    // Full: the last slot becomes every tenant's range, over its own days and this one (it may
    // then overlap ranges of single tenants: the log says more, never less).
    ChangedRange& last = ranges_[capacity - 1];
    if (last.kind != kind) {
        // Fold into a range for every tenant of this kind, keeping the last slot's days too
        // (its kind is named by another range or lost: any kind recomputes the same cells).
        last.kind = kind;
    }
    last.every_tenant = true;
    widen(last, day);
}

}  // namespace telemetry

#include "core/base/no_postgres.hpp"
