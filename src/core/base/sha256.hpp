// SHA-256 (FIPS 180-4) and HMAC-SHA-256 (RFC 2104), hand-written so the core needs no crypto
// library, plus base64url (RFC 4648 §5) to print digests in ids and URLs.
//
// Both hashers stream: callers feed "prefix + value" in pieces instead of concatenating them.
// finish() returns the digest and resets the object (Sha256 to the empty message, HmacSha256 to
// the freshly keyed state), so one object can hash many messages in turn.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace telemetry {

using Sha256Digest = std::array<std::uint8_t, 32>;

class Sha256 {
public:
    Sha256() noexcept;
    void update(const void* data, std::size_t n) noexcept;
    Sha256Digest finish() noexcept;

private:
    void compress(const std::uint8_t* block) noexcept;

    std::array<std::uint32_t, 8> state_;
    std::array<std::uint8_t, 64> buffer_;
    std::size_t buffered_;  // bytes waiting in buffer_, always < 64
    std::uint64_t length_;  // bytes hashed so far (the padding holds it in bits, mod 2^64)
};

Sha256Digest sha256(std::string_view data) noexcept;

class HmacSha256 {
public:
    // Keys longer than the 64-byte block are hashed first (RFC 2104 §2).
    explicit HmacSha256(std::string_view key) noexcept;
    void update(const void* data, std::size_t n) noexcept;
    Sha256Digest finish() noexcept;

private:
    Sha256 inner_;
    Sha256 outer_;
    Sha256 keyed_inner_;  // inner_ and outer_ just after absorbing the padded key, for reset
    Sha256 keyed_outer_;
};

Sha256Digest hmac_sha256(std::string_view key, std::string_view message) noexcept;

// RFC 4648 §5 alphabet (A-Z a-z 0-9 - _), without '=' padding. May throw std::bad_alloc.
std::string base64url(const std::uint8_t* bytes, std::size_t n);

// The bytes of base64url text (as base64url() writes it: no padding, no other characters), into
// out (at most out_size bytes); their count, or -1 for text that is not such base64url or
// decodes to more than out_size bytes. Trailing bits must be zero, so each byte string has
// exactly one spelling.
long base64url_decode(std::string_view text, std::uint8_t* out, std::size_t out_size) noexcept;

}  // namespace telemetry
