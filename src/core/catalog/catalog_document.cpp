#include "core/catalog/catalog_document.hpp"

#include <boost/json.hpp>
#include <cmath>
#include <unordered_set>

#include "core/catalog/event_name.hpp"
#include "core/json/json_path.hpp"
#include "core/catalog/schema.hpp"

namespace telemetry {

namespace json = boost::json;

namespace {

const char* kind_of(const json::value& v) noexcept {
    switch (v.kind()) {
        case json::kind::null:
            return "null";
        case json::kind::bool_:
            return "a boolean";
        case json::kind::int64:
        case json::kind::uint64:
        case json::kind::double_:
            return "a number";
        case json::kind::string:
            return "a string";
        case json::kind::array:
            return "an array";
        case json::kind::object:
            return "an object";
    }
    return "an unknown value";
}

[[noreturn]] void refuse(const JsonPath& path, const std::string& rule) {
    throw DomainError(sqlstate::invalid_parameter_value, "catalog document: " + path.str() + ": " + rule);
}

[[noreturn]] void wrong_kind(const JsonPath& path, const char* expected, const json::value& found) {
    refuse(path, std::string("expected ") + expected + ", found " + kind_of(found));
}

const json::string& as_string(const json::value& v, const JsonPath& path) {
    if (!v.is_string()) wrong_kind(path, "a string", v);
    return v.get_string();
}

// A JSON number as a double, refusing what is not finite.
double as_number(const json::value& v, const JsonPath& path) {
    double d;
    if (v.is_int64()) d = static_cast<double>(v.get_int64());
    else if (v.is_uint64()) d = static_cast<double>(v.get_uint64());
    else if (v.is_double()) d = v.get_double();
    else wrong_kind(path, "a number", v);
    if (!std::isfinite(d)) refuse(path, "number must be finite");
    return d;
}

std::int64_t as_integer(const json::value& v, const JsonPath& path) {
    if (v.is_int64()) return v.get_int64();
    if (v.is_double()) {
        const double d = v.get_double();
        if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 9.0e15) return static_cast<std::int64_t>(d);
    }
    if (v.is_number()) refuse(path, "expected an integer");
    wrong_kind(path, "an integer", v);
}

EventTypeSpec parse_event(const json::value& entry, const JsonPath& path) {
    if (!entry.is_object()) wrong_kind(path, "an object", entry);
    const json::object& obj = entry.get_object();
    EventTypeSpec spec;

    const json::value* name = obj.if_contains("name");
    if (!name) refuse(path, "key \"name\" is required");
    {
        const json::string& s = as_string(*name, path.key("name"));
        const EventNameVerdict verdict = check_event_name(std::string_view(s.data(), s.size()));
        if (verdict != EventNameVerdict::ok) refuse(path.key("name"), describe(verdict));
        spec.name.assign(s.data(), s.size());
    }

    for (const auto& [key, value] : obj) {
        const JsonPath at = path.key(std::string_view(key.data(), key.size()));
        if (key == "name") {
            continue;
        } else if (key == "version") {
            const json::string& s = as_string(value, at);
            const auto ver = parse_schema_ver(std::string_view(s.data(), s.size()));
            if (!ver) refuse(at, "version must be SchemaVer MODEL-REVISION-ADDITION, such as \"1-0-0\"");
            spec.version = *ver;
        } else if (key == "status") {
            const json::string& s = as_string(value, at);
            const auto status = parse_event_status(std::string_view(s.data(), s.size()));
            if (!status) refuse(at, "status must be one of planned, active, deprecated, blocked");
            spec.status = *status;
        } else if (key == "description") {
            const json::string& s = as_string(value, at);
            if (s.size() > 1000) refuse(at, "description must be at most 1000 bytes");
            spec.description.assign(s.data(), s.size());
        } else if (key == "sample_rate") {
            const double rate = as_number(value, at);
            if (!(rate > 0.0 && rate <= 1.0)) refuse(at, "sample_rate must be greater than 0 and at most 1");
            spec.sample_rate = rate;
        } else if (key == "max_bytes") {
            const std::int64_t bytes = as_integer(value, at);
            if (bytes < 2 || bytes > largest_max_bytes)
                refuse(at, "max_bytes must be between 2 and " + std::to_string(largest_max_bytes));
            spec.max_bytes = static_cast<std::int32_t>(bytes);
        } else if (key == "on_violation") {
            const json::string& s = as_string(value, at);
            const auto policy = parse_violation_policy(std::string_view(s.data(), s.size()));
            if (!policy) refuse(at, "on_violation must be one of reject, quarantine, omit");
            spec.on_violation = *policy;
        } else if (key == "schema") {
            if (!value.is_object()) wrong_kind(at, "an object", value);
            spec.schema_json = json::serialize(value);
            try {
                spec.schema = compile_schema(spec.schema_json, at.str());
            } catch (DomainError& e) {
                e.error().message = "catalog document: " + e.error().message;
                throw;
            }
        } else {
            refuse(at,
                   "unknown key (allowed: name, version, status, description, sample_rate, max_bytes, "
                   "on_violation, schema)");
        }
    }
    if (!spec.schema) spec.schema = compile_schema(spec.schema_json, path.key("schema").str());
    return spec;
}

std::vector<EventTypeSpec> parse_document(std::string_view text) {
    if (text.size() > max_catalog_document_bytes)
        throw DomainError(sqlstate::program_limit_exceeded,
                          "catalog document is larger than " + std::to_string(max_catalog_document_bytes) + " bytes");

    json::parse_options options;
    options.max_depth = max_json_depth;  // the parser recurses: never raise this (DESIGN.md §2.6)
    json::error_code ec;
    json::value doc = json::parse(json::string_view(text.data(), text.size()), ec, json::storage_ptr(), options);
    if (ec) {
        if (ec == json::error::too_deep)
            throw DomainError(sqlstate::program_limit_exceeded,
                              "catalog document is nested deeper than " + std::to_string(max_json_depth) + " levels");
        throw DomainError(sqlstate::invalid_text_representation, "catalog document is not valid JSON");
    }

    const JsonPath root;
    if (!doc.is_object()) wrong_kind(root, "an object", doc);
    const json::object& top = doc.get_object();
    for (const auto& [key, value] : top) {
        if (key != "events" && key != "description")
            refuse(root.key(std::string_view(key.data(), key.size())), "unknown key (allowed: events, description)");
    }
    const json::value* events = top.if_contains("events");
    if (!events) refuse(root, "key \"events\" is required");
    const JsonPath events_path = root.key("events");
    if (!events->is_array()) wrong_kind(events_path, "an array", *events);
    const json::array& list = events->get_array();
    if (list.size() > max_catalog_event_types)
        throw DomainError(
            sqlstate::program_limit_exceeded,
            "catalog document declares more than " + std::to_string(max_catalog_event_types) + " event types");

    std::vector<EventTypeSpec> specs;
    specs.reserve(list.size());
    std::unordered_set<std::string> seen;
    std::size_t pattern_instructions = 0;
    for (std::size_t i = 0; i < list.size(); ++i) {
        const JsonPath at = events_path.index(i);
        EventTypeSpec spec = parse_event(list[i], at);
        if (!seen.insert(spec.name).second) refuse(at.key("name"), "event type is declared twice in this document");
        // Checked as the document is read: a document far over the budget stops early.
        pattern_instructions += spec.schema->pattern_instructions();
        if (pattern_instructions > max_catalog_pattern_instructions)
            throw DomainError(sqlstate::program_limit_exceeded,
                              "catalog document: " + at.key("schema").str() + ": the patterns up to here compile to " +
                                  std::to_string(pattern_instructions) + " RE2 instructions, over the budget of " +
                                  std::to_string(max_catalog_pattern_instructions) + " for a whole catalog",
                              "",
                              "Simplify the patterns (fewer alternatives and repetitions), or check less with them.");
        specs.push_back(std::move(spec));
    }
    return specs;
}

}  // namespace

std::vector<EventTypeSpec> parse_catalog_document(std::string_view json_text) { return parse_document(json_text); }

}  // namespace telemetry

#include "core/base/no_postgres.hpp"
