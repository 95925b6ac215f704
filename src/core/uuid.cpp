#include "core/uuid.hpp"

namespace telemetry {

Uuid make_uuid_v7(std::int64_t unix_ms, const std::uint8_t* random_bytes) noexcept {
    Uuid u{};
    const std::uint64_t ms = static_cast<std::uint64_t>(unix_ms < 0 ? 0 : unix_ms);
    for (int i = 0; i < 6; ++i) u[i] = static_cast<std::uint8_t>(ms >> (8 * (5 - i)));
    for (int i = 0; i < 10; ++i) u[6 + i] = random_bytes[i];
    u[6] = static_cast<std::uint8_t>(0x70 | (u[6] & 0x0f));  // version 7
    u[8] = static_cast<std::uint8_t>(0x80 | (u[8] & 0x3f));  // variant 10
    return u;
}

}  // namespace telemetry

#include "core/no_postgres.hpp"
