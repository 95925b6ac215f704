#include "pg/tenancy/tenant_identity.hpp"

#include <cstring>
#include <vector>

#include "core/tenancy/tenant_token.hpp"
#include "pg/boundary/convert.hpp"
#include "pg/boundary/guard.hpp"
#include "pg/boundary/search_path.hpp"
#include "pg/boundary/table_watch.hpp"
#include "pg/settings.hpp"
#include "pg/tenancy/database_secrets.hpp"

extern "C" {
#include "access/xact.h"
#include "catalog/pg_class.h"
#include "funcapi.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/inval.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"
}

namespace telemetry::pg {

namespace {

// ---------------------------------------------------------------------------------------------
// The mapping: every row of telemetry.tenant_access whose role exists, with the role's OID.
// Reloaded when the table changes (TableWatch) or any role or membership changes (syscache
// callbacks): a renamed role's rows stop counting, a role created under a mapped name starts.

TableWatch access_watch("tenant_access");
std::uint64_t role_changes = 1;          // bumped by the role and membership callbacks
std::uint64_t mapping_role_changes = 0;  // role_changes when the mapping was loaded
std::uint64_t mapping_version = 0;       // bumped at every load: identities built before are stale

struct MappingRow {
    Oid role;
    AccessGrant grant;
};
std::vector<MappingRow>* mapping = nullptr;

// A row as read, before it becomes a MappingRow (palloc'd; trivially destructible).
struct RawRow {
    Oid role;
    bool has_tenant;
    pg_uuid_t tenant;
    int level;  // AccessLevel, or -1 for a level this library does not know
};

// Whether this database has tenant access (telemetry.tenant_access): a database still on an
// earlier release, between installing this library and ALTER EXTENSION UPDATE, has not. Once the
// mapping is loaded the answer is known without a catalog lookup, which every track() would
// otherwise pay: any change to the table, DROP included, makes the watch stale.
bool tenancy_installed() {
    if (mapping != nullptr && !access_watch.stale()) return true;
    return OidIsValid(telemetry_relid("tenant_access", true));
}

// Read as the table's owner, whoever asks (a policy evaluated for a tenant's role): the cache
// holds the whole mapping, and the owner's own reads never come back here (it is trusted).
// An error on the way leaves the user to the transaction's abort to restore, as PostgreSQL's
// own SECURITY DEFINER calls do.
void load_mapping() {
    const TableWatch::Reading reading = access_watch.begin_reading();
    const std::uint64_t roles_seen = role_changes;
    MemoryContext caller = CurrentMemoryContext;
    Oid saved_user;
    int saved_context;
    GetUserIdAndSecContext(&saved_user, &saved_context);
    SetUserIdAndSecContext(relation_owner(reading.relid), saved_context | SECURITY_LOCAL_USERID_CHANGE);
    use_safe_search_path();
    SPI_connect();
    PushActiveSnapshot(GetLatestSnapshot());
    SPI_execute("SELECT role_name::pg_catalog.text, tenant_id, access FROM telemetry.tenant_access", true, 0);
    PopActiveSnapshot();
    SetUserIdAndSecContext(saved_user, saved_context);
    const int n = static_cast<int>(SPI_processed);
    MemoryContext spi = MemoryContextSwitchTo(caller);
    auto* rows = static_cast<RawRow*>(palloc0(sizeof(RawRow) * (n > 0 ? n : 1)));
    int kept = 0;
    for (int i = 0; i < n; ++i) {
        HeapTuple tuple = SPI_tuptable->vals[i];
        TupleDesc desc = SPI_tuptable->tupdesc;
        bool isnull;
        const char* role_name = TextDatumGetCString(SPI_getbinval(tuple, desc, 1, &isnull));
        const Oid role = get_role_oid(role_name, true);
        if (!OidIsValid(role)) continue;  // a dropped or renamed role grants nothing
        RawRow& row = rows[kept];
        row.role = role;
        const Datum tenant = SPI_getbinval(tuple, desc, 2, &isnull);
        row.has_tenant = !isnull;
        if (!isnull) row.tenant = *DatumGetUUIDP(tenant);
        const char* level = TextDatumGetCString(SPI_getbinval(tuple, desc, 3, &isnull));
        const auto parsed = parse_access_level(level);
        row.level = parsed ? static_cast<int>(*parsed) : -1;
        ++kept;
    }
    MemoryContextSwitchTo(spi);
    SPI_finish();
    // Out of memory half way, the watch stays stale: the next call loads again.
    core_phase_or_raise([&] {
        if (mapping == nullptr) mapping = new std::vector<MappingRow>();
        mapping->clear();
        for (int i = 0; i < kept; ++i) {
            if (rows[i].level < 0) continue;
            MappingRow m{rows[i].role, {std::nullopt, static_cast<AccessLevel>(rows[i].level)}};
            if (rows[i].has_tenant) m.grant.tenant = to_uuid(rows[i].tenant);
            mapping->push_back(m);
        }
    });
    pfree(rows);
    mapping_role_changes = roles_seen;
    ++mapping_version;
    access_watch.finished(reading);
}

void keep_mapping_fresh() {
    if (access_watch.stale() || mapping == nullptr || mapping_role_changes != role_changes) load_mapping();
}

// ---------------------------------------------------------------------------------------------
// The token presented in this transaction, if any. Forgotten at the end of the transaction, and
// when a subtransaction at or above the level it was presented in rolls back (a rolled-back
// set_tenant() leaves no identity behind; an earlier token is not restored: fail closed).

struct PresentedToken {
    bool active = false;
    int nest_level = 0;
    TenantTokenClaims claims;
};
PresentedToken presented;
std::vector<AccessGrant>* token_grant_list = nullptr;  // token_grants(presented.claims)

void forget_token() noexcept { presented.active = false; }

void on_transaction_end(XactEvent event, void*) {
    switch (event) {
        case XACT_EVENT_COMMIT:
        case XACT_EVENT_PARALLEL_COMMIT:
        case XACT_EVENT_ABORT:
        case XACT_EVENT_PARALLEL_ABORT:
        case XACT_EVENT_PREPARE:
            forget_token();
            break;
        default:
            break;
    }
}

void on_subtransaction_end(SubXactEvent event, SubTransactionId, SubTransactionId, void*) {
    if (event == SUBXACT_EVENT_ABORT_SUB && presented.active &&
        presented.nest_level >= GetCurrentTransactionNestLevel())
        forget_token();
}

void on_role_change(Datum, int, uint32) { ++role_changes; }

// ---------------------------------------------------------------------------------------------
// Identities: the grants of one role, built from the mapping and kept until the mapping or any
// role changes. One entry: a backend nearly always acts as one role.

struct RoleIdentity {
    Oid user = InvalidOid;
    std::uint64_t version = 0;  // mapping_version it was built at
    std::vector<AccessGrant> grants;
    std::vector<Oid> via;  // the mapped role each grant came from
};
RoleIdentity* role_identity = nullptr;

const RoleIdentity& identity_of_role(Oid user) {
    keep_mapping_fresh();
    if (role_identity != nullptr && role_identity->user == user && role_identity->version == mapping_version)
        return *role_identity;
    const int n = static_cast<int>(mapping->size());
    bool* applies = static_cast<bool*>(palloc0(sizeof(bool) * (n > 0 ? n : 1)));
    for (int i = 0; i < n; ++i) applies[i] = has_privs_of_role(user, (*mapping)[i].role);
    core_phase_or_raise([&] {
        if (role_identity == nullptr) role_identity = new RoleIdentity();
        role_identity->version = 0;  // incomplete until the end
        role_identity->grants.clear();
        role_identity->via.clear();
        for (int i = 0; i < n; ++i) {
            if (!applies[i]) continue;
            role_identity->grants.push_back((*mapping)[i].grant);
            role_identity->via.push_back((*mapping)[i].role);
        }
        role_identity->user = user;
        role_identity->version = mapping_version;
    });
    pfree(applies);
    return *role_identity;
}

// Superusers, and roles with the privileges of the owner of telemetry's tables: they may turn
// row-level security off, so they may do everything here too.
bool is_trusted(Oid user) {
    if (superuser_arg(user)) return true;
    const Oid events = telemetry_relid("events", true);
    return OidIsValid(events) && pg_class_ownercheck(events, user);
}

// The grants a check of `user` goes by: the token presented in this transaction, else the
// role's. Not for trusted users (check is_trusted first).
const std::vector<AccessGrant>& grants_of(Oid user) {
    if (presented.active) return *token_grant_list;
    return identity_of_role(user).grants;
}

Oid user_of(Caller caller) { return caller == Caller::session_role ? GetOuterUserId() : GetUserId(); }

const char* work_of(Need need) {
    switch (need) {
        case Need::ingest:
            return "ingest events for";
        case Need::read:
            return "read the data of";
        case Need::admin:
            return "administer";
        case Need::issue:
            return "mint tokens for";
        case Need::maintain:
            return "maintain";
    }
    return "act for";
}

const char* level_of(Need need) {
    switch (need) {
        case Need::ingest:
            return "ingest";
        case Need::read:
            return "read";
        case Need::admin:
            return "admin";
        case Need::issue:
            return "issuer";
        case Need::maintain:
            return "maintenance";
    }
    return "";
}

[[noreturn]] void deny(Oid user, Need need) {
    const char* role = GetUserNameFromId(user, true);
    if (presented.active)
        ereport(
            ERROR,
            (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE), errmsg("permission denied to %s this tenant", work_of(need)),
             errdetail("The tenant token presented in this transaction does not give %s access to it.", level_of(need)),
             errhint("Present a token for the tenant, with that access, minted by telemetry.tenant_token().")));
    ereport(ERROR,
            (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE), errmsg("permission denied to %s this tenant", work_of(need)),
             errdetail("Role \"%s\" has no %s access to it.", role != nullptr ? role : "?", level_of(need)),
             errhint("telemetry.grant_tenant_access(role, tenant_id, '%s') grants it; a pooled role presents "
                     "a tenant token first (telemetry.set_tenant()).",
                     level_of(need))));
    pg_unreachable();
}

