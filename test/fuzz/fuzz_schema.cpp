// libFuzzer target: a property schema from a catalog document and the properties of an event,
// separated by the first NUL byte (no NUL: the whole input is the schema, the properties {}).
//
// Users write schemas by hand and clients send any properties: compiling either refuses with a
// DomainError or yields a schema, and validating, omitting and PII-rewriting never crash, never
// touch memory they should not (ASan, UBSan), and name paths that exist.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/arena.hpp"
#include "core/base/error.hpp"
#include "core/json/json.hpp"
#include "core/json/json_text.hpp"
#include "core/catalog/schema.hpp"
#include "core/pii/rewrite.hpp"

using namespace telemetry;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    const std::size_t nul = input.find('\0');
    const std::string_view schema_text = input.substr(0, nul);
    const std::string_view properties_text =
        nul == std::string_view::npos ? std::string_view("{}") : input.substr(nul + 1);

    std::shared_ptr<const CompiledSchema> schema;
    try {
        schema = compile_schema(schema_text, "$.events[0].schema");
    } catch (const DomainError&) {
        return 0;  // refused, with a reason: fine
    }

    HeapChunks chunks;
    Arena arena(chunks.source());
    ParsedText parsed;
    try {
        parsed = parse_json_text(properties_text, max_property_depth, arena);
    } catch (const DomainError&) {
        return 0;  // not JSON, or over a limit: refused with a reason
    }

    const std::vector<Violation> violations = validate(*schema, parsed.root);
    if (violations.size() > max_violations) std::abort();
    std::vector<std::string> omit;
    for (const Violation& v : violations) {
        if (v.path.empty() || v.path[0] != '$' || v.keyword.empty()) std::abort();
        if (v.keyword == "x-pii") return 0;  // refused before any rewriting, as ingest does
        if (v.omittable) omit.push_back(v.path);
    }
    if (parsed.root.kind != JsonKind::object) return 0;
    const std::string master(32, 'k');
    const std::string tenant(16, 't');
    const Rewritten rewritten = rewrite_properties(*schema, parsed.root, omit, PiiHashKey{master, tenant}, arena);
    (void)canonical_size(*rewritten.value);
    return 0;
}
