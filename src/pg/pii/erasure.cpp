// GDPR erasure (src/sql/45_pii_erasure.sql, docs/pii.md "Erasure"): forget_user() and
// anonymize_user() are checked as the caller (admin access to the tenant) and done as the
// extension's owner by telemetry.erase_user(), which the caller may not run itself; the keyed
// hash the erasure ledger keeps is made here, with the x-pii hashing key (never the raw id).
#include <cstdint>
#include <string>

#include "core/base/sha256.hpp"
#include "core/pii/policy.hpp"
#include "core/pii/rewrite.hpp"
#include "pg/boundary/convert.hpp"
#include "pg/boundary/guard.hpp"
#include "pg/boundary/search_path.hpp"
#include "pg/boundary/table_watch.hpp"
#include "pg/tenancy/database_secrets.hpp"
#include "pg/tenancy/tenant_identity.hpp"

extern "C" {
#include "miscadmin.h"
}

namespace telemetry::pg {
namespace {

// The ledger's keyed hash of a user id: what x-pii "hash" stores for it ("h1:" + 22 characters),
// with the database's hashing key and the tenant.
char* user_hash(const pg_uuid_t& tenant, std::string_view user_id) {
    const std::string_view master = pii_master_key();
    return core_phase_or_raise([&] {
        const PiiHashKey key{master, uuid_bytes(tenant)};
        JsonValue value;
        value.kind = JsonKind::string;
        value.string = user_id;
        return pstrdup_or_throw(pii_hash(key, value));
    });
}

// Which key made a hash, without telling anything of the key: the first 8 bytes of an HMAC of
// a fixed label, in hex. A ledger row made with another key (a restore without
// telemetry.pii_hash_key) cannot be matched, and reapply_erasures() says so.
char* key_id() {
    const std::string_view master = pii_master_key();
    return core_phase_or_raise([&] {
        const Sha256Digest d = hmac_sha256(master, "telemetry.erasures key id");
        static const char hex[] = "0123456789abcdef";
        std::string out;
        for (int i = 0; i < 8; ++i) {
            out.push_back(hex[d[i] >> 4]);
            out.push_back(hex[d[i] & 15]);
        }
        return pstrdup_or_throw(out);
    });
}

// forget_user / anonymize_user: (events, quarantined, event_ids, opt_outs, rollup_days).
Datum erase(FunctionCallInfo fcinfo, const char* kind) {
    if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
        ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("tenant_id and user_id must not be NULL")));
    const pg_uuid_t tenant = *PG_GETARG_UUID_P(0);
    text* user = PG_GETARG_TEXT_PP(1);
    require_tenant_access(Caller::current_user, tenant, Need::admin);
    const Oid owner = relation_owner(telemetry_relid("events", false));

    // As the owner from here (the hashing key is the owner's to read); an error leaves the
    // switch to (sub)transaction abort, which restores the caller.
    Oid caller_user;
    int caller_security;
    GetUserIdAndSecContext(&caller_user, &caller_security);
    SetUserIdAndSecContext(owner, caller_security | SECURITY_LOCAL_USERID_CHANGE | SECURITY_NOFORCE_RLS);
    char* hash = user_hash(tenant, text_view(user));
    char* key = key_id();
    use_safe_search_path();
    SPI_connect();
    Oid types[5] = {UUIDOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID};
    pg_uuid_t t = tenant;
    Datum values[5] = {UUIDPGetDatum(&t), PointerGetDatum(user), CStringGetTextDatum(kind), CStringGetTextDatum(hash),
                       CStringGetTextDatum(key)};
    SPI_execute_with_args("SELECT * FROM telemetry.erase_user($1, $2, $3, $4, $5, true, NULL)", 5, types, values,
                          nullptr, false, 1);
    if (SPI_processed != 1)
        ereport(ERROR, (errcode(ERRCODE_INTERNAL_ERROR), errmsg("telemetry.erase_user() returned no row")));
    Datum out[5];
    bool nulls[5];
    for (int i = 0; i < 5; ++i) out[i] = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, i + 1, &nulls[i]);
    // The counts are by-value (int8, int4): they survive SPI_finish.
    static_assert(FLOAT8PASSBYVAL, "int8 Datums are passed by value");
    SPI_finish();
    SetUserIdAndSecContext(caller_user, caller_security);
    InitMaterializedSRF(fcinfo, 0);
    ReturnSetInfo* rsinfo = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);
    tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, out, nulls);
    return (Datum)0;
}

}  // namespace
}  // namespace telemetry::pg

// forget_user(tenant_id uuid, user_id text): erases the user (docs/pii.md, "Erasure").
TELEMETRY_FUNCTION(telemetry_forget_user) { return telemetry::pg::erase(fcinfo, "forget"); }

// anonymize_user(tenant_id uuid, user_id text): keeps the events under a pseudonym.
TELEMETRY_FUNCTION(telemetry_anonymize_user) { return telemetry::pg::erase(fcinfo, "anonymize"); }

// erasure_hash(tenant_id uuid, user_id text) RETURNS text: the ledger's hash of a user id, for
// reapply_erasures() (the owner's only: a hash oracle).
TELEMETRY_FUNCTION(telemetry_erasure_hash) {
    using namespace telemetry::pg;
    if (PG_ARGISNULL(0) || PG_ARGISNULL(1)) PG_RETURN_NULL();
    PG_RETURN_TEXT_P(cstring_to_text(user_hash(*PG_GETARG_UUID_P(0), text_view(PG_GETARG_TEXT_PP(1)))));
}

// detected_id_hash(tenant_id uuid, user_id text) RETURNS text: the form ingest stores an id in
// when the detectors flag it (core/pii/policy.hpp: hashed under redact, hash and drop), or NULL
// when they find nothing in it. Owner-only: a hash oracle.
TELEMETRY_FUNCTION(telemetry_detected_id_hash) {
    using namespace telemetry;
    using namespace telemetry::pg;
    if (PG_ARGISNULL(0) || PG_ARGISNULL(1)) PG_RETURN_NULL();
    const pg_uuid_t tenant = *PG_GETARG_UUID_P(0);
    const std::string_view id = text_view(PG_GETARG_TEXT_PP(1));
    const std::string_view master = pii_master_key();
    char* hashed = core_phase_or_raise([&]() -> char* {
        HeapChunks chunks;
        Arena arena(chunks.source());
        const PiiHashKey key{master, uuid_bytes(tenant)};
        const UndeclaredPiiOutcome found = judge_identifiers(id, std::nullopt, UndeclaredPii::hash, key, arena);
        return found.user_id_changed ? pstrdup_or_throw(std::string(*found.user_id)) : nullptr;
    });
    if (hashed == nullptr) PG_RETURN_NULL();
    PG_RETURN_TEXT_P(cstring_to_text(hashed));
}

// erasure_key_id() RETURNS text: which key the ledger's hashes are made with now.
TELEMETRY_FUNCTION(telemetry_erasure_key_id) {
    using namespace telemetry::pg;
    PG_RETURN_TEXT_P(cstring_to_text(key_id()));
}
