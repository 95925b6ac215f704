#include "pg/boundary/table_watch.hpp"

#include "pg/boundary/guard.hpp"
#include "pg/boundary/search_path.hpp"
extern "C" {
#include "catalog/pg_class.h"
#include "utils/syscache.h"
}

namespace telemetry::pg {

namespace {
constexpr int max_watches = 8;
TableWatch* watches[max_watches];
int watch_count = 0;
bool callback_registered = false;

}  // namespace

Oid telemetry_relid(const char* relname, bool missing_ok) {
    const Oid namespace_oid = get_namespace_oid("telemetry", missing_ok);
    const Oid relid = OidIsValid(namespace_oid) ? get_relname_relid(relname, namespace_oid) : InvalidOid;
    if (!OidIsValid(relid) && !missing_ok)
        ereport(ERROR, (errcode(ERRCODE_UNDEFINED_TABLE), errmsg("telemetry.%s is missing", relname),
                        errhint("Is the extension installed in this database?")));
    return relid;
}

void TableWatch::on_relcache_invalidation(Datum, Oid relid) {
    // Relcache callbacks must not fail or touch catalogs: compare and count only. InvalidOid
    // means "everything" (a relcache reset after the invalidation queue overflowed).
    for (int i = 0; i < watch_count; ++i)
        if (relid == InvalidOid || relid == watches[i]->relid_) ++watches[i]->generation_;
}

void TableWatch::enroll() {
    if (enrolled_) return;
    if (!callback_registered) {
        CacheRegisterRelcacheCallback(on_relcache_invalidation, 0);
        callback_registered = true;
    }
    if (watch_count == max_watches) elog(ERROR, "telemetry: too many table watches");
    watches[watch_count++] = this;
    enrolled_ = true;
}

bool TableWatch::stale() {
    enroll();
    AcceptInvalidationMessages();
    return built_generation_ != generation_;
}

TableWatch::Reading TableWatch::begin_reading() {
    enroll();
    const Oid relid = telemetry_relid(relname_, false);
    if (relid != relid_) {
        relid_ = relid;  // the extension was dropped and made again: a different table
        ++generation_;
    }
    return Reading{relid_, generation_};
}

void broadcast_table_change(const char* relname) { CacheInvalidateRelcacheByRelid(telemetry_relid(relname, false)); }

Oid relation_owner(Oid relid) {
    HeapTuple class_tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
    if (!HeapTupleIsValid(class_tuple)) elog(ERROR, "telemetry: cache lookup failed for relation %u", relid);
    const Oid owner = reinterpret_cast<Form_pg_class>(GETSTRUCT(class_tuple))->relowner;
    ReleaseSysCache(class_tuple);
    return owner;
}

SavedUser become_owner_of(Oid relid) {
    SavedUser saved;
    GetUserIdAndSecContext(&saved.user, &saved.context);
    SetUserIdAndSecContext(relation_owner(relid), saved.context | SECURITY_LOCAL_USERID_CHANGE | SECURITY_NOFORCE_RLS);
    use_safe_search_path();
    return saved;
}

void restore_user(const SavedUser& saved) { SetUserIdAndSecContext(saved.user, saved.context); }

}  // namespace telemetry::pg

// invalidate_caches() RETURNS void: every backend rebuilds its caches of the catalog, opt-outs,
// tenant settings, secrets and tenant access at its next call, as if each table had changed.
TELEMETRY_FUNCTION(telemetry_invalidate_caches) {
    for (const char* relname : {"event_types", "opt_outs", "tenant_settings", "secrets"})
        telemetry::pg::broadcast_table_change(relname);
    // A database still on a release before tenant access has no telemetry.tenant_access.
    if (OidIsValid(telemetry::pg::telemetry_relid("tenant_access", true)))
        telemetry::pg::broadcast_table_change("tenant_access");
    // Nor a release before rollups, telemetry.rollup_state.
    if (OidIsValid(telemetry::pg::telemetry_relid("rollup_state", true)))
        telemetry::pg::broadcast_table_change("rollup_state");
    PG_RETURN_VOID();
}

// Statement trigger on tenant_settings, opt_outs and secrets: tell every backend to reload its
// cache of the table (TableWatch counts the invalidation).
TELEMETRY_FUNCTION(telemetry_table_changed) {
    if (!CALLED_AS_TRIGGER(fcinfo))
        ereport(ERROR, (errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
                        errmsg("telemetry.table_changed() must be called as a trigger")));
    TriggerData* trigger = reinterpret_cast<TriggerData*>(fcinfo->context);
    CacheInvalidateRelcache(trigger->tg_relation);
    return PointerGetDatum(nullptr);
}
