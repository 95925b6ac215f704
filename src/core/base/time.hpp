// Times as they arrive in client JSON.
//
// Times become microseconds since the Unix epoch (1970-01-01T00:00:00Z), PostgreSQL's own
// resolution. Only the years 0001-9999 are supported, in UTC after applying the offset, for RFC
// 3339 strings and epoch milliseconds alike. Errors are static sentences naming the broken rule;
// they never echo the input, which may be anything a client sent.
#pragma once

#include <cstdint>
#include <string_view>

namespace telemetry {

// Microseconds since the Unix epoch (1970-01-01T00:00:00Z).
// ok: unix_us is set and error is nullptr. Not ok: unix_us is 0 and error is a static sentence.
struct ParsedTime {
    bool ok;
    std::int64_t unix_us;
    const char* error;
};

inline constexpr std::int64_t min_supported_unix_us = -62135596800000000;  // 0001-01-01T00:00:00Z
inline constexpr std::int64_t max_supported_unix_us = 253402300799999999;  // 9999-12-31T23:59:59.999999Z

// YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM|±HHMM|±HH), RFC 3339 and the ISO 8601 offset
// spellings SDKs emit. 'T' may be 't' or one space, 'Z' may be 'z'; the offset is required. The
// fraction has 1-9 digits and is truncated to the microsecond. A leap second (:60) is accepted
// and read as :59.999999 of the same minute.
ParsedTime parse_rfc3339(std::string_view text) noexcept;

// Epoch milliseconds as a JSON number. The double's shortest decimal form (the one JSON
// serializers print, e.g. 1.001 and not 1.00099999...) is truncated toward negative infinity to
// the microsecond: 1.0019 ms is 1001 us, -1.0019 ms is -1002 us. NaN, infinities and instants
// outside the years 0001-9999 are refused; so is a number that is plainly in another unit (as
// milliseconds it would fall in the first months of 1970 or tens of millennia ahead): epoch
// seconds (1e9 to 1e10), microseconds (1e15 to 1e18) or nanoseconds (1e18 to 1e21), each
// with a reason that says so.
ParsedTime from_epoch_millis(double ms) noexcept;

}  // namespace telemetry
