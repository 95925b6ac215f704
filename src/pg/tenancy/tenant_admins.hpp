// Who administers a tenant (telemetry.tenant_admins): asked of the mapping itself, as the caller,
// whatever rows the caller can read. Issue 9 grows this into the tenant identity of every call.
#pragma once

#include "pg/boundary/pg_headers.hpp"

namespace telemetry::pg {

// Who may replay a tenant's quarantine: a superuser, a role with UPDATE on telemetry.quarantine
// (a DBA's grant), or an admin of the tenant: a role that has the privileges of a role mapped to
// the tenant in telemetry.tenant_admins, asked of the mapping itself, whatever rows the caller
// can read (a BYPASSRLS role reads them all). Raises 42501 for anyone else. Returns the owner of telemetry.quarantine, as whom the replay
// then runs.
Oid authorize_quarantine_replay(const pg_uuid_t& tenant);

}  // namespace telemetry::pg
