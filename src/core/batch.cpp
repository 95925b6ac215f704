#include "core/batch.hpp"

#include <cstring>
#include <string>

#include "core/json_path.hpp"
#include "core/jsonb.hpp"
#include "core/schema.hpp"
#include "core/timefmt.hpp"

namespace telemetry {

namespace {

constexpr const char* event_too_large =
    "the event holds more than 40000 JSON values, more than any event type allows (64 KB of properties); it was not read";

std::string too_many_events() {
    return "a batch holds at most " + std::to_string(max_batch_events) + " events";
}

std::string too_many_values() {
    return "a batch holds at most " + std::to_string(max_batch_values) + " JSON values; send smaller batches";
}

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
            std::string text;
            if (v.number->negative) text += '-';
            text.append(v.number->digits);
            if (text.empty() || text == "-") return arena.copy("0");
            text.append(static_cast<std::size_t>(v.number->point) - v.number->digits.size(), '0');
            return arena.copy(text);
        }
        if (v.kind == JsonKind::number)
            problem("22023", std::string("$.") + field + ": expected a string or an integer, found a number with a fraction");
        else
            problem("22023", std::string("$.") + field + ": expected a string or an integer, found " + describe_kind(v));
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
            problem("22007", std::string("$.") + field + ": expected an RFC 3339 string or epoch milliseconds, found " + describe_kind(v));
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

ParsedText parse_batch_text(std::string_view text, Arena& arena) noexcept {
    TextLimits limits;
    limits.element_depth = batch_element_depth;
    limits.max_elements = max_batch_events;
    limits.max_values = max_batch_values + 1;  // the root array is a value too
    limits.max_element_values = max_event_values;
    limits.too_large_rule = event_too_large;
    ParsedText parsed = parse_json_text(text, limits, arena);
    try {
        if (parsed.exceeded == TextLimit::elements) parsed.error.message = too_many_events();
        if (parsed.exceeded == TextLimit::values) parsed.error.message = too_many_values();
    } catch (...) {
        parsed.error.message.clear();  // out of memory for the message: the code alone says it
    }
    return parsed;
}

JsonValue decode_batch_jsonb(const unsigned char* container, std::size_t size, Arena& arena) {
    // The element count is in the root's header: refuse too many before reading any.
    if (size >= 4) {
        std::uint32_t header;
        std::memcpy(&header, container, 4);
        constexpr std::uint32_t array_flag = 0x40000000, scalar_flag = 0x10000000, count_mask = 0x0FFFFFFF;
        if ((header & array_flag) && !(header & scalar_flag) && (header & count_mask) > max_batch_events)
            throw DomainError(sqlstate::program_limit_exceeded, too_many_events() + ", this one " + std::to_string(header & count_mask));
    }
    DecodeLimits limits;
    limits.max_depth = batch_element_depth + 1;
    limits.max_values = max_batch_values + 1;
    const std::string message = too_many_values();
    limits.too_many_values = message.c_str();
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
            else if (v.kind != JsonKind::null) u.problem("22023", std::string("$.name: expected a string, found ") + describe_kind(v));
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
            u.problem("22023", path.key(key).str() +
                                   ": unknown key (allowed: name, properties, user_id, session_id, event_id, occurred_at, sent_at)");
        }
    }
    return u.out;
}

}  // namespace telemetry

#include "core/no_postgres.hpp"
