// libFuzzer target: the text of a client batch, as track_batch() receives it from the network.
//
// Whatever the bytes: the repair pass and the parser return without crashing or touching memory
// they should not (built with ASan and UBSan), within the batch's bounds; every element of an
// array unpacks into an event or a reason; a document without problems survives the jsonb round
// trip, decode_jsonb(encode_jsonb(d)) equals d (test/t/004_jsonb_codec.pl checks encode_jsonb
// against PostgreSQL itself), and reads back the same through the batch's jsonb reader.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "core/arena.hpp"
#include "core/batch.hpp"
#include "core/json_text.hpp"
#include "core/jsonb.hpp"
#include "core/schema.hpp"

using namespace telemetry;

namespace {
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
    const ParsedText parsed = parse_batch_text(text, arena);
    if (failed(parsed.error)) return 0;

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
