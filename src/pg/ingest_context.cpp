#include <string>
#include <unordered_map>
#include <unordered_set>

#include "pg/guard.hpp"
#include "pg/ingest_context.hpp"
#include "pg/settings.hpp"
#include "pg/table_watch.hpp"

namespace telemetry::pg {

namespace {

TableWatch tenant_settings_watch("tenant_settings");
TableWatch opt_outs_watch("opt_outs");
TableWatch secrets_watch("secrets");

std::unordered_map<std::string, int>* retention_by_tenant = nullptr;
std::unordered_set<std::string>* opted_out_users = nullptr;  // tenant bytes + user_id
bool opt_outs_cached = false;                                // false: too many to cache, ask
SPIPlanPtr opt_out_lookup = nullptr;
char* database_key = nullptr;                                // TopMemoryContext

std::string tenant_key(const pg_uuid_t& tenant) { return std::string(reinterpret_cast<const char*>(tenant.data), UUID_LEN); }

// Rows copied out of SPI, so the C++ containers are filled after SPI_finish.
struct KeyValue {
    pg_uuid_t tenant;
    char* text;
    int number;
};

// Runs a read-only query with the latest snapshot (as PostgreSQL reads its own catalogs) and
// copies (uuid, text|int) rows into the caller's memory context.
int load(const char* sql, bool second_is_text, KeyValue** out) {
    MemoryContext caller = CurrentMemoryContext;
    SPI_connect();
    PushActiveSnapshot(GetLatestSnapshot());
    SPI_execute(sql, true, 0);
    PopActiveSnapshot();
    const int n = static_cast<int>(SPI_processed);
    MemoryContext spi = MemoryContextSwitchTo(caller);
    auto* rows = static_cast<KeyValue*>(palloc0(sizeof(KeyValue) * (n > 0 ? n : 1)));
    for (int i = 0; i < n; ++i) {
        bool isnull;
        HeapTuple tuple = SPI_tuptable->vals[i];
        rows[i].tenant = *DatumGetUUIDP(SPI_getbinval(tuple, SPI_tuptable->tupdesc, 1, &isnull));
        const Datum second = SPI_getbinval(tuple, SPI_tuptable->tupdesc, 2, &isnull);
        if (second_is_text) rows[i].text = TextDatumGetCString(second);
        else rows[i].number = DatumGetInt32(second);
    }
    MemoryContextSwitchTo(spi);
    SPI_finish();
    *out = rows;
    return n;
}

}  // namespace

int tenant_retention_days(const pg_uuid_t& tenant) {
    if (tenant_settings_watch.stale()) {
        tenant_settings_watch.reading();
        KeyValue* rows;
        const int n = load("SELECT tenant_id, retention_days FROM telemetry.tenant_settings WHERE retention_days IS NOT NULL",
                           false, &rows);
        PendingError pending;
        try {
            if (retention_by_tenant == nullptr) retention_by_tenant = new std::unordered_map<std::string, int>();
            retention_by_tenant->clear();
            for (int i = 0; i < n; ++i) (*retention_by_tenant)[tenant_key(rows[i].tenant)] = rows[i].number;
        } catch (...) {
            tenant_settings_watch.invalidate();
            pending.capture(current_exception_error());
        }
        if (pending.set) pending.raise();
    }
    // No PostgreSQL call below: a std::bad_alloc from the key goes to the entry point's guard.
    const auto it = retention_by_tenant->find(tenant_key(tenant));
    return it != retention_by_tenant->end() ? it->second : retention_days;
}

bool is_opted_out(const pg_uuid_t& tenant, std::string_view user_id) {
    if (opt_outs_watch.stale()) {
        opt_outs_watch.reading();
        KeyValue* rows;
        char limit_sql[200];
        snprintf(limit_sql, sizeof limit_sql, "SELECT tenant_id, user_id FROM telemetry.opt_outs LIMIT %ld", opt_out_cache_limit + 1);
        const int n = load(limit_sql, true, &rows);
        PendingError pending;
        try {
            if (opted_out_users == nullptr) opted_out_users = new std::unordered_set<std::string>();
            opted_out_users->clear();
            opt_outs_cached = n <= opt_out_cache_limit;
            if (opt_outs_cached)
                for (int i = 0; i < n; ++i) opted_out_users->insert(tenant_key(rows[i].tenant) + rows[i].text);
        } catch (...) {
            opt_outs_watch.invalidate();
            pending.capture(current_exception_error());
        }
        if (pending.set) pending.raise();
    }
    if (opt_outs_cached) {
        bool found = false;
        {
            std::string key = tenant_key(tenant);
            key.append(user_id);
            found = opted_out_users->count(key) > 0;
        }
        return found;
    }
    // Too many opt-outs to keep in every backend: ask.
    SPI_connect();
    if (opt_out_lookup == nullptr) {
        Oid types[2] = {UUIDOID, TEXTOID};
        SPIPlanPtr plan =
            SPI_prepare("SELECT 1 FROM telemetry.opt_outs WHERE tenant_id OPERATOR(pg_catalog.=) $1 AND user_id OPERATOR(pg_catalog.=) $2",
                        2, types);
        SPI_keepplan(plan);
        opt_out_lookup = plan;
    }
    pg_uuid_t t = tenant;
    Datum values[2] = {UUIDPGetDatum(&t), PointerGetDatum(cstring_to_text_with_len(user_id.data(), static_cast<int>(user_id.size())))};
    SPI_execute_plan(opt_out_lookup, values, nullptr, true, 1);
    const bool found = SPI_processed > 0;
    SPI_finish();
    return found;
}

std::string_view pii_master_key() {
    if (pii_hash_key != nullptr && pii_hash_key[0] != '\0') return pii_hash_key;
    if (secrets_watch.stale() || database_key == nullptr) {
        secrets_watch.reading();
        SPI_connect();
        SPI_execute("SELECT value FROM telemetry.secrets WHERE name OPERATOR(pg_catalog.=) 'pii_hash_key'", true, 1);
        if (SPI_processed != 1)
            ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE), errmsg("telemetry.secrets has no pii_hash_key"),
                            errhint("Set telemetry.pii_hash_key, or reinstall the extension.")));
        char* value = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
        char* kept = MemoryContextStrdup(TopMemoryContext, value);
        SPI_finish();
        if (database_key != nullptr) pfree(database_key);
        database_key = kept;
    }
    return database_key;
}

}  // namespace telemetry::pg
