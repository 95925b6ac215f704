#include "core/json/json.hpp"

#include <charconv>
#include <cstring>
#include <limits>
#include <optional>

namespace telemetry {

const JsonValue* JsonValue::find(std::string_view key) const noexcept {
    if (kind != JsonKind::object) return nullptr;
    for (std::uint32_t i = 0; i < count; ++i)
        if (members[i].key == key) return &members[i].value;
    return nullptr;
}

const char* describe_kind(const JsonValue& v) noexcept {
    switch (v.kind) {
        case JsonKind::null:
            return "null";
        case JsonKind::boolean:
            return "a boolean";
        case JsonKind::number:
            return "a number";
        case JsonKind::string:
            return "a string";
        case JsonKind::array:
            return "an array";
        case JsonKind::object:
            return "an object";
        case JsonKind::too_deep:
            return "a value nested too deeply";
        case JsonKind::too_large:
            return "a value too large to read";
    }
    return "a value";
}

bool JsonNumber::is_int64() const noexcept {
    if (!is_integral()) return false;
    if (point < 19) return true;
    if (point > 19) return false;
    // 19 digits: compare with 9223372036854775807 / 9223372036854775808.
    char full[20] = {};
    std::memset(full, '0', 19);
    std::memcpy(full, digits.data(), digits.size());
    return std::strcmp(full, negative ? "9223372036854775808" : "9223372036854775807") <= 0;
}

namespace {

// Clinger's fast path for the nearest double of 0.DIGITS x 10^POINT: with at most 15 significant
// digits the digits make an integer below 2^53 (a double exactly), 10^k is a double exactly for
// k <= 22, and one multiplication or division of two exact doubles rounds once, to the nearest.
// So this is what from_chars gives, without building its input text; nullopt outside that range.
std::optional<double> exactly_rounded(std::string_view digits, long long point) noexcept {
    static constexpr double exact_powers_of_ten[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                                     1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                                     1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
    if (digits.empty() || digits.size() > 15) return std::nullopt;
    const long long exponent = point - static_cast<long long>(digits.size());  // value = DIGITS x 10^exponent
    if (exponent < -22 || exponent > 22) return std::nullopt;
    std::uint64_t mantissa = 0;
    for (const char c : digits) mantissa = mantissa * 10 + static_cast<std::uint64_t>(c - '0');
    const auto m = static_cast<double>(mantissa);
    return exponent < 0 ? m / exact_powers_of_ten[-exponent] : m * exact_powers_of_ten[exponent];
}

}  // namespace

bool parse_json_number(std::string_view text, Arena& arena, JsonNumber& out) {
    out = JsonNumber{};
    std::size_t i = 0;
    if (i < text.size() && text[i] == '-') {
        out.negative = true;
        ++i;
    }
    const std::size_t int_begin = i;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i;
    const std::string_view int_part = text.substr(int_begin, i - int_begin);
    std::string_view frac_part;
    if (i < text.size() && text[i] == '.') {
        const std::size_t frac_begin = ++i;
        while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i;
        frac_part = text.substr(frac_begin, i - frac_begin);
    }
    long long exponent = 0;
    if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
        ++i;
        bool exp_negative = false;
        if (i < text.size() && (text[i] == '+' || text[i] == '-')) exp_negative = text[i++] == '-';
        for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i) {
            exponent = exponent * 10 + (text[i] - '0');
            if (exponent > 100000) return false;  // far outside anything we store
        }
        if (exp_negative) exponent = -exponent;
    }
    if (int_part.empty() || i != text.size()) return false;

    // numeric_in: the display scale is the digits written after the point, less the exponent.
    const long long dscale = static_cast<long long>(frac_part.size()) - exponent;
    out.dscale = static_cast<std::int32_t>(dscale < 0 ? 0 : dscale);

    // Significant digits of int_part + frac_part, and where the decimal point falls in them.
    std::string_view all_int = int_part;
    std::size_t lead = 0;
    while (lead < all_int.size() && all_int[lead] == '0') ++lead;
    long long point = static_cast<long long>(all_int.size() - lead) + exponent;
    std::string digits;
    digits.reserve(all_int.size() + frac_part.size());
    digits.append(all_int.substr(lead));
    if (digits.empty()) {
        std::size_t frac_lead = 0;
        while (frac_lead < frac_part.size() && frac_part[frac_lead] == '0') ++frac_lead;
        point -= static_cast<long long>(frac_lead);
        digits.append(frac_part.substr(frac_lead));
    } else {
        digits.append(frac_part);
    }
    while (!digits.empty() && digits.back() == '0') digits.pop_back();
    if (digits.empty()) {
        out.negative = false;  // numeric has no negative zero
        point = 0;
    }
    if (digits.size() > static_cast<std::size_t>(max_number_digits) || out.dscale > max_number_digits) return false;
    if (point > 309) return false;  // beyond double's range: 1e400 is not a measurement
    if (point < -max_number_digits) return false;
    out.point = static_cast<std::int32_t>(point);
    out.digits = arena.copy(digits);

    // The nearest double, from the normalised digits.
    if (digits.empty()) {
        out.approx = 0;
    } else if (point < -330) {
        out.approx = out.negative ? -0.0 : 0.0;
    } else if (const auto fast = exactly_rounded(digits, point)) {
        out.approx = out.negative ? -*fast : *fast;
    } else {
        std::string scientific;
        scientific.reserve(digits.size() + 16);
        if (out.negative) scientific += '-';
        scientific += "0.";
        scientific += digits;
        scientific += 'e';
        scientific += std::to_string(point);
        double d = 0;
        const auto result = std::from_chars(scientific.data(), scientific.data() + scientific.size(), d);
        if (result.ec == std::errc::result_out_of_range) return false;
        out.approx = d;
        if (!(d <= std::numeric_limits<double>::max() && d >= -std::numeric_limits<double>::max())) return false;
    }
    return true;
}

