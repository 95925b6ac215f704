#include "core/catalog/schema.hpp"

#include <re2/re2.h>

#include <algorithm>
#include <cstring>

#include "core/json/json_path.hpp"
#include "core/json/json_text.hpp"
#include "core/pii/detect.hpp"

namespace telemetry {

namespace {

// Whether a property's own name shows personal data (an e-mail address used as a name): judged
// once here, so that ingest does not judge the names the schema declares on every event.
bool name_shows_pii(std::string_view name) {
    std::vector<pii::Finding> findings;
    pii::scan_value(pii::needs_normalising(name) ? pii::normalise(name) : std::string(name), findings);
    return !findings.empty();
}

}  // namespace

const char* to_string(PiiAction action) noexcept {
    switch (action) {
        case PiiAction::none:
            return "none";
        case PiiAction::allow:
            return "allow";
        case PiiAction::hash:
            return "hash";
        case PiiAction::redact:
            return "redact";
        case PiiAction::drop:
            return "drop";
        case PiiAction::reject:
            return "reject";
    }
    return "none";
}

const SchemaNode* SchemaNode::property(std::string_view name) const noexcept {
    const auto it = std::lower_bound(properties.begin(), properties.end(), name,
                                     [](const auto& entry, std::string_view key) { return entry.first < key; });
    return it != properties.end() && it->first == name ? &it->second : nullptr;
}

int compare_numbers(const JsonNumber& a, const JsonNumber& b) noexcept {
    const int sa = a.is_zero() ? 0 : (a.negative ? -1 : 1);
    const int sb = b.is_zero() ? 0 : (b.negative ? -1 : 1);
    if (sa != sb) return sa < sb ? -1 : 1;
    if (sa == 0) return 0;
    // Same sign: compare magnitudes, then flip for negatives.
    int magnitude;
    if (a.point != b.point) {
        magnitude = a.point < b.point ? -1 : 1;
    } else {
        const std::size_t n = std::max(a.digits.size(), b.digits.size());
        magnitude = 0;
        for (std::size_t i = 0; i < n && magnitude == 0; ++i) {
            const char da = i < a.digits.size() ? a.digits[i] : '0';
            const char db = i < b.digits.size() ? b.digits[i] : '0';
            if (da != db) magnitude = da < db ? -1 : 1;
        }
    }
    return sa < 0 ? -magnitude : magnitude;
}

// ---------------------------------------------------------------------------------------------
// Compiling

struct SchemaCompiler {
    CompiledSchema& out;

    [[noreturn]] static void refuse(const JsonPath& at, const std::string& rule) {
        throw DomainError(sqlstate::invalid_parameter_value, at.str() + ": " + rule);
    }

    static std::uint32_t small_count(const JsonValue& v, const JsonPath& at, const char* keyword) {
        if (v.kind != JsonKind::number || !v.number->is_int64() || v.number->negative || v.number->point > 7)
            refuse(at, std::string(keyword) + " must be a non-negative integer below 10000000");
        std::uint32_t n = 0;
        for (std::int32_t i = 0; i < v.number->point; ++i)
            n = n * 10 + static_cast<std::uint32_t>(i < static_cast<std::int32_t>(v.number->digits.size())
                                                        ? v.number->digits[static_cast<std::size_t>(i)] - '0'
                                                        : 0);
        return n;
    }

    static std::uint8_t type_bit(const JsonValue& v, const JsonPath& at) {
        if (v.kind == JsonKind::string) {
            const std::string_view t = v.string;
            if (t == "string") return json_type::string;
            if (t == "integer") return json_type::integer;
            if (t == "number") return json_type::number;
            if (t == "boolean") return json_type::boolean;
            if (t == "object") return json_type::object;
            if (t == "array") return json_type::array;
            if (t == "null") return json_type::null;
        }
        refuse(at, "type must be one of string, integer, number, boolean, object, array, null");
    }

