// Property schemas: compiling (what is refused at load time) and validating (each keyword with
// good and bad values). Rewriting (x-pii and omitted members) is in test/unit/pii/rewrite_test.cpp.
#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "catalog/schema_fixture.hpp"

namespace telemetry {
namespace {

struct SchemaTest : SchemaFixture {
    std::string compile_error(const std::string& schema) {
        try {
            compile(schema);
        } catch (const DomainError& e) {
            return e.error().sqlstate + " " + e.error().message;
        }
        return "compiled";
    }
    // "path keyword: message; ..." for every violation.
    std::string check(const std::string& schema, const std::string& properties) {
        const auto compiled = compile(schema);
        std::string out;
        for (const Violation& v : validate(*compiled, doc(properties))) {
            if (!out.empty()) out += "; ";
            out += v.path + " " + v.keyword + ": " + v.message;
        }
        return out.empty() ? "valid" : out;
    }
};

TEST_F(SchemaTest, TheDesignExampleCompiles) {
    EXPECT_EQ(compile_error(R"({"type": "object", "required": ["scenarioId", "source"], "properties": {
        "scenarioId": {"type": "string", "maxLength": 64}, "scenarioSlug": {"type": "string"},
        "invitationId": {"type": "string", "x-pii": "hash"},
        "source": {"type": "string", "enum": ["web", "ios", "android", "invitation"]}},
        "additionalProperties": false})"),
              "compiled");
}

TEST_F(SchemaTest, RefusesWhatIsOutsideTheSubset) {
    EXPECT_EQ(
        compile_error(R"({"type": "object", "format": "email"})"),
        "22023 $.schema.format: keyword is not supported (allowed: type, required, properties, additionalProperties, "
        "enum, minLength, maxLength, minimum, maximum, pattern, items, maxItems, x-pii, description)");
    EXPECT_EQ(compile_error(R"({"oneOf": []})").substr(0, 38), "22023 $.schema.oneOf: keyword is not s");
    EXPECT_EQ(
        compile_error(R"({"properties": {"a": {"type": "text"}}})"),
        "22023 $.schema.properties.a.type: type must be one of string, integer, number, boolean, object, array, null");
    EXPECT_EQ(compile_error(R"({"properties": {"a": {"type": ["string", "string"]}}})"),
              "22023 $.schema.properties.a.type[1]: type lists the same type twice");
    EXPECT_EQ(compile_error(R"({"type": "string"})"),
              "22023 $.schema.type: the properties of an event are an object: the root type must include object");
    EXPECT_EQ(compile_error(R"({"required": ["a"]})"),
              "22023 $.schema.required: required property \"a\" is not declared in properties");
    EXPECT_EQ(compile_error(R"({"properties": {"a": {"minLength": 5, "maxLength": 2}}})"),
              "22023 $.schema.properties.a: minLength is greater than maxLength");
    EXPECT_EQ(compile_error(R"({"properties": {"a": {"minimum": 5, "maximum": 2}}})"),
              "22023 $.schema.properties.a: minimum is greater than maximum");
    EXPECT_EQ(compile_error(R"({"properties": {"a": {"maxLength": -1}}})"),
              "22023 $.schema.properties.a.maxLength: maxLength must be a non-negative integer below 10000000");
    EXPECT_EQ(compile_error(R"({"properties": {"a": {"enum": []}}})"),
              "22023 $.schema.properties.a.enum: enum must be an array of 1 to 1000 values");
    EXPECT_EQ(compile_error(R"({"properties": {"a": {"type": "integer", "enum": [1, "1"]}}})"),
              "22023 $.schema.properties.a.enum[1]: enum value does not have one of the declared types");
    EXPECT_EQ(compile_error(R"({"properties": {"a": {"x-pii": "encrypt"}}})"),
              "22023 $.schema.properties.a[\"x-pii\"]: x-pii must be one of allow, hash, redact, drop, reject");
    EXPECT_EQ(compile_error(R"({"x-pii": "hash"})"),
              "22023 $.schema[\"x-pii\"]: x-pii belongs on a property, not on the whole properties object");
    EXPECT_EQ(
        compile_error(R"({"additionalProperties": {"type": "string"}})"),
        "22023 $.schema.additionalProperties: additionalProperties must be true, false, \"allow\", \"omit\" or \"reject\"");
    EXPECT_EQ(compile_error(R"({"properties": {"a": []}})"),
              "22023 $.schema.properties.a: a schema must be an object, found an array");
}

