// Tenant tokens: what a token says survives minting and reading; anything else is refused.
#include "core/tenancy/tenant_token.hpp"

#include <gtest/gtest.h>

#include "core/base/sha256.hpp"

namespace telemetry {
namespace {

constexpr std::string_view key = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
constexpr std::int64_t now = 1'780'000'000'000'000;  // 2026, in microseconds

TenantTokenClaims claims() {
    TenantTokenClaims c;
    for (int i = 0; i < 16; ++i) c.tenant[i] = static_cast<std::uint8_t>(0xA0 + i);
    c.access = token_ingest | token_read;
    c.issued_at_us = now;
    c.expires_at_us = now + 300'000'000;
    for (int i = 0; i < 16; ++i) c.nonce[i] = static_cast<std::uint8_t>(i * 7);
    return c;
}

TEST(TenantToken, RoundTrip) {
    const std::string token = mint_tenant_token(claims(), key);
    EXPECT_EQ(token.rfind("tt1.", 0), 0u);
    EXPECT_LE(token.size(), token_max_length);
    const TokenReading r = read_tenant_token(token, key, now + 1);
    ASSERT_EQ(r.problem, TokenProblem::none);
    EXPECT_EQ(r.claims.tenant, claims().tenant);
    EXPECT_EQ(r.claims.access, token_ingest | token_read);
    EXPECT_EQ(r.claims.issued_at_us, now);
    EXPECT_EQ(r.claims.expires_at_us, now + 300'000'000);
    EXPECT_EQ(r.claims.nonce, claims().nonce);
    const auto grants = token_grants(r.claims);
    ASSERT_EQ(grants.size(), 2u);
    EXPECT_EQ(grants[0].level, AccessLevel::ingest);
    EXPECT_EQ(grants[1].level, AccessLevel::read);
}

TEST(TenantToken, ExpiresAtItsTime) {
    const std::string token = mint_tenant_token(claims(), key);
    EXPECT_EQ(read_tenant_token(token, key, now + 299'999'999).problem, TokenProblem::none);
    EXPECT_EQ(read_tenant_token(token, key, now + 300'000'000).problem, TokenProblem::expired);
}

TEST(TenantToken, IssuedInTheFutureBeyondSkew) {
    const std::string token = mint_tenant_token(claims(), key);
    EXPECT_EQ(read_tenant_token(token, key, now - token_clock_skew_us).problem, TokenProblem::none);
    EXPECT_EQ(read_tenant_token(token, key, now - token_clock_skew_us - 1).problem, TokenProblem::not_yet_valid);
}

TEST(TenantToken, AnotherKeyIsRefused) {
    const std::string token = mint_tenant_token(claims(), key);
    std::string other(key);
    other[0] = '1';
    EXPECT_EQ(read_tenant_token(token, other, now).problem, TokenProblem::bad_signature);
}

TEST(TenantToken, EveryAlteredCharacterIsRefused) {
    const std::string token = mint_tenant_token(claims(), key);
    for (std::size_t i = 0; i < token.size(); ++i) {
        for (char replacement : {'A', 'B', '-', '.', '='}) {
            if (token[i] == replacement) continue;
            std::string altered = token;
            altered[i] = replacement;
            EXPECT_NE(read_tenant_token(altered, key, now).problem, TokenProblem::none) << "position " << i;
        }
    }
}

TEST(TenantToken, ForgedClaimsNeedTheKey) {
    // An attacker who knows the form re-encodes the claims with another tenant and keeps the MAC.
    const std::string token = mint_tenant_token(claims(), key);
    TenantTokenClaims forged = claims();
    forged.tenant[0] ^= 1;
    const std::string other = mint_tenant_token(forged, "not the key");
    const std::string spliced = other.substr(0, other.rfind('.')) + token.substr(token.rfind('.'));
    EXPECT_EQ(read_tenant_token(spliced, key, now).problem, TokenProblem::bad_signature);
}

TEST(TenantToken, MalformedTexts) {
    const std::string token = mint_tenant_token(claims(), key);
    for (const std::string& bad :
         {std::string(), std::string("tt1."), std::string("tt2.") + token.substr(4), token.substr(0, token.rfind('.')),
          token + "A", token + "AA", " " + token, std::string(300, 'A')}) {
        const TokenReading r = read_tenant_token(bad, key, now);
        EXPECT_TRUE(r.problem == TokenProblem::malformed || r.problem == TokenProblem::bad_signature)
            << "'" << bad << "'";
    }
    EXPECT_EQ(read_tenant_token("tt1.AAAA.AAAA", key, now).problem, TokenProblem::malformed);
}

TEST(TenantToken, AccessBits) {
    EXPECT_EQ(token_access_bit("ingest"), token_ingest);
    EXPECT_EQ(token_access_bit("read"), token_read);
    EXPECT_EQ(token_access_bit("admin"), token_admin);
    EXPECT_EQ(token_access_bit("service"), 0);
    EXPECT_EQ(token_access_bit(""), 0);
}

TEST(Base64Url, DecodesWhatItEncodes) {
    for (std::size_t n = 0; n < 40; ++n) {
        std::uint8_t bytes[40];
        for (std::size_t i = 0; i < n; ++i) bytes[i] = static_cast<std::uint8_t>(i * 37 + n);
        const std::string text = base64url(bytes, n);
        std::uint8_t back[40];
        ASSERT_EQ(base64url_decode(text, back, sizeof back), static_cast<long>(n));
        EXPECT_EQ(std::string(reinterpret_cast<char*>(back), n), std::string(reinterpret_cast<char*>(bytes), n));
    }
    std::uint8_t out[8];
    EXPECT_EQ(base64url_decode("A", out, sizeof out), -1) << "a lone character is no byte";
    EXPECT_EQ(base64url_decode("AB", out, sizeof out), -1) << "non-zero padding bits";
    EXPECT_EQ(base64url_decode("AA==", out, sizeof out), -1) << "no padding characters";
    EXPECT_EQ(base64url_decode("AA+/", out, sizeof out), -1) << "base64url, not base64";
    EXPECT_EQ(base64url_decode("AAAAAAAAAAAA", out, sizeof out), -1) << "longer than the output";
}

}  // namespace
}  // namespace telemetry
