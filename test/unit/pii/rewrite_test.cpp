// x-pii rewriting of stored properties (hash, redact, drop), keyed hashing, and the members
// on_violation and additionalProperties "omit" leave out.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "catalog/schema_fixture.hpp"
#include "core/pii/rewrite.hpp"

namespace telemetry {
namespace {

struct RewriteTest : SchemaFixture {
    std::vector<std::string> last_pii_paths;  // of the last rewrite()
    std::string rewrite(const std::string& schema, const std::string& properties, std::vector<std::string> omit = {},
                        std::vector<std::string_view> rewritten_before = {}) {
        const auto compiled = compile(schema);
        const JsonValue input = doc(properties);
        const PiiHashKey key{"test master key", "0123456789abcdef"};
        const PathList before{rewritten_before.data(), rewritten_before.size()};
        const Rewritten rewritten = rewrite_properties(*compiled, input, omit, key, arena, before, true);
        last_pii_paths = rewritten.pii_rewritten_paths;
        const JsonValue* out = rewritten.value;
        std::string text;
        append_canonical(*out, text);
        return (out == &input ? "same " : "changed ") + text;
    }
};

TEST_F(RewriteTest, RewriteHashRedactDrop) {
    const std::string s = R"({"properties": {"uid": {"x-pii": "hash"}, "ua": {"x-pii": "redact"},
        "ip": {"x-pii": "drop"}, "keep": {"x-pii": "allow"}, "n": {"x-pii": "hash"}}})";
    EXPECT_EQ(rewrite(s, R"({"keep": 1})"), "same {\"keep\":1}");
    const std::string out =
        rewrite(s, R"({"uid": "user-42", "ua": "Mozilla/5.0", "ip": "10.0.0.1", "keep": "x", "n": 42})");
    EXPECT_EQ(out.substr(0, 8), "changed ");
    EXPECT_NE(out.find("\"ua\":\"[redacted]\""), std::string::npos) << out;
    EXPECT_EQ(out.find("10.0.0.1"), std::string::npos) << out;
    EXPECT_EQ(out.find("user-42"), std::string::npos) << out;
    EXPECT_NE(out.find("\"uid\":\"h1:"), std::string::npos) << out;
    EXPECT_NE(out.find("\"n\":\"h1:"), std::string::npos) << out;
}

TEST_F(RewriteTest, HashingIsKeyedPerTenantAndIdempotent) {
    HeapChunks c;
    Arena a{c.source()};
    JsonValue v;
    v.kind = JsonKind::string;
    v.string = "user@example.com";
    const PiiHashKey tenant_a{"master", "aaaaaaaaaaaaaaaa"};
    const PiiHashKey tenant_b{"master", "bbbbbbbbbbbbbbbb"};
    const PiiHashKey other_key{"another master", "aaaaaaaaaaaaaaaa"};
    const std::string h = pii_hash(tenant_a, v);
    EXPECT_TRUE(is_pii_hash(h));
    EXPECT_EQ(h.size(), 25u);
    EXPECT_EQ(h, pii_hash(tenant_a, v));  // linkable within a tenant
    EXPECT_NE(h, pii_hash(tenant_b, v));  // not across tenants
    EXPECT_NE(h, pii_hash(other_key, v));
    JsonValue number;
    number.kind = JsonKind::number;
    JsonNumber n;
    ASSERT_TRUE(parse_json_number("1", a, n));
    number.number = &n;
    JsonValue one_string;
    one_string.kind = JsonKind::string;
    one_string.string = "1";
    EXPECT_NE(pii_hash(tenant_a, number), pii_hash(tenant_a, one_string));
    // Properties rewritten before (a quarantined event replayed): a hash is not hashed twice
    // where it was made, and the paths of what was rewritten are given back for the row.
    const std::string s = R"({"properties": {"uid": {"x-pii": "hash"}, "note": {"x-pii": "redact"},
        "people": {"items": {"properties": {"mail": {"x-pii": "hash"}}}}, "a/b~c": {"x-pii": "hash"}}})";
    EXPECT_EQ(rewrite(s, "{\"uid\": \"" + h + "\"}", {}, {"/uid"}), "same {\"uid\":\"" + h + "\"}");
    EXPECT_EQ(last_pii_paths, std::vector<std::string>{"/uid"});
    EXPECT_EQ(rewrite(s, R"({"uid": "[redacted]"})", {}, {"/uid"}).substr(0, 7), "changed");
    EXPECT_EQ(rewrite(s, R"({"note": "[redacted]"})", {}, {"/note"}), R"(same {"note":"[redacted]"})");
    // A value shaped like a hash where nothing was hashed (stored before its property was tagged,
    // or sent by the client there) is hashed now.
    EXPECT_EQ(rewrite(s, "{\"uid\": \"" + h + "\", \"note\": \"[redacted]\"}", {}, {"/note"}).find(h),
              std::string::npos);
    const std::string nested =
        rewrite(s, "{\"people\": [{\"mail\": \"" + h + "\"}, {\"mail\": \"" + h + "\"}], \"a/b~c\": \"" + h + "\"}", {},
                {"/people/1/mail", "/a~1b~0c"});
    EXPECT_EQ(last_pii_paths, (std::vector<std::string>{"/people/0/mail", "/people/1/mail", "/a~1b~0c"}));
    EXPECT_EQ(nested.find("[{\"mail\":\"" + h + "\"}"), std::string::npos) << nested;  // the first was not trusted
    EXPECT_NE(nested.find("{\"mail\":\"" + h + "\"}]"), std::string::npos) << nested;  // the second was
    EXPECT_NE(nested.find("\"a/b~c\":\"" + h + "\""), std::string::npos) << nested;
    // From a client, a value shaped like a hash is hashed like any other: short plaintext, or
    // another user's hash, cannot pass for one.
    const std::string forged = rewrite(s, "{\"uid\": \"" + h + "\"}");
    EXPECT_EQ(forged.substr(0, 7), "changed");
    EXPECT_EQ(forged.find(h), std::string::npos) << forged;
    EXPECT_EQ(rewrite(s, R"({"uid": "h1:aaaaaaaaaaaaaaaaaaaaaa"})").find("h1:aaaaaaaaaaaaaaaaaaaaaa"),
              std::string::npos);
    EXPECT_FALSE(is_pii_hash("h1:short"));
    EXPECT_FALSE(is_pii_hash("h1:john@example.com...."));
}

TEST_F(RewriteTest, RewriteOmits) {
    const std::string s = R"({"properties": {"a": {"type": "integer"}, "nested": {"properties": {"b": {}},
        "additionalProperties": "omit"}}, "additionalProperties": "omit"})";
    EXPECT_EQ(rewrite(s, R"({"a": 1, "nested": {"b": 1}})"), "same {\"a\":1,\"nested\":{\"b\":1}}");
    EXPECT_EQ(rewrite(s, R"({"a": 1, "extra": 2, "nested": {"b": 1, "c": 2}})"),
              "changed {\"a\":1,\"nested\":{\"b\":1}}");
    EXPECT_EQ(rewrite(s, R"({"a": "x", "nested": {}})", {"$.a"}), "changed {\"nested\":{}}");
}

}  // namespace
}  // namespace telemetry
