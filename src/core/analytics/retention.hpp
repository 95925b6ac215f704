// The retention engine: cohorts of actors by the period of their start event, and how many
// return in each later period, by the rules of FUNNELS.md R1-R6.
//
// Periods are numbered by the caller (src/pg/analytics): calendar periods in the time zone
// (R2), so that consecutive periods have consecutive numbers; the engine only counts. Each
// actor comes with the periods of its start events and of its return events.
#pragma once

#include <cstdint>
#include <map>
#include <vector>

namespace telemetry::analytics {

struct RetentionSpec {
    int periods = 7;                // period indexes 0..periods (R6)
    bool first_time = true;         // first_time: the period of the first-ever start (R1); else recurring
    bool on_or_after = false;       // on: a return in period k; on_or_after: in some period >= k (R4)
    std::int64_t first_cohort = 0;  // the cohort periods in the range, first..last (R1)
    std::int64_t last_cohort = -1;
    std::int64_t current = 0;  // the period now is in: it and later ones are not finished (R6)
};

class RetentionTable {
public:
    explicit RetentionTable(const RetentionSpec& spec);

    // One actor: the periods of its start events and of its return events, in any order, with
    // repeats. With first_time, start_periods must cover all its history (R1).
    void add(const std::vector<std::int64_t>& start_periods, const std::vector<std::int64_t>& return_periods);

    struct Cell {
        std::int64_t cohort;  // the cohort's period
        int index;            // 0..periods
        std::int64_t cohort_size;
        std::int64_t retained;  // meaningless when !complete
        bool complete;          // the period cohort + index has finished (R6)
    };
    // Every cohort period in the range (empty ones with size 0), every index.
    std::vector<Cell> cells() const;

private:
    RetentionSpec spec_;
    struct Cohort {
        std::int64_t size = 0;
        std::vector<std::int64_t> retained;
    };
    std::map<std::int64_t, Cohort> cohorts_;
    void count(std::int64_t cohort, const std::vector<std::int64_t>& returns);
};

}  // namespace telemetry::analytics