    void node(const JsonValue& v, const JsonPath& at, std::uint32_t depth, SchemaNode& n) {
        if (v.kind != JsonKind::object)
            refuse(at, std::string("a schema must be an object, found ") + describe_kind(v));
        if (depth > max_property_depth) refuse(at, "schemas may nest at most 16 levels");
        for (std::uint32_t i = 0; i < v.count; ++i) {
            const std::string_view key = v.members[i].key;
            const JsonValue& value = v.members[i].value;
            const JsonPath here = at.key(key);
            if (key == "type") {
                if (value.kind == JsonKind::array) {
                    if (value.count == 0) refuse(here, "type must list at least one type");
                    for (std::uint32_t t = 0; t < value.count; ++t) {
                        const std::uint8_t bit = type_bit(value.elements[t], here.index(t));
                        if (n.types & bit) refuse(here.index(t), "type lists the same type twice");
                        n.types |= bit;
                    }
                } else {
                    n.types = type_bit(value, here);
                }
            } else if (key == "required") {
                if (value.kind != JsonKind::array) refuse(here, "required must be an array of property names");
                for (std::uint32_t r = 0; r < value.count; ++r) {
                    if (value.elements[r].kind != JsonKind::string)
                        refuse(here.index(r), "required must be an array of property names");
                    n.required.emplace_back(value.elements[r].string);
                }
                std::vector<std::string> sorted = n.required;
                std::sort(sorted.begin(), sorted.end());
                if (std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end())
                    refuse(here, "required names a property twice");
            } else if (key == "properties") {
                if (value.kind != JsonKind::object) refuse(here, "properties must be an object of property schemas");
                for (std::uint32_t p = 0; p < value.count; ++p) {
                    const std::string_view name = value.members[p].key;
                    if (name.empty() || name.size() > 256)
                        refuse(here.key(name), "property names must be 1 to 256 bytes");
                    SchemaNode child;
                    node(value.members[p].value, here.key(name), depth + 1, child);
                    child.name_shows_pii = name_shows_pii(name);
                    n.properties.emplace_back(std::string(name), std::move(child));
                }
                std::sort(n.properties.begin(), n.properties.end(),
                          [](const auto& a, const auto& b) { return a.first < b.first; });
            } else if (key == "additionalProperties") {
                if (value.kind == JsonKind::boolean) {
                    n.additional = value.boolean ? AdditionalProperties::allow : AdditionalProperties::reject;
                } else if (value.kind == JsonKind::string && value.string == "allow") {
                    n.additional = AdditionalProperties::allow;
                } else if (value.kind == JsonKind::string && value.string == "omit") {
                    n.additional = AdditionalProperties::omit;
                    out.needs_rewrite_ = true;
                } else if (value.kind == JsonKind::string && value.string == "reject") {
                    n.additional = AdditionalProperties::reject;
                } else {
                    refuse(here, "additionalProperties must be true, false, \"allow\", \"omit\" or \"reject\"");
                }
            } else if (key == "enum") {
                if (value.kind != JsonKind::array || value.count == 0 || value.count > 1000)
                    refuse(here, "enum must be an array of 1 to 1000 values");
                for (std::uint32_t e = 0; e < value.count; ++e) {
                    for (const JsonValue* earlier : n.enum_values)
                        if (json_equal(*earlier, value.elements[e]))
                            refuse(here.index(e), "enum lists the same value twice");
                    n.enum_values.push_back(&value.elements[e]);
                }
            } else if (key == "minLength") {
                n.min_length = small_count(value, here, "minLength");
            } else if (key == "maxLength") {
                n.max_length = small_count(value, here, "maxLength");
            } else if (key == "minimum" || key == "maximum") {
                if (value.kind != JsonKind::number || value.number->out_of_range)
                    refuse(here, std::string(key) + " must be a number");
                (key == "minimum" ? n.minimum : n.maximum) = value.number;
            } else if (key == "pattern") {
                if (value.kind != JsonKind::string || value.string.empty() || value.string.size() > 1024)
                    refuse(here, "pattern must be a regular expression of 1 to 1024 bytes");
                RE2::Options options;
                options.set_log_errors(false);
                options.set_max_mem(max_pattern_memory);  // bounds the program and its DFA cache
                options.set_encoding(RE2::Options::EncodingUTF8);
                auto regex =
                    std::make_shared<const RE2>(re2::StringPiece(value.string.data(), value.string.size()), options);
                if (!regex->ok())
                    refuse(here,
                           "pattern is not a supported regular expression (RE2 syntax: no backreferences or "
                           "lookaround; it must also compile within 256 KB)");
                out.pattern_instructions_ += static_cast<std::size_t>(regex->ProgramSize());
                n.pattern = PatternMatcher{std::string(value.string), std::move(regex)};
            } else if (key == "items") {
                n.items = std::make_unique<SchemaNode>();
                node(value, here, depth + 1, *n.items);
            } else if (key == "maxItems") {
                n.max_items = small_count(value, here, "maxItems");
            } else if (key == "x-pii") {
                const std::string_view a = value.kind == JsonKind::string ? value.string : std::string_view();
                if (a == "allow") n.pii = PiiAction::allow;
                else if (a == "hash") n.pii = PiiAction::hash;
                else if (a == "redact") n.pii = PiiAction::redact;
                else if (a == "drop") n.pii = PiiAction::drop;
                else if (a == "reject") n.pii = PiiAction::reject;
                else refuse(here, "x-pii must be one of allow, hash, redact, drop, reject");
                if (depth == 0) refuse(here, "x-pii belongs on a property, not on the whole properties object");
                if (n.pii == PiiAction::hash || n.pii == PiiAction::redact || n.pii == PiiAction::drop)
                    out.needs_rewrite_ = true;
            } else if (key == "description") {
                if (value.kind != JsonKind::string || value.string.size() > 1000)
                    refuse(here, "description must be a string of at most 1000 bytes");
            } else {
                refuse(here,
                       "keyword is not supported (allowed: type, required, properties, additionalProperties, "
                       "enum, minLength, maxLength, minimum, maximum, pattern, items, maxItems, x-pii, description)");
            }
        }
        if (n.min_length && n.max_length && *n.min_length > *n.max_length)
            refuse(at, "minLength is greater than maxLength");
        if (n.minimum && n.maximum && compare_numbers(*n.minimum, *n.maximum) > 0)
            refuse(at, "minimum is greater than maximum");
        for (const std::string& r : n.required)
            if (n.property(r) == nullptr)
                refuse(at.key("required"), "required property \"" + r + "\" is not declared in properties");
        // A value of a given type must be able to satisfy the enum: catches {"type": "integer", "enum": ["1"]}.
        for (std::size_t e = 0; e < n.enum_values.size() && n.types != json_type::any; ++e)
            if (!type_allows(n.types, *n.enum_values[e]))
                refuse(at.key("enum").index(e), "enum value does not have one of the declared types");
    }

