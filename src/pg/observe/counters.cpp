#include "pg/observe/counters.hpp"
#include "pg/boundary/guard.hpp"

extern "C" {
#include "port/atomics.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
}

namespace telemetry::pg {

namespace {

struct SharedCounters {
    pg_atomic_uint64 by_status[status_count];
    pg_atomic_uint64 by_pii_decision[pii::detector_count][undeclared_pii_action_count];
};

SharedCounters* shared = nullptr;
std::uint64_t local[status_count];
std::uint64_t local_pii[pii::detector_count][undeclared_pii_action_count];
shmem_request_hook_type previous_request_hook = nullptr;
shmem_startup_hook_type previous_startup_hook = nullptr;

void request_space() {
    if (previous_request_hook) previous_request_hook();
    RequestAddinShmemSpace(sizeof(SharedCounters));
}

void attach() {
    if (previous_startup_hook) previous_startup_hook();
    LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
    bool found;
    auto* counters =
        static_cast<SharedCounters*>(ShmemInitStruct("telemetry ingest counters", sizeof(SharedCounters), &found));
    if (!found) {
        for (auto& c : counters->by_status) pg_atomic_init_u64(&c, 0);
        for (auto& row : counters->by_pii_decision)
            for (auto& c : row) pg_atomic_init_u64(&c, 0);
    }
    LWLockRelease(AddinShmemInitLock);
    shared = counters;
}

// Hooks are entry points too: through the guard.
void request_space_hook() { guarded_call(request_space); }
void attach_hook() { guarded_call(attach); }

}  // namespace

void request_shared_counters() {
    previous_request_hook = shmem_request_hook;
    shmem_request_hook = request_space_hook;
    previous_startup_hook = shmem_startup_hook;
    shmem_startup_hook = attach_hook;
}

void count_decision(IngestStatus status, std::uint64_t n) noexcept {
    const int i = static_cast<int>(status);
    if (shared != nullptr) pg_atomic_fetch_add_u64(&shared->by_status[i], n);
    else local[i] += n;
}

std::uint64_t decision_count(IngestStatus status) noexcept {
    const int i = static_cast<int>(status);
    return shared != nullptr ? pg_atomic_read_u64(&shared->by_status[i]) : local[i];
}

void count_pii_decision(pii::Detector detector, UndeclaredPii action) noexcept {
    const int d = static_cast<int>(detector);
    const int a = static_cast<int>(action);
    if (d < 0 || d >= pii::detector_count || a < 0 || a >= undeclared_pii_action_count) return;
    if (shared != nullptr) pg_atomic_fetch_add_u64(&shared->by_pii_decision[d][a], 1);
    else ++local_pii[d][a];
}

std::uint64_t pii_decision_count(pii::Detector detector, UndeclaredPii action) noexcept {
    const int d = static_cast<int>(detector);
    const int a = static_cast<int>(action);
    return shared != nullptr ? pg_atomic_read_u64(&shared->by_pii_decision[d][a]) : local_pii[d][a];
}

}  // namespace telemetry::pg

// pii_counters() RETURNS TABLE (detector text, action text, decisions bigint): the pairs seen.
TELEMETRY_FUNCTION(telemetry_pii_counters) {
    using namespace telemetry;
    InitMaterializedSRF(fcinfo, 0);
    ReturnSetInfo* rsinfo = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);
    for (int d = 0; d < pii::detector_count; ++d) {
        for (int a = 0; a < undeclared_pii_action_count; ++a) {
            const auto detector = static_cast<pii::Detector>(d);
            const auto action = static_cast<UndeclaredPii>(a);
            const std::uint64_t n = pg::pii_decision_count(detector, action);
            if (n == 0) continue;
            const std::string_view name = pii::detector_name(detector);
            Datum values[3] = {PointerGetDatum(cstring_to_text_with_len(name.data(), static_cast<int>(name.size()))),
                               CStringGetTextDatum(to_string(action)), Int64GetDatum(static_cast<int64>(n))};
            bool nulls[3] = {false, false, false};
            tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
        }
    }
    return (Datum)0;
}

// ingest_counters() RETURNS TABLE (status text, events bigint)
TELEMETRY_FUNCTION(telemetry_ingest_counters) {
    using namespace telemetry;
    InitMaterializedSRF(fcinfo, 0);
    ReturnSetInfo* rsinfo = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);
    for (int i = 0; i < pg::status_count; ++i) {
        const auto status = static_cast<IngestStatus>(i);
        Datum values[2] = {CStringGetTextDatum(to_string(status)),
                           Int64GetDatum(static_cast<int64>(pg::decision_count(status)))};
        bool nulls[2] = {false, false};
        tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
    }
    return (Datum)0;
}
