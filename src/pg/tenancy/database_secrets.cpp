#include "pg/tenancy/database_secrets.hpp"

#include "pg/boundary/pg_headers.hpp"
#include "pg/boundary/search_path.hpp"
#include "pg/boundary/table_watch.hpp"
#include "pg/settings.hpp"

namespace telemetry::pg {

namespace {

TableWatch secrets_watch("secrets");

// The rows of telemetry.secrets this backend uses, as of the last load (TopMemoryContext).
struct Loaded {
    char* pii_hash_key = nullptr;
    char* tenant_token_key = nullptr;
};
Loaded loaded;

void keep(char*& slot, const char* value) {
    char* kept = value != nullptr ? MemoryContextStrdup(TopMemoryContext, value) : nullptr;
    if (slot != nullptr) pfree(slot);
    slot = kept;
}

// Reads both keys with the latest snapshot, as the owner reads its own table.
void load_secrets() {
    const TableWatch::Reading reading = secrets_watch.begin_reading();
    use_safe_search_path();
    SPI_connect();
    PushActiveSnapshot(GetLatestSnapshot());
    SPI_execute("SELECT name, value FROM telemetry.secrets", true, 0);
    PopActiveSnapshot();
    const char* pii = nullptr;
    const char* token = nullptr;
    for (uint64 i = 0; i < SPI_processed; ++i) {
        const char* name = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1);
        const char* value = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2);
        if (name == nullptr || value == nullptr) continue;
        if (strcmp(name, "pii_hash_key") == 0) pii = value;
        else if (strcmp(name, "tenant_token_key") == 0) token = value;
    }
    keep(loaded.pii_hash_key, pii);
    keep(loaded.tenant_token_key, token);
    SPI_finish();
    secrets_watch.finished(reading);
}

std::string_view secret(char* const& slot, const char* name, const char* hint) {
    if (secrets_watch.stale()) load_secrets();
    if (slot == nullptr)
        ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE), errmsg("telemetry.secrets has no %s", name),
                        errhint("%s", hint)));
    return slot;
}

}  // namespace

std::string_view pii_master_key() {
    if (pii_hash_key != nullptr && pii_hash_key[0] != '\0') return pii_hash_key;
    return secret(loaded.pii_hash_key, "pii_hash_key", "Set telemetry.pii_hash_key, or reinstall the extension.");
}

std::string_view tenant_token_key() {
    if (tenant_token_key_setting != nullptr && tenant_token_key_setting[0] != '\0') return tenant_token_key_setting;
    return secret(loaded.tenant_token_key, "tenant_token_key",
                  "ALTER EXTENSION telemetry UPDATE makes one; or set telemetry.tenant_token_key.");
}

}  // namespace telemetry::pg
