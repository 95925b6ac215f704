#include "core/catalog/schema_compat.hpp"

#include "core/json/json_path.hpp"

namespace telemetry {

namespace {

const char* type_name(std::uint8_t bit) {
    switch (bit) {
        case json_type::string:
            return "a string";
        case json_type::integer:
            return "an integer";
        case json_type::number:
            return "a number";
        case json_type::boolean:
            return "a boolean";
        case json_type::object:
            return "an object";
        case json_type::array:
            return "an array";
        case json_type::null:
            return "null";
    }
    return "a value";
}

// The types a node accepts, with "any" spelled out and number implying integer.
std::uint8_t accepted(std::uint8_t types) {
    if (types == json_type::any) return 0x7F;
    if (types & json_type::number) types |= json_type::integer;
    return types;
}

struct Comparer {
    std::vector<std::string>& out;

    void note(const JsonPath& at, const std::string& what) { out.push_back(at.str() + ": " + what); }

    void node(const SchemaNode& b, const SchemaNode& a, const JsonPath& at) {
        const std::uint8_t lost = accepted(b.types) & ~accepted(a.types);
        for (std::uint8_t bit = 1; bit && bit <= json_type::null; bit <<= 1)
            if (lost & bit) note(at, std::string("type narrowed (") + type_name(bit) + " is no longer accepted)");
        if (!a.enum_values.empty()) {
            if (b.enum_values.empty()) {
                note(at, "enum added");
            } else {
                for (const JsonValue* old_value : b.enum_values) {
                    bool kept = false;
                    for (const JsonValue* new_value : a.enum_values) kept = kept || json_equal(*old_value, *new_value);
                    if (!kept) {
                        note(at, "enum value removed");
                        break;
                    }
                }
            }
        }
        if (a.min_length && (!b.min_length || *a.min_length > *b.min_length)) note(at, "minLength raised");
        if (a.max_length && (!b.max_length || *a.max_length < *b.max_length)) note(at, "maxLength lowered");
        if (a.pattern && (!b.pattern || a.pattern->source != b.pattern->source)) note(at, "pattern added or changed");
        if (a.minimum && (!b.minimum || compare_numbers(*a.minimum, *b.minimum) > 0)) note(at, "minimum raised");
        if (a.maximum && (!b.maximum || compare_numbers(*a.maximum, *b.maximum) < 0)) note(at, "maximum lowered");
        if (a.max_items && (!b.max_items || *a.max_items < *b.max_items)) note(at, "maxItems lowered");
        if (a.pii == PiiAction::reject && b.pii != PiiAction::reject) note(at, "x-pii changed to reject");

        for (const std::string& r : a.required) {
            bool was = false;
            for (const std::string& old : b.required) was = was || old == r;
            if (!was) note(at.key(r), "made required");
        }
        for (const auto& [name, old_child] : b.properties) {
            const SchemaNode* new_child = a.property(name);
            if (new_child == nullptr) note(at.key(name), "property removed");
            else node(old_child, *new_child, at.key(name));
        }
        // Declaring a property that undeclared ones already covered is not counted: as in
        // Snowplow's SchemaVer, that is a REVISION (old data may not validate), not a MODEL.
        if (a.additional == AdditionalProperties::reject && b.additional != AdditionalProperties::reject)
            note(at, "additionalProperties changed to reject");
        if (a.items) {
            const SchemaNode anything;
            node(b.items ? *b.items : anything, *a.items, JsonPath(at.str() + "[*]"));
        }
    }
};

}  // namespace

std::vector<std::string> breaking_changes(const SchemaNode& before, const SchemaNode& after) {
    std::vector<std::string> out;
    Comparer{out}.node(before, after, JsonPath());
    return out;
}

std::string refuse_catalog_change(const std::string& name, const CatalogChange& before, const CatalogChange& after) {
    const std::string prefix = "event type \"" + name + "\" version " + after.version.str() + ": ";
    if (after.version < before.version)
        return prefix + "the version must not go back (the catalog has " + before.version.str() + ")";
    const bool schema_changed = before.schema_json != after.schema_json || before.max_bytes != after.max_bytes;
    if (!schema_changed) return "";
    if (after.version == before.version)
        return prefix +
               "the schema or max_bytes changed but the version did not; bump ADDITION for a compatible change, "
               "MODEL for a breaking one";
    std::vector<std::string> changes;
    if (after.max_bytes < before.max_bytes) changes.push_back("max_bytes lowered");
    const auto old_schema = compile_schema(before.schema_json, "$");
    const auto new_schema = compile_schema(after.schema_json, "$");
    for (std::string& c : breaking_changes(old_schema->root(), new_schema->root())) changes.push_back(std::move(c));
    if (changes.empty() || after.version.model > before.version.model) return "";
    std::string message = prefix + "would break existing producers (";
    for (std::size_t i = 0; i < changes.size() && i < 8; ++i) message += (i ? "; " : "") + changes[i];
    if (changes.size() > 8) message += "; and " + std::to_string(changes.size() - 8) + " more";
    SchemaVer needed{before.version.model + 1, 0, 0};
    message += "): a breaking change needs a new MODEL version, such as " + needed.str();
    return message;
}

}  // namespace telemetry

#include "core/base/no_postgres.hpp"
