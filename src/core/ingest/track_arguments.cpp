#include "core/ingest/track_arguments.hpp"

#include <string>

#include "core/base/uuid.hpp"

namespace telemetry {

namespace {

constexpr const char* first_argument_null =
    "the first argument of track() must not be NULL: it is the tenant's UUID, or the event name of a single-tenant call";

// Whether the first argument of a call reads as a tenant: any spelling of a UUID.
bool reads_as_tenant(std::string_view first) noexcept { return parse_uuid(first).has_value(); }

}  // namespace

TrackArguments resolve_positional_track_arguments(const std::optional<std::string_view>* values, std::size_t count) {
    if (count == 0 || !values[0]) throw DomainError(sqlstate::null_value_not_allowed, first_argument_null);
    TrackArguments out;
    out.multi_tenant = reads_as_tenant(*values[0]);
    const std::size_t first_field = out.multi_tenant ? tenant_field : name_field;
    if (first_field + count > track_field_count)
        throw DomainError("54023", "a single-tenant call of track() takes at most 7 arguments, a multi-tenant one 8");
    for (std::size_t i = 0; i < count; ++i) out.fields[first_field + i] = values[i];
    return out;
}

TrackArguments resolve_named_track_arguments(const std::optional<std::string_view> (&slots)[track_field_count],
                                             const bool (&given)[track_field_count]) {
    TrackArguments out;
    // No tenant_id at all (every argument named): a single-tenant call whose slots are its
    // fields. A UUID in it: a multi-tenant call, likewise.
    if (!given[tenant_field] || (slots[tenant_field] && reads_as_tenant(*slots[tenant_field]))) {
        out.multi_tenant = given[tenant_field];
        for (std::size_t f = 0; f < track_field_count; ++f) out.fields[f] = slots[f];
        return out;
    }
    if (!slots[tenant_field]) throw DomainError(sqlstate::null_value_not_allowed, first_argument_null);
    // A single-tenant call whose event name came first, by position: its k positional
    // arguments fill slots 0 .. k-1 and mean fields 1 .. k; its named ones sit in their own.
    std::size_t k = 0;
    while (k < track_field_count && given[k]) ++k;
    if (k >= track_field_count) throw DomainError("54023", "a single-tenant call of track() takes at most 7 arguments");
    for (std::size_t f = name_field; f <= k; ++f) out.fields[f] = slots[f - 1];
    for (std::size_t f = k + 1; f < track_field_count; ++f) out.fields[f] = slots[f];
    return out;
}

}  // namespace telemetry

#include "core/base/no_postgres.hpp"
