#include "core/base/time.hpp"

#include <charconv>
#include <cmath>
#include <cstddef>
#include <system_error>

namespace telemetry {

namespace {

constexpr std::int64_t us_per_second = 1000000;
constexpr std::int64_t us_per_day = 86400 * us_per_second;

constexpr const char* shape_error = "time must be an RFC 3339 timestamp such as 2026-11-21T10:00:00Z";
constexpr const char* range_error = "time must fall within the years 0001-9999 (UTC)";

// Days from 1970-01-01 to the proleptic Gregorian date y-m-d (Howard Hinnant's
// days_from_civil, http://howardhinnant.github.io/date_algorithms.html): exact for every year,
// without tables or loops.
constexpr std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) noexcept {
    y -= m <= 2 ? 1 : 0;
    const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
    const auto yoe = static_cast<unsigned>(y - era * 400);                 // [0, 399]
    const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;  // [0, 365]
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;            // [0, 146096]
    return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

static_assert(days_from_civil(1970, 1, 1) == 0);
static_assert(days_from_civil(2000, 3, 1) == 11017);
static_assert(days_from_civil(1, 1, 1) * us_per_day == min_supported_unix_us);
static_assert(days_from_civil(10000, 1, 1) * us_per_day - 1 == max_supported_unix_us);

ParsedTime refuse(const char* why) noexcept { return ParsedTime{false, 0, why}; }

ParsedTime accept(std::int64_t unix_us) noexcept { return ParsedTime{true, unix_us, nullptr}; }

// ASCII only: isdigit would depend on the locale.
constexpr bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

// Reads exactly n decimal digits at pos (the caller has checked that they are in the text).
bool read_digits(std::string_view s, std::size_t pos, std::size_t n, int& out) noexcept {
    int v = 0;
    for (std::size_t i = pos; i < pos + n; ++i) {
        if (!is_digit(s[i])) return false;
        v = v * 10 + (s[i] - '0');
    }
    out = v;
    return true;
}

constexpr bool is_leap_year(int y) noexcept { return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0); }

// Month is 1-12.
constexpr int days_in_month(int y, int m) noexcept {
    constexpr int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap_year(y) ? 29 : days[m - 1];
}

}  // namespace

// Checks the shape first (fixed positions, fraction, offset, nothing after it), then the range
// of each field, then the resulting instant; each failure has its own sentence.
ParsedTime parse_rfc3339(std::string_view text) noexcept {
    if (text.empty()) return refuse("time must not be empty");
    int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
    const bool date_time_shape =
        text.size() >= 19 && read_digits(text, 0, 4, year) && text[4] == '-' && read_digits(text, 5, 2, month) &&
        text[7] == '-' && read_digits(text, 8, 2, day) && (text[10] == 'T' || text[10] == 't' || text[10] == ' ') &&
        read_digits(text, 11, 2, hour) && text[13] == ':' && read_digits(text, 14, 2, minute) && text[16] == ':' &&
        read_digits(text, 17, 2, second);
    if (!date_time_shape) return refuse(shape_error);

    std::size_t pos = 19;
    std::int64_t micros = 0;
    if (pos < text.size() && text[pos] == '.') {
        const std::size_t start = ++pos;
        for (; pos < text.size() && is_digit(text[pos]); ++pos) {
            if (pos - start < 6) micros = micros * 10 + (text[pos] - '0');  // digits past 6 are truncated
        }
        const std::size_t digits = pos - start;
        if (digits == 0 || digits > 9) return refuse("fraction of a second must have 1 to 9 digits");
        for (std::size_t i = digits; i < 6; ++i) micros *= 10;
    }

    if (pos == text.size()) return refuse("time zone offset is required");
    int offset_sign = 0, offset_hours = 0, offset_minutes = 0;
    constexpr const char* offset_error = "time zone offset must be Z, +HH:MM, +HHMM or +HH (or with -)";
    if (text[pos] == 'Z' || text[pos] == 'z') {
        pos += 1;
    } else if (text[pos] == '+' || text[pos] == '-') {
        offset_sign = text[pos] == '-' ? -1 : 1;
        const std::size_t left = text.size() - pos - 1;  // after the sign
        if (left < 2 || !read_digits(text, pos + 1, 2, offset_hours)) return refuse(offset_error);
        if (left == 2) {  // +HH
            pos += 3;
        } else if (left >= 5 && text[pos + 3] == ':' && read_digits(text, pos + 4, 2, offset_minutes)) {  // +HH:MM
            pos += 6;
        } else if (left >= 4 && read_digits(text, pos + 3, 2, offset_minutes)) {  // +HHMM
            pos += 5;
        } else {
            return refuse(offset_error);
        }
    } else {
        return refuse(offset_error);
    }
    if (pos != text.size()) return refuse("time must end after the time zone offset");

    if (year < 1) return refuse("year must be 0001-9999");
    if (month < 1 || month > 12) return refuse("month must be 01-12");
    if (day < 1 || day > days_in_month(year, month)) return refuse("day is out of range for the month");
    if (hour > 23) return refuse("hour must be 00-23");
    if (minute > 59) return refuse("minute must be 00-59");
    if (second > 60) return refuse("second must be 00-60");
    if (offset_hours > 23) return refuse("time zone offset hours must be 00-23");
    if (offset_minutes > 59) return refuse("time zone offset minutes must be 00-59");
    if (second == 60) {  // leap second: the last microsecond of the minute, as it has no instant of its own
        second = 59;
        micros = 999999;
    }

    // At most about 3.2e11 seconds either way: no overflow in 64 bits.
    const std::int64_t days = days_from_civil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
    const std::int64_t offset_seconds = std::int64_t{offset_sign} * (offset_hours * 3600 + offset_minutes * 60);
    const std::int64_t seconds =
        days * 86400 + std::int64_t{hour} * 3600 + std::int64_t{minute} * 60 + second - offset_seconds;
    const std::int64_t unix_us = seconds * us_per_second + micros;
    if (unix_us < min_supported_unix_us || unix_us > max_supported_unix_us) return refuse(range_error);
    return accept(unix_us);
}

