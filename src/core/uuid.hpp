// Event ids: UUID version 7 (RFC 9562).
//
// The first 48 bits are the Unix time in milliseconds, so ids made close in time sort close
// together: index insertions stay at the right edge of a B-tree instead of scattering over it.
// The remaining 74 bits are random.
#pragma once

#include <array>
#include <cstdint>

namespace telemetry {

using Uuid = std::array<std::uint8_t, 16>;

// random_bytes: 10 bytes from a cryptographically strong source.
Uuid make_uuid_v7(std::int64_t unix_ms, const std::uint8_t* random_bytes) noexcept;

}  // namespace telemetry