std::size_t number_text_size(const JsonNumber& n) noexcept {
    std::size_t size = n.negative ? 1 : 0;
    size += n.point > 0 ? static_cast<std::size_t>(n.point) : 1;
    if (n.dscale > 0) size += 1 + static_cast<std::size_t>(n.dscale);
    return size;
}

void append_number_text(const JsonNumber& n, std::string& out) {
    if (n.negative) out += '-';
    const auto digit_at = [&](long long index) -> char {
        return index >= 0 && index < static_cast<long long>(n.digits.size()) ? n.digits[static_cast<std::size_t>(index)]
                                                                             : '0';
    };
    if (n.point <= 0) {
        out += '0';
    } else {
        for (long long k = 0; k < n.point; ++k) out += digit_at(k);
    }
    if (n.dscale > 0) {
        out += '.';
        for (long long k = 0; k < n.dscale; ++k) out += digit_at(n.point + k);
    }
}

namespace {

std::size_t escaped_size(std::string_view s) noexcept {
    std::size_t size = 2;
    for (unsigned char c : s) {
        if (c == '"' || c == '\\' || c == '\b' || c == '\f' || c == '\n' || c == '\r' || c == '\t') size += 2;
        else if (c < 0x20) size += 6;
        else size += 1;
    }
    return size;
}

void append_escaped(std::string_view s, std::string& out) {
    static const char hex[] = "0123456789abcdef";
    out += '"';
    for (unsigned char c : s) {
        switch (c) {
            case '"':
                out += "\\\"";
                break;
            case '\\':
                out += "\\\\";
                break;
            case '\b':
                out += "\\b";
                break;
            case '\f':
                out += "\\f";
                break;
            case '\n':
                out += "\\n";
                break;
            case '\r':
                out += "\\r";
                break;
            case '\t':
                out += "\\t";
                break;
            default:
                if (c < 0x20) {
                    out += "\\u00";
                    out += hex[c >> 4];
                    out += hex[c & 15];
                } else {
                    out += static_cast<char>(c);
                }
        }
    }
    out += '"';
}

}  // namespace

std::size_t canonical_size(const JsonValue& v) noexcept {
    switch (v.kind) {
        case JsonKind::null:
            return 4;
        case JsonKind::boolean:
            return v.boolean ? 4 : 5;
        case JsonKind::number:
            return number_text_size(*v.number);
        case JsonKind::string:
            return escaped_size(v.string);
        case JsonKind::array: {
            std::size_t size = 2 + (v.count ? v.count - 1 : 0);
            for (std::uint32_t i = 0; i < v.count; ++i) size += canonical_size(v.elements[i]);
            return size;
        }
        case JsonKind::object: {
            std::size_t size = 2 + (v.count ? v.count - 1 : 0);
            for (std::uint32_t i = 0; i < v.count; ++i)
                size += escaped_size(v.members[i].key) + 1 + canonical_size(v.members[i].value);
            return size;
        }
        case JsonKind::too_deep:
        case JsonKind::too_large:
            return 0;
    }
    return 0;
}

void append_canonical(const JsonValue& v, std::string& out) {
    switch (v.kind) {
        case JsonKind::null:
            out += "null";
            return;
        case JsonKind::boolean:
            out += v.boolean ? "true" : "false";
            return;
        case JsonKind::number:
            append_number_text(*v.number, out);
            return;
        case JsonKind::string:
            append_escaped(v.string, out);
            return;
        case JsonKind::array:
            out += '[';
            for (std::uint32_t i = 0; i < v.count; ++i) {
                if (i) out += ',';
                append_canonical(v.elements[i], out);
            }
            out += ']';
            return;
        case JsonKind::object:
            out += '{';
            for (std::uint32_t i = 0; i < v.count; ++i) {
                if (i) out += ',';
                append_escaped(v.members[i].key, out);
                out += ':';
                append_canonical(v.members[i].value, out);
            }
            out += '}';
            return;
        case JsonKind::too_deep:
        case JsonKind::too_large:
            out += "null";
            return;
    }
}

bool json_equal(const JsonValue& a, const JsonValue& b) noexcept {
    if (a.kind != b.kind) return false;
    switch (a.kind) {
        case JsonKind::null:
            return true;
        case JsonKind::boolean:
            return a.boolean == b.boolean;
        case JsonKind::number:
            return a.number->negative == b.number->negative && a.number->point == b.number->point &&
                   a.number->digits == b.number->digits;
        case JsonKind::string:
            return a.string == b.string;
        case JsonKind::array:
            if (a.count != b.count) return false;
            for (std::uint32_t i = 0; i < a.count; ++i)
                if (!json_equal(a.elements[i], b.elements[i])) return false;
            return true;
        case JsonKind::object:
            if (a.count != b.count) return false;
            for (std::uint32_t i = 0; i < a.count; ++i) {
                const JsonValue* other = b.find(a.members[i].key);
                if (other == nullptr || !json_equal(a.members[i].value, *other)) return false;
            }
            return true;
        case JsonKind::too_deep:
        case JsonKind::too_large:
            return false;
    }
    return false;
}

std::size_t utf8_length(std::string_view s) noexcept {
    std::size_t n = 0;
    for (unsigned char c : s)
        if ((c & 0xC0) != 0x80) ++n;
    return n;
}

}  // namespace telemetry

#include "core/base/no_postgres.hpp"
