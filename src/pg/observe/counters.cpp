// The counters of counters.hpp. Lock-free: every count is an atomic addition, a type or tenant
// claims its slot once with a compare-and-swap, and a per-minute cell carries its minute in its
// top bits, so that the first count of a new minute restarts it without a lock and without
// losing a concurrent count.
#include "pg/observe/counters.hpp"

#include <cstdlib>
#include <cstring>

#include "pg/boundary/guard.hpp"

extern "C" {
#include "port/atomics.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
}

namespace telemetry::pg {

namespace {

enum SlotState : std::uint32_t { slot_empty = 0, slot_claiming = 1, slot_ready = 2 };

// A per-minute count: the minute (mod 2^24) in the top 24 bits, the count in the low 40.
constexpr int minute_tag_shift = 40;
constexpr std::uint64_t minute_tag_mask = (1ULL << 24) - 1;
constexpr int ring_size = 64;  // > recent_minutes: a cell is never reused within the window
static_assert(ring_size > recent_minutes);

struct TypeSlot {
    pg_atomic_uint32 state;
    std::uint32_t hash;
    char name[event_type_name_bytes];
    pg_atomic_uint64 by_status[status_count];
    pg_atomic_uint64 by_minute[ring_size][status_count];
};

struct TenantSlot {
    pg_atomic_uint32 state;
    unsigned char tenant_id[16];
    pg_atomic_uint64 by_status[status_count];
};

constexpr int unknown_type_slot = event_type_slots;
constexpr int other_type_slot = event_type_slots + 1;

// Totals by status are the sums of the types' counts (snapshot_counters): one cache line less to
// write per call.
struct Counters {
    pg_atomic_uint64 refused[2][refusal_reason_count];
    TypeSlot types[event_type_slots + 2];
    TenantSlot tenants[tenant_slots];
    pg_atomic_uint64 other_tenants[status_count];
    pg_atomic_uint64 pii[pii::detector_count][undeclared_pii_action_count];
    pg_atomic_uint64 payload_buckets[payload_bucket_count];
    pg_atomic_uint64 payload_bytes_sum;
    pg_atomic_uint64 last_accepted_us;
    pg_atomic_uint32 worker_pid;
    pg_atomic_uint64 worker_last_run_us;
};

Counters* counters = nullptr;
bool counters_shared = false;
shmem_request_hook_type previous_request_hook = nullptr;
shmem_startup_hook_type previous_startup_hook = nullptr;

void init_counters(Counters* c) {
    std::memset(static_cast<void*>(c), 0, sizeof(Counters));
    for (auto& row : c->refused)
        for (auto& v : row) pg_atomic_init_u64(&v, 0);
    for (auto& slot : c->types) {
        pg_atomic_init_u32(&slot.state, slot_empty);
        for (auto& v : slot.by_status) pg_atomic_init_u64(&v, 0);
        for (auto& row : slot.by_minute)
            for (auto& v : row) pg_atomic_init_u64(&v, 0);
    }
    std::memcpy(c->types[unknown_type_slot].name, "_unknown", sizeof "_unknown");
    pg_atomic_write_u32(&c->types[unknown_type_slot].state, slot_ready);
    std::memcpy(c->types[other_type_slot].name, "_other", sizeof "_other");
    pg_atomic_write_u32(&c->types[other_type_slot].state, slot_ready);
    for (auto& slot : c->tenants) {
        pg_atomic_init_u32(&slot.state, slot_empty);
        for (auto& v : slot.by_status) pg_atomic_init_u64(&v, 0);
    }
    for (auto& v : c->other_tenants) pg_atomic_init_u64(&v, 0);
    for (auto& row : c->pii)
        for (auto& v : row) pg_atomic_init_u64(&v, 0);
    for (auto& v : c->payload_buckets) pg_atomic_init_u64(&v, 0);
    pg_atomic_init_u64(&c->payload_bytes_sum, 0);
    pg_atomic_init_u64(&c->last_accepted_us, 0);
    pg_atomic_init_u32(&c->worker_pid, 0);
    pg_atomic_init_u64(&c->worker_last_run_us, 0);
}

void request_space() {
    if (previous_request_hook) previous_request_hook();
    RequestAddinShmemSpace(sizeof(Counters));
}

void attach() {
    if (previous_startup_hook) previous_startup_hook();
    LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
    bool found;
    auto* shared = static_cast<Counters*>(ShmemInitStruct("telemetry counters", sizeof(Counters), &found));
    if (!found) init_counters(shared);
    LWLockRelease(AddinShmemInitLock);
    counters = shared;
    counters_shared = true;
}

// Hooks are entry points too: through the guard.
void request_space_hook() { guarded_call(request_space); }
void attach_hook() { guarded_call(attach); }

// The counters to add to: shared, or (library not preloaded) this backend's own, made on first
// use; nullptr if that allocation failed (nothing is counted then, nothing fails).
Counters* active() noexcept {
    if (counters == nullptr) {
        auto* local = static_cast<Counters*>(std::malloc(sizeof(Counters)));
        if (local == nullptr) return nullptr;
        init_counters(local);
        counters = local;
    }
    return counters;
}

std::uint32_t fnv1a(const void* data, std::size_t size) noexcept {
    std::uint32_t h = 2166136261u;
    for (std::size_t i = 0; i < size; ++i) h = (h ^ static_cast<const unsigned char*>(data)[i]) * 16777619u;
    return h;
}

// Waits out another backend that is writing the key of a slot it just claimed (a few stores).
std::uint32_t settled_state(pg_atomic_uint32* state) noexcept {
    std::uint32_t s = pg_atomic_read_u32(state);
    while (s == slot_claiming) {
        pg_spin_delay();
        s = pg_atomic_read_u32(state);
    }
    pg_read_barrier();
    return s;
}

// Linear probing goes this far: once the tables fill up, a type or tenant without a slot costs
// this many comparisons, not the whole table.
constexpr int max_probes = 16;

// The slot of a catalog type: found by open addressing, or claimed; "_other" when none is free
// within max_probes of its hash.
int type_slot(Counters* c, std::string_view name) noexcept {
    if (name.empty()) return unknown_type_slot;
    if (name.size() >= static_cast<std::size_t>(event_type_name_bytes)) return other_type_slot;
    const std::uint32_t h = fnv1a(name.data(), name.size());
    for (int probe = 0; probe < max_probes; ++probe) {
        const int i = static_cast<int>((h + static_cast<std::uint32_t>(probe)) % event_type_slots);
        TypeSlot& slot = c->types[i];
        if (settled_state(&slot.state) == slot_empty) {
            std::uint32_t expected = slot_empty;
            if (pg_atomic_compare_exchange_u32(&slot.state, &expected, slot_claiming)) {
                slot.hash = h;
                std::memcpy(slot.name, name.data(), name.size());
                slot.name[name.size()] = '\0';
                pg_write_barrier();
                pg_atomic_write_u32(&slot.state, slot_ready);
                return i;
            }
            settled_state(&slot.state);  // another backend claimed it: whose is it?
        }
        if (slot.hash == h && std::strncmp(slot.name, name.data(), name.size()) == 0 && slot.name[name.size()] == '\0')
            return i;
    }
    return other_type_slot;
}

// The slot of a tenant among the first tenant_slots seen (within max_probes of its hash); -1
// for the others.
int tenant_slot(Counters* c, const unsigned char* tenant_id) noexcept {
    const std::uint32_t h = fnv1a(tenant_id, 16);
    for (int probe = 0; probe < max_probes; ++probe) {
        const int i = static_cast<int>((h + static_cast<std::uint32_t>(probe)) % tenant_slots);
        TenantSlot& slot = c->tenants[i];
        if (settled_state(&slot.state) == slot_empty) {
            std::uint32_t expected = slot_empty;
            if (pg_atomic_compare_exchange_u32(&slot.state, &expected, slot_claiming)) {
                std::memcpy(slot.tenant_id, tenant_id, 16);
                pg_write_barrier();
                pg_atomic_write_u32(&slot.state, slot_ready);
                return i;
            }
            settled_state(&slot.state);
        }
        if (std::memcmp(slot.tenant_id, tenant_id, 16) == 0) return i;
    }
    return -1;
}

// Counts n events in the cell of their minute. A cell holding an older minute starts again; one
// holding a later minute keeps it, and the event is not counted there: a decision made long ago
// (a batch that waited an hour on a lock, a clock stepped back) never wipes out a live minute.
void add_to_minute(pg_atomic_uint64* cell, std::uint64_t minute, std::uint64_t n) noexcept {
    const std::uint64_t tag = minute & minute_tag_mask;
    std::uint64_t seen = pg_atomic_read_u64(cell);
    for (;;) {
        const std::uint64_t seen_tag = seen >> minute_tag_shift;
        std::uint64_t next;
        if (seen_tag == tag) {
            next = seen + n;
        } else if (seen != 0 && ((seen_tag - tag) & minute_tag_mask) < (minute_tag_mask >> 1)) {
            return;  // the cell holds a later minute (modulo 2^24)
        } else {
            next = (tag << minute_tag_shift) | n;
        }
        if (pg_atomic_compare_exchange_u64(cell, &seen, next)) return;
    }
}

std::uint64_t minute_count(std::uint64_t cell, std::uint64_t minute) noexcept {
    return (cell >> minute_tag_shift) == (minute & minute_tag_mask) ? cell & ((1ULL << minute_tag_shift) - 1) : 0;
}

std::uint64_t minute_of(std::int64_t unix_us) noexcept {
    return unix_us > 0 ? static_cast<std::uint64_t>(unix_us / 60000000) : 0;
}

}  // namespace

void request_shared_counters() {
    previous_request_hook = shmem_request_hook;
    shmem_request_hook = request_space_hook;
    previous_startup_hook = shmem_startup_hook;
    shmem_startup_hook = attach_hook;
}

void DecisionTally::add(const IngestDecision& d) noexcept {
    const int status = static_cast<int>(d.status);
    ++by_status_[status];
    // The type's running count: names are the catalog's strings, the same pointer for a type.
    int t = 0;
    while (t < type_count_ && !(types_[t].name == d.event_type.data() && types_[t].size == d.event_type.size())) ++t;
    if (t == type_count_ && type_count_ < max_types) {
        types_[t] = TypeCount{d.event_type.data(), d.event_type.size(), {}};
        ++type_count_;
    }
    if (t < type_count_) {
        ++types_[t].by_status[status];
    } else if (Counters* c = active()) {  // a call of more than max_types types: this one at once
        TypeSlot& type = c->types[type_slot(c, d.event_type)];
        const std::uint64_t minute = minute_of(now_us_);
        pg_atomic_fetch_add_u64(&type.by_status[status], 1);
        add_to_minute(&type.by_minute[minute % ring_size][status], minute, 1);
    }
    if (d.status == IngestStatus::rejected || d.status == IngestStatus::quarantined) {
        const RefusalReason reason = d.refusal != RefusalReason::none ? d.refusal : refusal_reason_of(d.sqlstate);
        ++refused_[d.status == IngestStatus::rejected ? 0 : 1][static_cast<int>(reason)];
    } else if (d.status == IngestStatus::accepted) {
        int bucket = 0;
        while (bucket < payload_bucket_count - 1 && d.stored_bytes > payload_bucket_bounds[bucket]) ++bucket;
        ++payload_buckets_[bucket];
        payload_bytes_ += d.stored_bytes;
    }
}

namespace {
void add_if_any(pg_atomic_uint64* counter, std::uint64_t n) noexcept {
    if (n > 0) pg_atomic_fetch_add_u64(counter, n);
}
}  // namespace

void count_ingest_decisions(const DecisionTally& tally, const unsigned char* tenant_id16) noexcept {
    Counters* c = active();
    if (c == nullptr) return;
    const std::uint64_t minute = minute_of(tally.now_us_);
    const int tenant = tenant_slot(c, tenant_id16);
    for (int s = 0; s < status_count; ++s)
        add_if_any(tenant >= 0 ? &c->tenants[tenant].by_status[s] : &c->other_tenants[s], tally.by_status_[s]);
    for (int t = 0; t < tally.type_count_; ++t) {
        const DecisionTally::TypeCount& count = tally.types_[t];
        TypeSlot& type = c->types[type_slot(c, std::string_view(count.name != nullptr ? count.name : "", count.size))];
        for (int s = 0; s < status_count; ++s) {
            if (count.by_status[s] == 0) continue;
            pg_atomic_fetch_add_u64(&type.by_status[s], count.by_status[s]);
            add_to_minute(&type.by_minute[minute % ring_size][s], minute, count.by_status[s]);
        }
    }
    for (int k = 0; k < 2; ++k)
        for (int r = 0; r < refusal_reason_count; ++r) add_if_any(&c->refused[k][r], tally.refused_[k][r]);
    for (int b = 0; b < payload_bucket_count; ++b) add_if_any(&c->payload_buckets[b], tally.payload_buckets_[b]);
    add_if_any(&c->payload_bytes_sum, tally.payload_bytes_);
    if (tally.by_status_[static_cast<int>(IngestStatus::accepted)] > 0) {
        // The latest time wins (a compare-and-swap only when this one is later).
        std::uint64_t seen = pg_atomic_read_u64(&c->last_accepted_us);
        const auto now = static_cast<std::uint64_t>(tally.now_us_);
        while (seen < now && !pg_atomic_compare_exchange_u64(&c->last_accepted_us, &seen, now)) {}
    }
}

void count_pii_decision(pii::Detector detector, UndeclaredPii action) noexcept {
    const int d = static_cast<int>(detector);
    const int a = static_cast<int>(action);
    if (d < 0 || d >= pii::detector_count || a < 0 || a >= undeclared_pii_action_count) return;
    if (Counters* c = active()) pg_atomic_fetch_add_u64(&c->pii[d][a], 1);
}

void note_maintenance_worker(int pid) noexcept {
    if (Counters* c = active()) pg_atomic_write_u32(&c->worker_pid, static_cast<std::uint32_t>(pid));
}

void note_maintenance_run(std::int64_t now_us) noexcept {
    if (Counters* c = active()) pg_atomic_write_u64(&c->worker_last_run_us, static_cast<std::uint64_t>(now_us));
}

void snapshot_counters(CounterSnapshot& out) noexcept {
    std::memset(static_cast<void*>(&out), 0, sizeof out);
    Counters* c = active();
    if (c == nullptr) return;
    out.shared = counters_shared;
    for (int k = 0; k < 2; ++k)
        for (int r = 0; r < refusal_reason_count; ++r) out.refused[k][r] = pg_atomic_read_u64(&c->refused[k][r]);
    for (auto& slot : c->types) {
        if (settled_state(&slot.state) != slot_ready) continue;
        CounterSnapshot::TypeRow& row = out.types[out.type_count];
        std::uint64_t any = 0;
        for (int s = 0; s < status_count; ++s) {
            any |= row.by_status[s] = pg_atomic_read_u64(&slot.by_status[s]);
            out.by_status[s] += row.by_status[s];  // every decision is counted under one type
        }
        if (any == 0) continue;  // the fixed _unknown and _other, until counted
        std::memcpy(row.name, slot.name, sizeof row.name);
        ++out.type_count;
    }
    for (auto& slot : c->tenants) {
        if (settled_state(&slot.state) != slot_ready) continue;
        CounterSnapshot::TenantRow& row = out.tenants[out.tenant_count++];
        std::memcpy(row.tenant_id, slot.tenant_id, 16);
        for (int s = 0; s < status_count; ++s) row.by_status[s] = pg_atomic_read_u64(&slot.by_status[s]);
    }
    for (int s = 0; s < status_count; ++s) out.other_tenants[s] = pg_atomic_read_u64(&c->other_tenants[s]);
    for (int d = 0; d < pii::detector_count; ++d)
        for (int a = 0; a < undeclared_pii_action_count; ++a) out.pii[d][a] = pg_atomic_read_u64(&c->pii[d][a]);
    for (int b = 0; b < payload_bucket_count; ++b) out.payload_buckets[b] = pg_atomic_read_u64(&c->payload_buckets[b]);
    out.payload_bytes_sum = pg_atomic_read_u64(&c->payload_bytes_sum);
    out.last_accepted_us = static_cast<std::int64_t>(pg_atomic_read_u64(&c->last_accepted_us));
    out.worker_pid = static_cast<int>(pg_atomic_read_u32(&c->worker_pid));
    out.worker_last_run_us = static_cast<std::int64_t>(pg_atomic_read_u64(&c->worker_last_run_us));
}

void recent_counts(std::int64_t at_us, int minutes,
                   void (*row)(const char* event_type, IngestStatus status, std::uint64_t events, void* arg),
                   void* arg) noexcept {
    Counters* c = active();
    if (c == nullptr || minutes <= 0) return;
    if (minutes > recent_minutes) minutes = recent_minutes;
    const std::uint64_t last = minute_of(at_us);
    for (auto& slot : c->types) {
        if (settled_state(&slot.state) != slot_ready) continue;
        for (int s = 0; s < status_count; ++s) {
            std::uint64_t events = 0;
            for (int m = 0; m < minutes && static_cast<std::uint64_t>(m) <= last; ++m) {
                const std::uint64_t minute = last - static_cast<std::uint64_t>(m);
                events += minute_count(pg_atomic_read_u64(&slot.by_minute[minute % ring_size][s]), minute);
            }
            if (events > 0) row(slot.name, static_cast<IngestStatus>(s), events, arg);
        }
    }
}

}  // namespace telemetry::pg
