#include "core/ingest/track_arguments.hpp"

#include <string>

#include "core/base/uuid.hpp"

namespace telemetry {

namespace {

constexpr const char* first_argument_null =
    "the first argument of track() must not be NULL: it is the tenant's UUID, or the event name of a single-tenant call";
ResolvedTrackArguments refusal(const char* state, std::string message, std::string hint = {}) {
    ResolvedTrackArguments out;
    out.error = Error{state, std::move(message), {}, std::move(hint)};
    return out;
}

}  // namespace

bool reads_as_tenant(std::string_view first) noexcept { return parse_uuid(first).has_value(); }

ResolvedTrackArguments resolve_positional_track_arguments(const std::optional<std::string_view>* values,
                                                          std::size_t count) noexcept {
    ResolvedTrackArguments out;
    Error error = capture_errors([&] {
        if (count == 0 || !values[0]) {
            out = refusal(sqlstate::null_value_not_allowed, first_argument_null);
            return;
        }
        out.arguments.multi_tenant = reads_as_tenant(*values[0]);
        const std::size_t first_field = out.arguments.multi_tenant ? tenant_field : name_field;
        if (first_field + count > track_field_count) {
            out = refusal("54023", "a single-tenant call of track() takes at most 7 arguments, a multi-tenant one 8");
            return;
        }
        for (std::size_t i = 0; i < count; ++i) out.arguments.fields[first_field + i] = values[i];
    });
    if (failed(error)) out.error = std::move(error);  // a move: nothing to throw here
    return out;
}

ResolvedTrackArguments resolve_named_track_arguments(const std::optional<std::string_view> (&slots)[track_field_count],
                                                     const bool (&given)[track_field_count]) noexcept {
    ResolvedTrackArguments out;
    Error error = capture_errors([&] {
        // No tenant_id at all (every argument named): a single-tenant call whose slots are its
        // fields. A UUID in it: a multi-tenant call, likewise.
        if (!given[tenant_field] || (slots[tenant_field] && reads_as_tenant(*slots[tenant_field]))) {
            out.arguments.multi_tenant = given[tenant_field];
            for (std::size_t f = 0; f < track_field_count; ++f) out.arguments.fields[f] = slots[f];
            return;
        }
        if (!slots[tenant_field]) {
            out = refusal(sqlstate::null_value_not_allowed, first_argument_null);
            return;
        }
        // A single-tenant call whose event name came first, by position: its k positional
        // arguments fill slots 0 .. k-1 and mean fields 1 .. k; its named ones sit in their own.
        std::size_t k = 0;
        while (k < track_field_count && given[k]) ++k;
        if (k >= track_field_count) {
            out = refusal("54023", "a single-tenant call of track() takes at most 7 arguments");
            return;
        }
        for (std::size_t f = name_field; f <= k; ++f) out.arguments.fields[f] = slots[f - 1];
        for (std::size_t f = k + 1; f < track_field_count; ++f) out.arguments.fields[f] = slots[f];
    });
    if (failed(error)) out.error = std::move(error);  // a move: nothing to throw here
    return out;
}

}  // namespace telemetry

#include "core/base/no_postgres.hpp"
