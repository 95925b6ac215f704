// PostgreSQL's jsonb on-disk format, read and written without PostgreSQL headers.
//
// The format is stable: pg_upgrade keeps jsonb on disk as it is, so it cannot change within a
// major version (src/include/utils/jsonb.h and utils/adt/numeric.c describe it). Reading it
// here lets the core validate the properties that track() receives without serialising them to
// text, and writing it lets track_batch() hand PostgreSQL finished jsonb without parsing the
// text a second time. encode_jsonb() produces the same bytes as jsonb_in would for the same
// document; test/t/004_jsonb_codec.pl compares the two on thousands of documents.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <string_view>

#include "core/base/arena.hpp"
#include "core/json/json.hpp"

namespace telemetry {

// The varlena header must be written in the machine's byte order; this code knows only the
// little-endian layout (x86-64, AArch64), and refuses to build elsewhere.
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "jsonb.cpp assumes a little-endian machine");

// How much of a jsonb document is read, so that memory is bounded before the work.
struct DecodeLimits {
    std::uint32_t max_depth = 32;  // deeper containers become JsonKind::too_deep
    // Values in the whole document (every scalar and container once; keys are not values):
    // more throw DomainError 54000 `too_many_values`.
    std::uint64_t max_values = std::numeric_limits<std::uint64_t>::max();
    const char* too_many_values = "the document holds too many JSON values";
    // A batch: the root array's elements are events, at most max_elements of them (more throw
    // DomainError 54000 `too_many_elements`, before any is read), each with at most
    // max_element_values values (an element with more is not read further and becomes
    // JsonKind::too_large).
    bool batch = false;
    std::uint64_t max_elements = std::numeric_limits<std::uint64_t>::max();
    const char* too_many_elements = "the array holds too many elements";
    std::uint64_t max_element_values = std::numeric_limits<std::uint64_t>::max();
};

// Reads a jsonb value. `container` and `size` are the bytes after the 4-byte varlena header of
// a detoasted jsonb. Strings and numerics point into `container`, which must outlive the
// result. Malformed input (a bug or corruption, never user data) throws DomainError XX000.
JsonValue decode_jsonb(const unsigned char* container, std::size_t size, const DecodeLimits& limits, Arena& arena);

// The same with only a depth limit.
inline JsonValue decode_jsonb(const unsigned char* container, std::size_t size, std::uint32_t max_depth, Arena& arena) {
    DecodeLimits limits;
    limits.max_depth = max_depth;
    return decode_jsonb(container, size, limits, arena);
}

// Writes v (an object or array; scalars are wrapped as jsonb does) as a complete jsonb varlena,
// 4-byte header included, in arena memory aligned for PostgreSQL.
std::string_view encode_jsonb(const JsonValue& v, Arena& arena);

// The numeric datum (4-byte varlena header) that numeric_in would make for n.
std::string_view encode_numeric(const JsonNumber& n, Arena& arena);

}  // namespace telemetry
