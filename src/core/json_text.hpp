// Parsing JSON text (client batches) into documents, once, with our rules.
//
// Boost.JSON's event parser drives a handler that builds the document in an Arena. Numbers keep
// their exact text (Boost's own doubles would round 2^64 and turn 1e400 into infinity). Some
// problems refuse only the element of the top-level array they occur in, so that one bad event
// in a batch does not refuse the others:
//   - a duplicate key (22030): JSON does not say which value wins, we do not guess;
//   - a NUL character, \u0000 (22P05): PostgreSQL's text and jsonb cannot hold it;
//   - a number beyond what we store (22003): outside double's range or over 1000 digits;
// and containers nested deeper than the per-element limit are kept as JsonKind::too_deep.
// Malformed JSON, or nesting beyond Boost's parser limit of 32, refuses the whole text.
#pragma once

#include <cstdint>
#include <string_view>

#include "core/arena.hpp"
#include "core/error.hpp"
#include "core/json.hpp"

namespace telemetry {

// The first problem found inside one top-level array element (or in the whole document when
// the root is not an array). Empty sqlstate: none.
struct ElementProblem {
    const char* sqlstate = "";
    std::string_view path;     // relative to the element: "$.properties.tags[2]"
    const char* rule = "";     // a sentence naming the rule
};

struct ParsedText {
    Error error;                             // failed(error): the text as a whole is refused
    JsonValue root;
    ElementProblem* problems = nullptr;      // one per top-level array element, else one for the root
    std::uint32_t problem_count = 0;

    // The first problem anywhere in the text, or nullptr.
    const ElementProblem* first_problem() const noexcept {
        for (std::uint32_t i = 0; i < problem_count; ++i)
            if (*problems[i].sqlstate) return &problems[i];
        return nullptr;
    }
};

inline constexpr std::uint32_t max_text_depth = 32;  // Boost's recursion limit; never raise it

// element_depth_limit: how deep containers may nest below each top-level element (the element
// itself is depth 1); deeper ones become too_deep.
ParsedText parse_json_text(std::string_view text, std::uint32_t element_depth_limit, Arena& arena) noexcept;

}  // namespace telemetry
