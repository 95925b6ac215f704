// scan_json(): detection over a document (core/pii/scan_json): JSON Pointers with RFC 6901
// escaping, keys and values, numbers as digits, one row per path and detector, the version-key
// rule, and the work budget.
#include "core/pii/scan_json.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "catalog/schema_fixture.hpp"

namespace telemetry {
namespace {

using pii::Detector;

struct ScanJson : SchemaFixture {
    std::vector<std::string> rows(const std::string& text, const pii::ScanBudget& budget = pii::ScanBudget{}) {
        std::vector<std::string> out;
        const pii::JsonScan scan = pii::scan_json(doc(text), budget);
        for (const auto& f : scan.findings) out.push_back(f.path + " " + std::string(pii::detector_name(f.detector)));
        if (!scan.complete) out.push_back(scan.stopped_at + " incomplete");
        return out;
    }
};

TEST_F(ScanJson, NestedValuesAndArraysByPointer) {
    EXPECT_EQ(rows(R"({"a": {"b": ["x", "mail jane@example.com"]}})"), (std::vector<std::string>{"/a/b/1 email"}));
}

TEST_F(ScanJson, PointerTokensAreEscaped) {
    EXPECT_EQ(rows(R"({"a/b": {"c~d": "jane@example.com"}})"), (std::vector<std::string>{"/a~1b/c~0d email"}));
}

TEST_F(ScanJson, TheRootIsTheEmptyPointer) {
    EXPECT_EQ(rows(R"("jane@example.com")"), (std::vector<std::string>{" email"}));
}

TEST_F(ScanJson, KeyNamesAreReportedAtTheirMember) {
    EXPECT_EQ(rows(R"({"password": "x", "inputTokens": 1200, "user": {"firstName": "J"}})"),
              (std::vector<std::string>{"/password password", "/user/firstName person_name"}));
}

TEST_F(ScanJson, OneRowPerPathAndDetector) {
    // The key and the value both say email; two addresses in one value: one row.
    EXPECT_EQ(rows(R"({"email": "a@example.com, b@example.org"})"), (std::vector<std::string>{"/email email"}));
}

TEST_F(ScanJson, IntegralNumbersAreScannedAsDigits) {
    EXPECT_EQ(rows(R"({"n": 4111111111111111})"), (std::vector<std::string>{"/n payment_card"}));
    EXPECT_TRUE(rows(R"({"n": 4111111111111111.5, "m": -4111111111111111})").empty());
}

TEST_F(ScanJson, ADottedQuadUnderAVersionKeyIsNotAnAddress) {
    EXPECT_TRUE(rows(R"({"appVersion": "10.2.3.4", "os_version": ["10.0.0.1"]})").empty());
    EXPECT_EQ(rows(R"({"forwardedFor": "10.2.3.4"})"), (std::vector<std::string>{"/forwardedFor ip_address"}));
}

TEST_F(ScanJson, TheBudgetStopsTheScanAndSaysWhere) {
    pii::ScanBudget budget;
    budget.max_strings = 3;
    EXPECT_EQ(rows(R"(["a", "b", "c", "jane@example.com", "e"])", budget), (std::vector<std::string>{"/3 incomplete"}));
    budget = pii::ScanBudget{};
    budget.max_bytes = 10;
    EXPECT_EQ(rows(R"({"k": "jane@example.com"})", budget), (std::vector<std::string>{"/k incomplete"}));
}

TEST_F(ScanJson, NothingInPlainAnalyticsPayloads) {
    EXPECT_TRUE(rows(R"({"scenarioSlug": "salary-negotiation", "model": "gpt-4o-mini", "inputTokens": 1520,
                         "outputTokens": 340, "latencyMs": 1200, "reason": "completed", "durationMs": 371000,
                         "messageCount": 12, "appVersion": "2.14.1", "sentAt": 1700000000000})")
                    .empty());
}

TEST_F(ScanJson, AKeyThatShowsPersonalDataIsRedactedInThePointer) {
    EXPECT_EQ(rows(R"({"jane@example.com": {"visits": 3, "phone": "+44 20 7946 0958"}})"),
              (std::vector<std::string>{"/~redacted email", "/~redacted/phone phone"}));
}

TEST_F(ScanJson, OnlyTheWordVersionMarksAVersionKey) {
    EXPECT_TRUE(rows(R"({"VERSION": "10.2.3.4", "app_version": "10.2.3.4", "osVersion": "10.2.3.4"})").empty());
    EXPECT_EQ(rows(R"({"conversionSource": "10.2.3.4"})"), (std::vector<std::string>{"/conversionSource ip_address"}));
}

TEST_F(ScanJson, AContainerTooDeepToReadMakesTheScanIncomplete) {
    std::string deep;
    for (int i = 0; i < 200; ++i) deep += "[";
    deep += "\"jane@example.com\"";
    for (int i = 0; i < 200; ++i) deep += "]";
    const std::vector<std::string> found = rows(R"({"a": )" + deep + "}");
    ASSERT_FALSE(found.empty());
    EXPECT_NE(found.back().find("incomplete"), std::string::npos);
}

}  // namespace
}  // namespace telemetry
