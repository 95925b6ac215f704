// Tenant tokens: what a pooled application role presents (telemetry.set_tenant) to act for one
// tenant for one transaction, minted by an issuer (telemetry.tenant_token) with the database's
// secret key. A token is signed, expires, and names its tenant and access levels; the glue adds
// what needs shared state: that a token is used only once, and not after a restart.
//
// Form: "tt1." base64url(claims) "." base64url(HMAC-SHA-256(key, domain || claims)), where the
// claims are 50 bytes: version 1, tenant (16), access bits (1: ingest 1, read 2, admin 4),
// issued_at and expires_at (microseconds since 1970, big-endian int64), nonce (16 random bytes).
// The MAC is checked in constant time before anything else in the claims is believed.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/uuid.hpp"
#include "core/tenancy/access.hpp"

namespace telemetry {

// Access bits of a token.
inline constexpr std::uint8_t token_ingest = 1, token_read = 2, token_admin = 4;
inline constexpr std::uint8_t token_access_mask = token_ingest | token_read | token_admin;

struct TenantTokenClaims {
    Uuid tenant{};
    std::uint8_t access = 0;  // token_* bits, at least one
    std::int64_t issued_at_us = 0;
    std::int64_t expires_at_us = 0;
    std::array<std::uint8_t, 16> nonce{};
};

// The token for these claims under key. May throw std::bad_alloc.
std::string mint_tenant_token(const TenantTokenClaims& claims, std::string_view key);

enum class TokenProblem {
    none,
    malformed,      // not a token of this form and version (or longer than any token)
    bad_signature,  // signed with another key, or altered
    expired,        // now is at or past expires_at
    not_yet_valid,  // issued more than the clock skew allowed ahead of now
};

struct TokenReading {
    TokenProblem problem = TokenProblem::malformed;
    TenantTokenClaims claims;  // meaningful only when problem is none
};

// Reads and checks a token at now_us (microseconds since 1970).
TokenReading read_tenant_token(std::string_view token, std::string_view key, std::int64_t now_us) noexcept;

// The message of a problem, for the 42501 error: it names the rule, never the token.
const char* token_problem_message(TokenProblem problem) noexcept;

// The grants a token gives: its tenant at each of its access levels. May throw std::bad_alloc.
std::vector<AccessGrant> token_grants(const TenantTokenClaims& claims);

// "ingest", "read", "admin" to token bits; 0 for anything else.
std::uint8_t token_access_bit(std::string_view level) noexcept;

inline constexpr std::int64_t token_clock_skew_us = 60'000'000;  // issued this far ahead still counts
inline constexpr std::size_t token_max_length = 256;

}  // namespace telemetry
