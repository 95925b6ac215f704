// JSON documents as plain data in an Arena.
//
// One representation for what arrives as jsonb (decoded from PostgreSQL's binary format by
// jsonb.hpp) and what arrives as JSON text (parsed by json_text.hpp). The validator, the
// transformations and the encoder back to jsonb all work on it. Every type here is trivially
// destructible: documents are freed with their arena, never one by one.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/base/arena.hpp"

namespace telemetry {

// too_deep marks a container that was nested deeper than the reader's limit, too_large a value
// (a batch element) with more values in it than the reader's limit: in both cases the content was
// not read. Validation refuses them; they never reach storage.
enum class JsonKind : std::uint8_t { null, boolean, number, string, array, object, too_deep, too_large };

// An exact decimal, as PostgreSQL's numeric keeps it: value = 0.<digits> x 10^point.
// 123.45 is {"12345", point 3}; 0.001 is {"1", point -2}; zero has no digits.
// (Members are ordered largest first: a batch holds up to a million values, so bytes count.)
struct JsonNumber {
    std::string_view digits;  // no leading or trailing zeros
    double approx = 0;        // the nearest double
    // When the number was read from jsonb: its numeric datum, copied back unchanged on encode.
    const unsigned char* pg_numeric = nullptr;
    std::int32_t point = 0;
    std::int32_t dscale = 0;  // digits shown after the decimal point ("1.50" has 2)
    std::uint32_t pg_numeric_size = 0;
    bool negative = false;
    // Read from jsonb but beyond what we accept (parse_json_number's limits); validation refuses it.
    bool out_of_range = false;

    bool is_zero() const noexcept { return digits.empty(); }
    // An integer that fits in a signed 64-bit integer (JSON Schema's "integer" for us).
    bool is_int64() const noexcept;
    bool is_integral() const noexcept { return static_cast<std::int64_t>(digits.size()) <= point; }
};

struct JsonMember;

struct JsonValue {
    JsonKind kind = JsonKind::null;
    bool boolean = false;
    std::uint32_t count = 0;  // elements of an array, members of an object
    std::string_view string;  // the UTF-8 bytes of a string
    const JsonNumber* number = nullptr;
    JsonValue* elements = nullptr;  // array
    JsonMember* members = nullptr;  // object, in the order read (jsonb: sorted)

    const JsonValue* find(std::string_view key) const noexcept;
};

struct JsonMember {
    std::string_view key;
    JsonValue value;
};

// "a string", "an object", ...: what was found, for error messages that must not show values.
const char* describe_kind(const JsonValue& v) noexcept;

// Parses the text of a JSON number (already known to follow JSON's grammar) into an exact
// decimal, with PostgreSQL's numeric_in display scale. Returns false when the number is
// beyond what we store: outside double's range, or more than max_number_digits digits.
inline constexpr int max_number_digits = 1000;
bool parse_json_number(std::string_view text, Arena& arena, JsonNumber& out);

// The number as PostgreSQL prints a numeric (numeric_out): "1500", "0.010", "-2.5".
void append_number_text(const JsonNumber& n, std::string& out);
std::size_t number_text_size(const JsonNumber& n) noexcept;

// Size in bytes of the compact JSON text of v (no whitespace, strings escaped as PostgreSQL
// escapes them, numbers as numeric_out prints them). This is "the size of the properties"
// that the catalog's max_bytes limits: one definition, whatever form the event came in.
std::size_t canonical_size(const JsonValue& v) noexcept;
void append_canonical(const JsonValue& v, std::string& out);

// JSON equality: numbers by value (1.0 equals 1), objects regardless of member order.
bool json_equal(const JsonValue& a, const JsonValue& b) noexcept;

// Length of a UTF-8 string in code points, as JSON Schema counts minLength/maxLength.
std::size_t utf8_length(std::string_view s) noexcept;

}  // namespace telemetry