// Works on the shortest decimal form so that a client's "1.001" is 1001 us: multiplying the
// double (1.000999...) by 1000 and flooring would give 1000.
ParsedTime from_epoch_millis(double ms) noexcept {
    if (std::isnan(ms) || std::isinf(ms)) return refuse("time in epoch milliseconds must be a finite number");
    if (ms >= 1e9 && ms < 1e10)
        return refuse("time looks like epoch seconds: send epoch milliseconds (seconds x 1000)");
    if (ms >= 1e15 && ms < 1e18)
        return refuse("time looks like epoch microseconds: send epoch milliseconds (microseconds / 1000)");
    if (ms >= 1e18 && ms < 1e21)
        return refuse("time looks like epoch nanoseconds: send epoch milliseconds (nanoseconds / 1000000)");
    // Coarse bound first (the supported range is about -6.2e13..2.5e14 ms), so that the decimal
    // form below has at most 15 integer digits.
    if (ms < -1e14 || ms > 1e15) return refuse(range_error);

    // Fixed notation of a double below 1e15 is at most ~16 integer digits and ~340 fraction digits.
    char buffer[512];
    const std::to_chars_result printed = std::to_chars(buffer, buffer + sizeof buffer, ms, std::chars_format::fixed);
    if (printed.ec != std::errc()) return refuse(range_error);  // cannot happen given the bound above

    const char* p = buffer;
    const char* const end = printed.ptr;
    bool negative = false;
    if (p < end && *p == '-') {
        negative = true;
        ++p;
    }
    std::int64_t whole_ms = 0;
    for (; p < end && is_digit(*p); ++p) whole_ms = whole_ms * 10 + (*p - '0');
    std::int64_t fraction_us = 0;
    int fraction_digits = 0;
    bool below_a_microsecond = false;  // nonzero digits past the third decimal
    if (p < end && *p == '.') {
        for (++p; p < end && is_digit(*p); ++p) {
            if (fraction_digits < 3) {
                fraction_us = fraction_us * 10 + (*p - '0');
                ++fraction_digits;
            } else if (*p != '0') {
                below_a_microsecond = true;
            }
        }
    }
    for (; fraction_digits < 3; ++fraction_digits) fraction_us *= 10;

    std::int64_t unix_us = whole_ms * 1000 + fraction_us;
    if (negative) unix_us = -unix_us - (below_a_microsecond ? 1 : 0);  // toward negative infinity
    if (unix_us < min_supported_unix_us || unix_us > max_supported_unix_us) return refuse(range_error);
    return accept(unix_us);
}

}  // namespace telemetry

#include "core/base/no_postgres.hpp"