bool allowed(Oid user, const pg_uuid_t& tenant, Need need) {
    if (superuser_arg(user)) return true;  // cached by PostgreSQL: the common check costs nothing
    const Uuid t = to_uuid(tenant);
    if (grants_allow(grants_of(user), t, need)) return true;
    return is_trusted(user);
}

// ---------------------------------------------------------------------------------------------
// The token ledger: the nonces of tokens used and not yet expired, in shared memory, so that a
// token is accepted once across every backend. A restart forgets it, so tokens issued before the
// ledger began are refused.

struct UsedToken {
    std::uint8_t nonce[16];  // must come first: the hash key
    std::int64_t expires_at_us;
};

struct LedgerHeader {
    LWLock* lock;
    std::int64_t began_at_us;
    long used;
};

LedgerHeader* ledger = nullptr;
HTAB* ledger_entries = nullptr;
shmem_request_hook_type previous_request_hook = nullptr;
shmem_startup_hook_type previous_startup_hook = nullptr;
constexpr const char* ledger_tranche = "telemetry tenant tokens";

void request_ledger_space() {
    if (previous_request_hook) previous_request_hook();
    RequestAddinShmemSpace(MAXALIGN(sizeof(LedgerHeader)) + hash_estimate_size(token_ledger_size, sizeof(UsedToken)));
    RequestNamedLWLockTranche(ledger_tranche, 1);
}