    static bool type_allows(std::uint8_t types, const JsonValue& v) noexcept {
        if (types == json_type::any) return true;
        switch (v.kind) {
            case JsonKind::null:
                return types & json_type::null;
            case JsonKind::boolean:
                return types & json_type::boolean;
            case JsonKind::string:
                return types & json_type::string;
            case JsonKind::array:
                return types & json_type::array;
            case JsonKind::object:
                return types & json_type::object;
            case JsonKind::number:
                return (types & json_type::number) || ((types & json_type::integer) && v.number->is_int64());
            case JsonKind::too_deep:
            case JsonKind::too_large:
                return false;
        }
        return false;
    }
};

std::shared_ptr<const CompiledSchema> compile_schema(std::string_view schema_json, const std::string& path) {
    auto compiled = std::make_shared<CompiledSchema>();
    compiled->source_.assign(schema_json);
    TextLimits limits;
    limits.element_depth = max_property_depth + 4;
    limits.subject = path;  // where in the catalog document
    const ParsedText parsed = parse_json_text(compiled->source_, limits, *compiled->arena_);
    if (const ElementProblem* problem = parsed.first_problem())
        throw DomainError(sqlstate::invalid_parameter_value,
                          path + std::string(problem->path.substr(1)) + ": " + problem->rule);
    SchemaCompiler compiler{*compiled};
    const JsonPath root(path);
    compiler.node(parsed.root, root, 0, compiled->root_);
    if (compiled->root_.types != json_type::any && !(compiled->root_.types & json_type::object))
        SchemaCompiler::refuse(root.key("type"),
                               "the properties of an event are an object: the root type must include object");
    compiled->root_.types = json_type::object;
    return compiled;
}

// ---------------------------------------------------------------------------------------------
// Validating

namespace {

const char* expected_types(std::uint8_t types) {
    switch (types) {
        case json_type::string:
            return "a string";
        case json_type::integer:
            return "an integer (64-bit)";
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
        default:
            return "one of the declared types";
    }
}

struct Validator {
    std::vector<Violation>& out;

    bool full() const noexcept { return out.size() >= max_violations; }

    void add(const PathStep& at, const char* keyword, std::string message, bool omittable = true) {
        if (!full()) out.push_back(Violation{at.str(), keyword, std::move(message), omittable});
    }

    // Checks that apply whatever the schema: depth and numbers we store.
    void structural(const JsonValue& v, const PathStep& at) {
        if (full()) return;
        switch (v.kind) {
            case JsonKind::too_deep:
                add(at, "depth", "nested deeper than " + std::to_string(max_property_depth) + " levels", false);
                return;
            case JsonKind::too_large:
                add(at, "size", "holds more values than any event may", false);
                return;
            case JsonKind::number:
                if (v.number->out_of_range)
                    add(at, "number", "number is out of range (beyond a double, or more than 1000 digits)");
                return;
            case JsonKind::array:
                for (std::uint32_t i = 0; i < v.count; ++i) structural(v.elements[i], at.index(i));
                return;
            case JsonKind::object:
                for (std::uint32_t i = 0; i < v.count; ++i) structural(v.members[i].value, at.key(v.members[i].key));
                return;
            default:
                return;
        }
    }

