// libFuzzer target: the text of a client batch, as track_batch() receives it from the network.
//
// Whatever the bytes: the repair pass and the parser return without crashing or touching memory
// they should not (built with ASan and UBSan), within the batch's bounds; every element of an
// array unpacks into an event or a reason; a document without problems survives the jsonb round
// trip, decode_jsonb(encode_jsonb(d)) equals d (test/t/004_jsonb_codec.pl checks encode_jsonb
// against PostgreSQL itself), and reads back the same through the batch's jsonb reader.
//
// And against Boost.JSON itself, let to nest deeper than we let it (the fuzzer's inputs are
// short): text Boost reads is never refused as not JSON, and text we read is JSON unless it holds
// what the repair pass repairs (a backslash-u escape or a long exponent), so no repair makes invalid
// text valid.
#include <boost/json/basic_parser_impl.hpp>
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "core/base/arena.hpp"
#include "core/ingest/batch.hpp"
#include "core/json/json_text.hpp"
#include "core/json/jsonb.hpp"
#include "core/catalog/schema.hpp"

using namespace telemetry;

namespace {
// A Boost.JSON handler that builds nothing: the parser only validates.
struct Validate {
    static constexpr std::size_t max_object_size = std::size_t(-1), max_array_size = std::size_t(-1),
                                 max_key_size = std::size_t(-1), max_string_size = std::size_t(-1);
    bool on_document_begin(boost::json::error_code&) { return true; }
    bool on_document_end(boost::json::error_code&) { return true; }
    bool on_object_begin(boost::json::error_code&) { return true; }
    bool on_object_end(std::size_t, boost::json::error_code&) { return true; }
    bool on_array_begin(boost::json::error_code&) { return true; }
    bool on_array_end(std::size_t, boost::json::error_code&) { return true; }
    bool on_key_part(boost::json::string_view, std::size_t, boost::json::error_code&) { return true; }
    bool on_key(boost::json::string_view, std::size_t, boost::json::error_code&) { return true; }
    bool on_string_part(boost::json::string_view, std::size_t, boost::json::error_code&) { return true; }
    bool on_string(boost::json::string_view, std::size_t, boost::json::error_code&) { return true; }
    bool on_number_part(boost::json::string_view, boost::json::error_code&) { return true; }
    bool on_int64(std::int64_t, boost::json::string_view, boost::json::error_code&) { return true; }
    bool on_uint64(std::uint64_t, boost::json::string_view, boost::json::error_code&) { return true; }
    bool on_double(double, boost::json::string_view, boost::json::error_code&) { return true; }
    bool on_bool(bool, boost::json::error_code&) { return true; }
    bool on_null(boost::json::error_code&) { return true; }
    bool on_comment_part(boost::json::string_view, boost::json::error_code&) { return true; }
    bool on_comment(boost::json::string_view, boost::json::error_code&) { return true; }
};

// Whether Boost.JSON reads the text as one JSON value, nesting up to 2048 deep.
bool boost_reads(std::string_view text) {
    boost::json::parse_options options;
    options.max_depth = 2048;
    boost::json::basic_parser<Validate> parser(options);
    boost::json::error_code ec;
    const std::size_t used = parser.write_some(false, text.data(), text.size(), ec);
    return !ec && used == text.size() && parser.done();
}

// Whether the text holds something the repair pass may change: a backslash-u escape, or an exponent
// of six digits or more.
bool may_be_repaired(std::string_view text) {
    if (text.find("\\u") != std::string_view::npos) return true;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] != 'e' && text[i] != 'E') continue;
        std::size_t j = i + 1;
        if (j < text.size() && (text[j] == '+' || text[j] == '-')) ++j;
        std::size_t digits = 0;
        while (j < text.size() && text[j] >= '0' && text[j] <= '9') ++j, ++digits;
        if (digits >= 6) return true;
    }
    return false;
}

bool has_too_deep(const JsonValue& v) {
    if (v.kind == JsonKind::too_deep || v.kind == JsonKind::too_large) return true;
    if (v.kind == JsonKind::array)
        for (std::uint32_t i = 0; i < v.count; ++i)
            if (has_too_deep(v.elements[i])) return true;
    if (v.kind == JsonKind::object)
        for (std::uint32_t i = 0; i < v.count; ++i)
            if (has_too_deep(v.members[i].value)) return true;
    return false;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    HeapChunks chunks;
    Arena arena(chunks.source());
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    ParsedText parsed;
    const Error error = capture_errors([&] { parsed = parse_batch_text(text, arena); });
    if (error.sqlstate == sqlstate::internal_error) std::abort();  // a refusal is a domain error, never a bug
    std::size_t nesting = 0, deepest = 0;
    for (char c : text) {
        if (c == '[' || c == '{') deepest = std::max(deepest, ++nesting);
        if ((c == ']' || c == '}') && nesting > 0) --nesting;
    }
    if (deepest < 2048) {  // (brackets in strings count too: an overestimate)
        const bool not_json = error.sqlstate == "22P02";
        if (not_json && boost_reads(text)) {
            std::fprintf(stderr, "JSON that Boost reads was refused as not JSON\n");
            std::abort();
        }
        if (!failed(error) && !may_be_repaired(text) && !boost_reads(text)) {
            std::fprintf(stderr, "text that is not JSON was read\n");
            std::abort();
        }
    }
    if (failed(error)) return 0;

    if (parsed.root.kind == JsonKind::array) {
        if (parsed.problem_count != parsed.root.count) std::abort();
        for (std::uint32_t i = 0; i < parsed.root.count; ++i)
            (void)unpack_batch_element(parsed.root.elements[i], parsed.problems[i], arena);
    }

    if (parsed.first_problem() == nullptr && !has_too_deep(parsed.root)) {
        const std::string_view encoded = encode_jsonb(parsed.root, arena);
        const auto* bytes = reinterpret_cast<const unsigned char*>(encoded.data());
        const JsonValue back = decode_jsonb(bytes + 4, encoded.size() - 4, max_text_depth + 1, arena);
        if (!json_equal(parsed.root, back)) {
            std::fprintf(stderr, "jsonb round trip changed the document\n");
            std::abort();
        }
        if (parsed.root.kind == JsonKind::array) {
            const JsonValue batch = decode_batch_jsonb(bytes + 4, encoded.size() - 4, arena);
            if (!json_equal(parsed.root, batch)) {
                std::fprintf(stderr, "the batch's jsonb reader read another document\n");
                std::abort();
            }
        }
    }
    return 0;
}
