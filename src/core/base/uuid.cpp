#include "core/base/uuid.hpp"

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

int hex_value(char c) noexcept {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// As string_to_uuid() in PostgreSQL's src/backend/utils/adt/uuid.c.
std::optional<Uuid> parse_uuid(std::string_view text) noexcept {
    std::size_t i = 0;
    const bool braces = !text.empty() && text[0] == '{';
    if (braces) ++i;
    Uuid u{};
    for (std::size_t byte = 0; byte < u.size(); ++byte) {
        if (i + 2 > text.size()) return std::nullopt;
        const int high = hex_value(text[i]);
        const int low = hex_value(text[i + 1]);
        if (high < 0 || low < 0) return std::nullopt;
        u[byte] = static_cast<std::uint8_t>(high << 4 | low);
        i += 2;
        if (i < text.size() && text[i] == '-' && byte % 2 == 1 && byte < u.size() - 1) ++i;
    }
    if (braces) {
        if (i >= text.size() || text[i] != '}') return std::nullopt;
        ++i;
    }
    if (i != text.size()) return std::nullopt;
    return u;
}

bool is_placeholder_uuid(const Uuid& id) noexcept {
    bool all_zero = true;
    bool all_ones = true;
    for (std::uint8_t b : id) {
        all_zero = all_zero && b == 0;
        all_ones = all_ones && b == 0xff;
    }
    return all_zero || all_ones;
}

}  // namespace telemetry

#include "core/base/no_postgres.hpp"