TEST_F(SchemaTest, PatternsAreRe2AndBounded) {
    // Backreferences and lookaround are not linear-time: refused at load time.
    EXPECT_EQ(compile_error(R"j({"properties": {"a": {"pattern": "(a)\\1"}}})j").substr(0, 61),
              "22023 $.schema.properties.a.pattern: pattern is not a support");
    EXPECT_EQ(compile_error(R"j({"properties": {"a": {"pattern": "(?=a)"}}})j").substr(0, 40),
              "22023 $.schema.properties.a.pattern: pat");
    // A pattern whose compiled program would exceed the memory bound.
    EXPECT_EQ(compile_error(R"j({"properties": {"a": {"pattern": "((((a{100}){100}){100}){100})"}}})j").substr(0, 40),
              "22023 $.schema.properties.a.pattern: pat");
    // The classic catastrophic-backtracking pattern runs in linear time.
    const auto compiled = compile(R"j({"properties": {"a": {"pattern": "^(a+)+$"}}})j");
    const std::string input = "{\"a\": \"" + std::string(100000, 'a') + "!\"}";
    const auto started = std::chrono::steady_clock::now();
    const auto violations = validate(*compiled, doc(input));
    const auto elapsed = std::chrono::steady_clock::now() - started;
    ASSERT_EQ(violations.size(), 1u);
    EXPECT_EQ(violations[0].keyword, "pattern");
    EXPECT_LT(std::chrono::duration_cast<std::chrono::seconds>(elapsed).count(), 2);
}

TEST_F(SchemaTest, Types) {
    const std::string s = R"({"properties": {"s": {"type": "string"}, "i": {"type": "integer"}, "n": {"type": "number"},
        "b": {"type": "boolean"}, "o": {"type": "object"}, "a": {"type": "array"}, "z": {"type": "null"},
        "sn": {"type": ["string", "null"]}}})";
    EXPECT_EQ(check(s, R"({"s": "x", "i": 1, "n": 1.5, "b": true, "o": {}, "a": [], "z": null, "sn": null})"), "valid");
    EXPECT_EQ(check(s, R"({"i": 1.0, "n": 2})"), "valid");
    EXPECT_EQ(check(s, R"({"s": 1})"), "$.s type: expected a string, found a number");
    EXPECT_EQ(check(s, R"({"i": 1.5})"), "$.i type: expected an integer (64-bit), found a number");
    EXPECT_EQ(check(s, R"({"i": 18446744073709551616})"),
              "$.i type: expected an integer (64-bit), found an integer beyond 64 bits");
    EXPECT_EQ(check(s, R"({"n": "1"})"), "$.n type: expected a number, found a string");
    EXPECT_EQ(check(s, R"({"b": "true"})"), "$.b type: expected a boolean, found a string");
    EXPECT_EQ(check(s, R"({"o": []})"), "$.o type: expected an object, found an array");
    EXPECT_EQ(check(s, R"({"a": {}})"), "$.a type: expected an array, found an object");
    EXPECT_EQ(check(s, R"({"z": 0})"), "$.z type: expected null, found a number");
    EXPECT_EQ(check(s, R"({"sn": 1})"), "$.sn type: expected one of the declared types, found a number");
    EXPECT_EQ(check(s, R"({"s": null})"), "$.s type: expected a string, found null");
}

TEST_F(SchemaTest, RequiredAndAdditionalProperties) {
    const std::string s = R"({"required": ["a"], "properties": {"a": {}, "b": {}}, "additionalProperties": false})";
    EXPECT_EQ(check(s, R"({"a": 1})"), "valid");
    EXPECT_EQ(check(s, R"({"b": 1})"), "$.a required: missing");
    EXPECT_EQ(
        check(s, R"({"a": 1, "c": 2, "d": 3})"),
        "$.c additionalProperties: not declared in the schema; $.d additionalProperties: not declared in the schema");
    EXPECT_EQ(check(R"({"properties": {"a": {}}})", R"({"a": 1, "anything": {"goes": true}})"), "valid");
}

