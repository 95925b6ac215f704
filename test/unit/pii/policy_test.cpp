// The policy for undeclared personal data (core/pii/policy.hpp): what redact, hash, drop, reject
// and allow do to values, keys, containers and ids; what is never looked at (x-pii members,
// tagged values); and that a second pass changes nothing.
#include <gtest/gtest.h>

#include <string>

#include "catalog/schema_fixture.hpp"
#include "core/pii/policy.hpp"

namespace telemetry {
namespace {

struct PolicyTest : SchemaFixture {
    UndeclaredPiiOutcome last;
    const PiiHashKey key{"test master key", "0123456789abcdef"};

    std::string apply(const std::string& properties, UndeclaredPii action, const std::string& schema = "{}",
                      std::optional<std::string_view> user_id = std::nullopt,
                      std::optional<std::string_view> session_id = std::nullopt) {
        compiled = compile(schema);
        input = doc(properties);
        last = apply_undeclared_pii(&compiled->root(), input, user_id, session_id, action, key, arena);
        std::string text;  // members in document order
        append_canonical(*last.properties, text);
        return (last.properties == &input ? "same " : "changed ") + text;
    }

    std::string redact(const std::string& properties, const std::string& schema = "{}") {
        return apply(properties, UndeclaredPii::redact, schema);
    }

