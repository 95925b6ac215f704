#include "core/batch.hpp"

#include <string>

#include "core/json_path.hpp"
#include "core/timefmt.hpp"

namespace telemetry {

namespace {

struct Unpacker {
    Arena& arena;
    IncomingEvent out;

    void problem(const char* state, const std::string& text) {
        if (*out.read_sqlstate) return;
        out.read_sqlstate = state;
        out.read_problem = arena.copy(text);
    }

    std::optional<std::string_view> id(const JsonValue& v, const char* field) {
        if (v.kind == JsonKind::null) return std::nullopt;
        if (v.kind == JsonKind::string) return v.string;
        if (v.kind == JsonKind::number && v.number->is_int64()) {
            std::string text;
            append_number_text(*v.number, text);
            return arena.copy(text);
        }
        problem("22023", std::string("$.") + field + ": expected a string, found " + describe_kind(v));
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
};

}  // namespace

IncomingEvent unpack_batch_element(const JsonValue& element, const ElementProblem& parse_problem, Arena& arena) {
    Unpacker u{arena, {}};
    u.out.properties_path = "$.properties";
    if (*parse_problem.sqlstate) {
        const std::string path(parse_problem.path);
        u.problem(parse_problem.sqlstate, path + ": " + parse_problem.rule);
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
            if (v.kind == JsonKind::null) continue;
            const std::optional<Uuid> parsed = v.kind == JsonKind::string ? parse_uuid(v.string) : std::nullopt;
            if (!parsed) u.problem("22P02", "$.event_id: expected a UUID such as 0192d5b4-1c2e-7a3b-9c4d-5e6f708192a3");
            u.out.event_id = parsed;
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
