// Property schemas: a JSON-Schema subset compiled once into a validator.
//
// Keywords: type (string, integer, number, boolean, object, array, null, or a list of them),
// required, properties, additionalProperties (true / "allow", false / "reject", "omit"), enum,
// minLength, maxLength (code points), minimum, maximum (inclusive, compared exactly), pattern
// (RE2 syntax, unanchored like JSON Schema's; linear-time matching, never std::regex), items,
// maxItems, description (ignored), and x-pii on any property: allow | hash | redact | drop |
// reject. Anything else is refused when the catalog is loaded, not ignored. docs/catalog.md
// has the rules with examples.
//
// "integer" means an integral number that fits in 64 bits, so that analytics can sum it as a
// bigint; "number" is any number within double's range (stored exactly, as jsonb keeps it).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/base/arena.hpp"
#include "core/base/error.hpp"
#include "core/json/json.hpp"
#include "core/json/json_path.hpp"

namespace re2 {
class RE2;
}

namespace telemetry {

enum class PiiAction : std::uint8_t { none, allow, hash, redact, drop, reject };
enum class AdditionalProperties : std::uint8_t { allow, omit, reject };

const char* to_string(PiiAction action) noexcept;

// Bits of the type keyword.
namespace json_type {
inline constexpr std::uint8_t string = 1, integer = 2, number = 4, boolean = 8, object = 16, array = 32, null = 64;
inline constexpr std::uint8_t any = 0;
}  // namespace json_type

struct SchemaNode;

struct PatternMatcher {
    std::string source;
    std::shared_ptr<const re2::RE2> regex;  // shared: schemas are copied when catalogs are rebuilt
};

struct SchemaNode {
    std::uint8_t types = json_type::any;
    std::optional<std::uint32_t> min_length, max_length;
    std::optional<PatternMatcher> pattern;
    const JsonNumber* minimum = nullptr;  // in the schema's arena
    const JsonNumber* maximum = nullptr;
    std::vector<const JsonValue*> enum_values;
    std::vector<std::pair<std::string, SchemaNode>> properties;  // sorted by name
    std::vector<std::string> required;
    AdditionalProperties additional = AdditionalProperties::allow;
    std::unique_ptr<SchemaNode> items;
    std::optional<std::uint32_t> max_items;
    PiiAction pii = PiiAction::none;
    // A declared property whose own name shows personal data (an e-mail address as a name),
    // found when the schema is compiled (the policy for undeclared personal data, core/pii).
    bool name_shows_pii = false;

    const SchemaNode* property(std::string_view name) const noexcept;
};

// One broken rule: where, which keyword, and what was found (never the value itself).
struct Violation {
    std::string path;       // relative to the properties object: "$.items[2].sku"
    std::string keyword;    // "type", "required", "enum", ..., "x-pii", "depth", "number"
    std::string message;    // "expected a string, found a number"
    bool omittable = true;  // removing the member that holds the value would cure it
};

class CompiledSchema;
std::shared_ptr<const CompiledSchema> compile_schema(std::string_view schema_json, const std::string& path);

// A compiled schema owns its node tree and the arena holding enum values and bounds.
class CompiledSchema {
public:
    const SchemaNode& root() const noexcept { return root_; }
    // Some member may be hashed, redacted, dropped or omitted: stored properties may differ.
    bool needs_rewrite() const noexcept { return needs_rewrite_; }
    // The size of its compiled patterns, in RE2 instructions: what its regular expressions cost
    // every backend that uses the type (memory, and time to compile).
    std::size_t pattern_instructions() const noexcept { return pattern_instructions_; }

private:
    friend struct SchemaCompiler;
    friend std::shared_ptr<const CompiledSchema> compile_schema(std::string_view, const std::string&);
    std::unique_ptr<HeapChunks> chunks_ = std::make_unique<HeapChunks>();
    std::unique_ptr<Arena> arena_ = std::make_unique<Arena>(chunks_->source());
    SchemaNode root_;
    bool needs_rewrite_ = false;
    std::size_t pattern_instructions_ = 0;
    std::string source_;
};

inline constexpr std::uint32_t max_property_depth = 16;
inline constexpr std::size_t max_violations = 16;

// Patterns are compiled by RE2 within a memory bound each (a pattern that needs more is refused
// at load, not run), and the patterns of a whole catalog within a budget of instructions, so
// that no catalog can make loading it, or a backend's first events, slow or large
// (docs/catalog.md, "Patterns").
inline constexpr std::int64_t max_pattern_memory = 256 * 1024;
inline constexpr std::size_t max_catalog_pattern_instructions = 500000;

// Compiles a schema given as JSON text. Errors are DomainError 22023 whose message starts with
// `path` (the schema's JSON path in its catalog document) and names the rule.
std::shared_ptr<const CompiledSchema> compile_schema(std::string_view schema_json, const std::string& path);

// Checks properties against a schema: every violation (up to max_violations), in document
// order. Numbers beyond our limits and containers nested deeper than max_property_depth are
// violations whatever the schema says.
std::vector<Violation> validate(const CompiledSchema& schema, const JsonValue& properties);

// Exact comparison of two numbers: <0, 0, >0.
int compare_numbers(const JsonNumber& a, const JsonNumber& b) noexcept;

}  // namespace telemetry