void attach_ledger() {
    if (previous_startup_hook) previous_startup_hook();
    LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
    bool found;
    auto* header = static_cast<LedgerHeader*>(ShmemInitStruct("telemetry token ledger", sizeof(LedgerHeader), &found));
    if (!found) {
        header->lock = &(GetNamedLWLockTranche(ledger_tranche))->lock;
        header->began_at_us = to_unix_us(GetCurrentTimestamp());
        header->used = 0;
    }
    HASHCTL control;
    control.keysize = sizeof(UsedToken::nonce);
    control.entrysize = sizeof(UsedToken);
    ledger_entries = ShmemInitHash("telemetry token ledger entries", token_ledger_size, token_ledger_size, &control,
                                   HASH_ELEM | HASH_BLOBS);
    LWLockRelease(AddinShmemInitLock);
    ledger = header;
}

void request_ledger_hook() { guarded_call(request_ledger_space); }
void attach_ledger_hook() { guarded_call(attach_ledger); }

enum class LedgerAnswer { first_use, used_before, full };

// Records a token's nonce; says whether it was new. Expired entries make room when it is full.
LedgerAnswer use_token(const TenantTokenClaims& claims, std::int64_t now_us) {
    LWLockAcquire(ledger->lock, LW_EXCLUSIVE);
    bool found;
    auto* entry = static_cast<UsedToken*>(hash_search(ledger_entries, claims.nonce.data(), HASH_FIND, &found));
    if (found) {
        LWLockRelease(ledger->lock);
        return LedgerAnswer::used_before;
    }
    if (ledger->used >= token_ledger_size) {
        HASH_SEQ_STATUS scan;
        hash_seq_init(&scan, ledger_entries);
        while (auto* old = static_cast<UsedToken*>(hash_seq_search(&scan))) {
            if (old->expires_at_us <= now_us) {
                hash_search(ledger_entries, old->nonce, HASH_REMOVE, nullptr);
                --ledger->used;
            }
        }
        if (ledger->used >= token_ledger_size) {
            LWLockRelease(ledger->lock);
            return LedgerAnswer::full;
        }
    }
    entry = static_cast<UsedToken*>(hash_search(ledger_entries, claims.nonce.data(), HASH_ENTER_NULL, &found));
    if (entry == nullptr) {
        LWLockRelease(ledger->lock);
        return LedgerAnswer::full;
    }
    entry->expires_at_us = claims.expires_at_us;
    ++ledger->used;
    LWLockRelease(ledger->lock);
    return LedgerAnswer::first_use;
}

