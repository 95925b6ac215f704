// Parsing a catalog document: the JSON form that telemetry.load_catalog() takes and that users
// keep in their repositories (DESIGN.md §3, docs/catalog.md).
//
//   {"events": [{"name": "conversation_started", "version": "1-0-0", "status": "active",
//                "description": "...", "sample_rate": 1, "max_bytes": 2048,
//                "on_violation": "reject", "schema": {"type": "object", ...}}]}
//
// Unknown keys are refused rather than ignored, so that a typo (`sample_rte`) is reported at load
// time instead of silently taking the default.
#pragma once

#include <string_view>
#include <vector>

#include "core/catalog/catalog.hpp"
#include "core/base/error.hpp"

namespace telemetry {

inline constexpr std::size_t max_catalog_document_bytes = 4 * 1024 * 1024;
inline constexpr std::size_t max_catalog_event_types = 10000;
inline constexpr std::size_t max_json_depth = 32;

// The event types of a catalog document, in document order. Throws DomainError naming the rule
// and the JSON path when the document is refused.
std::vector<EventTypeSpec> parse_catalog_document(std::string_view json_text);

}  // namespace telemetry
