// The naming rule for event types.
//
// A name is one or more dot-separated segments; a segment is lower-case ASCII letters, digits
// and underscores, and the name starts with a letter: `page_viewed`, `lossy.stt.fallback`.
// At most 100 bytes, and not 32 hexadecimal digits (that reads as a UUID: the untyped forms of
// track() tell a tenant from an event name by it). The rule keeps names safe to print, to use
// as Prometheus label values and to type by hand, and stops taxonomy drift such as `PageViewed`
// next to `page_viewed`.
#pragma once

#include <cstddef>
#include <string_view>

namespace telemetry {

inline constexpr std::size_t max_event_name_bytes = 100;

enum class EventNameVerdict {
    ok,
    empty,
    too_long,
    bad_first_character,  // must start with a lower-case letter
    bad_character,        // outside [a-z0-9_.]
    empty_segment,        // leading, trailing or doubled dot
    reads_as_uuid,        // 32 hexadecimal digits
};

EventNameVerdict check_event_name(std::string_view name) noexcept;

// A sentence naming the broken rule, for error messages. Never contains the name itself.
const char* describe(EventNameVerdict verdict) noexcept;

}  // namespace telemetry
