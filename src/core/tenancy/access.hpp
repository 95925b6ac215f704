// Who may do what for which tenant: the access levels of telemetry.tenant_access and of tenant
// tokens, and the tenants each kind of work may touch under them (docs/security.md).
//
// A role's grants are rows (tenant or every tenant, level); together they give, for each kind
// of work (a Need), a scope: every tenant, or a sorted list of tenants. The glue computes the
// grants of a caller (its roles' rows, or the token it presented) and asks scope_for().
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "core/base/uuid.hpp"

namespace telemetry {

// The levels a grant names (telemetry.grant_tenant_access's access argument).
enum class AccessLevel : std::uint8_t {
    ingest,       // a tenant: call the ingest functions for it
    read,         // a tenant: its events, rollups and the analytics functions
    admin,        // a tenant: read, plus quarantine, opt-outs and other per-tenant administration
    service,      // every tenant: ingest and read
    maintenance,  // every tenant: the maintenance steps (partitions, ledger, and later rollups)
    issuer,       // a tenant, or every tenant: mint tenant tokens
    token,        // no tenant of its own: present tenant tokens (a pooled application role)
};
inline constexpr int access_level_count = 7;

// "ingest", "read", ... as written in SQL; nullopt for anything else (exact, lower case).
std::optional<AccessLevel> parse_access_level(std::string_view text) noexcept;
const char* to_string(AccessLevel level) noexcept;
// Whether a grant of this level names a tenant (ingest, read, admin), names none (service,
// maintenance, token), or may do either (issuer).
enum class TenantRule { required, forbidden, optional };
TenantRule tenant_rule(AccessLevel level) noexcept;

struct AccessGrant {
    std::optional<Uuid> tenant;  // nullopt: every tenant
    AccessLevel level;
};

// The kinds of work a tenant check asks about.
enum class Need : std::uint8_t { ingest, read, admin, issue, maintain };

struct TenantScope {
    bool every_tenant = false;
    std::vector<Uuid> tenants;  // sorted, unique; empty when every_tenant

    bool empty() const noexcept { return !every_tenant && tenants.empty(); }
    bool contains(const Uuid& tenant) const noexcept;
};

// The tenants `need` may touch under these grants:
//   ingest:   ingest of the tenant; service: every tenant
//   read:     read or admin of the tenant; service or maintenance: every tenant
//   admin:    admin of the tenant; maintenance: every tenant
//   issue:    issuer of the tenant; issuer without a tenant: every tenant
//   maintain: maintenance: every tenant
// May throw std::bad_alloc.
TenantScope scope_for(const std::vector<AccessGrant>& grants, Need need);

// Whether the grants let `need` touch tenant: scope_for(grants, need).contains(tenant), without
// allocating (the check of every ingest call).
bool grants_allow(const std::vector<AccessGrant>& grants, const Uuid& tenant, Need need) noexcept;

// "ingest", "read", "admin", "issue", "maintain"; nullopt for anything else.
std::optional<Need> parse_need(std::string_view text) noexcept;

// The single tenant the grants name (ingest, read, admin and issuer of one tenant), or nullopt
// when they name none or several (service and maintenance name every tenant): what
// telemetry.current_tenant() answers.
std::optional<Uuid> single_tenant(const std::vector<AccessGrant>& grants) noexcept;

}  // namespace telemetry