[[noreturn]] void refuse_token(const char* message, const char* detail = nullptr) {
    ereport(ERROR, (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE), errmsg("%s", message),
                    detail != nullptr ? errdetail("%s", detail) : 0,
                    errhint("Mint a new token with telemetry.tenant_token() for each transaction.")));
    pg_unreachable();
}

// The scope of `need` for the current user, as row-level policies see it.
struct PolicyScope {
    bool every_tenant;
    int count;
    pg_uuid_t* tenants;  // palloc'd, sorted
};

PolicyScope policy_scope(Need need) {
    PolicyScope out{false, 0, nullptr};
    const Oid user = GetUserId();
    if (!tenancy_installed()) return out;
    if (is_trusted(user)) {
        out.every_tenant = true;
        return out;
    }
    const std::vector<AccessGrant>& grants = grants_of(user);
    struct Copied {
        bool every;
        int n;
    } copied{false, 0};
    pg_uuid_t* tenants = static_cast<pg_uuid_t*>(palloc(sizeof(pg_uuid_t) * (grants.size() + 1)));
    core_phase_or_raise([&] {
        const TenantScope scope = scope_for(grants, need);
        copied.every = scope.every_tenant;
        for (const Uuid& t : scope.tenants) tenants[copied.n++] = to_pg_uuid(t);
    });
    out.every_tenant = copied.every;
    out.count = copied.n;
    out.tenants = tenants;
    return out;
}

// The argument `position` of a SQL function taking a need (text).
Need need_argument(FunctionCallInfo fcinfo, int position = 0) {
    if (PG_ARGISNULL(position))
        ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("need must not be NULL")));
    const auto need = parse_need(text_view(PG_GETARG_TEXT_PP(position)));
    if (!need)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("need must be one of ingest, read, admin, "
                                                                         "issue, maintain")));
    return *need;
}

Datum uuid_datum(const pg_uuid_t& id) {
    auto* out = static_cast<pg_uuid_t*>(palloc(sizeof(pg_uuid_t)));
    *out = id;
    return UUIDPGetDatum(out);
}

}  // namespace

void require_tenant_access(Caller caller, const pg_uuid_t& tenant, Need need) {
    const Oid user = user_of(caller);
    if (superuser_arg(user)) return;  // cached by PostgreSQL: the check of a superuser costs nothing
    // A release before tenant access had no identity: ingest was open to whoever could execute
    // track(); administration is not done through this check there.
    if ((need == Need::ingest || need == Need::read) && !tenancy_installed()) return;
    if (!allowed(user, tenant, need)) deny(user, need);
}

