#include "pg/tenancy/tenant_admins.hpp"

extern "C" {
#include "catalog/pg_class.h"
#include "utils/acl.h"
#include "utils/syscache.h"
}

namespace telemetry::pg {

Oid authorize_quarantine_replay(const pg_uuid_t& tenant) {
    const Oid caller = GetUserId();
    const Oid quarantine = get_relname_relid("quarantine", get_namespace_oid("telemetry", false));
    if (!OidIsValid(quarantine))
        ereport(ERROR, (errcode(ERRCODE_UNDEFINED_TABLE), errmsg("telemetry.quarantine is missing")));
    // Read from the catalog cache, without a lock: a caller refused below takes none.
    HeapTuple class_tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(quarantine));
    if (!HeapTupleIsValid(class_tuple)) elog(ERROR, "telemetry: cache lookup failed for relation %u", quarantine);
    const Oid owner = reinterpret_cast<Form_pg_class>(GETSTRUCT(class_tuple))->relowner;
    ReleaseSysCache(class_tuple);
    if (superuser_arg(caller) || pg_class_aclcheck(quarantine, caller, ACL_UPDATE) == ACLCHECK_OK) return owner;

    pg_uuid_t t = tenant;
    Oid types[2] = {UUIDOID, OIDOID};
    Datum values[2] = {UUIDPGetDatum(&t), ObjectIdGetDatum(caller)};
    SPI_connect();
    SPI_execute_with_args(
        "SELECT FROM telemetry.tenant_admins a JOIN pg_catalog.pg_roles r ON r.rolname OPERATOR(pg_catalog.=) a.role_name "
        "WHERE a.tenant_id OPERATOR(pg_catalog.=) $1 AND pg_catalog.pg_has_role($2, r.oid, 'USAGE')",
        2, types, values, nullptr, true, 1);
    const bool admin = SPI_processed > 0;
    SPI_finish();
    if (!admin)
        ereport(
            ERROR,
            (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE), errmsg("permission denied to replay this tenant's quarantine"),
             errhint(
                 "An admin of the tenant (telemetry.tenant_admins) or a role with UPDATE on telemetry.quarantine can.")));
    return owner;
}

}  // namespace telemetry::pg
