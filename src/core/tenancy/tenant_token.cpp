#include "core/tenancy/tenant_token.hpp"

#include "core/base/sha256.hpp"

namespace telemetry {

namespace {

constexpr std::string_view prefix = "tt1.";
constexpr std::uint8_t claims_version = 1;
constexpr std::size_t claims_size = 1 + 16 + 1 + 8 + 8 + 16;
// Domain separation: a MAC made with the same key for another purpose never verifies here.
constexpr std::string_view mac_domain = std::string_view("telemetry tenant token\0", 23);

using Claims = std::array<std::uint8_t, claims_size>;

void put_int64(std::uint8_t* at, std::int64_t value) noexcept {
    const auto u = static_cast<std::uint64_t>(value);
    for (int i = 0; i < 8; ++i) at[i] = static_cast<std::uint8_t>(u >> (56 - 8 * i));
}

std::int64_t get_int64(const std::uint8_t* at) noexcept {
    std::uint64_t u = 0;
    for (int i = 0; i < 8; ++i) u = (u << 8) | at[i];
    return static_cast<std::int64_t>(u);
}

Claims encode(const TenantTokenClaims& c) noexcept {
    Claims out{};
    out[0] = claims_version;
    for (int i = 0; i < 16; ++i) out[1 + i] = c.tenant[i];
    out[17] = c.access;
    put_int64(&out[18], c.issued_at_us);
    put_int64(&out[26], c.expires_at_us);
    for (int i = 0; i < 16; ++i) out[34 + i] = c.nonce[i];
    return out;
}

Sha256Digest mac_of(const std::uint8_t* claims, std::string_view key) noexcept {
    HmacSha256 h(key);
    h.update(mac_domain.data(), mac_domain.size());
    h.update(claims, claims_size);
    return h.finish();
}

// Constant time in the contents: every byte is compared whatever the first difference.
bool same_digest(const Sha256Digest& a, const std::uint8_t* b) noexcept {
    std::uint8_t difference = 0;
    for (std::size_t i = 0; i < a.size(); ++i) difference |= static_cast<std::uint8_t>(a[i] ^ b[i]);
    return difference == 0;
}

}  // namespace

std::string mint_tenant_token(const TenantTokenClaims& claims, std::string_view key) {
    const Claims bytes = encode(claims);
    const Sha256Digest mac = mac_of(bytes.data(), key);
    std::string out(prefix);
    out += base64url(bytes.data(), bytes.size());
    out += '.';
    out += base64url(mac.data(), mac.size());
    return out;
}

TokenReading read_tenant_token(std::string_view token, std::string_view key, std::int64_t now_us) noexcept {
    TokenReading reading;
    if (token.size() > token_max_length || token.substr(0, prefix.size()) != prefix) return reading;
    token.remove_prefix(prefix.size());
    const std::size_t dot = token.find('.');
    if (dot == std::string_view::npos) return reading;
    Claims bytes{};
    std::uint8_t mac[32];
    if (base64url_decode(token.substr(0, dot), bytes.data(), bytes.size()) != static_cast<long>(claims_size) ||
        base64url_decode(token.substr(dot + 1), mac, sizeof mac) != static_cast<long>(sizeof mac))
        return reading;
    if (!same_digest(mac_of(bytes.data(), key), mac)) {
        reading.problem = TokenProblem::bad_signature;
        return reading;
    }
    // Signed by us: the claims are ours, as written.
    TenantTokenClaims& c = reading.claims;
    if (bytes[0] != claims_version || (bytes[17] & ~token_access_mask) != 0 || bytes[17] == 0) return reading;
    for (int i = 0; i < 16; ++i) c.tenant[i] = bytes[1 + i];
    c.access = bytes[17];
    c.issued_at_us = get_int64(&bytes[18]);
    c.expires_at_us = get_int64(&bytes[26]);
    for (int i = 0; i < 16; ++i) c.nonce[i] = bytes[34 + i];
    if (now_us >= c.expires_at_us) reading.problem = TokenProblem::expired;
    else if (c.issued_at_us > now_us + token_clock_skew_us) reading.problem = TokenProblem::not_yet_valid;
    else reading.problem = TokenProblem::none;
    return reading;
}

const char* token_problem_message(TokenProblem problem) noexcept {
    switch (problem) {
        case TokenProblem::none:
            return "tenant token is valid";
        case TokenProblem::malformed:
            return "tenant token is not a token of telemetry.tenant_token()";
        case TokenProblem::bad_signature:
            return "tenant token was not signed with this database's key";
        case TokenProblem::expired:
            return "tenant token has expired";
        case TokenProblem::not_yet_valid:
            return "tenant token was issued in the future";
    }
    return "tenant token is not valid";
}

std::vector<AccessGrant> token_grants(const TenantTokenClaims& claims) {
    std::vector<AccessGrant> grants;
    if (claims.access & token_ingest) grants.push_back({claims.tenant, AccessLevel::ingest});
    if (claims.access & token_read) grants.push_back({claims.tenant, AccessLevel::read});
    if (claims.access & token_admin) grants.push_back({claims.tenant, AccessLevel::admin});
    return grants;
}

std::uint8_t token_access_bit(std::string_view level) noexcept {
    if (level == "ingest") return token_ingest;
    if (level == "read") return token_read;
    if (level == "admin") return token_admin;
    return 0;
}

}  // namespace telemetry

#include "core/base/no_postgres.hpp"
