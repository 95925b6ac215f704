// Counts of ingest decisions by status, since the server started: in shared memory when the
// library is preloaded (every backend adds to the same counters), otherwise per backend.
// Like pg_stat counters they count decisions, committed or not, and start again at zero after
// a restart.
#pragma once

#include <cstdint>

#include "core/ingest/decide.hpp"
#include "core/pii/policy.hpp"

namespace telemetry::pg {

inline constexpr int status_count = 6;

void count_decision(IngestStatus status, std::uint64_t n = 1) noexcept;
std::uint64_t decision_count(IngestStatus status) noexcept;

// What the policy for undeclared personal data did, by detector and action: one count per value
// (or id) acted on, by track(), track_batch() and the write-path trigger alike.
void count_pii_decision(pii::Detector detector, UndeclaredPii action) noexcept;
std::uint64_t pii_decision_count(pii::Detector detector, UndeclaredPii action) noexcept;

// Called from _PG_init when loaded by shared_preload_libraries.
void request_shared_counters();

}  // namespace telemetry::pg
