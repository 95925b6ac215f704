// A client's batch (telemetry.track_batch): a JSON array with one object per event.
//
//   {"name": "lesson_completed", "properties": {...}, "user_id": "u-1", "session_id": "s-9",
//    "event_id": "0192...", "occurred_at": "2026-11-21T10:00:00.123Z", "sent_at": 1795340000000}
//
// Only "name" is required. Times are RFC 3339 strings with an offset (or the ISO 8601 offset
// spellings +0000 and +00), or epoch milliseconds. user_id and session_id may be strings or
// integers: one user, one spelling, so an integral number becomes its integer text (55520 and
// 55520.0 are both "55520") before opt-out, sampling, dedup and storage; a number with a
// fraction is refused. event_id takes every spelling PostgreSQL's uuid type accepts, stored in
// its canonical form; the nil and max UUIDs are refused. Unknown keys refuse the element: a
// misspelt "propertes" must not silently drop properties.
//
// The batch is read within fixed bounds, counted while it is read: at most max_batch_events
// events and max_batch_values JSON values in all (more refuses the whole batch, 54000), and at
// most max_event_values in one event (more refuses that event, 54000, unread: its properties
// would be larger than any event type allows). So the memory a batch takes is bounded by its
// size before any work is done (docs/ingest.md, "Memory").
#pragma once

#include <cstdint>
#include <string_view>

#include "core/base/arena.hpp"
#include "core/ingest/decide.hpp"
#include "core/json/json.hpp"
#include "core/json/json_text.hpp"
#include "core/catalog/schema.hpp"

namespace telemetry {

inline constexpr std::size_t max_batch_events = 10000;
inline constexpr std::size_t max_batch_bytes = 16 * 1024 * 1024;
inline constexpr std::uint64_t max_batch_values = 1000000;
// An event with more values than this has more than 64 KB of properties whatever they are (each
// value takes at least one byte and a separator): over the largest max_bytes a type may set.
inline constexpr std::uint32_t max_event_values = 40000;

// Containers may nest this deep inside a batch element: the element, its properties, and
// max_property_depth levels in the properties.
inline constexpr std::uint32_t batch_element_depth = max_property_depth + 1;

// The properties of one event as track() takes them, read within an event's bounds: at most
// max_properties_bytes (refused unread above), max_event_values JSON values, max_property_depth
// levels. Properties over a bound, or text that is not JSON, throw DomainError (the call is
// refused); a problem that refuses the event by its own rules (a duplicate key, ...) is left in
// event.read_sqlstate, and the document in event.properties.
inline constexpr std::size_t max_properties_bytes = 1024 * 1024;  // of jsonb or JSON text
void read_properties_text(std::string_view text, Arena& arena, IncomingEvent& event);
// container, size: the bytes after the jsonb's varlena header.
const JsonValue* read_properties_jsonb(const unsigned char* container, std::size_t size, Arena& arena);

// Parses the text of a batch with the limits above. Throws DomainError for a whole-batch
// refusal (not JSON, too many events or values).
ParsedText parse_batch_text(std::string_view text, Arena& arena);

// Reads the jsonb of a batch (the bytes after the varlena header) with the same limits: an
// element over max_event_values becomes JsonKind::too_large. Throws DomainError for a
// whole-batch refusal.
JsonValue decode_batch_jsonb(const unsigned char* container, std::size_t size, Arena& arena);

// Unpacks one element. Problems (here or from the parser) land in read_sqlstate/read_problem,
// so decide() refuses the element with them.
IncomingEvent unpack_batch_element(const JsonValue& element, const ElementProblem& parse_problem, Arena& arena);

}  // namespace telemetry