    std::shared_ptr<const CompiledSchema> compiled;
    JsonValue input;
};

TEST_F(PolicyTest, RedactReplacesTheWholeValueWithATagNamingTheDetector) {
    EXPECT_EQ(redact(R"({"note": "mail me at jane@example.com please", "n": 3})"),
              R"(changed {"note":"[redacted:email]","n":3})");
    EXPECT_EQ(redact(R"({"a": {"b": ["x", "+44 20 7946 0958"]}})"), R"(changed {"a":{"b":["x","[redacted:phone]"]}})");
    // A card number sent as a JSON number.
    EXPECT_EQ(redact(R"({"ref": 4111111111111111})"), R"(changed {"ref":"[redacted:payment_card]"})");
    ASSERT_EQ(last.decisions.size(), 1u);
    EXPECT_EQ(last.decisions[0].detector, pii::Detector::payment_card);
    EXPECT_EQ(last.decisions[0].action, UndeclaredPii::redact);
}

TEST_F(PolicyTest, NothingFoundLeavesTheDocumentAsItIs) {
    EXPECT_EQ(
        redact(
            R"({"plan": "pro", "ts": 1700000000000, "version": "10.2.3.4", "sha": "3f786850e387550fdab836ed7e6dc881de23001b"})"),
        R"(same {"plan":"pro","ts":1700000000000,"version":"10.2.3.4","sha":"3f786850e387550fdab836ed7e6dc881de23001b"})");
    EXPECT_TRUE(last.decisions.empty());
    EXPECT_FALSE(last.properties_changed);
}

TEST_F(PolicyTest, KeyNamesDecideOnlyForWhatValuesCannotShowAndOnlyUndeclared) {
    EXPECT_EQ(
        redact(R"({"first_name": "Jane", "password": "hunter2", "dob": "1990-01-02"})"),
        R"(changed {"first_name":"[redacted:person_name]","password":"[redacted:password]","dob":"[redacted:birth_date]"})");
    // "email" with nothing in it: the value gives no evidence; a boolean is never a secret.
    EXPECT_EQ(redact(R"({"email": "none", "password": true, "emailVerified": "yes"})"),
              R"(same {"email":"none","password":true,"emailVerified":"yes"})");
    // A container under such a key is looked into, not wiped: an address with only a country.
    EXPECT_EQ(redact(R"({"address": {"country": "FR", "street": "1 rue de Rivoli"}})"),
              R"(changed {"address":{"country":"FR","street":"[redacted:street_address]"}})");
    // A member the schema declares is the catalog's to tag: its name alone decides nothing.
    EXPECT_EQ(redact(R"({"first_name": "Jane"})", R"({"properties": {"first_name": {"type": "string"}}})"),
              R"(same {"first_name":"Jane"})");
    // ... but its value is still scanned.
    EXPECT_EQ(redact(R"({"first_name": "jane@example.com"})", R"({"properties": {"first_name": {"type": "string"}}})"),
              R"(changed {"first_name":"[redacted:email]"})");
}

TEST_F(PolicyTest, XPiiMembersAndTaggedValuesAreNeverLookedAt) {
    const std::string schema = R"({"properties": {"contact": {"x-pii": "allow"}, "h": {"x-pii": "hash"}}})";
    EXPECT_EQ(redact(R"({"contact": "jane@example.com", "h": "h1:AAAAAAAAAAAAAAAAAAAAAA"})", schema),
              R"(same {"contact":"jane@example.com","h":"h1:AAAAAAAAAAAAAAAAAAAAAA"})");
    // Values an earlier pass wrote: the second pass changes nothing.
    const std::string once = redact(R"({"a": "jane@example.com", "b": ["+1 415 555 2671"]})");
    const std::string again = redact(once.substr(std::string("changed ").size()));
    EXPECT_EQ(again.substr(0, 5), "same ");
    const std::string hashed = apply(R"({"a": "jane@example.com"})", UndeclaredPii::hash);
    EXPECT_EQ(apply(hashed.substr(8), UndeclaredPii::hash).substr(0, 5), "same ");
    // A value hashed for its key's name ("first_name") is not hashed again (the fuzz target's
    // idempotence check found it).
    const std::string named = apply(R"({"first_name": "Jo", "n": [{"first_name": 7}]})", UndeclaredPii::hash);
    EXPECT_EQ(apply(named.substr(8), UndeclaredPii::hash).substr(0, 5), "same ") << named;
}

TEST_F(PolicyTest, OnlyExactTagsAreTrusted) {
    // A prefix is not a tag: what follows it is scanned.
    EXPECT_EQ(redact(R"({"a": "[redacted] jane@example.com", "b": "[redacted:nothing] +1 415 555 2671"})"),
              R"(changed {"a":"[redacted:email]","b":"[redacted:phone]"})");
    // Nor is a hash's shape: "h1:..." values are scanned like any other.
    EXPECT_FALSE(is_pii_tag("h1:AAAAAAAAAAAAAAAAAAAAAA"));
    EXPECT_FALSE(is_pii_tag("[redacted:nothing]"));
    EXPECT_TRUE(is_pii_tag("[redacted:email]"));
    EXPECT_TRUE(is_pii_tag("[redacted]"));
    // Real hashes show nothing the detectors look for (10,000 of them).
    HeapChunks c;
    Arena a{c.source()};
    JsonValue v;
    v.kind = JsonKind::string;
    for (int i = 0; i < 10000; ++i) {
        const std::string text = "value-" + std::to_string(i) + "@example.com";
        v.string = text;
        const std::string hash = pii_hash(key, v);
        std::vector<pii::Finding> found;
        pii::scan_value(hash, found);
        ASSERT_TRUE(found.empty()) << hash;
    }
}

TEST_F(PolicyTest, KeysThatHashAlikeAreKeptOnce) {
    const std::string out = apply(R"({"Ann@Example.com": 1, "ann@example.com": 2, "n": 3})", UndeclaredPii::hash);
    EXPECT_EQ(out.substr(0, 13), "changed {\"h1:") << out;
    EXPECT_NE(out.find("\":1,\"n\":3}"), std::string::npos) << out;  // the first keeps the name
}

TEST_F(PolicyTest, KeysThatShowPersonalData) {
    EXPECT_EQ(redact(R"({"jane@example.com": 3, "ok": 1})"), R"(changed {"ok":1})");
    const std::string hashed = apply(R"({"jane@example.com": 3})", UndeclaredPii::hash);
    EXPECT_EQ(hashed.find("jane"), std::string::npos) << hashed;
    EXPECT_NE(hashed.find("{\"h1:"), std::string::npos) << hashed;
    apply(R"({"x": {"jane@example.com": 3}})", UndeclaredPii::reject);
    EXPECT_TRUE(last.rejected);
    EXPECT_EQ(last.rejected_at, R"($.x["~redacted"])");  // never the key itself
}

TEST_F(PolicyTest, HashIsKeyedNormalisedAndTheSameForOnePerson) {
    const std::string a = apply(R"({"a": "Jane.Doe@Example.COM"})", UndeclaredPii::hash);
    const std::string b = apply(R"({"a": " jane.doe@example.com"})", UndeclaredPii::hash);
    EXPECT_EQ(a, b);
    EXPECT_NE(a.find("\"a\":\"h1:"), std::string::npos) << a;
    // Fullwidth forms fold before hashing: the same person again.
    const std::string c = apply(
        "{\"a\": \"jane.doe\xEF\xBC\xA0"
        "example.com\"}",
        UndeclaredPii::hash);
    EXPECT_EQ(a, c);
}

TEST_F(PolicyTest, DropRemovesMembersAndElements) {
    EXPECT_EQ(
        apply(R"({"note": "jane@example.com", "list": ["a", "jane@example.com", "b"], "k": 1})", UndeclaredPii::drop),
        R"(changed {"list":["a","b"],"k":1})");
}

TEST_F(PolicyTest, RejectNamesThePathAndDetectorAndChangesNothing) {
    EXPECT_EQ(apply(R"({"a": [{"b": "call +1 415 555 2671"}]})", UndeclaredPii::reject),
              R"(same {"a":[{"b":"call +1 415 555 2671"}]})");
    EXPECT_TRUE(last.rejected);
    EXPECT_EQ(last.rejected_at, "$.a[0].b");
    EXPECT_EQ(last.rejected_detector, pii::Detector::phone);
}

TEST_F(PolicyTest, AllowDoesNotLook) {
    EXPECT_EQ(apply(R"({"note": "jane@example.com"})", UndeclaredPii::allow), R"(same {"note":"jane@example.com"})");
    EXPECT_TRUE(last.decisions.empty());
}

TEST_F(PolicyTest, IdsAreHashedNeverRedactedToOneConstant) {
    apply("{}", UndeclaredPii::redact, "{}", std::string_view("jane@example.com"), std::string_view("sess-1"));
    ASSERT_TRUE(last.user_id);
    EXPECT_EQ(last.user_id->substr(0, 3), "h1:");
    EXPECT_TRUE(last.user_id_changed);
    EXPECT_EQ(*last.session_id, "sess-1");
    EXPECT_FALSE(last.session_id_changed);
    ASSERT_EQ(last.decisions.size(), 1u);
    EXPECT_EQ(last.decisions[0].action, UndeclaredPii::hash);  // counted as what was done
    const std::string first = std::string(*last.user_id);
    apply("{}", UndeclaredPii::drop, "{}", std::string_view("Jane@Example.com"));
    EXPECT_EQ(*last.user_id, first);  // drop hashes too, and the same person hashes alike
    // An id that shows nothing (numbers, uuids, hashes) is kept.
    apply("{}", UndeclaredPii::redact, "{}", std::string_view("4155552671"), std::string_view(first));
    EXPECT_FALSE(last.user_id_changed);
    EXPECT_FALSE(last.session_id_changed);
    apply("{}", UndeclaredPii::reject, "{}", std::nullopt, std::string_view("+44 20 7946 0958"));
    EXPECT_TRUE(last.rejected);
    EXPECT_EQ(last.rejected_at, "session_id");
}

TEST_F(PolicyTest, TenantPolicyPicksTheTypeThenTheTenant) {
    TenantPiiPolicy p;
    EXPECT_EQ(p.for_type("signup"), UndeclaredPii::redact);
    p.all_types = UndeclaredPii::reject;
    p.by_type.emplace_back("support_ticket", UndeclaredPii::hash);
    EXPECT_EQ(p.for_type("signup"), UndeclaredPii::reject);
    EXPECT_EQ(p.for_type("support_ticket"), UndeclaredPii::hash);
    for (const char* name : {"redact", "hash", "drop", "reject", "allow"})
        EXPECT_STREQ(to_string(*parse_undeclared_pii(name)), name);
    EXPECT_FALSE(parse_undeclared_pii("mask"));
}

TEST_F(PolicyTest, PrescanRulesOutOnlyWhatHoldsNothing) {
    for (const char* v : {"partner", "eu-west-1", "pro", "sc-123", "ord_123456", "1.2", "a:b", "x.y.z"})
        EXPECT_EQ(pii::prescan(v), pii::Prescan::nothing) << v;
    for (const char* v : {"a@b.co", "+1 415 555 2671", "10.0.0.1", "::1", "fe80::1", "a.b.c.d.e.f", "INV-2026-123456"})
        EXPECT_EQ(pii::prescan(v), pii::Prescan::scan) << v;
    EXPECT_EQ(pii::prescan("jane%40example.com"), pii::Prescan::normalise_then_scan);
    EXPECT_EQ(pii::prescan("jane\xEF\xBC\xA0"
                           "example.com"),
              pii::Prescan::normalise_then_scan);
    // Whatever it rules out, the scanners find nothing in.
    for (const char* v : {"555-1234", "1.2.3", "x@", "12:30", "a.b"}) {
        std::vector<pii::Finding> found;
        pii::scan_value(v, found);
        if (pii::prescan(v) == pii::Prescan::nothing) {
            EXPECT_TRUE(found.empty()) << v;
        }
    }
}

TEST_F(PolicyTest, LinearInTheDocument) {
    std::string big = "{\"a\": [";
    for (int i = 0; i < 20000; ++i) big += (i ? ",\"" : "\"") + std::string("x") + std::to_string(i) + "@example.com\"";
    big += "]}";
    const std::string out = redact(big);
    EXPECT_EQ(last.decisions.size(), 20000u);
    EXPECT_EQ(out.find("@example.com"), std::string::npos);
}

}  // namespace
}  // namespace telemetry
