// The write-path check (core/ingest/written_row.hpp): rows written outside track() get the
// same x-pii rewriting, undeclared-PII policy and size limit as decide() applies, and a second
// pass over a stored row changes nothing.
#include <gtest/gtest.h>

#include <string>

#include "core/catalog/catalog_document.hpp"
#include "core/ingest/decide.hpp"
#include "core/ingest/written_row.hpp"
#include "core/json/json_text.hpp"

namespace telemetry {
namespace {

constexpr std::int64_t now_us = 1795248000LL * 1000000;  // 2026-11-21T08:00:00Z

struct WrittenRowTest : ::testing::Test {
    HeapChunks chunks;
    Arena arena{chunks.source()};
    std::unique_ptr<Catalog> catalog;
    IngestSettings settings;
    TenantPiiPolicy policy;

    void SetUp() override {
        catalog = std::make_unique<Catalog>(parse_catalog_document(R"({"events": [
          {"name": "signup", "max_bytes": 200, "schema": {"properties": {"plan": {"type": "string"},
            "email": {"type": "string", "x-pii": "hash"}, "ua": {"x-pii": "redact"}, "card": {"x-pii": "reject"},
            "ip": {"x-pii": "drop"}}}}]})"));
        settings.now_us = now_us;
        settings.retention_us = 90 * 86400000000LL;
        settings.future_tolerance_us = 300 * 1000000LL;
        settings.tenant_id = "tenant-0000000001";
        settings.pii_master_key = "master";
        settings.pii_policy = &policy;
    }

    const JsonValue* json(const std::string& text) {
        auto* v = arena.allocate_array<JsonValue>(1);
        new (v) JsonValue(parse_json_text(arena.copy(text), max_property_depth, arena).root);
        return v;
    }
    static std::string text(const JsonValue* v) {
        std::string out;
        append_canonical(*v, out);
        return out;
    }
    RowCheck check(const std::string& name, const std::string& properties,
                   std::optional<std::string_view> user_id = std::nullopt) {
        WrittenRow row;
        row.name = name;
        row.properties = json(properties);
        row.user_id = user_id;
        return check_written_row(*catalog, settings, row, arena);
    }
};

TEST_F(WrittenRowTest, SameStoredRowAsTrack) {
    const std::string properties =
        R"({"plan": "pro", "email": "jane@example.com", "ua": "Mozilla", "ip": "10.0.0.1", "note": "call +1 415 555 2671"})";
    IncomingEvent in;
    in.name = "signup";
    in.properties = json(properties);
    in.user_id = "jane@example.com";
    in.event_id = Uuid{};
    const IngestDecision d = decide(*catalog, settings, in, arena);
    ASSERT_EQ(d.status, IngestStatus::accepted) << d.reason;
    const RowCheck c = check("signup", properties, std::string_view("jane@example.com"));
    ASSERT_FALSE(c.refused) << c.reason;
    EXPECT_EQ(text(c.properties), text(d.properties));
    EXPECT_EQ(*c.user_id, *d.user_id);
    EXPECT_EQ(c.flags, d.flags);
    EXPECT_EQ(c.flags, event_flag::pii_rewritten | event_flag::pii_detected | event_flag::user_id_hashed);
}

TEST_F(WrittenRowTest, ASecondPassChangesNothing) {
    const RowCheck first =
        check("signup", R"({"email": "jane@example.com", "ua": "Mozilla", "note": "jane@example.com"})",
              std::string_view("jane@example.com"));
    ASSERT_FALSE(first.refused);
    const RowCheck second = check("signup", text(first.properties), *first.user_id);
    ASSERT_FALSE(second.refused);
    EXPECT_EQ(text(second.properties), text(first.properties));
    EXPECT_FALSE(second.properties_rewritten);
    EXPECT_FALSE(second.ids_rewritten);
    EXPECT_EQ(second.flags, 0);
}

TEST_F(WrittenRowTest, RefusalsNameTheRuleNeverTheValue) {
    RowCheck c = check("signup", R"({"card": "4111 1111 1111 1111"})");
    EXPECT_TRUE(c.refused);
    EXPECT_STREQ(c.sqlstate, "23514");
    EXPECT_EQ(c.reason.find("4111"), std::string_view::npos);
    c = check("signup", R"([1])");
    EXPECT_STREQ(c.sqlstate, "22023");
    // A name the writer made up is not echoed unless it follows the naming rule.
    c = check("jane@example.com", R"([1])");
    EXPECT_EQ(c.reason, "an event whose name breaks the naming rule: properties must be a JSON object, found an array");
    policy.all_types = UndeclaredPii::reject;
    c = check("signup", R"({"note": "jane@example.com"})");
    EXPECT_STREQ(c.sqlstate, "23514");
    EXPECT_EQ(
        c.reason,
        R"(event "signup": $.note: personal data (email) where the catalog declares none, refused by the tenant's policy)");
}

TEST_F(WrittenRowTest, SizeIsMeasuredOnWhatIsStoredAtTheBoundary) {
    // {"plan":"<n x>"} is 11 + n bytes.
    EXPECT_FALSE(check("signup", R"({"plan": ")" + std::string(189, 'x') + R"("})").refused);
    const RowCheck over = check("signup", R"({"plan": ")" + std::string(190, 'x') + R"("})");
    EXPECT_STREQ(over.sqlstate, "54000");
    // Unknown types: the default limit, and everything undeclared.
    EXPECT_FALSE(check("retired", R"({"s": ")" + std::string(2040, 'x') + R"("})").refused);
    EXPECT_STREQ(check("retired", R"({"s": ")" + std::string(2041, 'x') + R"("})").sqlstate, "54000");
    const RowCheck unknown = check("retired", R"({"s": "jane@example.com"})");
    EXPECT_EQ(text(unknown.properties), R"({"s":"[redacted:email]"})");
}

}  // namespace
}  // namespace telemetry
