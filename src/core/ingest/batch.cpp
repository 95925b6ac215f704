#include "core/ingest/batch.hpp"

#include <string>

#include "core/json/json_path.hpp"
#include "core/json/jsonb.hpp"
#include "core/catalog/schema.hpp"
#include "core/base/time.hpp"

namespace telemetry {

namespace {

// What the largest event type allows, for the messages of the bounds (max_event_values).
const std::string largest_properties = std::to_string(largest_max_bytes / 1024) + " KB";

const std::string event_too_large = "the event holds more than " + std::to_string(max_event_values) +
                                    " JSON values, more than any event type allows (" + largest_properties +
                                    " of properties); it was not read";
const std::string properties_too_many_values = "properties hold more than " + std::to_string(max_event_values) +
                                               " JSON values, more than any event type allows (" + largest_properties +
                                               "); they were not read";
constexpr const char* properties_too_large = "properties are larger than 1 MB and were not read";
static_assert(max_properties_bytes == 1024 * 1024, "properties_too_large says 1 MB");

const std::string too_many_events = "a batch holds at most " + std::to_string(max_batch_events) + " events";
const std::string too_many_values =
    "a batch holds at most " + std::to_string(max_batch_values) + " JSON values; send smaller batches";

struct Unpacker {
    Arena& arena;
    IncomingEvent out;

    void problem(const char* state, const std::string& text) {
        if (*out.read_sqlstate) return;
        out.read_sqlstate = state;
        out.read_problem = arena.copy(text);
    }

    // One user, one spelling: strings as they are, integral numbers as their integer text.
    std::optional<std::string_view> id(const JsonValue& v, const char* field) {
        if (v.kind == JsonKind::null) return std::nullopt;
        if (v.kind == JsonKind::string) return v.string;
        if (v.kind == JsonKind::number && !v.number->out_of_range && v.number->is_integral()) {
            JsonNumber integer = *v.number;  // printed without its fraction digits ("55520.0")
            integer.dscale = 0;
            integer.negative = integer.negative && !integer.is_zero();
            std::string text;
            append_number_text(integer, text);
            return arena.copy(text);
        }
        if (v.kind == JsonKind::number)
            problem("22023",
                    std::string("$.") + field + ": expected a string or an integer, found a number with a fraction");
        else
            problem("22023",
                    std::string("$.") + field + ": expected a string or an integer, found " + describe_kind(v));
        return std::nullopt;
    }

    std::optional<std::int64_t> time(const JsonValue& v, const char* field) {
        if (v.kind == JsonKind::null) return std::nullopt;
        ParsedTime t{};
        if (v.kind == JsonKind::string) {
            t = parse_rfc3339(v.string);
        } else if (v.kind == JsonKind::number) {
            t = from_epoch_millis(v.number->approx);
        } else {
            problem("22007", std::string("$.") + field + ": expected an RFC 3339 string or epoch milliseconds, found " +
                                 describe_kind(v));
            return std::nullopt;
        }
        if (!t.ok) {
            problem("22007", std::string("$.") + field + ": " + t.error);
            return std::nullopt;
        }
        return t.unix_us;
    }

