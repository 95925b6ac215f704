#include "core/analytics/retention.hpp"

#include <algorithm>

namespace telemetry::analytics {

RetentionTable::RetentionTable(const RetentionSpec& spec) : spec_(spec) {}

// One actor in one cohort (R3-R5): returns, sorted, unique.
void RetentionTable::count(std::int64_t cohort, const std::vector<std::int64_t>& returns) {
    Cohort& c = cohorts_[cohort];
    if (c.retained.empty()) c.retained.assign(static_cast<std::size_t>(spec_.periods) + 1, 0);
    ++c.size;
    c.retained[0] += 1;  // period 0 is the cohort (R3)
    for (int k = 1; k <= spec_.periods; ++k) {
        const std::int64_t period = cohort + k;
        // R3: a start event is in period 0, so it never counts as its own return at k >= 1.
        const bool back = spec_.on_or_after ? std::lower_bound(returns.begin(), returns.end(), period) != returns.end()
                                            : std::binary_search(returns.begin(), returns.end(), period);
        if (back) c.retained[static_cast<std::size_t>(k)] += 1;
    }
}

void RetentionTable::add(const std::vector<std::int64_t>& start_periods,
                         const std::vector<std::int64_t>& return_periods) {
    if (start_periods.empty()) return;
    std::vector<std::int64_t> returns = return_periods;
    std::sort(returns.begin(), returns.end());
    returns.erase(std::unique(returns.begin(), returns.end()), returns.end());
    auto in_range = [this](std::int64_t p) { return p >= spec_.first_cohort && p <= spec_.last_cohort; };
    if (spec_.first_time) {
        // R1: the first-ever start event's period, kept only if it is in the range.
        const std::int64_t first = *std::min_element(start_periods.begin(), start_periods.end());
        if (in_range(first)) count(first, returns);
        return;
    }
    // Recurring: every period in the range with a start event.
    std::vector<std::int64_t> starts = start_periods;
    std::sort(starts.begin(), starts.end());
    starts.erase(std::unique(starts.begin(), starts.end()), starts.end());
    for (std::int64_t p : starts)
        if (in_range(p)) count(p, returns);
}

std::vector<RetentionTable::Cell> RetentionTable::cells() const {
    std::vector<Cell> out;
    for (std::int64_t cohort = spec_.first_cohort; cohort <= spec_.last_cohort; ++cohort) {
        const auto found = cohorts_.find(cohort);
        for (int k = 0; k <= spec_.periods; ++k) {
            Cell cell{cohort, k, 0, 0, cohort + k < spec_.current};
            if (found != cohorts_.end()) {
                cell.cohort_size = found->second.size;
                cell.retained = found->second.retained[static_cast<std::size_t>(k)];
            }
            out.push_back(cell);
        }
    }
    return out;
}

}  // namespace telemetry::analytics

#include "core/base/no_postgres.hpp"
