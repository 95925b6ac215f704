// What ingest decided, counted since the server started: in shared memory when the library is
// preloaded (every backend adds to the same counters, which outlive any backend), otherwise per
// backend. Like pg_stat counters they count decisions, committed or not, start again at zero
// after a restart, and cost a few atomic additions an event (docs/observe.md, "Metrics").
//
// Labels stay bounded: an event type is counted under its own name only when the catalog knows
// it (at most 256 types, then "_other"; names it does not know under "_unknown"), a tenant only
// among the first 64 seen ("_other" after).
#pragma once

#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "core/ingest/decide.hpp"
#include "core/pii/policy.hpp"

namespace telemetry::pg {

inline constexpr int status_count = 6;
inline constexpr int event_type_slots = 256;
inline constexpr int tenant_slots = 64;
inline constexpr int event_type_name_bytes = 104;  // the naming rule allows 100
// The per-minute counts behind recent() and the health checks' rates: the last hour.
inline constexpr int recent_minutes = 60;
// Upper bounds of the payload size histogram, bytes (then +Inf).
inline constexpr std::uint32_t payload_bucket_bounds[] = {64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 65536};
inline constexpr int payload_bucket_count = sizeof payload_bucket_bounds / sizeof payload_bucket_bounds[0] + 1;

// The decisions of one call of track(), track_batch() or a replay, added up here and then to the
// shared counters at once (count_ingest_decisions): a batch of 1,000 events costs a few dozen
// atomic additions, not thousands. Plain data: it may live across PostgreSQL calls.
class DecisionTally {
public:
    explicit DecisionTally(std::int64_t now_us) noexcept : now_us_(now_us) {}
    void add(const IngestDecision& decision) noexcept;

private:
    friend void count_ingest_decisions(const DecisionTally& tally, const unsigned char* tenant_id16) noexcept;
    static constexpr int max_types = 16;  // more types in one call: counted one by one
    struct TypeCount {
        const char* name;  // the catalog's name (IngestDecision::event_type), empty: unknown
        std::size_t size;
        std::uint64_t by_status[status_count];
    };
    std::int64_t now_us_;  // when the call's events were received (Unix µs)
    TypeCount types_[max_types] = {};
    int type_count_ = 0;
    std::uint64_t by_status_[status_count] = {};
    std::uint64_t refused_[2][refusal_reason_count] = {};  // [0] rejected, [1] quarantined
    std::uint64_t payload_buckets_[payload_bucket_count] = {};
    std::uint64_t payload_bytes_ = 0;
};

static_assert(std::is_trivially_destructible_v<DecisionTally>);

// Adds a call's tally to the counters: by status, type, tenant, refusal class, minute, and
// (accepted) payload size.
void count_ingest_decisions(const DecisionTally& tally, const unsigned char* tenant_id16) noexcept;

// What the policy for undeclared personal data did, by detector and action: one count per value
// (or id) acted on, by track(), track_batch() and the write-path trigger alike.
void count_pii_decision(pii::Detector detector, UndeclaredPii action) noexcept;

// The maintenance worker says it is there (pid, 0 when it exits) and when a run started.
void note_maintenance_worker(int pid) noexcept;
void note_maintenance_run(std::int64_t now_us) noexcept;

// A copy of every counter, read without locks (each value is atomic; together they are not a
// snapshot of one instant). Plain data: safe to keep across PostgreSQL calls.
struct CounterSnapshot {
    std::uint64_t by_status[status_count];
    std::uint64_t refused[2][refusal_reason_count];  // [0] rejected, [1] quarantined
    struct TypeRow {
        char name[event_type_name_bytes];
        std::uint64_t by_status[status_count];
    } types[event_type_slots + 2];  // then "_unknown" and "_other"
    int type_count;
    struct TenantRow {
        unsigned char tenant_id[16];
        std::uint64_t by_status[status_count];
    } tenants[tenant_slots];
    int tenant_count;
    std::uint64_t other_tenants[status_count];
    std::uint64_t pii[pii::detector_count][undeclared_pii_action_count];
    std::uint64_t payload_buckets[payload_bucket_count];  // not cumulative
    std::uint64_t payload_bytes_sum;
    std::int64_t last_accepted_us;  // 0: none since the server started
    int worker_pid;                 // 0: no maintenance worker running
    std::int64_t worker_last_run_us;
    bool shared;  // false: this backend's own counts (library not preloaded)
};
void snapshot_counters(CounterSnapshot& out) noexcept;

// Events per type and status received in the minutes (at - minutes, at], at most the last
// recent_minutes before the current time; calls `row` for each nonzero count.
void recent_counts(std::int64_t at_us, int minutes,
                   void (*row)(const char* event_type, IngestStatus status, std::uint64_t events, void* arg),
                   void* arg) noexcept;

// Called from _PG_init when loaded by shared_preload_libraries.
void request_shared_counters();

}  // namespace telemetry::pg