TEST_F(SchemaTest, EnumStringsNumbersArrays) {
    const std::string s = R"({"properties": {
        "e": {"enum": ["web", "ios", 3, null]},
        "s": {"type": "string", "minLength": 2, "maxLength": 4, "pattern": "^[a-z]+$"},
        "n": {"type": "number", "minimum": -1.5, "maximum": 100},
        "a": {"type": "array", "maxItems": 2, "items": {"type": "integer", "minimum": 0}}}})";
    EXPECT_EQ(check(s, R"({"e": "ios", "s": "abcd", "n": 100, "a": [0, 5]})"), "valid");
    EXPECT_EQ(check(s, R"({"e": 3.0, "n": -1.5})"), "valid");
    EXPECT_EQ(check(s, R"({"e": "android"})"), "$.e enum: not one of the 4 allowed values, found a string");
    EXPECT_EQ(check(s, R"({"s": "a"})"), "$.s minLength: shorter than 2 characters");
    EXPECT_EQ(check(s, R"({"s": "abcde"})"), "$.s maxLength: longer than 4 characters");
    EXPECT_EQ(check(s, R"({"s": "éééé"})"), "$.s pattern: does not match the pattern");  // 4 characters, 8 bytes
    EXPECT_EQ(check(s, R"({"s": "AB"})"), "$.s pattern: does not match the pattern");
    EXPECT_EQ(check(s, R"({"n": 100.0000000000000000001})"), "$.n maximum: greater than the maximum 100");
    EXPECT_EQ(check(s, R"({"n": -1.50000000000000000001})"), "$.n minimum: less than the minimum -1.5");
    EXPECT_EQ(check(s, R"({"a": [1, 2, 3]})"), "$.a maxItems: more than 2 items");
    EXPECT_EQ(check(s, R"({"a": [1, -1]})"), "$.a[1] minimum: less than the minimum 0");
}

TEST_F(SchemaTest, NestedProperties) {
    const std::string s = R"({"properties": {"cart": {"type": "object", "required": ["total"], "properties": {
        "total": {"type": "number"}, "items": {"type": "array", "items": {"type": "object", "required": ["sku"],
        "properties": {"sku": {"type": "string"}}}}}}}})";
    EXPECT_EQ(check(s, R"({"cart": {"total": 9.5, "items": [{"sku": "A"}]}})"), "valid");
    EXPECT_EQ(check(s, R"({"cart": {"items": [{"sku": "A"}, {}]}})"),
              "$.cart.total required: missing; $.cart.items[1].sku required: missing");
}

TEST_F(SchemaTest, StructuralLimitsApplyWhateverTheSchema) {
    const auto compiled = compile(R"({})");
    std::string deep = std::string(20, '[') + std::string(20, ']');
    const auto violations = validate(*compiled, doc("{\"d\": " + deep + "}"));
    ASSERT_EQ(violations.size(), 1u);
    EXPECT_EQ(violations[0].keyword, "depth");
    EXPECT_EQ(violations[0].message, "nested deeper than 16 levels");
    EXPECT_FALSE(violations[0].omittable);
    EXPECT_EQ(check("{}", "[1]"), "$ type: properties must be a JSON object, found an array");
}

TEST_F(SchemaTest, ViolationsAreCapped) {
    std::string props = "{";
    for (int i = 0; i < 100; ++i) props += (i ? "," : "") + std::string("\"k") + std::to_string(i) + "\": 1";
    props += "}";
    const auto compiled = compile(R"({"additionalProperties": false})");
    EXPECT_EQ(validate(*compiled, doc(props)).size(), max_violations);
}

TEST_F(SchemaTest, PiiRejectIsAViolation) {
    EXPECT_EQ(check(R"({"properties": {"email": {"x-pii": "reject"}}})", R"({"email": "a@b.c"})"),
              "$.email x-pii: the catalog refuses this property (x-pii: reject)");
    EXPECT_EQ(check(R"({"properties": {"email": {"x-pii": "reject"}}})", R"({})"), "valid");
}

TEST_F(SchemaTest, ExactNumberComparison) {
    JsonNumber a, b;
    auto cmp = [&](const char* x, const char* y) {
        EXPECT_TRUE(parse_json_number(x, arena, a));
        EXPECT_TRUE(parse_json_number(y, arena, b));
        return compare_numbers(a, b);
    };
    EXPECT_EQ(cmp("1", "1.0"), 0);
    EXPECT_EQ(cmp("-0", "0"), 0);
    EXPECT_LT(cmp("-2", "-1"), 0);
    EXPECT_GT(cmp("10", "9.99999999999999999999"), 0);
    EXPECT_LT(cmp("0.001", "0.01"), 0);
    EXPECT_GT(cmp("-0.001", "-0.01"), 0);
    EXPECT_LT(cmp("-1", "0"), 0);
    EXPECT_EQ(cmp("1e3", "1000"), 0);
}

}  // namespace
}  // namespace telemetry
