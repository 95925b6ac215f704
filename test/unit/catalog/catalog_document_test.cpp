#include <gtest/gtest.h>

#include <string>

#include "core/catalog/catalog_document.hpp"

namespace telemetry {
namespace {

// The document form of DESIGN.md §3, as written there.
constexpr const char* design_example = R"({
  "events": [
    {
      "name": "conversation_started",
      "version": "1-0-0",
      "status": "active",
      "description": "User begins conversation",
      "sample_rate": 1,
      "max_bytes": 2048,
      "on_violation": "reject",
      "schema": {
        "type": "object",
        "required": ["scenarioId", "source"],
        "properties": {
          "scenarioId":   {"type": "string", "maxLength": 64},
          "scenarioSlug": {"type": "string"},
          "invitationId": {"type": "string", "x-pii": "hash"},
          "source":       {"type": "string", "enum": ["web", "ios", "android", "invitation"]}
        },
        "additionalProperties": false
      }
    }
  ]
})";

std::string refusal(const std::string& document) {
    const Error error = capture_errors([&] { parse_catalog_document(document); });
    EXPECT_TRUE(failed(error)) << document;
    return error.sqlstate + " " + error.message;
}

TEST(CatalogDocument, LoadsTheDesignExample) {
    const std::vector<EventTypeSpec> parsed = parse_catalog_document(design_example);
    ASSERT_EQ(parsed.size(), 1u);
    const EventTypeSpec& e = parsed[0];
    EXPECT_EQ(e.name, "conversation_started");
    EXPECT_EQ(e.version.str(), "1-0-0");
    EXPECT_EQ(e.status, EventStatus::active);
    EXPECT_EQ(e.description, "User begins conversation");
    EXPECT_EQ(e.sample_rate, 1.0);
    EXPECT_EQ(e.max_bytes, 2048);
    EXPECT_EQ(e.on_violation, ViolationPolicy::reject);
    EXPECT_NE(e.schema_json.find("\"required\":[\"scenarioId\",\"source\"]"), std::string::npos) << e.schema_json;
}

TEST(CatalogDocument, DefaultsForWhatIsLeftOut) {
    const std::vector<EventTypeSpec> parsed = parse_catalog_document(R"({"events": [{"name": "a"}]})");
    const EventTypeSpec& e = parsed.at(0);
    EXPECT_EQ(e.version, (SchemaVer{1, 0, 0}));
    EXPECT_EQ(e.status, EventStatus::active);
    EXPECT_EQ(e.sample_rate, 1.0);
    EXPECT_EQ(e.max_bytes, 2048);
    EXPECT_EQ(e.on_violation, ViolationPolicy::reject);
    EXPECT_EQ(e.schema_json, R"({"type":"object"})");
}

TEST(CatalogDocument, AnEmptyCatalogIsFine) {
    const std::vector<EventTypeSpec> parsed = parse_catalog_document(R"({"events": [], "description": "none yet"})");
    EXPECT_TRUE(parsed.empty());
}

TEST(CatalogDocument, ErrorsNameTheJsonPathAndTheRule) {
    EXPECT_EQ(refusal(R"([])"), "22023 catalog document: $: expected an object, found an array");
    EXPECT_EQ(refusal(R"({"events": [{"name": "a"}, {"name": "b", "sample_rte": 1}]})"),
              "22023 catalog document: $.events[1].sample_rte: unknown key (allowed: name, version, status, "
              "description, sample_rate, max_bytes, on_violation, schema)");
    EXPECT_EQ(refusal(R"({"events": [{"name": "a", "status": "on"}]})"),
              "22023 catalog document: $.events[0].status: status must be one of planned, active, deprecated, blocked");
    EXPECT_EQ(refusal(R"({"events": [{"name": "a"}, {"name": "a"}]})"),
              "22023 catalog document: $.events[1].name: event type is declared twice in this document");
}

TEST(CatalogDocument, ErrorsNeverEchoValues) {
    const std::string secret = "john.doe@example.com";
    for (const std::string& doc : {
             R"({"events": [{"name": ")" + secret + R"("}]})",
             R"({"events": [{"name": "a", "status": ")" + secret + R"("}]})",
             R"({"events": [{"name": "a", "version": ")" + secret + R"("}]})",
             R"({"events": [{"name": "a", "on_violation": ")" + secret + R"("}]})",
             R"({"events": [{"name": "a", "sample_rate": ")" + secret + R"("}]})",
         }) {
        EXPECT_EQ(refusal(doc).find(secret), std::string::npos) << doc;
    }
}

