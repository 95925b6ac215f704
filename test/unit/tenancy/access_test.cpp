// The access levels and the scope each kind of work gets from a caller's grants.
#include "core/tenancy/access.hpp"

#include <gtest/gtest.h>

namespace telemetry {
namespace {

Uuid tenant(std::uint8_t n) {
    Uuid u{};
    u[15] = n;
    return u;
}

TEST(AccessLevel, ParsesExactlyTheDocumentedNames) {
    for (const char* name : {"ingest", "read", "admin", "service", "maintenance", "issuer", "token"}) {
        const auto level = parse_access_level(name);
        ASSERT_TRUE(level.has_value()) << name;
        EXPECT_STREQ(to_string(*level), name);
    }
    EXPECT_FALSE(parse_access_level("Read"));
    EXPECT_FALSE(parse_access_level("read "));
    EXPECT_FALSE(parse_access_level(""));
    EXPECT_FALSE(parse_access_level("owner"));
}

TEST(AccessLevel, TenantRules) {
    EXPECT_EQ(tenant_rule(AccessLevel::ingest), TenantRule::required);
    EXPECT_EQ(tenant_rule(AccessLevel::read), TenantRule::required);
    EXPECT_EQ(tenant_rule(AccessLevel::admin), TenantRule::required);
    EXPECT_EQ(tenant_rule(AccessLevel::service), TenantRule::forbidden);
    EXPECT_EQ(tenant_rule(AccessLevel::maintenance), TenantRule::forbidden);
    EXPECT_EQ(tenant_rule(AccessLevel::token), TenantRule::forbidden);
    EXPECT_EQ(tenant_rule(AccessLevel::issuer), TenantRule::optional);
}

TEST(TenantScope, EachLevelServesItsWorkOnly) {
    const std::vector<AccessGrant> ingest_a{{tenant(1), AccessLevel::ingest}};
    EXPECT_TRUE(scope_for(ingest_a, Need::ingest).contains(tenant(1)));
    EXPECT_FALSE(scope_for(ingest_a, Need::ingest).contains(tenant(2)));
    EXPECT_TRUE(scope_for(ingest_a, Need::read).empty()) << "ingest may not read";
    EXPECT_TRUE(scope_for(ingest_a, Need::admin).empty());

    const std::vector<AccessGrant> admin_a{{tenant(1), AccessLevel::admin}};
    EXPECT_TRUE(scope_for(admin_a, Need::read).contains(tenant(1))) << "admin reads";
    EXPECT_TRUE(scope_for(admin_a, Need::admin).contains(tenant(1)));
    EXPECT_TRUE(scope_for(admin_a, Need::ingest).empty()) << "admin does not ingest";

    const std::vector<AccessGrant> service{{std::nullopt, AccessLevel::service}};
    EXPECT_TRUE(scope_for(service, Need::ingest).every_tenant);
    EXPECT_TRUE(scope_for(service, Need::read).every_tenant);
    EXPECT_TRUE(scope_for(service, Need::admin).empty()) << "service is not admin";
    EXPECT_TRUE(scope_for(service, Need::maintain).empty());

    const std::vector<AccessGrant> maintenance{{std::nullopt, AccessLevel::maintenance}};
    EXPECT_TRUE(scope_for(maintenance, Need::maintain).every_tenant);
    EXPECT_TRUE(scope_for(maintenance, Need::admin).every_tenant);
    EXPECT_TRUE(scope_for(maintenance, Need::ingest).empty()) << "maintenance does not ingest";

    const std::vector<AccessGrant> pool{{std::nullopt, AccessLevel::token}};
    for (Need n : {Need::ingest, Need::read, Need::admin, Need::issue, Need::maintain})
        EXPECT_TRUE(scope_for(pool, n).empty()) << "a pooled role acts for no tenant of its own";

    const std::vector<AccessGrant> issuer_a{{tenant(1), AccessLevel::issuer}};
    EXPECT_TRUE(scope_for(issuer_a, Need::issue).contains(tenant(1)));
    EXPECT_FALSE(scope_for(issuer_a, Need::issue).contains(tenant(2)));
    EXPECT_TRUE(scope_for(issuer_a, Need::read).empty());
    EXPECT_TRUE(scope_for({{std::nullopt, AccessLevel::issuer}}, Need::issue).every_tenant);
}

TEST(TenantScope, SeveralTenantsSortedAndUnique) {
    const std::vector<AccessGrant> grants{{tenant(9), AccessLevel::read},
                                          {tenant(3), AccessLevel::admin},
                                          {tenant(9), AccessLevel::admin},
                                          {tenant(5), AccessLevel::ingest}};
    const TenantScope read = scope_for(grants, Need::read);
    ASSERT_EQ(read.tenants.size(), 2u);
    EXPECT_EQ(read.tenants[0], tenant(3));
    EXPECT_EQ(read.tenants[1], tenant(9));
    EXPECT_FALSE(read.contains(tenant(5)));
}

TEST(TenantScope, GrantsAllowAgreesWithTheScope) {
    const std::vector<AccessGrant> grants{{tenant(1), AccessLevel::ingest},
                                          {tenant(2), AccessLevel::admin},
                                          {std::nullopt, AccessLevel::issuer},
                                          {std::nullopt, AccessLevel::token}};
    for (Need n : {Need::ingest, Need::read, Need::admin, Need::issue, Need::maintain}) {
        const TenantScope scope = scope_for(grants, n);
        for (std::uint8_t t = 0; t < 4; ++t) EXPECT_EQ(grants_allow(grants, tenant(t), n), scope.contains(tenant(t)));
    }
    EXPECT_EQ(parse_need("maintain"), Need::maintain);
    EXPECT_FALSE(parse_need("maintenance"));
}

TEST(TenantScope, SingleTenant) {
    EXPECT_FALSE(single_tenant({}));
    EXPECT_EQ(single_tenant({{tenant(1), AccessLevel::read}, {tenant(1), AccessLevel::ingest}}), tenant(1));
    EXPECT_FALSE(single_tenant({{tenant(1), AccessLevel::read}, {tenant(2), AccessLevel::read}}));
    EXPECT_FALSE(single_tenant({{tenant(1), AccessLevel::read}, {std::nullopt, AccessLevel::service}}));
    EXPECT_EQ(single_tenant({{tenant(1), AccessLevel::read}, {std::nullopt, AccessLevel::token}}), tenant(1));
}

}  // namespace
}  // namespace telemetry
