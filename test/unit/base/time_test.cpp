#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>

#include "core/base/time.hpp"

namespace telemetry {
namespace {

// Expected instants below were computed with Python's datetime.

std::int64_t parsed(const char* text) {
    const ParsedTime t = parse_rfc3339(text);
    EXPECT_TRUE(t.ok) << text << ": " << (t.error ? t.error : "");
    EXPECT_EQ(t.error, nullptr) << text;
    return t.unix_us;
}

std::string refusal(std::string_view text) {
    const ParsedTime t = parse_rfc3339(text);
    EXPECT_FALSE(t.ok) << text;
    EXPECT_EQ(t.unix_us, 0) << text;
    return t.error ? t.error : "(null)";
}

TEST(ParseRfc3339, KnownInstants) {
    EXPECT_EQ(parsed("1970-01-01T00:00:00Z"), 0);
    EXPECT_EQ(parsed("2026-11-21T10:00:00Z"), 1795255200000000);
    EXPECT_EQ(parsed("2026-11-21T10:00:00+00:00"), 1795255200000000);
    EXPECT_EQ(parsed("2026-11-21T10:00:00-00:00"), 1795255200000000);
    EXPECT_EQ(parsed("2000-02-29T12:00:00.5+01:00"), 951822000500000);
    EXPECT_EQ(parsed("2026-11-21T10:00:00-05:30"), 1795275000000000);
    EXPECT_EQ(parsed("2026-11-21T15:30:00+05:30"), 1795255200000000);
    EXPECT_EQ(parsed("1969-12-31T23:59:59.999999Z"), -1);
    EXPECT_EQ(parsed("2024-02-29T00:00:00Z"), 1709164800000000);
    EXPECT_EQ(parsed("1900-03-01T00:00:00Z"), -2203891200000000);
}

TEST(ParseRfc3339, SupportedRangeEnds) {
    EXPECT_EQ(parsed("0001-01-01T00:00:00Z"), min_supported_unix_us);
    EXPECT_EQ(parsed("9999-12-31T23:59:59.999999Z"), max_supported_unix_us);
    EXPECT_EQ(parsed("9999-12-31T23:59:60Z"), max_supported_unix_us);
}

TEST(ParseRfc3339, LeapSecondIsTheLastMicrosecondOfTheMinute) {
    EXPECT_EQ(parsed("1999-12-31T23:59:60Z"), 946684799999999);
    EXPECT_EQ(parsed("1999-12-31T23:59:60.5Z"), 946684799999999);
}

TEST(ParseRfc3339, FractionIsTruncatedToTheMicrosecond) {
    EXPECT_EQ(parsed("2026-11-21T10:00:00.1Z"), 1795255200100000);
    EXPECT_EQ(parsed("2026-11-21T10:00:00.123456Z"), 1795255200123456);
    EXPECT_EQ(parsed("2026-11-21T10:00:00.123456789Z"), 1795255200123456);
    EXPECT_EQ(parsed("2026-11-21T10:00:00.999999999Z"), 1795255200999999);  // not rounded into :01
    EXPECT_EQ(parsed("1969-12-31T23:59:59.9999999Z"), -1);
}

// The ISO 8601 offset spellings SDKs emit besides RFC 3339's.
TEST(ParseRfc3339, Iso8601OffsetSpellings) {
    EXPECT_EQ(parsed("2026-11-21T10:00:00+0000"), 1795255200000000);
    EXPECT_EQ(parsed("2026-11-21T10:00:00+00"), 1795255200000000);
    EXPECT_EQ(parsed("2026-11-21T10:00:00.000-0000"), 1795255200000000);
    EXPECT_EQ(parsed("2026-11-21T15:30:00+0530"), 1795255200000000);
    EXPECT_EQ(parsed("2026-11-21T05:00:00-05"), 1795255200000000);
    EXPECT_EQ(parsed("2026-11-21T10:00:00z"), 1795255200000000);
}

TEST(ParseRfc3339, LowerCaseAndSpaceSeparators) {
    EXPECT_EQ(parsed("2026-11-21t10:00:00z"), 1795255200000000);
    EXPECT_EQ(parsed("2026-11-21 10:00:00Z"), 1795255200000000);
    EXPECT_EQ(parsed("2026-11-21 10:00:00.5+01:00"), 1795251600500000);
}

TEST(ParseRfc3339, RefusesEachBrokenRule) {
    EXPECT_EQ(refusal("2026-11-21T10:00:00"), "time zone offset is required");
    EXPECT_EQ(refusal("2026-11-21T10:00:00.25"), "time zone offset is required");
    EXPECT_EQ(refusal("2026-13-21T10:00:00Z"), "month must be 01-12");
    EXPECT_EQ(refusal("2026-00-21T10:00:00Z"), "month must be 01-12");
    EXPECT_EQ(refusal("2026-02-30T10:00:00Z"), "day is out of range for the month");
    EXPECT_EQ(refusal("2023-02-29T10:00:00Z"), "day is out of range for the month");
    EXPECT_EQ(refusal("1900-02-29T10:00:00Z"), "day is out of range for the month");
    EXPECT_EQ(refusal("2026-04-31T10:00:00Z"), "day is out of range for the month");
    EXPECT_EQ(refusal("2026-11-00T10:00:00Z"), "day is out of range for the month");
    EXPECT_EQ(refusal("2026-11-21T24:00:00Z"), "hour must be 00-23");
    EXPECT_EQ(refusal("2026-11-21T10:60:00Z"), "minute must be 00-59");
    EXPECT_EQ(refusal("2026-11-21T10:00:61Z"), "second must be 00-60");
    EXPECT_EQ(refusal("2026-11-21T10:00:00+24:00"), "time zone offset hours must be 00-23");
    EXPECT_EQ(refusal("2026-11-21T10:00:00+01:60"), "time zone offset minutes must be 00-59");
    EXPECT_EQ(refusal("0000-01-01T00:00:00Z"), "year must be 0001-9999");
    EXPECT_EQ(refusal("2026-11-21T10:00:00Zjunk"), "time must end after the time zone offset");
    EXPECT_EQ(refusal("2026-11-21T10:00:00+01:00 "), "time must end after the time zone offset");
    EXPECT_EQ(refusal(""), "time must not be empty");
    EXPECT_EQ(refusal("2026-11-21T10:00:00.1234567890Z"), "fraction of a second must have 1 to 9 digits");
    EXPECT_EQ(refusal("2026-11-21T10:00:00.Z"), "fraction of a second must have 1 to 9 digits");
    const std::string offset = "time zone offset must be Z, +HH:MM, +HHMM or +HH (or with -)";
    EXPECT_EQ(refusal("2026-11-21T10:00:00+1"), offset);
    EXPECT_EQ(refusal("2026-11-21T10:00:00+01:0"), offset);
    EXPECT_EQ(refusal("2026-11-21T10:00:00+010"), offset);
    EXPECT_EQ(refusal("2026-11-21T10:00:00 UTC"), offset);
    EXPECT_EQ(refusal("2026-11-21T10:00:00+01000"), "time must end after the time zone offset");
    EXPECT_EQ(refusal("2026-11-21T10:00:00+2400"), "time zone offset hours must be 00-23");
}

TEST(ParseRfc3339, RefusesWhatIsNotTheShape) {
    const std::string shape = "time must be an RFC 3339 timestamp such as 2026-11-21T10:00:00Z";
    for (const char* text :
         {"2026-11-21T10:00Z", "2026-11-21T10:00+01:00", "2026-11-21", "2026-11-21T", "now", "26-11-21T10:00:00Z",
          "2026-1-21T10:00:00Z", "2026/11/21T10:00:00Z", "2026-11-21_10:00:00Z", "2026-11-21  10:00:00Z",
          "+2026-11-21T10:00:00Z", "20261121T100000Z", "2026-11-21T10:00:0aZ", "１２３４-11-21T10:00:00Z"}) {
        EXPECT_EQ(refusal(text), shape) << text;
    }
    EXPECT_EQ(refusal(std::string("2026-11-21T10:00:00\0Z", 21)),
              "time zone offset must be Z, +HH:MM, +HHMM or +HH (or with -)");
}

// Offsets may carry an instant just outside the supported years.
TEST(ParseRfc3339, TheInstantMustBeInTheSupportedYears) {
    EXPECT_EQ(refusal("0001-01-01T00:00:00+00:01"), "time must fall within the years 0001-9999 (UTC)");
    EXPECT_EQ(refusal("9999-12-31T23:59:59-00:01"), "time must fall within the years 0001-9999 (UTC)");
    EXPECT_EQ(parsed("0001-01-01T00:01:00+00:01"), min_supported_unix_us);
}

TEST(ParseRfc3339, ErrorsNeverEchoTheInput) {
    for (const char* text : {"2026-11-21T10:00:00", "2026-13-21T10:00:00Z", "2026-11-21T10:00:00Zjohn@example.com",
                             "john@example.com", "2026-11-21T10:00:00 john"}) {
        const std::string error = refusal(text);
        EXPECT_EQ(error.find("john"), std::string::npos) << error;
        EXPECT_EQ(error.find("2026-13"), std::string::npos) << error;
    }
}

TEST(FromEpochMillis, Values) {
    EXPECT_EQ(from_epoch_millis(0).unix_us, 0);
    EXPECT_TRUE(from_epoch_millis(0).ok);
    EXPECT_EQ(from_epoch_millis(0).error, nullptr);
    EXPECT_EQ(from_epoch_millis(-0.0).unix_us, 0);
    EXPECT_EQ(from_epoch_millis(1.5).unix_us, 1500);
    EXPECT_EQ(from_epoch_millis(1795255200000.0).unix_us, 1795255200000000);
    EXPECT_EQ(from_epoch_millis(-1.5).unix_us, -1500);
}

// The shortest decimal form of the double is truncated toward negative infinity.
TEST(FromEpochMillis, KeepsMicrosecondsAndTruncatesTowardNegativeInfinity) {
    EXPECT_EQ(from_epoch_millis(1.001).unix_us, 1001);  // 1.001 * 1000.0 is 1000.9999999999999
    EXPECT_EQ(from_epoch_millis(1.0019).unix_us, 1001);
    EXPECT_EQ(from_epoch_millis(-1.001).unix_us, -1001);
    EXPECT_EQ(from_epoch_millis(-1.0019).unix_us, -1002);
    EXPECT_EQ(from_epoch_millis(0.0004).unix_us, 0);
    EXPECT_EQ(from_epoch_millis(-0.0004).unix_us, -1);
    EXPECT_EQ(from_epoch_millis(1e-300).unix_us, 0);
    EXPECT_EQ(from_epoch_millis(-1e-300).unix_us, -1);
    EXPECT_EQ(from_epoch_millis(1795255200123.456).unix_us, 1795255200123456);
    EXPECT_EQ(from_epoch_millis(1795255200123.4567).unix_us, 1795255200123456);
}

TEST(FromEpochMillis, RefusesNonFiniteAndOutOfRange) {
    const std::string finite = "time in epoch milliseconds must be a finite number";
    const std::string range = "time must fall within the years 0001-9999 (UTC)";
    for (double bad : {std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::infinity(),
                       -std::numeric_limits<double>::infinity()}) {
        const ParsedTime t = from_epoch_millis(bad);
        EXPECT_FALSE(t.ok);
        EXPECT_EQ(t.unix_us, 0);
        EXPECT_EQ(std::string(t.error), finite);
    }
    for (double bad : {1e300, -1e300, 1e14 * 9, 253402300800000.0, -62135596800000.01, -62135596801000.0,
                       std::numeric_limits<double>::max(), std::numeric_limits<double>::lowest()}) {
        const ParsedTime t = from_epoch_millis(bad);
        EXPECT_FALSE(t.ok) << bad;
        EXPECT_EQ(t.unix_us, 0);
        EXPECT_EQ(std::string(t.error), range) << bad;
    }
}

// A number plainly in another unit says so, rather than landing in 1970 or the year 50000.
TEST(FromEpochMillis, OtherUnitsAreNamed) {
    EXPECT_EQ(std::string(from_epoch_millis(1795255200.0).error),
              "time looks like epoch seconds: send epoch milliseconds (seconds x 1000)");
    EXPECT_EQ(std::string(from_epoch_millis(1795255200.5).error),
              "time looks like epoch seconds: send epoch milliseconds (seconds x 1000)");
    EXPECT_EQ(std::string(from_epoch_millis(1795255200000000.0).error),
              "time looks like epoch microseconds: send epoch milliseconds (microseconds / 1000)");
    EXPECT_EQ(std::string(from_epoch_millis(1795255200000000000.0).error),
              "time looks like epoch nanoseconds: send epoch milliseconds (nanoseconds / 1000000)");
    EXPECT_TRUE(from_epoch_millis(999999999.0).ok);    // 1970-01-12, old but milliseconds
    EXPECT_TRUE(from_epoch_millis(10000000000.0).ok);  // 1970-04-26
}

TEST(FromEpochMillis, SupportedRangeEnds) {
    EXPECT_EQ(from_epoch_millis(-62135596800000.0).unix_us, min_supported_unix_us);
    EXPECT_EQ(from_epoch_millis(253402300799999.0).unix_us, max_supported_unix_us - 999);
    EXPECT_EQ(from_epoch_millis(253402300799999.9).unix_us, max_supported_unix_us - 99);
    EXPECT_FALSE(from_epoch_millis(253402300799999.99).ok);  // the nearest double is 253402300800000
}

}  // namespace
}  // namespace telemetry