    std::optional<Uuid> event_id(const JsonValue& v) {
        if (v.kind == JsonKind::null) return std::nullopt;
        const std::optional<Uuid> parsed = v.kind == JsonKind::string ? parse_uuid(v.string) : std::nullopt;
        if (!parsed) {
            problem("22P02", "$.event_id: expected a UUID such as 0192d5b4-1c2e-7a3b-9c4d-5e6f708192a3");
        } else if (is_placeholder_uuid(*parsed)) {
            problem("22023", "$.event_id: the nil and max UUIDs are placeholders, not event ids");
        }
        return parsed;
    }
};

}  // namespace

ParsedText parse_batch_text(std::string_view text, Arena& arena) {
    TextLimits limits;
    limits.element_depth = batch_element_depth;
    limits.max_elements = max_batch_events;
    limits.max_values = max_batch_values + 1;  // the root array is a value too
    limits.max_element_values = max_event_values;
    limits.too_large_rule = event_too_large.c_str();
    limits.too_many_elements_message = too_many_events;
    limits.too_many_values_message = too_many_values;
    return parse_json_text(text, limits, arena);
}

void read_properties_text(std::string_view text, Arena& arena, IncomingEvent& event) {
    if (text.size() > max_properties_bytes) throw DomainError(sqlstate::program_limit_exceeded, properties_too_large);
    TextLimits limits;
    limits.element_depth = max_property_depth;
    limits.max_values = max_event_values;
    limits.too_many_values_message = properties_too_many_values;
    limits.subject = "properties";  // what was refused: the properties, not the whole call
    const ParsedText parsed = parse_json_text(text, limits, arena);
    auto* value = arena.allocate_array<JsonValue>(1);
    new (value) JsonValue(parsed.root);
    event.properties = value;
    if (const ElementProblem* problem = parsed.first_problem()) {
        event.read_sqlstate = problem->sqlstate;
        event.read_problem = arena.copy(std::string(problem->path) + ": " + problem->rule);
    }
    event.text_repaired = parsed.problem_count > 0 && parsed.problems[0].utf16_repaired;
}

const JsonValue* read_properties_jsonb(const unsigned char* container, std::size_t size, Arena& arena) {
    if (size > max_properties_bytes) throw DomainError(sqlstate::program_limit_exceeded, properties_too_large);
    DecodeLimits limits;
    limits.max_depth = max_property_depth;
    limits.max_values = max_event_values;
    limits.too_many_values = properties_too_many_values.c_str();
    auto* value = arena.allocate_array<JsonValue>(1);
    new (value) JsonValue(decode_jsonb(container, size, limits, arena));
    return value;
}

JsonValue decode_batch_jsonb(const unsigned char* container, std::size_t size, Arena& arena) {
    DecodeLimits limits;
    limits.batch = true;
    limits.max_depth = batch_element_depth + 1;
    limits.max_values = max_batch_values + 1;
    limits.too_many_values = too_many_values.c_str();
    limits.max_elements = max_batch_events;
    limits.too_many_elements = too_many_events.c_str();
    limits.max_element_values = max_event_values;
    return decode_jsonb(container, size, limits, arena);
}

IncomingEvent unpack_batch_element(const JsonValue& element, const ElementProblem& parse_problem, Arena& arena) {
    Unpacker u{arena, {}};
    u.out.properties_path = "$.properties";
    u.out.text_repaired = parse_problem.utf16_repaired;
    if (*parse_problem.sqlstate) {
        const std::string path(parse_problem.path);
        u.problem(parse_problem.sqlstate, path + ": " + parse_problem.rule);
        return u.out;
    }
    if (element.kind == JsonKind::too_large) {
        u.problem(sqlstate::program_limit_exceeded, std::string("$: ") + event_too_large);
        return u.out;
    }
    if (element.kind != JsonKind::object) {
        u.problem("22023", std::string("an event must be a JSON object, found ") + describe_kind(element));
        return u.out;
    }
    for (std::uint32_t i = 0; i < element.count; ++i) {
        const std::string_view key = element.members[i].key;
        const JsonValue& v = element.members[i].value;
        if (key == "name") {
            if (v.kind == JsonKind::string) u.out.name = v.string;
            else if (v.kind != JsonKind::null)
                u.problem("22023", std::string("$.name: expected a string, found ") + describe_kind(v));
        } else if (key == "properties") {
            if (v.kind != JsonKind::null) u.out.properties = &v;
        } else if (key == "user_id") {
            u.out.user_id = u.id(v, "user_id");
        } else if (key == "session_id") {
            u.out.session_id = u.id(v, "session_id");
        } else if (key == "event_id") {
            u.out.event_id = u.event_id(v);
        } else if (key == "occurred_at") {
            u.out.occurred_at_us = u.time(v, "occurred_at");
        } else if (key == "sent_at") {
            u.out.sent_at_us = u.time(v, "sent_at");
        } else {
            JsonPath path;
            u.problem(
                "22023",
                path.key(key).str() +
                    ": unknown key (allowed: name, properties, user_id, session_id, event_id, occurred_at, sent_at)");
        }
    }
    return u.out;
}

}  // namespace telemetry

#include "core/base/no_postgres.hpp"
