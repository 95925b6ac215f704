#include <cstddef>
#include <cstring>
#include <string>
#include <unordered_map>

#include "core/base/sha256.hpp"
#include "pg/boundary/convert.hpp"
#include "pg/boundary/guard.hpp"
#include "pg/ingest/ingest_context.hpp"
#include "pg/boundary/search_path.hpp"
#include "pg/settings.hpp"
#include "pg/boundary/table_watch.hpp"

extern "C" {
#include "lib/ilist.h"
#include "utils/hsearch.h"
}

namespace telemetry::pg {

namespace {

TableWatch tenant_settings_watch("tenant_settings");
TableWatch opt_outs_watch("opt_outs");

std::unordered_map<std::string, int>* retention_by_tenant = nullptr;

std::string tenant_key(const pg_uuid_t& tenant) {
    return std::string(reinterpret_cast<const char*>(tenant.data), UUID_LEN);
}

// Rows copied out of SPI, so the C++ containers are filled after SPI_finish.
struct TenantDays {
    pg_uuid_t tenant;
    int days;
};

// Reads every tenant's own retention with the latest snapshot (as PostgreSQL reads its own
// catalogs) into the caller's memory context.
int load_retention(TenantDays** out) {
    MemoryContext caller = CurrentMemoryContext;
    use_safe_search_path();
    SPI_connect();
    PushActiveSnapshot(GetLatestSnapshot());
    SPI_execute("SELECT tenant_id, retention_days FROM telemetry.tenant_settings WHERE retention_days IS NOT NULL",
                true, 0);
    PopActiveSnapshot();
    const int n = static_cast<int>(SPI_processed);
    MemoryContext spi = MemoryContextSwitchTo(caller);
    auto* rows = static_cast<TenantDays*>(palloc0(sizeof(TenantDays) * (n > 0 ? n : 1)));
    for (int i = 0; i < n; ++i) {
        bool isnull;
        HeapTuple tuple = SPI_tuptable->vals[i];
        rows[i].tenant = *DatumGetUUIDP(SPI_getbinval(tuple, SPI_tuptable->tupdesc, 1, &isnull));
        rows[i].days = DatumGetInt32(SPI_getbinval(tuple, SPI_tuptable->tupdesc, 2, &isnull));
    }
    MemoryContextSwitchTo(spi);
    SPI_finish();
    *out = rows;
    return n;
}

// ---------------------------------------------------------------------------------------------
// Opt-out answers: a dynahash in a memory context of its own (visible in
// pg_backend_memory_contexts), keyed by SHA-256(tenant id || user id) so every key has one size
// whatever the length of the user id, with a least-recently-used list through the entries.

struct OptOutAnswer {
    unsigned char key[32];  // must come first: dynahash's key
    bool opted_out;
    dlist_node lru;  // most recently used at the head
};

HTAB* answers = nullptr;
MemoryContext answers_memory = nullptr;
dlist_head answers_lru;
long answer_count = 0;
SPIPlanPtr opt_out_probe = nullptr;

// "Does the tenant have any opt-outs?" is asked on every call: the answers for recent tenants
// are also kept by the tenant's 16 bytes, without hashing a key (a few slots, direct-mapped).
struct TenantAnswer {
    pg_uuid_t tenant;
    bool has_opt_outs;
    bool valid;
};
constexpr int tenant_answer_slots = 64;
TenantAnswer tenant_answers[tenant_answer_slots];

int tenant_slot(const pg_uuid_t& tenant) noexcept {
    unsigned h = 0;
    for (int i = 0; i < UUID_LEN; ++i) h = h * 31 + tenant.data[i];
    return static_cast<int>(h % tenant_answer_slots);
}

void forget_answers() {
    std::memset(tenant_answers, 0, sizeof tenant_answers);
    if (answers_memory == nullptr) {
        answers_memory = AllocSetContextCreate(TopMemoryContext, "telemetry opt-out answers", ALLOCSET_DEFAULT_SIZES);
    } else {
        MemoryContextReset(answers_memory);
    }
    answers = nullptr;
    dlist_init(&answers_lru);
    answer_count = 0;
    HASHCTL control;
    control.keysize = sizeof(OptOutAnswer::key);
    control.entrysize = sizeof(OptOutAnswer);
    control.hcxt = answers_memory;
    answers = hash_create("telemetry opt-out answers", 1024, &control, HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
}

SPIPlanPtr tenant_probe = nullptr;

// Core phase: the key of (tenant, user), or of the tenant alone (user_id nullptr: "does the
// tenant have any opt-outs?"). No PostgreSQL call in here.
void answer_key(const pg_uuid_t& tenant, const std::string_view* user_id, unsigned char* key) noexcept {
    Sha256 h;
    h.update(tenant.data, UUID_LEN);
    if (user_id != nullptr) {
        h.update("u", 1);
        h.update(user_id->data(), user_id->size());
    } else {
        h.update("t", 1);
    }
    const Sha256Digest digest = h.finish();
    std::memcpy(key, digest.data(), 32);
}

// Asks the table, through its primary key: is (tenant, user) there, or (user_id nullptr) any
// row of the tenant?
bool probe_opt_out(const pg_uuid_t& tenant, const std::string_view* user_id) {
    use_safe_search_path();
    SPI_connect();
    SPIPlanPtr& plan = user_id != nullptr ? opt_out_probe : tenant_probe;
    if (plan == nullptr) {
        Oid types[2] = {UUIDOID, TEXTOID};
        SPIPlanPtr prepared =
            user_id != nullptr
                ? SPI_prepare(
                      "SELECT FROM telemetry.opt_outs WHERE tenant_id OPERATOR(pg_catalog.=) $1 "
                      "AND user_id OPERATOR(pg_catalog.=) $2",
                      2, types)
                : SPI_prepare("SELECT FROM telemetry.opt_outs WHERE tenant_id OPERATOR(pg_catalog.=) $1 LIMIT 1", 1,
                              types);
        if (prepared == nullptr)
            elog(ERROR, "telemetry: preparing the opt-out probe failed: %s", SPI_result_code_string(SPI_result));
        SPI_keepplan(prepared);
        plan = prepared;
    }
    pg_uuid_t t = tenant;
    Datum values[2] = {UUIDPGetDatum(&t), (Datum)0};
    if (user_id != nullptr) values[1] = text_datum(*user_id);
    PushActiveSnapshot(GetLatestSnapshot());
    SPI_execute_plan(plan, values, nullptr, true, 1);
    PopActiveSnapshot();
    const bool found = SPI_processed > 0;
    SPI_finish();
    return found;
}

// The cached answer for a key, or asks and remembers it (unless a change arrived while asking:
// the answer might predate it). `remembered`, when given, tells whether the answer is cached.
bool answer(const pg_uuid_t& tenant, const std::string_view* user_id, bool* remembered = nullptr) {
    if (remembered != nullptr) *remembered = false;
    unsigned char key[32];
    answer_key(tenant, user_id, key);
    bool found;
    auto* entry = static_cast<OptOutAnswer*>(hash_search(answers, key, HASH_FIND, &found));
    if (found) {
        dlist_move_head(&answers_lru, &entry->lru);
        if (remembered != nullptr) *remembered = true;
        return entry->opted_out;
    }
    const TableWatch::Reading reading = opt_outs_watch.begin_reading();
    const bool yes = probe_opt_out(tenant, user_id);
    if (!opt_outs_watch.unchanged_since(reading)) return yes;
    if (remembered != nullptr) *remembered = true;
    if (answer_count >= opt_out_cache_entries) {
        // dlist_container() is C only (it type-checks with a GCC builtin C++ lacks).
        auto* oldest = reinterpret_cast<OptOutAnswer*>(reinterpret_cast<char*>(dlist_tail_node(&answers_lru)) -
                                                       offsetof(OptOutAnswer, lru));
        dlist_delete(&oldest->lru);
        hash_search(answers, oldest->key, HASH_REMOVE, nullptr);
        --answer_count;
    }
    entry = static_cast<OptOutAnswer*>(hash_search(answers, key, HASH_ENTER, &found));
    entry->opted_out = yes;
    dlist_push_head(&answers_lru, &entry->lru);
    ++answer_count;
    return yes;
}

}  // namespace

int tenant_retention_days(const pg_uuid_t& tenant) {
    if (tenant_settings_watch.stale()) {
        const TableWatch::Reading reading = tenant_settings_watch.begin_reading();
        TenantDays* rows;
        const int n = load_retention(&rows);
        // Out of memory half way, the watch stays stale: the next call reloads.
        core_phase_or_raise([&] {
            if (retention_by_tenant == nullptr) retention_by_tenant = new std::unordered_map<std::string, int>();
            retention_by_tenant->clear();
            for (int i = 0; i < n; ++i) (*retention_by_tenant)[tenant_key(rows[i].tenant)] = rows[i].days;
        });
        tenant_settings_watch.finished(reading);
    }
    if (retention_by_tenant->empty()) return retention_days;  // most databases: no key made per call
    // No PostgreSQL call below: a std::bad_alloc from the key goes to the entry point's guard.
    const auto it = retention_by_tenant->find(tenant_key(tenant));
    return it != retention_by_tenant->end() ? it->second : retention_days;
}

namespace {
// The answers kept follow the table: any change to it forgets them all.
void keep_answers_fresh() {
    if (answers == nullptr || opt_outs_watch.stale()) {
        const TableWatch::Reading reading = opt_outs_watch.begin_reading();
        forget_answers();
        opt_outs_watch.finished(reading);
    }
}
}  // namespace

bool tenant_has_opt_outs(const pg_uuid_t& tenant) {
    keep_answers_fresh();
    TenantAnswer& slot = tenant_answers[tenant_slot(tenant)];
    if (slot.valid && std::memcmp(slot.tenant.data, tenant.data, UUID_LEN) == 0) return slot.has_opt_outs;
    bool remembered;
    const bool yes = answer(tenant, nullptr, &remembered);
    if (remembered) slot = TenantAnswer{tenant, yes, true};
    return yes;
}

bool is_opted_out(const pg_uuid_t& tenant, std::string_view user_id) {
    keep_answers_fresh();
    return answer(tenant, &user_id);
}

}  // namespace telemetry::pg
