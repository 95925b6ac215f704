#include "pg/pii/pii_policies.hpp"

#include <string>
#include <unordered_map>

#include "pg/boundary/guard.hpp"
#include "pg/boundary/table_watch.hpp"

namespace telemetry::pg {

namespace {

TableWatch policies_watch("pii_policies");
const TenantPiiPolicy before_0_7_0{UndeclaredPii::allow, {}};
std::unordered_map<std::string, TenantPiiPolicy>* policies = nullptr;

// One row, copied out of SPI into the caller's memory.
struct PolicyRow {
    pg_uuid_t tenant;
    char* event_type;  // "*": every type
    char* action;
};

int load_policies(Oid relid, PolicyRow** out) {
    MemoryContext caller = CurrentMemoryContext;
    const SavedUser saved = become_owner_of(relid);
    SPI_connect();
    PushActiveSnapshot(GetLatestSnapshot());
    const int rc = SPI_execute("SELECT tenant_id, event_type, undeclared_pii FROM telemetry.pii_policies", true, 0);
    if (rc != SPI_OK_SELECT)
        elog(ERROR, "telemetry: reading telemetry.pii_policies failed: %s", SPI_result_code_string(rc));
    PopActiveSnapshot();
    const int n = static_cast<int>(SPI_processed);
    MemoryContext spi = MemoryContextSwitchTo(caller);
    auto* rows = static_cast<PolicyRow*>(palloc0(sizeof(PolicyRow) * (n > 0 ? n : 1)));
    for (int i = 0; i < n; ++i) {
        bool isnull;
        HeapTuple tuple = SPI_tuptable->vals[i];
        rows[i].tenant = *DatumGetUUIDP(SPI_getbinval(tuple, SPI_tuptable->tupdesc, 1, &isnull));
        rows[i].event_type = SPI_getvalue(tuple, SPI_tuptable->tupdesc, 2);
        rows[i].action = SPI_getvalue(tuple, SPI_tuptable->tupdesc, 3);
    }
    MemoryContextSwitchTo(spi);
    SPI_finish();
    restore_user(saved);
    *out = rows;
    return n;
}

}  // namespace

const TenantPiiPolicy* tenant_pii_policy(const pg_uuid_t& tenant) {
    if (policies_watch.stale()) {
        // A database still at a release before 0.7.0 (the library is newer than its SQL until
        // ALTER EXTENSION ... UPDATE) has no table: it keeps that release's behaviour, allow,
        // since its erasure functions would not find ids stored hashed.
        if (!OidIsValid(telemetry_relid("pii_policies", true))) return &before_0_7_0;
        const TableWatch::Reading reading = policies_watch.begin_reading();
        PolicyRow* rows;
        const int n = load_policies(reading.relid, &rows);
        // Out of memory half way, the watch stays stale: the next call reloads.
        core_phase_or_raise([&] {
            if (policies == nullptr) policies = new std::unordered_map<std::string, TenantPiiPolicy>();
            policies->clear();
            for (int i = 0; i < n; ++i) {
                // The table's CHECK allows only the five actions; anything else reads as redact.
                const UndeclaredPii action = parse_undeclared_pii(rows[i].action).value_or(UndeclaredPii::redact);
                TenantPiiPolicy& policy =
                    (*policies)[std::string(reinterpret_cast<const char*>(rows[i].tenant.data), UUID_LEN)];
                if (std::string_view(rows[i].event_type) == "*") policy.all_types = action;
                else policy.by_type.emplace_back(rows[i].event_type, action);
            }
        });
        policies_watch.finished(reading);
    }
    if (policies->empty()) return nullptr;  // most databases: no key made per call
    const auto it = policies->find(std::string(reinterpret_cast<const char*>(tenant.data), UUID_LEN));
    return it != policies->end() ? &it->second : nullptr;
}

}  // namespace telemetry::pg
