// Event ids: UUID version 7 (RFC 9562).
//
// The first 48 bits are the Unix time in milliseconds, so ids made close in time sort close
// together: index insertions stay at the right edge of a B-tree instead of scattering over it.
// The remaining 74 bits are random.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

namespace telemetry {

using Uuid = std::array<std::uint8_t, 16>;

// random_bytes: 10 bytes from a cryptographically strong source.
Uuid make_uuid_v7(std::int64_t unix_ms, const std::uint8_t* random_bytes) noexcept;

// A UUID in any spelling PostgreSQL's uuid type accepts (uuid_in): 32 hex digits of either
// case, optionally in braces, with a hyphen allowed after any group of four digits but the last
// ("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "{A0EEBC99...}", "a0eebc999c0b4ef8bb6d6bb9bd380a11").
// Nothing else: no spaces, no "urn:uuid:".
std::optional<Uuid> parse_uuid(std::string_view text) noexcept;

// The value of a hexadecimal digit of either case, or -1.
int hex_value(char c) noexcept;

// The nil UUID (all zeros) and the max UUID (all ones) are placeholders (RFC 9562 §5.9, §5.10),
// never the id of an event.
bool is_placeholder_uuid(const Uuid& id) noexcept;

}  // namespace telemetry
