// The JSON layer of the core: exact numbers, canonical size, the text parser's per-element
// problems, and the jsonb codec against bytes PostgreSQL 15 itself wrote (pageinspect).
#include <gtest/gtest.h>

#include <charconv>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "core/json/json.hpp"
#include "core/json/json_text.hpp"
#include "core/json/jsonb.hpp"

namespace telemetry {
namespace {

std::vector<unsigned char> from_hex(const std::string& hex) {
    std::vector<unsigned char> out;
    for (std::size_t i = 0; i + 1 < hex.size(); i += 2)
        out.push_back(static_cast<unsigned char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
    return out;
}

std::string to_hex(std::string_view bytes) {
    static const char digits[] = "0123456789abcdef";
    std::string out;
    for (unsigned char c : bytes) {
        out += digits[c >> 4];
        out += digits[c & 15];
    }
    return out;
}

struct Fixture : ::testing::Test {
    HeapChunks chunks;
    Arena arena{chunks.source()};

    // The document's strings may point into the text: keep it in the arena with them.
    JsonValue parse(const std::string& text) {
        ParsedText parsed = parse_json_text(arena.copy(text), 64, arena);
        return parsed.root;
    }
    // The SQLSTATE of the text's refusal as a whole ("" when it is read).
    std::string refused(const std::string& text, std::uint32_t depth) {
        return capture_errors([&] { parse_json_text(text, depth, arena); }).sqlstate;
    }
    std::string canonical(const JsonValue& v) {
        std::string out;
        append_canonical(v, out);
        EXPECT_EQ(out.size(), canonical_size(v)) << out;
        return out;
    }
    JsonNumber number(const std::string& text) {
        JsonNumber n;
        EXPECT_TRUE(parse_json_number(text, arena, n)) << text;
        return n;
    }
    std::string number_text(const std::string& text) {
        std::string out;
        append_number_text(number(text), out);
        return out;
    }
};

using Numbers = Fixture;
using CanonicalText = Fixture;
using TextParser = Fixture;
using Jsonb = Fixture;

TEST_F(Numbers, PrintLikeNumericOut) {
    // numeric_in keeps the written scale, less the exponent; numeric_out prints it.
    EXPECT_EQ(number_text("0"), "0");
    EXPECT_EQ(number_text("-0"), "0");
    EXPECT_EQ(number_text("-0.0"), "0.0");
    EXPECT_EQ(number_text("1"), "1");
    EXPECT_EQ(number_text("1.50"), "1.50");
    EXPECT_EQ(number_text("-3e-2"), "-0.03");
    EXPECT_EQ(number_text("1e3"), "1000");
    EXPECT_EQ(number_text("1.5e3"), "1500");
    EXPECT_EQ(number_text("1.25e1"), "12.5");
    EXPECT_EQ(number_text("1.0e-2"), "0.010");
    EXPECT_EQ(number_text("123.4500"), "123.4500");
    EXPECT_EQ(number_text("0.0001"), "0.0001");
    EXPECT_EQ(number_text("12345678901234567890"), "12345678901234567890");
    EXPECT_EQ(number_text("18446744073709551616"), "18446744073709551616");
}

TEST_F(Numbers, KeepExactDigits) {
    const JsonNumber n = number("0.30000000000000000000000000000000001");
    EXPECT_EQ(n.digits, "30000000000000000000000000000000001");
    EXPECT_EQ(n.point, 0);
    EXPECT_NEAR(n.approx, 0.3, 1e-15);
    const JsonNumber big = number("18446744073709551616");
    EXPECT_EQ(big.digits, "18446744073709551616");
    EXPECT_EQ(big.point, 20);
    EXPECT_FALSE(big.is_int64());
    EXPECT_TRUE(big.is_integral());
}

// The nearest double is computed without text for short numbers (Clinger's fast path) and
// through from_chars for the rest: both must give exactly what from_chars gives for the text.
TEST_F(Numbers, NearestDoubleAsFromChars) {
    std::mt19937_64 random(20261201);
    const auto expect_nearest = [&](const std::string& text) {
        double expected = 0;
        ASSERT_EQ(std::from_chars(text.data(), text.data() + text.size(), expected).ec, std::errc()) << text;
        const double got = number(text).approx;
        EXPECT_EQ(std::memcmp(&got, &expected, sizeof got), 0) << text << ": " << got << " vs " << expected;
    };
    for (const char* text : {"1", "-1", "0.1", "0.3", "123.456", "9007199254740993", "999999999999999", "1e22", "1e23",
                             "1e-22", "1e-23", "123456789012345e-22", "1234567890123456e-22", "2.5e-300",
                             "1.7976931348623157e308", "4.9e-324", "0.000001", "8.98846567431158e307"})
        expect_nearest(text);
    for (int i = 0; i < 200000; ++i) {
        const int significant = 1 + static_cast<int>(random() % 18);  // across the 15-digit edge
        std::string text = random() % 2 ? "-" : "";
        text += static_cast<char>('1' + random() % 9);
        for (int d = 1; d < significant; ++d) text += static_cast<char>('0' + random() % 10);
        const int point = static_cast<int>(random() % (significant + 1));
        if (point > 0 && point < significant) text.insert(text.size() - static_cast<std::size_t>(point), ".");
        if (random() % 3 == 0) text += "e" + std::to_string(static_cast<int>(random() % 61) - 30);
        expect_nearest(text);
    }
    for (int i = 0; i < 20000; ++i) {  // leading zeros after the point: 0.000ddd
        std::string text = "0." + std::string(random() % 12, '0');
        const int significant = 1 + static_cast<int>(random() % 16);
        for (int d = 0; d < significant; ++d) text += static_cast<char>('0' + random() % 10);
        if (text.find_first_not_of("0.") == std::string::npos) continue;  // zero: no nearest to compare
        expect_nearest(text);
    }
}

TEST_F(Numbers, Int64Boundaries) {
    EXPECT_TRUE(number("9223372036854775807").is_int64());
    EXPECT_FALSE(number("9223372036854775808").is_int64());
    EXPECT_TRUE(number("-9223372036854775808").is_int64());
    EXPECT_FALSE(number("-9223372036854775809").is_int64());
    EXPECT_TRUE(number("1.0").is_int64());  // JSON Schema: 1.0 is an integer
    EXPECT_FALSE(number("1.5").is_int64());
    EXPECT_TRUE(number("1e3").is_int64());
}

TEST_F(Numbers, RefuseWhatWeDoNotStore) {
    JsonNumber n;
    EXPECT_FALSE(parse_json_number("1e400", arena, n));
    EXPECT_FALSE(parse_json_number("-1e400", arena, n));
    EXPECT_FALSE(parse_json_number("1e99999999999999999999", arena, n));
    EXPECT_FALSE(parse_json_number("1e-1001", arena, n));
    EXPECT_FALSE(parse_json_number("0." + std::string(1001, '1'), arena, n));
    EXPECT_TRUE(parse_json_number("1.7976931348623157e308", arena, n));
    EXPECT_FALSE(parse_json_number("1.8e308", arena, n));
    EXPECT_TRUE(parse_json_number("1e-300", arena, n));
}

TEST_F(CanonicalText, CompactAndEscapedAsPostgresEscapes) {
    EXPECT_EQ(canonical(parse(R"({ "a" : [1, 2.50, true, null], "b": {"c": "x"} })")),
              R"({"a":[1,2.50,true,null],"b":{"c":"x"}})");
    EXPECT_EQ(canonical(parse(R"(["q\"uote\\ \n\t\u0001 é"])")), "[\"q\\\"uote\\\\ \\n\\t\\u0001 \xc3\xa9\"]");
    EXPECT_EQ(canonical(parse("{}")), "{}");
    EXPECT_EQ(canonical(parse("[]")), "[]");
}

TEST_F(CanonicalText, EqualityIsByValue) {
    EXPECT_TRUE(json_equal(parse("[1.0]"), parse("[1]")));
    EXPECT_TRUE(json_equal(parse(R"({"a":1,"b":2})"), parse(R"({"b":2,"a":1})")));
    EXPECT_FALSE(json_equal(parse(R"({"a":1})"), parse(R"({"a":"1"})")));
    EXPECT_FALSE(json_equal(parse("[1,2]"), parse("[2,1]")));
    EXPECT_EQ(utf8_length("h\xc3\xa9llo \xf0\x9f\x98\x80"), 7u);
}

TEST_F(TextParser, ProblemsStayWithTheirElement) {
    const std::string text =
        std::string(R"([{"ok": 1}, {"a": 1, "a": 2}, {"p": {"s": "x\u0000y"}}, {"n": [1, 1e400]}, {"fine": true}])");
    ParsedText parsed = parse_json_text(text, 16, arena);
    ASSERT_EQ(parsed.root.kind, JsonKind::array);
    ASSERT_EQ(parsed.root.count, 5u);
    EXPECT_STREQ(parsed.problems[0].sqlstate, "");
    EXPECT_STREQ(parsed.problems[1].sqlstate, "22030");
    EXPECT_EQ(parsed.problems[1].path, "$.a");
    EXPECT_STREQ(parsed.problems[2].sqlstate, "22P05");
    EXPECT_EQ(parsed.problems[2].path, "$.p.s");
    EXPECT_STREQ(parsed.problems[3].sqlstate, "22003");
    EXPECT_EQ(parsed.problems[3].path, "$.n[1]");
    EXPECT_STREQ(parsed.problems[4].sqlstate, "");
}

TEST_F(TextParser, KeysWithNulAndScalarElements) {
    ParsedText parsed = parse_json_text(R"([1, "two", {"k\u0000": 1}, null])", 16, arena);
    ASSERT_EQ(parsed.root.count, 4u);
    EXPECT_STREQ(parsed.problems[0].sqlstate, "");
    EXPECT_STREQ(parsed.problems[1].sqlstate, "");
    EXPECT_STREQ(parsed.problems[2].sqlstate, "22P05");
    EXPECT_EQ(parsed.problems[2].path, "$[\"k\\u0000\"]");
    EXPECT_STREQ(parsed.problems[3].sqlstate, "");
}

TEST_F(TextParser, DeepElementsAreMarkedNotRead) {
    std::string deep = std::string(20, '[') + "1" + std::string(20, ']');
    ParsedText parsed = parse_json_text("[" + deep + ", {\"x\": 1}]", 16, arena);
    ASSERT_EQ(parsed.root.count, 2u);
    const JsonValue* v = &parsed.root.elements[0];
    int depth = 1;
    while (v->kind == JsonKind::array) {
        v = &v->elements[0];
        ++depth;
    }
    EXPECT_EQ(v->kind, JsonKind::too_deep);
    EXPECT_EQ(depth, 17);
    EXPECT_EQ(parsed.root.elements[1].kind, JsonKind::object);
}

TEST_F(TextParser, ProblemCountMatchesTheElements) {
    ParsedText empty = parse_json_text("[]", 16, arena);
    EXPECT_EQ(empty.problem_count, 0u);
    EXPECT_EQ(empty.first_problem(), nullptr);
    ParsedText scalar = parse_json_text("\"x\"", 16, arena);
    EXPECT_EQ(scalar.problem_count, 1u);
    ParsedText object = parse_json_text(R"({"a": [1, {"b": 1, "b": 2}]})", 16, arena);
    ASSERT_EQ(object.problem_count, 1u);
    ASSERT_NE(object.first_problem(), nullptr);
    EXPECT_EQ(object.first_problem()->path, "$.a[1].b");
    ParsedText array = parse_json_text(R"([1, [2, 3], {"c": "\u0000"}])", 16, arena);
    EXPECT_EQ(array.problem_count, 3u);
    EXPECT_EQ(array.first_problem(), &array.problems[2]);
}

TEST_F(TextParser, WholeTextRefusals) {
    EXPECT_EQ(refused("[1, 2", 16), "22P02");
    EXPECT_EQ(refused("[1] [2]", 16), "22P02");
    EXPECT_EQ(refused("[NaN]", 16), "22P02");
    EXPECT_EQ(refused("[Infinity]", 16), "22P02");
    EXPECT_EQ(refused("{/*c*/}", 16), "22P02");
    EXPECT_EQ(refused("[1,]", 16), "22P02");
    EXPECT_EQ(refused("[\"\xff\"]", 16), "22P02");
    EXPECT_EQ(refused(std::string(100000, '['), 64), "22P02");  // unterminated
    EXPECT_EQ(refused("", 16), "22P02");
    // Repairs never make invalid text valid.
    EXPECT_EQ(refused("[\"\\ud800\", 1e99999999999, [[[[]]]]", 16), "22P02");
}

// A container too deep for Boost is replaced before Boost reads the text, so the repair pass
// itself must find what is not JSON inside it: the whole text is then refused, as Boost refuses
// the same faults at a shallower depth.
TEST_F(TextParser, TooDeepContainersMustStillBeJson) {
    const auto deep = [](const std::string& inner) {
        return "[{\"ok\": 1}, " + std::string(40, '[') + inner + std::string(40, ']') + "]";
    };
    const std::vector<std::string> not_json = {
        "1 2",
        "1,",
        ",1",
        "{\"a\" 1}",
        "{\"a\": 1,}",
        "{1: 2}",
        "{\"a\"}",
        "}",
        "[}",
        "{]",
        "tru",
        "nul",
        "truex",
        "01",
        "1.",
        ".5",
        "-",
        "1e",
        "1e+",
        "+1",
        "\"open",
        "\"bad \\x escape\"",
        "\"\\u12\"",
        "\"tab\there\"",
        "\"\xff\"",
        "\"\xc0\xaf\"",
        "\"\xed\xa0\x80\"",
        "\"\xf4\x90\x80\x80\"",
        "\"\xe2\x82\"",
        "NaN",
        "[1]]",
        "'single'",
        "/* c */ 1",
    };
    for (const std::string& inner : not_json) {
        EXPECT_EQ(refused(deep(inner), 16), "22P02") << inner;
        // The same fault where Boost reads it is refused the same way.
        EXPECT_EQ(refused("[[" + inner + "]]", 16), "22P02") << inner;
    }
    EXPECT_EQ(refused("[" + std::string(40, '[') + std::string(39, ']') + "}]", 16), "22P02");
    // A valid container where an object's key belongs, at every depth around Boost's limit
    // (deeper than it, the container would become a string, which is a key).
    for (std::size_t depth = 25; depth <= 40; ++depth) {
        const std::string text = std::string(depth, '[') + "{[1]: 1}" + std::string(depth, ']');
        EXPECT_EQ(refused(text, 16), "22P02") << depth;
        const std::string keyed = std::string(depth, '[') + "{\"a\": 1, {}: 2}" + std::string(depth, ']');
        EXPECT_EQ(refused(keyed, 16), "22P02") << depth;
    }
    EXPECT_EQ(refused("[" + std::string(40, '[') + std::string(40, ']'), 16), "22P02");

    const std::vector<std::string> json = {
        "",
        "1",
        "-0.5e+3",
        "\"s\"",
        "\"\\ud800 \\n \\u00e9 \xc3\xa9 \xf0\x9f\x98\x80\"",
        "true, false, null",
        "{\"a\": [1, {\"b\": {}}], \"c\": \"]}\"}",
        " [ ] , { } ",
        "0, 10, 1E5, 2.0e-7",
    };
    for (const std::string& inner : json) {
        const ParsedText parsed = parse_json_text(deep(inner), 16, arena);
        EXPECT_EQ(parsed.root.count, 2u) << inner;
    }
}

// What Boost.JSON 1.81 would refuse the whole text for is refused (or repaired) per element:
// lone surrogates, exponents beyond 2^31, nesting beyond its recursion limit.
TEST_F(TextParser, RepairsStayWithTheirElement) {
    const std::string text =
        "[{\"s\": \"broken \\ud83d tail\"}, {\"s\": \"pair \\ud83d\\ude00\"}, {\"n\": 1e2147483648},"
        " {\"n\": -1E-99999999999}, {\"d\": " +
        std::string(40, '[') + std::string(40, ']') +
        "},"
        " {\"k \\udc00\": \"[[[\\\"\"}, {\"fine\": \"x\"}]";
    ParsedText parsed = parse_json_text(text, 16, arena);
    ASSERT_EQ(parsed.root.count, 7u);
    EXPECT_TRUE(parsed.problems[0].utf16_repaired);
    EXPECT_STREQ(parsed.problems[0].sqlstate, "");
    EXPECT_EQ(parsed.root.elements[0].members[0].value.string, "broken \xef\xbf\xbd tail");
    EXPECT_FALSE(parsed.problems[1].utf16_repaired);
    EXPECT_EQ(parsed.root.elements[1].members[0].value.string, "pair \xf0\x9f\x98\x80");
    EXPECT_STREQ(parsed.problems[2].sqlstate, "22003");
    EXPECT_EQ(parsed.problems[2].path, "$.n");
    EXPECT_STREQ(parsed.problems[3].sqlstate, "22003");
    EXPECT_STREQ(parsed.problems[4].sqlstate, "");
    const JsonValue* v = parsed.root.elements[4].find("d");
    ASSERT_NE(v, nullptr);
    while (v->kind == JsonKind::array) v = &v->elements[0];
    EXPECT_EQ(v->kind, JsonKind::too_deep);
    EXPECT_TRUE(parsed.problems[5].utf16_repaired);
    EXPECT_EQ(parsed.root.elements[5].members[0].key, "k \xef\xbf\xbd");
    EXPECT_EQ(parsed.root.elements[5].members[0].value.string, "[[[\"");  // brackets in strings are text
    EXPECT_FALSE(parsed.problems[6].utf16_repaired);
    EXPECT_EQ(parsed.root.elements[6].members[0].value.string, "x");
}

// A string element is repaired on its own slot, not on the element before it.
TEST_F(TextParser, RepairedStringElementsKeepTheirOwnSlot) {
    ParsedText alone = parse_json_text(R"(["\ud83d"])", 16, arena);
    ASSERT_EQ(alone.problem_count, 1u);
    EXPECT_TRUE(alone.problems[0].utf16_repaired);
    EXPECT_EQ(alone.root.elements[0].string, "\xef\xbf\xbd");

    ParsedText mixed = parse_json_text(R"([{"a": 1}, "\udc00 x", "y"])", 16, arena);
    ASSERT_EQ(mixed.problem_count, 3u);
    EXPECT_FALSE(mixed.problems[0].utf16_repaired);
    EXPECT_TRUE(mixed.problems[1].utf16_repaired);
    EXPECT_FALSE(mixed.problems[2].utf16_repaired);

    ParsedText root = parse_json_text(R"("\ud83d")", 16, arena);
    ASSERT_EQ(root.problem_count, 1u);
    EXPECT_TRUE(root.problems[0].utf16_repaired);
}

TEST_F(TextParser, DeepestNestingIsOneElementsProblem) {
    const std::string text = "[" + std::string(100000, '[') + std::string(100000, ']') + ", {\"after\": 1}]";
    ParsedText parsed = parse_json_text(text, 16, arena);
    ASSERT_EQ(parsed.root.count, 2u);
    EXPECT_EQ(parsed.root.elements[1].kind, JsonKind::object);
}

TEST_F(TextParser, LimitsAreCountedWhileParsing) {
    TextLimits limits;
    limits.element_depth = 16;
    limits.max_elements = 3;
    limits.max_element_values = 5;
    limits.max_values = 100;
    limits.too_large_rule = "too many values";
    ParsedText parsed = parse_json_text(R"([{"a": 1}, {"a": [1, 2, 3, 4, 5, [6]]}, {"b": 2}])", limits, arena);
    ASSERT_EQ(parsed.root.count, 3u);
    EXPECT_STREQ(parsed.problems[1].sqlstate, "54000");
    EXPECT_STREQ(parsed.problems[1].rule, "too many values");
    EXPECT_EQ(parsed.root.elements[1].kind, JsonKind::too_large);
    EXPECT_EQ(parsed.root.elements[2].kind, JsonKind::object);
    EXPECT_STREQ(parsed.problems[2].sqlstate, "");

    const auto message = [&](const std::string& text) {
        const Error error = capture_errors([&] { parse_json_text(text, limits, arena); });
        return error.sqlstate + " " + error.message;
    };
    EXPECT_EQ(message("[1, 2, 3, 4]"), "54000 the top-level array holds more than 3 elements");
    limits.max_values = 10;
    EXPECT_EQ(message("[[1, 2, 3], [1, 2, 3], [1, 2, 3]]"), "54000 the text holds more than 10 JSON values");
    // A caller names the limits as its users know them.
    limits.too_many_elements_message = "a batch holds at most 3 events";
    limits.too_many_values_message = "a batch holds at most 10 JSON values";
    EXPECT_EQ(message("[1, 2, 3, 4]"), "54000 a batch holds at most 3 events");
    EXPECT_EQ(message("[[1, 2, 3], [1, 2, 3], [1, 2, 3]]"), "54000 a batch holds at most 10 JSON values");
    // A subject names the text in every other message; a limit's own message stands alone.
    limits.subject = "properties";
    EXPECT_EQ(message("[1,"), "22P02 properties: text is not valid JSON");
    EXPECT_EQ(message("[1, 2, 3, 4]"), "54000 a batch holds at most 3 events");
    limits.too_many_elements_message = {};
    EXPECT_EQ(message("[1, 2, 3, 4]"), "54000 properties: the top-level array holds more than 3 elements");
}

TEST_F(TextParser, StringsWithoutEscapesPointIntoTheText) {
    const std::string text = R"(["plain", "esc\\aped"])";
    ParsedText parsed = parse_json_text(text, 16, arena);
    const std::string_view plain = parsed.root.elements[0].string;
    EXPECT_TRUE(plain.data() >= text.data() && plain.data() < text.data() + text.size());
    EXPECT_EQ(parsed.root.elements[1].string, "esc\\aped");
}

// Documents and the bytes PostgreSQL 15 stored for them (the container after the varlena
// header), read back with pageinspect's heap_page_items.
struct Golden {
    const char* text;
    const char* container_hex;
    const char* postgres_text;  // jsonb_out, compacted
};
const Golden goldens[] = {
    {R"({})", "00000020", R"({})"},
    {R"({"a":1})", "01000020010000800b000010610000002000000000800100", R"({"a":1})"},
    {R"({"b":"x","aa":true,"a":null})", "030000200100008001000000020000000000004001000000000000306162616178",
     R"({"a":null,"b":"x","aa":true})"},
    {R"({"n":[1,2.50,-3e-2,0,100000,12345678901234567890]})",
     "01000020010000805b0000506e00000006000040080000900a0000100a000010060000100a00001010000010200000000080"
     "0100280000000081020088130000200000007fa12c0118000000008000002000000001800a00400000000480d2042e163423"
     "800dd21e",
     R"({"n":[1,2.50,-0.03,0,100000,12345678901234567890]})"},
    {R"({"nested":{"k":[{"x":false}]},"s":"héllo"})",
     "0200002001000080060000000600000028000050736e657374656468c3a96c6c6f0000000100002001000080180000506b00"
     "0000010000400d0000d001000020010000800000002078",
     R"({"s":"héllo","nested":{"k":[{"x":false}]}})"},
    {R"([1,"two",{"three":3}])",
     "0300004008000090030000001d000050200000000080010074776f0001000020050000800b00001074687265650000002000"
     "000000800300",
     R"([1,"two",{"three":3}])"},
    {R"("scalar")", "01000050060000807363616c6172", R"("scalar")"},
    {R"({"z":0.0001,"y":-0.0,"x":1e3,"w":123.4500})",
     "04000020010000800100000001000000010000000a0000100a000010060000100a0000107778797a2800000000827b009411"
     "0000200000000080e8031800000080800000200000007f820100",
     R"({"w":123.4500,"x":1000,"y":0.0,"z":0.0001})"},
};

TEST_F(Jsonb, EncodesTheBytesPostgresWrites) {
    for (const Golden& g : goldens) {
        const std::string_view encoded = encode_jsonb(parse(g.text), arena);
        ASSERT_GE(encoded.size(), 4u);
        std::uint32_t header;
        std::memcpy(&header, encoded.data(), 4);
        EXPECT_EQ(header >> 2, encoded.size()) << g.text;
        EXPECT_EQ(to_hex(encoded.substr(4)), g.container_hex) << g.text;
    }
}

TEST_F(Jsonb, DecodesTheBytesPostgresWrote) {
    for (const Golden& g : goldens) {
        const std::vector<unsigned char> bytes = from_hex(g.container_hex);
        const JsonValue v = decode_jsonb(bytes.data(), bytes.size(), 64, arena);
        EXPECT_EQ(canonical(v), g.postgres_text) << g.text;
    }
}

TEST_F(Jsonb, RoundTripsKeepNumericsByteForByte) {
    for (const Golden& g : goldens) {
        const std::vector<unsigned char> bytes = from_hex(g.container_hex);
        const JsonValue v = decode_jsonb(bytes.data(), bytes.size(), 64, arena);
        EXPECT_EQ(to_hex(encode_jsonb(v, arena).substr(4)), g.container_hex) << g.text;
    }
}

TEST_F(Jsonb, OffsetStridesInLargeContainers) {
    // More than 32 children: every 32nd JEntry holds an offset instead of a length.
    std::string text = "{";
    for (int i = 0; i < 100; ++i)
        text += (i ? "," : "") + std::string("\"key") + std::to_string(i) + "\":[" + std::to_string(i) + ",\"v\"]";
    text += "}";
    const JsonValue original = parse(text);
    const std::string_view encoded = encode_jsonb(original, arena);
    const JsonValue decoded =
        decode_jsonb(reinterpret_cast<const unsigned char*>(encoded.data()) + 4, encoded.size() - 4, 64, arena);
    EXPECT_TRUE(json_equal(original, decoded));
    EXPECT_EQ(canonical(decoded).size(), canonical(original).size());
}

TEST_F(Jsonb, DepthLimitMarksInsteadOfRecursing) {
    std::string deep = std::string(30, '[') + "1" + std::string(30, ']');
    ParsedText parsed = parse_json_text(deep, 64, arena);
    const std::string_view encoded = encode_jsonb(parsed.root, arena);
    const JsonValue decoded =
        decode_jsonb(reinterpret_cast<const unsigned char*>(encoded.data()) + 4, encoded.size() - 4, 16, arena);
    const JsonValue* v = &decoded;
    int depth = 1;
    while (v->kind == JsonKind::array) {
        v = &v->elements[0];
        ++depth;
    }
    EXPECT_EQ(v->kind, JsonKind::too_deep);
    EXPECT_EQ(depth, 17);
}

TEST_F(Jsonb, MalformedBytesAreRefusedNotRead) {
    const std::vector<std::string> bad = {
        "",                                // no header
        "05000020",                        // 5 members, no entries
        "0100002001000080ff000010",        // entry beyond the data
        "00000060",                        // both object and array
        "01000020010000800b000050610000",  // container entry with no room
    };
    for (const std::string& hex : bad) {
        const std::vector<unsigned char> bytes = from_hex(hex);
        EXPECT_THROW(decode_jsonb(bytes.data(), bytes.size(), 64, arena), DomainError) << hex;
    }
}

// A batch's elements are read each within its own budget; an element over it becomes
// too_large, and what was read of it before still counts against the whole document, since it
// stays in memory: elements each just over their bound cannot add up to an unbounded batch.
TEST_F(Jsonb, ElementBoundsCountWhatWasRead) {
    auto encoded_batch = [&](const std::string& text) {
        const std::string_view bytes = encode_jsonb(parse(text), arena);
        return std::vector<unsigned char>(bytes.begin() + 4, bytes.end());
    };
    DecodeLimits limits;
    limits.batch = true;
    limits.max_element_values = 4;
    limits.max_values = 100;
    const std::vector<unsigned char> mixed = encoded_batch(R"([{"a": 1}, [1, 2, 3, 4, 5], {"b": 2}])");
    const JsonValue v = decode_jsonb(mixed.data(), mixed.size(), limits, arena);
    ASSERT_EQ(v.count, 3u);
    EXPECT_EQ(v.elements[0].kind, JsonKind::object);
    EXPECT_EQ(v.elements[1].kind, JsonKind::too_large);
    EXPECT_EQ(v.elements[2].kind, JsonKind::object);

    // Ten elements of seven values each, over their bound of five after five were read: every
    // one is refused, and the 50 values read reach the document's bound of 30.
    limits.max_element_values = 5;
    std::string many = "[";
    for (int i = 0; i < 10; ++i) many += std::string(i ? ", " : "") + "[[null, null], [null, null]]";
    many += "]";
    const std::vector<unsigned char> bytes = encoded_batch(many);
    limits.max_values = 30;
    EXPECT_THROW(decode_jsonb(bytes.data(), bytes.size(), limits, arena), DomainError);
    limits.max_values = 100;
    const JsonValue within = decode_jsonb(bytes.data(), bytes.size(), limits, arena);
    ASSERT_EQ(within.count, 10u);
    for (std::uint32_t i = 0; i < within.count; ++i) EXPECT_EQ(within.elements[i].kind, JsonKind::too_large);
}

}  // namespace
}  // namespace telemetry
