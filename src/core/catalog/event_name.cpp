#include "core/catalog/event_name.hpp"

#include "core/base/uuid.hpp"

namespace telemetry {

EventNameVerdict check_event_name(std::string_view name) noexcept {
    if (name.empty()) return EventNameVerdict::empty;
    if (name.size() > max_event_name_bytes) return EventNameVerdict::too_long;
    if (name.front() < 'a' || name.front() > 'z') return EventNameVerdict::bad_first_character;
    char previous = '.';
    for (char c : name) {
        const bool word = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
        if (c == '.') {
            if (previous == '.') return EventNameVerdict::empty_segment;
        } else if (!word) {
            return EventNameVerdict::bad_character;
        }
        previous = c;
    }
    if (previous == '.') return EventNameVerdict::empty_segment;
    if (parse_uuid(name)) return EventNameVerdict::reads_as_uuid;
    return EventNameVerdict::ok;
}

const char* describe(EventNameVerdict verdict) noexcept {
    switch (verdict) {
        case EventNameVerdict::ok:
            return "valid";
        case EventNameVerdict::empty:
            return "event name must not be empty";
        case EventNameVerdict::too_long:
            return "event name must be at most 100 bytes";
        case EventNameVerdict::bad_first_character:
            return "event name must start with a lower-case letter (a-z)";
        case EventNameVerdict::bad_character:
            return "event name may contain only lower-case letters, digits, underscores and dots";
        case EventNameVerdict::empty_segment:
            return "event name must not start or end with a dot or contain two dots in a row";
        case EventNameVerdict::reads_as_uuid:
            return "event name must not be 32 hexadecimal digits (it would read as a tenant's UUID)";
    }
    return "invalid event name";
}

}  // namespace telemetry

#include "core/base/no_postgres.hpp"
