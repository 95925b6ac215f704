// Arguments as the text forms of track() and track_batch() receive them (untyped or text-typed
// parameters, as drivers send them), converted to what the typed forms receive. Each conversion
// reads what the matching PostgreSQL type would accept, and refuses with an error that names the
// argument and never echoes its value.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "pg/boundary/pg_headers.hpp"

namespace telemetry::pg {

inline std::string_view text_view(const text* t) {
    return {VARDATA_ANY(t), static_cast<std::size_t>(VARSIZE_ANY_EXHDR(t))};  // text, varchar or bpchar
}

// A finite timestamp as Unix microseconds, or 22008 naming `what`.
std::int64_t finite_time(TimestampTz t, const char* what);

// Text read as a timestamptz parameter would be (every spelling PostgreSQL accepts, the
// session's time zone when it has no offset); 22007 naming `what` otherwise.
std::optional<std::int64_t> time_from_text(const std::optional<std::string_view>& value, const char* what);

// Text read as a uuid parameter would be (every spelling uuid_in accepts); 22P02 naming `what`.
std::optional<pg_uuid_t> uuid_from_text(const std::optional<std::string_view>& value, const char* what);

}  // namespace telemetry::pg
