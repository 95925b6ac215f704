// The one place where PostgreSQL values and core values are converted into each other: text,
// UUIDs, times, jsonb bytes and lists of JSON paths. Entry points and stores use these instead
// of writing the copies by hand.
//
// The *_from_text functions read arguments as the text forms of track() and track_batch()
// receive them (untyped or text-typed parameters, as drivers send them): each reads what the
// matching PostgreSQL type would accept, and refuses with an error that names the argument and
// never echoes its value. Everything that raises is noted; the rest never does. Results are
// palloc'd in the current memory context.
#pragma once

#include <cstdint>
#include <cstring>
#include <optional>
#include <string_view>

#include "core/base/uuid.hpp"
#include "core/json/json_path.hpp"
#include "pg/boundary/pg_headers.hpp"

namespace telemetry::pg {

// --- text ---------------------------------------------------------------------------------

// A view of a text, varchar or bpchar value (detoasted: PG_GETARG_TEXT_PP and the like).
inline std::string_view text_view(const text* t) {
    return {VARDATA_ANY(t), static_cast<std::size_t>(VARSIZE_ANY_EXHDR(t))};
}

// A new text value with these bytes. May raise (out of memory).
inline text* to_text(std::string_view s) { return cstring_to_text_with_len(s.data(), static_cast<int>(s.size())); }
inline text* to_text_or_null(const std::optional<std::string_view>& s) { return s ? to_text(*s) : nullptr; }
inline Datum text_datum(std::string_view s) { return PointerGetDatum(to_text(s)); }

// A text[] of JSON paths, and back: views into the array's elements (NULL elements skipped).
// May raise (out of memory).
ArrayType* to_text_array(const PathList& paths);
PathList path_list_from(ArrayType* array);

// --- UUIDs --------------------------------------------------------------------------------

inline pg_uuid_t to_pg_uuid(const Uuid& id) {
    pg_uuid_t out;
    std::memcpy(out.data, id.data(), UUID_LEN);
    return out;
}
inline Uuid to_uuid(const pg_uuid_t& id) {
    Uuid out;
    std::memcpy(out.data(), id.data, UUID_LEN);
    return out;
}
// The 16 bytes of a UUID as the core's tenant id (a view into `id`).
inline std::string_view uuid_bytes(const pg_uuid_t& id) { return {reinterpret_cast<const char*>(id.data), UUID_LEN}; }

// Text read as a uuid parameter would be (every spelling uuid_in accepts); raises 22P02 naming
// `what` otherwise.
std::optional<pg_uuid_t> uuid_from_text(const std::optional<std::string_view>& value, const char* what);

// --- times --------------------------------------------------------------------------------

// Unix microseconds (the core's times) <-> TimestampTz (microseconds since 2000-01-01).
inline std::int64_t to_unix_us(TimestampTz t) { return t + (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * USECS_PER_DAY; }
inline TimestampTz from_unix_us(std::int64_t us) {
    return us - (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * USECS_PER_DAY;
}

// A finite timestamp as Unix microseconds; raises 22008 naming `what` for infinity.
std::int64_t finite_time(TimestampTz t, const char* what);

// Text read as a timestamptz parameter would be (every spelling PostgreSQL accepts, the
// session's time zone when it has no offset); raises 22007 naming `what` otherwise.
std::optional<std::int64_t> time_from_text(const std::optional<std::string_view>& value, const char* what);

// --- jsonb --------------------------------------------------------------------------------

// The bytes of a (detoasted) jsonb value as the core's jsonb reader takes them.
struct JsonbBytes {
    const unsigned char* data;
    std::size_t size;
};
inline JsonbBytes jsonb_bytes(const Jsonb* jsonb) {
    return {reinterpret_cast<const unsigned char*>(VARDATA(jsonb)),
            static_cast<std::size_t>(VARSIZE(jsonb) - VARHDRSZ)};
}
// jsonb bytes the core encoded (a varlena with its header) as a Jsonb.
inline Jsonb* as_jsonb(std::string_view encoded) { return reinterpret_cast<Jsonb*>(const_cast<char*>(encoded.data())); }

}  // namespace telemetry::pg