TEST(CatalogDocument, QuotesKeysThatAreNotIdentifiers) {
    EXPECT_EQ(refusal(R"({"events": [{"name": "a", "bad key\u0001": 1}]})"),
              "22023 catalog document: $.events[0][\"bad key\\u0001\"]: unknown key (allowed: name, version, status, "
              "description, sample_rate, max_bytes, on_violation, schema)");
}

TEST(CatalogDocument, NumbersAreChecked) {
    EXPECT_EQ(refusal(R"({"events": [{"name": "a", "sample_rate": 0}]})"),
              "22023 catalog document: $.events[0].sample_rate: sample_rate must be greater than 0 and at most 1");
    EXPECT_EQ(refusal(R"({"events": [{"name": "a", "sample_rate": 1e400}]})"),
              "22023 catalog document: $.events[0].sample_rate: number must be finite");
    EXPECT_EQ(refusal(R"({"events": [{"name": "a", "max_bytes": 1.5}]})"),
              "22023 catalog document: $.events[0].max_bytes: expected an integer");
    EXPECT_EQ(refusal(R"({"events": [{"name": "a", "max_bytes": 1}]})"),
              "22023 catalog document: $.events[0].max_bytes: max_bytes must be between 2 and 65536");
    const std::vector<EventTypeSpec> integral =
        parse_catalog_document(R"({"events": [{"name": "a", "max_bytes": 4096.0}]})");
    EXPECT_EQ(integral[0].max_bytes, 4096);
}

TEST(CatalogDocument, MalformedAndHostileInput) {
    EXPECT_EQ(refusal("{\"events\": ["), "22P02 catalog document is not valid JSON");
    EXPECT_EQ(refusal("{\"events\": []} trailing"), "22P02 catalog document is not valid JSON");
    EXPECT_EQ(refusal(std::string(1000, '[') + std::string(1000, ']')),
              "54000 catalog document is nested deeper than 32 levels");
    EXPECT_EQ(refusal(std::string(100000, '[')), "54000 catalog document is nested deeper than 32 levels");
    EXPECT_EQ(refusal(std::string(max_catalog_document_bytes + 1, ' ')),
              "54000 catalog document is larger than 4194304 bytes");
    EXPECT_EQ(refusal("{\"events\": [{\"name\": \"a\xff\"}]}"), "22P02 catalog document is not valid JSON");
}

TEST(SchemaVer, ParsesAndRefuses) {
    EXPECT_EQ(parse_schema_ver("1-0-0"), (SchemaVer{1, 0, 0}));
    EXPECT_EQ(parse_schema_ver("12-3-45"), (SchemaVer{12, 3, 45}));
    for (const char* bad : {"", "1", "1-0", "1-0-0-0", "0-1-0", "01-0-0", "1-00-0", "1.0.0", "-1-0-0", "1-0-", "a-b-c",
                            "1-0-0 ", "1234567890-0-0"}) {
        EXPECT_FALSE(parse_schema_ver(bad).has_value()) << bad;
    }
    EXPECT_TRUE((SchemaVer{1, 2, 3}) < (SchemaVer{2, 0, 0}));
    EXPECT_TRUE((SchemaVer{1, 2, 3}) < (SchemaVer{1, 3, 0}));
}

TEST(SchemaVer, WritesItsText) {
    EXPECT_EQ((SchemaVer{12, 3, 45}).str(), "12-3-45");
    const SchemaVer widest{4294967295u, 4294967295u, 4294967295u};
    char text[SchemaVer::max_text];
    EXPECT_EQ(std::string(text, widest.write(text)), "4294967295-4294967295-4294967295");
    EXPECT_EQ(widest.str().size(), SchemaVer::max_text);
}

TEST(Catalog, FindsByName) {
    const std::vector<EventTypeSpec> parsed = parse_catalog_document(design_example);
    const Catalog catalog(parsed);
    ASSERT_NE(catalog.find("conversation_started"), nullptr);
    EXPECT_EQ(catalog.find("conversation_started")->max_bytes, 2048);
    EXPECT_EQ(catalog.find("conversation_ended"), nullptr);
    EXPECT_EQ(catalog.size(), 1u);
}

}  // namespace
}  // namespace telemetry
