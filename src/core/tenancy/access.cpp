#include "core/tenancy/access.hpp"

#include <algorithm>

namespace telemetry {

namespace {
constexpr std::string_view level_names[access_level_count] = {"ingest",      "read",   "admin", "service",
                                                              "maintenance", "issuer", "token"};
}

std::optional<AccessLevel> parse_access_level(std::string_view text) noexcept {
    for (int i = 0; i < access_level_count; ++i)
        if (level_names[i] == text) return static_cast<AccessLevel>(i);
    return std::nullopt;
}

const char* to_string(AccessLevel level) noexcept { return level_names[static_cast<int>(level)].data(); }

TenantRule tenant_rule(AccessLevel level) noexcept {
    switch (level) {
        case AccessLevel::ingest:
        case AccessLevel::read:
        case AccessLevel::admin:
            return TenantRule::required;
        case AccessLevel::issuer:
            return TenantRule::optional;
        default:
            return TenantRule::forbidden;
    }
}

bool TenantScope::contains(const Uuid& tenant) const noexcept {
    return every_tenant || std::binary_search(tenants.begin(), tenants.end(), tenant);
}

namespace {

// Whether a grant of `level` lets `need` touch its tenant (or every tenant, for a grant
// without one).
bool serves(AccessLevel level, Need need) noexcept {
    switch (need) {
        case Need::ingest:
            return level == AccessLevel::ingest || level == AccessLevel::service;
        case Need::read:
            return level == AccessLevel::read || level == AccessLevel::admin || level == AccessLevel::service ||
                   level == AccessLevel::maintenance;
        case Need::admin:
            return level == AccessLevel::admin || level == AccessLevel::maintenance;
        case Need::issue:
            return level == AccessLevel::issuer;
        case Need::maintain:
            return level == AccessLevel::maintenance;
    }
    return false;
}

}  // namespace

TenantScope scope_for(const std::vector<AccessGrant>& grants, Need need) {
    TenantScope scope;
    for (const AccessGrant& g : grants) {
        if (!serves(g.level, need)) continue;
        if (!g.tenant) {
            scope.every_tenant = true;
            scope.tenants.clear();
            return scope;
        }
        scope.tenants.push_back(*g.tenant);
    }
    std::sort(scope.tenants.begin(), scope.tenants.end());
    scope.tenants.erase(std::unique(scope.tenants.begin(), scope.tenants.end()), scope.tenants.end());
    return scope;
}

bool grants_allow(const std::vector<AccessGrant>& grants, const Uuid& tenant, Need need) noexcept {
    for (const AccessGrant& g : grants)
        if (serves(g.level, need) && (!g.tenant || *g.tenant == tenant)) return true;
    return false;
}

std::optional<Need> parse_need(std::string_view text) noexcept {
    if (text == "ingest") return Need::ingest;
    if (text == "read") return Need::read;
    if (text == "admin") return Need::admin;
    if (text == "issue") return Need::issue;
    if (text == "maintain") return Need::maintain;
    return std::nullopt;
}

std::optional<Uuid> single_tenant(const std::vector<AccessGrant>& grants) noexcept {
    std::optional<Uuid> found;
    for (const AccessGrant& g : grants) {
        if (!g.tenant) {
            // Every tenant is not one tenant; a pooled role or an issuer without one acts for none.
            if (g.level == AccessLevel::service || g.level == AccessLevel::maintenance) return std::nullopt;
            continue;
        }
        if (found && *found != *g.tenant) return std::nullopt;
        found = *g.tenant;
    }
    return found;
}

}  // namespace telemetry

#include "core/base/no_postgres.hpp"