Oid authorize_quarantine_replay(const pg_uuid_t& tenant) {
    const Oid quarantine = telemetry_relid("quarantine", false);
    const Oid owner = relation_owner(quarantine);
    const Oid caller = GetUserId();
    if (tenancy_installed()) {
        if (!allowed(caller, tenant, Need::admin)) deny(caller, Need::admin);
        return owner;
    }
    // The release before: admins named in telemetry.tenant_admins, superusers, and roles with
    // UPDATE on the quarantine.
    if (superuser_arg(caller) || pg_class_aclcheck(quarantine, caller, ACL_UPDATE) == ACLCHECK_OK) return owner;
    pg_uuid_t t = tenant;
    Oid types[2] = {UUIDOID, OIDOID};
    Datum values[2] = {UUIDPGetDatum(&t), ObjectIdGetDatum(caller)};
    use_safe_search_path();
    SPI_connect();
    SPI_execute_with_args(
        "SELECT FROM telemetry.tenant_admins a JOIN pg_catalog.pg_roles r ON r.rolname OPERATOR(pg_catalog.=) a.role_name "
        "WHERE a.tenant_id OPERATOR(pg_catalog.=) $1 AND pg_catalog.pg_has_role($2, r.oid, 'USAGE')",
        2, types, values, nullptr, true, 1);
    const bool admin = SPI_processed > 0;
    SPI_finish();
    if (!admin) deny(caller, Need::admin);
    return owner;
}

void register_tenancy_callbacks() {
    RegisterXactCallback(on_transaction_end, nullptr);
    RegisterSubXactCallback(on_subtransaction_end, nullptr);
    CacheRegisterSyscacheCallback(AUTHOID, on_role_change, 0);
    CacheRegisterSyscacheCallback(AUTHMEMMEMROLE, on_role_change, 0);
    CacheRegisterSyscacheCallback(AUTHMEMROLEMEM, on_role_change, 0);
}

void request_token_ledger() {
    previous_request_hook = shmem_request_hook;
    shmem_request_hook = request_ledger_hook;
    previous_startup_hook = shmem_startup_hook;
    shmem_startup_hook = attach_ledger_hook;
}

}  // namespace telemetry::pg

// ---------------------------------------------------------------------------------------------
// SQL functions (src/sql/25_tenancy.sql).

// current_tenant() RETURNS uuid: the one tenant the caller acts for, or NULL.
TELEMETRY_FUNCTION(telemetry_current_tenant) {
    using namespace telemetry;
    using namespace telemetry::pg;
    if (!tenancy_installed()) PG_RETURN_NULL();
    const Oid user = GetUserId();
    if (is_trusted(user)) PG_RETURN_NULL();  // every tenant, token or not, as current_access() says
    const std::vector<AccessGrant>& grants = grants_of(user);
    const std::optional<Uuid> one = single_tenant(grants);
    if (!one) PG_RETURN_NULL();
    return uuid_datum(to_pg_uuid(*one));
}

// current_access() RETURNS TABLE (tenant_id uuid, access text, via text): what the caller may do.
TELEMETRY_FUNCTION(telemetry_current_access) {
    using namespace telemetry;
    using namespace telemetry::pg;
    InitMaterializedSRF(fcinfo, 0);
    ReturnSetInfo* rsinfo = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);
    const Oid user = GetUserId();
    auto put = [&](const std::optional<Uuid>& tenant, const char* access, const char* via) {
        Datum values[3] = {(Datum)0, CStringGetTextDatum(access), CStringGetTextDatum(via)};
        bool nulls[3] = {!tenant.has_value(), false, false};
        if (tenant) values[0] = uuid_datum(to_pg_uuid(*tenant));
        tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
    };
    if (!tenancy_installed()) return (Datum)0;
    if (superuser_arg(user)) {
        put(std::nullopt, "superuser", GetUserNameFromId(user, false));
        return (Datum)0;
    }
    if (is_trusted(user)) {
        put(std::nullopt, "owner", GetUserNameFromId(user, false));
        return (Datum)0;
    }
    if (presented.active) {
        const std::vector<AccessGrant>& grants = *token_grant_list;
        for (std::size_t i = 0; i < grants.size(); ++i) put(grants[i].tenant, to_string(grants[i].level), "token");
        return (Datum)0;
    }
    const RoleIdentity& id = identity_of_role(user);
    const std::size_t n = id.grants.size();
    for (std::size_t i = 0; i < n; ++i)
        put(id.grants[i].tenant, to_string(id.grants[i].level), GetUserNameFromId(id.via[i], false));
    return (Datum)0;
}

