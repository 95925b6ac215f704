// Pieces of the analytics engines' SQL over telemetry.events (src/pg/analytics): an event's
// match of a name and its property conditions (FUNNELS.md F3), written with quoted literals so
// that the planner sees constants (a correlated subquery over the conditions per row cost more
// than the engines).
#pragma once

#include "pg/boundary/pg_headers.hpp"

extern "C" {
#include "lib/stringinfo.h"
}

namespace telemetry::pg {

// True when event `alias` has the name (text) and its properties contain the condition (jsonb;
// {} for none).
void append_condition(StringInfo sql, const char* alias, Datum name, Datum where);

// An int8 with bit k-1 set when event e matches the k-th of the n names and conditions; 0 when
// n is 0.
void append_masks(StringInfo sql, const Datum* names, const Datum* wheres, int n);

// `alias`.name is one of the n names or the n_more others.
void append_name_list(StringInfo sql, const char* alias, const Datum* names, int n, const Datum* more, int n_more);

}  // namespace telemetry::pg
