// The tenant identity of a call, which no caller can forge (DESIGN.md §5, docs/security.md):
// the grants of telemetry.tenant_access to the roles whose privileges the caller has, or, in a
// transaction where the caller presented one, a tenant token (set_tenant). Superusers and roles
// with the privileges of the extension's tables' owner may do everything (they could turn row-
// level security off anyway).
//
// Row-level policies ask through the tenant_scope_*() functions, once per query (InitPlans);
// functions taking a tenant_id ask require_tenant_access(), which raises 42501.
#pragma once

#include "core/tenancy/access.hpp"
#include "pg/boundary/pg_headers.hpp"

namespace telemetry::pg {

// Whose identity is asked. SECURITY INVOKER functions and policies ask about the current user.
// SECURITY DEFINER entry points (track, track_batch, tenant_token), where the current user is
// the function's owner, ask about the session's role: the login role, or what SET ROLE chose.
enum class Caller { current_user, session_role };

// Raises 42501 unless the caller may do `need` for tenant. Its message names the work and the
// caller's own role, never a tenant. With a database still on a release before tenant access
// (no telemetry.tenant_access), it allows what that release allowed: ingest and reads.
void require_tenant_access(Caller caller, const pg_uuid_t& tenant, Need need);

// Who may replay a tenant's quarantine: its admins (require_tenant_access with Need::admin as
// the current user). Returns the owner of telemetry.quarantine, as whom the replay then runs.
// On a database before tenant access, the admins of telemetry.tenant_admins as before.
Oid authorize_quarantine_replay(const pg_uuid_t& tenant);

// Transaction and role-cache callbacks (from _PG_init).
void register_tenancy_callbacks();
// The shared memory of the token ledger (from _PG_init, when preloaded).
void request_token_ledger();

}  // namespace telemetry::pg