// tenant_scope_lower(need text) RETURNS uuid, tenant_scope_upper, tenant_scope_is_range,
// tenant_scope_members: the caller's scope for `need`, as row-level policies use it. Lower and
// upper bound an index range; when the scope is not every tenant in that range (several
// tenants), is_range is false and members lists them. NULLs: no tenant.
TELEMETRY_FUNCTION(telemetry_tenant_scope_lower) {
    using namespace telemetry::pg;
    const PolicyScope s = policy_scope(need_argument(fcinfo));
    if (s.every_tenant) return uuid_datum(pg_uuid_t{});
    if (s.count == 0) PG_RETURN_NULL();
    return uuid_datum(s.tenants[0]);
}

TELEMETRY_FUNCTION(telemetry_tenant_scope_upper) {
    using namespace telemetry::pg;
    const PolicyScope s = policy_scope(need_argument(fcinfo));
    if (s.every_tenant) {
        pg_uuid_t max;
        std::memset(max.data, 0xFF, UUID_LEN);
        return uuid_datum(max);
    }
    if (s.count == 0) PG_RETURN_NULL();
    return uuid_datum(s.tenants[s.count - 1]);
}

TELEMETRY_FUNCTION(telemetry_tenant_scope_is_range) {
    using namespace telemetry::pg;
    const PolicyScope s = policy_scope(need_argument(fcinfo));
    if (!s.every_tenant && s.count == 0) PG_RETURN_NULL();
    PG_RETURN_BOOL(s.every_tenant || s.count == 1);
}

TELEMETRY_FUNCTION(telemetry_tenant_scope_members) {
    using namespace telemetry::pg;
    const PolicyScope s = policy_scope(need_argument(fcinfo));
    if (s.every_tenant || s.count == 0) PG_RETURN_NULL();
    Datum* elements = static_cast<Datum*>(palloc(sizeof(Datum) * s.count));
    for (int i = 0; i < s.count; ++i) elements[i] = UUIDPGetDatum(&s.tenants[i]);
    PG_RETURN_ARRAYTYPE_P(construct_array(elements, s.count, UUIDOID, UUID_LEN, false, TYPALIGN_CHAR));
}

// require_tenant_access(tenant_id uuid, need text) RETURNS void: 42501 unless the caller (the
// current user) may do `need` for the tenant. For SECURITY INVOKER SQL functions.
TELEMETRY_FUNCTION(telemetry_require_tenant_access) {
    using namespace telemetry::pg;
    const telemetry::Need need = need_argument(fcinfo, 1);
    // Maintenance is work on no tenant in particular: a grant of it holds for any tenant, so the
    // nil one stands for all.
    if (PG_ARGISNULL(0) && need != telemetry::Need::maintain)
        ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("tenant_id must not be NULL")));
    require_tenant_access(Caller::current_user, PG_ARGISNULL(0) ? pg_uuid_t{} : *PG_GETARG_UUID_P(0), need);
    PG_RETURN_VOID();
}