    void value(const SchemaNode& s, const JsonValue& v, const PathStep& at) {
        if (full()) return;
        if (v.kind == JsonKind::too_deep || v.kind == JsonKind::too_large) return;  // reported by structural()
        if (v.kind == JsonKind::number && v.number->out_of_range) return;           // likewise
        if (s.pii == PiiAction::reject) {
            add(at, "x-pii", "the catalog refuses this property (x-pii: reject)");
            return;
        }
        if (!SchemaCompiler::type_allows(s.types, v)) {
            if (v.kind == JsonKind::number && (s.types & json_type::integer) && v.number->is_integral())
                add(at, "type", "expected an integer (64-bit), found an integer beyond 64 bits");
            else add(at, "type", std::string("expected ") + expected_types(s.types) + ", found " + describe_kind(v));
            return;
        }
        if (!s.enum_values.empty()) {
            bool found = false;
            for (const JsonValue* allowed : s.enum_values) found = found || json_equal(*allowed, v);
            if (!found)
                add(at, "enum",
                    "not one of the " + std::to_string(s.enum_values.size()) + " allowed values, found " +
                        describe_kind(v));
        }
        switch (v.kind) {
            case JsonKind::string:
                string(s, v, at);
                break;
            case JsonKind::number:
                number(s, v, at);
                break;
            case JsonKind::object:
                object(s, v, at);
                break;
            case JsonKind::array:
                array(s, v, at);
                break;
            default:
                break;
        }
    }

    void string(const SchemaNode& s, const JsonValue& v, const PathStep& at) {
        if (s.min_length || s.max_length) {
            const std::size_t length = utf8_length(v.string);
            if (s.min_length && length < *s.min_length)
                add(at, "minLength", "shorter than " + std::to_string(*s.min_length) + " characters");
            if (s.max_length && length > *s.max_length)
                add(at, "maxLength", "longer than " + std::to_string(*s.max_length) + " characters");
        }
        if (s.pattern && !RE2::PartialMatch(re2::StringPiece(v.string.data(), v.string.size()), *s.pattern->regex))
            add(at, "pattern", "does not match the pattern");
    }

    void number(const SchemaNode& s, const JsonValue& v, const PathStep& at) {
        if (v.number->out_of_range) return;  // reported by structural()
        if (s.minimum && compare_numbers(*v.number, *s.minimum) < 0) {
            std::string bound;
            append_number_text(*s.minimum, bound);
            add(at, "minimum", "less than the minimum " + bound);
        }
        if (s.maximum && compare_numbers(*v.number, *s.maximum) > 0) {
            std::string bound;
            append_number_text(*s.maximum, bound);
            add(at, "maximum", "greater than the maximum " + bound);
        }
    }

    void object(const SchemaNode& s, const JsonValue& v, const PathStep& at) {
        for (const std::string& r : s.required)
            if (v.find(r) == nullptr) add(at.key(r), "required", "missing", false);
        for (std::uint32_t i = 0; i < v.count && !full(); ++i) {
            const JsonMember& m = v.members[i];
            const SchemaNode* child = s.property(m.key);
            if (child != nullptr) value(*child, m.value, at.key(m.key));
            else if (s.additional == AdditionalProperties::reject)
                add(at.key(m.key), "additionalProperties", "not declared in the schema");
        }
    }

    void array(const SchemaNode& s, const JsonValue& v, const PathStep& at) {
        if (s.max_items && v.count > *s.max_items)
            add(at, "maxItems", "more than " + std::to_string(*s.max_items) + " items");
        if (s.items)
            for (std::uint32_t i = 0; i < v.count && !full(); ++i) value(*s.items, v.elements[i], at.index(i));
    }
};

}  // namespace

std::vector<Violation> validate(const CompiledSchema& schema, const JsonValue& properties) {
    std::vector<Violation> violations;
    Validator validator{violations};
    const PathStep root;
    validator.structural(properties, root);
    if (properties.kind != JsonKind::object) {
        validator.add(root, "type", std::string("properties must be a JSON object, found ") + describe_kind(properties),
                      false);
        return violations;
    }
    validator.value(schema.root(), properties, root);
    return violations;
}

}  // namespace telemetry

#include "core/base/no_postgres.hpp"
