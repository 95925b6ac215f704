// The arguments of a track() call made with text: what drivers send.
//
// node-postgres sends every parameter untyped, psycopg 3 sends strings untyped, JDBC's setString
// sends varchar. PostgreSQL resolves such calls to the text forms of track() (src/sql/30_ingest.sql
// says how), which cannot tell from the types whether the first argument is a tenant or an event
// name, as the multi-tenant track(tenant_id, name, properties, ...) and the single-tenant
// track(name, properties, ...) share their arities. The first argument decides: a UUID (in any
// spelling PostgreSQL's uuid type accepts) is a tenant, anything else an event name (no event name
// reads as a UUID: event_name.hpp).
//
// Positional calls (track(VARIADIC text[])) are then read in order. Calls with named arguments
// take the named text form, whose parameters carry the multi-tenant names and default to a
// marker, so the glue knows which ones the call gave. In a single-tenant call the positional
// arguments fill the first parameters in the single-tenant order (the event name in tenant_id,
// the properties in name, ...), and the named ones their own: the positional ones are the given
// ones up to the first parameter left out (named arguments always follow positional ones, and
// cannot name a field already given by position).
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

#include "core/base/error.hpp"

namespace telemetry {

// The fields of a call, in the multi-tenant order.
enum TrackField : std::size_t {
    tenant_field,
    name_field,
    properties_field,
    user_id_field,
    session_id_field,
    occurred_at_field,
    event_id_field,
    sent_at_field,
    track_field_count
};

struct TrackArguments {
    bool multi_tenant = false;
    std::optional<std::string_view> fields[track_field_count];  // NULL or not given: nullopt
};

// track(VARIADIC text[]): the values in call order (nullopt for NULL); 1 to 8 of them. Throws
// DomainError (22004, 54023) for a call it cannot resolve.
TrackArguments resolve_positional_track_arguments(const std::optional<std::string_view>* values, std::size_t count);

// The named text form: its eight parameters (tenant_id, name, properties, user_id, session_id,
// occurred_at, event_id, sent_at), nullopt where NULL; `given` says which ones the call gave
// (positionally or by name), the others having been left to their default. Throws as above.
TrackArguments resolve_named_track_arguments(const std::optional<std::string_view> (&slots)[track_field_count],
                                             const bool (&given)[track_field_count]);

}  // namespace telemetry