// set_tenant(token text) RETURNS uuid: acts for the token's tenant, with its access, until the
// end of the transaction. SECURITY DEFINER: it reads the key, which the caller cannot.
TELEMETRY_DEFINER_FUNCTION(telemetry_set_tenant) {
    using namespace telemetry;
    using namespace telemetry::pg;
    if (PG_ARGISNULL(0)) ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("token must not be NULL")));
    if (ledger == nullptr)
        ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                        errmsg("tenant tokens need telemetry in shared_preload_libraries"),
                        errdetail("Each token is accepted once; the server remembers used tokens in shared memory."),
                        errhint("Add telemetry to shared_preload_libraries and restart the server.")));
    const std::string_view token = text_view(PG_GETARG_TEXT_PP(0));
    const std::string_view key = tenant_token_key();
    const std::int64_t now_us = to_unix_us(GetCurrentTimestamp());
    const TokenReading reading = read_tenant_token(token, key, now_us);
    if (reading.problem != TokenProblem::none) refuse_token(token_problem_message(reading.problem));
    if (reading.claims.issued_at_us < ledger->began_at_us)
        refuse_token("tenant token was issued before the server last started",
                     "The server forgets at a restart which tokens were used, so it accepts none issued before.");
    switch (use_token(reading.claims, now_us)) {
        case LedgerAnswer::used_before:
            refuse_token("tenant token was already used", "A token is accepted once, in one transaction.");
            break;
        case LedgerAnswer::full:
            ereport(ERROR, (errcode(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED),
                            errmsg("too many tenant tokens in use: telemetry.token_ledger_size (%d) are unexpired",
                                   token_ledger_size),
                            errhint("Mint tokens with shorter lifetimes, or raise telemetry.token_ledger_size.")));
            break;
        case LedgerAnswer::first_use:
            break;
    }
    core_phase_or_raise([&] {
        if (token_grant_list == nullptr) token_grant_list = new std::vector<AccessGrant>();
        *token_grant_list = token_grants(reading.claims);
    });
    presented.claims = reading.claims;
    presented.nest_level = GetCurrentTransactionNestLevel();
    presented.active = true;
    if (!IsTransactionBlock())
        ereport(WARNING, (errcode(ERRCODE_NO_ACTIVE_SQL_TRANSACTION),
                          errmsg("telemetry.set_tenant() outside a transaction block acts for this statement only"),
                          errhint("Call it after BEGIN, in the transaction that acts for the tenant.")));
    return uuid_datum(to_pg_uuid(reading.claims.tenant));
}

// tenant_token(tenant_id uuid, ttl interval, access text[]) RETURNS text. SECURITY DEFINER.
TELEMETRY_DEFINER_FUNCTION(telemetry_tenant_token) {
    using namespace telemetry;
    using namespace telemetry::pg;
    if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2))
        ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("tenant_id, ttl and access must not be NULL")));
    const pg_uuid_t tenant = *PG_GETARG_UUID_P(0);
    require_tenant_access(Caller::session_role, tenant, Need::issue);
    const Interval* ttl = PG_GETARG_INTERVAL_P(1);
    const double ttl_us = static_cast<double>(ttl->time) + static_cast<double>(ttl->day) * USECS_PER_DAY +
                          static_cast<double>(ttl->month) * DAYS_PER_MONTH * USECS_PER_DAY;
    if (ttl_us < USECS_PER_SEC || ttl_us > static_cast<double>(USECS_PER_DAY))
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("ttl must be between 1 second and 1 day")));
    ArrayType* levels = PG_GETARG_ARRAYTYPE_P(2);
    Datum* elements;
    bool* nulls;
    int count;
    deconstruct_array(levels, TEXTOID, -1, false, TYPALIGN_INT, &elements, &nulls, &count);
    std::uint8_t access = 0;
    for (int i = 0; i < count; ++i) {
        const std::uint8_t bit = nulls[i] ? 0 : token_access_bit(text_view(DatumGetTextPP(elements[i])));
        if (bit == 0)
            ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                            errmsg("access must list ingest, read or admin, and nothing else")));
        access |= bit;
    }
    if (access == 0)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("access must list at least one level")));
    TenantTokenClaims claims;
    claims.tenant = to_uuid(tenant);
    claims.access = access;
    claims.issued_at_us = to_unix_us(GetCurrentTimestamp());
    claims.expires_at_us = claims.issued_at_us + static_cast<std::int64_t>(ttl_us);
    if (!pg_strong_random(claims.nonce.data(), claims.nonce.size()))
        ereport(ERROR, (errcode(ERRCODE_INTERNAL_ERROR), errmsg("could not generate a random token nonce")));
    const std::string_view key = tenant_token_key();
    struct Minted {
        char text[token_max_length + 1];
        int length;
    };
    Minted* minted = static_cast<Minted*>(palloc(sizeof(Minted)));
    core_phase_or_raise([&] {
        const std::string token = mint_tenant_token(claims, key);
        std::memcpy(minted->text, token.data(), token.size());
        minted->length = static_cast<int>(token.size());
    });
    PG_RETURN_TEXT_P(cstring_to_text_with_len(minted->text, minted->length));
}
