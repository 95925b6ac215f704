// Parsing JSON text (client batches, schemas) into documents, once, with our rules.
//
// Boost.JSON's event parser drives a handler that builds the document in an Arena. Numbers keep
// their exact text (Boost's own doubles would round 2^64 and turn 1e400 into infinity); strings
// without escapes point into the text itself, so the text must outlive the document.
//
// Some problems refuse only the element of the top-level array they occur in, so that one bad
// event in a batch does not refuse the others:
//   - a duplicate key (22030): JSON does not say which value wins, we do not guess;
//   - a NUL character, \u0000 (22P05): PostgreSQL's text and jsonb cannot hold it;
//   - a number beyond what we store (22003): outside double's range, more than 1000 digits, or
//     an exponent beyond what Boost reads (1e2147483648);
//   - more values in the element than limits.max_element_values (54000): the element is not read
//     further and becomes JsonKind::too_large;
// containers nested deeper than the per-element limit are kept as JsonKind::too_deep, however
// deep they go; and a lone UTF-16 surrogate escape (\ud83d without its pair, as browsers send a
// string cut in the middle of an emoji) is repaired to U+FFFD, and the element says so.
// Malformed JSON, more top-level elements than limits.max_elements, or more values in all than
// limits.max_values refuse the whole text: counted while parsing, so memory is bounded before
// the work, not after.
#pragma once

#include <cstdint>
#include <limits>
#include <string_view>

#include "core/base/arena.hpp"
#include "core/base/error.hpp"
#include "core/json/json.hpp"

namespace telemetry {

// What the reader found in one top-level array element (or in the whole document when the root
// is not an array): its first problem, and whether text was repaired.
struct ElementProblem {
    const char* sqlstate = "";    // empty: no problem
    std::string_view path;        // relative to the element: "$.properties.tags[2]"
    const char* rule = "";        // a sentence naming the rule
    bool utf16_repaired = false;  // a lone surrogate escape became U+FFFD somewhere in the element
};

struct ParsedText {
    JsonValue root;
    ElementProblem* problems = nullptr;  // one per top-level array element, else one for the root
    std::uint32_t problem_count = 0;

    // The first problem anywhere in the text, or nullptr.
    const ElementProblem* first_problem() const noexcept {
        for (std::uint32_t i = 0; i < problem_count; ++i)
            if (*problems[i].sqlstate) return &problems[i];
        return nullptr;
    }
};

inline constexpr std::uint32_t max_text_depth = 32;  // Boost's recursion limit; never raise it

struct TextLimits {
    // How deep containers may nest below each top-level element (the element itself is depth
    // 1); deeper ones become too_deep.
    std::uint32_t element_depth = max_text_depth;
    std::uint32_t max_elements = std::numeric_limits<std::uint32_t>::max();
    std::uint32_t max_element_values = std::numeric_limits<std::uint32_t>::max();
    std::uint64_t max_values = std::numeric_limits<std::uint64_t>::max();
    // The rule of the 54000 problem of an element over max_element_values.
    const char* too_large_rule = "the element holds too many values";
    // The messages of the 54000 errors for a text over max_elements or max_values (empty: a
    // sentence with the limit's number), so a caller can name the limit as its users know it.
    // Views: the caller keeps the text alive for the parse (these are read on every call).
    std::string_view too_many_elements_message;
    std::string_view too_many_values_message;
    // What the text is, for the other messages ("properties": "properties: text is not valid
    // JSON"); empty: the message alone.
    std::string_view subject;
};

// Values count every scalar and container once (keys are not values). Throws DomainError when
// the text as a whole is refused: 22P02 when it is not JSON, 54000 over max_elements or
// max_values. What is wrong inside one top-level element is a problem of that element, not an
// error.
ParsedText parse_json_text(std::string_view text, const TextLimits& limits, Arena& arena);

// The same with only the depth limit.
inline ParsedText parse_json_text(std::string_view text, std::uint32_t element_depth_limit, Arena& arena) {
    TextLimits limits;
    limits.element_depth = element_depth_limit;
    return parse_json_text(text, limits, arena);
}

}  // namespace telemetry
