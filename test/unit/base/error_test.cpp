#include <gtest/gtest.h>

#include <new>
#include <stdexcept>

#include "core/base/error.hpp"
#include "core/base/uuid.hpp"
#include "core/json/json_path.hpp"

namespace telemetry {
namespace {

TEST(CaptureErrors, SuccessIsAnEmptySqlstate) {
    const Error e = capture_errors([] {});
    EXPECT_FALSE(failed(e));
}

TEST(CaptureErrors, MapsEachKindOfException) {
    Error domain = capture_errors([] { throw DomainError(sqlstate::check_violation, "rule", "detail", "hint"); });
    EXPECT_EQ(domain.sqlstate, "23514");
    EXPECT_EQ(domain.message, "rule");
    EXPECT_EQ(domain.detail, "detail");
    EXPECT_EQ(domain.hint, "hint");

    const Error oom = capture_errors([] { throw std::bad_alloc(); });
    EXPECT_EQ(oom.sqlstate, "53200");
    EXPECT_EQ(oom.message, "out of memory");

    const Error runtime = capture_errors([] { throw std::runtime_error("boom"); });
    EXPECT_EQ(runtime.sqlstate, "XX000");
    EXPECT_EQ(runtime.message, "boom");

    const Error other = capture_errors([] { throw 7; });
    EXPECT_EQ(other.sqlstate, "XX000");
    EXPECT_EQ(other.message, "unknown C++ exception");
}

TEST(JsonPath, BuildsReadablePaths) {
    const JsonPath root;
    EXPECT_EQ(root.str(), "$");
    EXPECT_EQ(root.key("events").index(3).key("schema").str(), "$.events[3].schema");
    EXPECT_EQ(root.key("user email").str(), "$[\"user email\"]");
    EXPECT_EQ(root.key("").str(), "$[\"\"]");
    EXPECT_EQ(root.key("q\"uote").str(), "$[\"q\\\"uote\"]");
    const std::string long_key(200, 'k');
    EXPECT_EQ(root.key(long_key + " ").str(), "$[\"" + std::string(64, 'k') + "...\"]");
}

TEST(Uuid, Version7Layout) {
    const std::uint8_t random[10] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    const Uuid u = make_uuid_v7(0x0123456789ab, random);
    EXPECT_EQ(u[0], 0x01);
    EXPECT_EQ(u[5], 0xab);
    EXPECT_EQ(u[6] >> 4, 7);     // version
    EXPECT_EQ(u[8] >> 6, 0b10);  // RFC 9562 variant
    EXPECT_EQ(u[15], 0xff);
    // Later milliseconds sort later, whatever the random bits.
    const std::uint8_t zeros[10] = {};
    EXPECT_LT(make_uuid_v7(1000, random), make_uuid_v7(1001, zeros));
}

TEST(PathStep, SpellsTheSamePathAsJsonPath) {
    const PathStep root;
    EXPECT_EQ(root.str(), "$");
    const PathStep events = root.key("events");
    const PathStep third = events.index(3);
    const PathStep odd = third.key("user email");
    EXPECT_EQ(odd.str(), JsonPath().key("events").index(3).key("user email").str());
    EXPECT_EQ(odd.str(), "$.events[3][\"user email\"]");
    EXPECT_EQ(third.key("name").str(), "$.events[3].name");
}

// A cut inside a UTF-8 sequence would store invalid text (a quarantine row whose dump does not
// restore): long keys are cut on a character boundary.
TEST(JsonPath, LongKeysAreCutOnACharacterBoundary) {
    std::string euros;
    for (int i = 0; i < 40; ++i) euros += "\xe2\x82\xac";  // U+20AC, three bytes
    std::string twenty;
    for (int i = 0; i < 20; ++i) twenty += "\xe2\x82\xac";
    EXPECT_EQ(JsonPath().key("xy" + euros).str(), "$[\"xy" + twenty + "...\"]");  // 62 bytes: a 21st would end at 65
    EXPECT_EQ(JsonPath().key(std::string(64, 'a') + "-").str(), "$[\"" + std::string(64, 'a') + "...\"]");
    EXPECT_EQ(utf8_prefix("abc", 10), 3u);
    EXPECT_EQ(utf8_prefix("a\xc3\xa9", 2), 1u);
    EXPECT_EQ(utf8_prefix("a\xc3\xa9", 3), 3u);
    EXPECT_EQ(utf8_prefix("\xf0\x9f\x98\x80", 3), 0u);
}

}  // namespace
}  // namespace telemetry
