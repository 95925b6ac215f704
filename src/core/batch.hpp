// The elements of a client batch (telemetry.track_batch): one JSON object per event.
//
//   {"name": "lesson_completed", "properties": {...}, "user_id": "u-1", "session_id": "s-9",
//    "event_id": "0192...", "occurred_at": "2026-11-21T10:00:00.123Z", "sent_at": 1795340000000}
//
// Only "name" is required. Times are RFC 3339 strings with an offset, or epoch milliseconds.
// user_id and session_id may be strings or integers (an integer becomes its decimal text).
// Unknown keys refuse the element: a misspelt "propertes" must not silently drop properties.
#pragma once

#include <cstdint>
#include <string_view>

#include "core/arena.hpp"
#include "core/ingest.hpp"
#include "core/json.hpp"
#include "core/json_text.hpp"

namespace telemetry {

// Unpacks one element. Problems (here or from the parser) land in read_sqlstate/read_problem,
// so decide() refuses the element with them.
IncomingEvent unpack_batch_element(const JsonValue& element, const ElementProblem& parse_problem, Arena& arena);

inline constexpr std::size_t max_batch_events = 10000;
inline constexpr std::size_t max_batch_bytes = 16 * 1024 * 1024;

}  // namespace telemetry
