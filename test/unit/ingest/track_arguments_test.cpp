// How the text forms of track() read their arguments (core/ingest/track_arguments.hpp): the first one
// decides tenant or event name; named arguments keep their names in single-tenant calls.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/ingest/track_arguments.hpp"

namespace telemetry {
namespace {

using Maybe = std::optional<std::string_view>;
const Maybe none;
constexpr std::string_view tenant = "6a1f0c3e-0000-4000-8000-000000000001";

// The resolved call, or "SQLSTATE message" when it is refused.
template <typename Resolve>
std::string describe(Resolve&& resolve) {
    TrackArguments r;
    const Error error = capture_errors([&] { r = resolve(); });
    if (failed(error)) return error.sqlstate + " " + error.message;
    static const char* names[] = {"tenant",     "name",        "properties", "user_id",
                                  "session_id", "occurred_at", "event_id",   "sent_at"};
    std::string out = r.multi_tenant ? "multi" : "single";
    for (std::size_t f = 0; f < track_field_count; ++f)
        if (r.fields[f]) out += std::string(" ") + names[f] + "=" + std::string(*r.fields[f]);
    return out;
}

std::string positional(std::vector<Maybe> values) {
    return describe([&] { return resolve_positional_track_arguments(values.data(), values.size()); });
}

// The named form's slots, with the given ones marked: {value} given, none given as NULL, and
// `skip` left to the default.
struct Slot {
    Maybe value;
    bool given = true;
};
const Slot skip{none, false};

std::string named(std::vector<Slot> slots) {
    slots.resize(track_field_count, skip);
    Maybe values[track_field_count];
    bool given[track_field_count];
    for (std::size_t i = 0; i < track_field_count; ++i) {
        values[i] = slots[i].value;
        given[i] = slots[i].given;
    }
    return describe([&] { return resolve_named_track_arguments(values, given); });
}

TEST(TrackArguments, PositionalFirstArgumentDecides) {
    EXPECT_EQ(positional({tenant, "signup", "{}"}),
              std::string("multi tenant=") + std::string(tenant) + " name=signup properties={}");
    EXPECT_EQ(positional({"{6A1F0C3E00004000800000000000000A}", "signup", "{}", "u", "s"}),
              "multi tenant={6A1F0C3E00004000800000000000000A} name=signup properties={} user_id=u session_id=s");
    EXPECT_EQ(positional({"signup", "{}", "u", "s"}), "single name=signup properties={} user_id=u session_id=s");
    EXPECT_EQ(positional({"signup", "{}", none, none, none, "e"}), "single name=signup properties={} event_id=e");
    EXPECT_EQ(positional({"signup", "{}", "u", "s", "o", "e", "t"}),
              "single name=signup properties={} user_id=u session_id=s occurred_at=o event_id=e sent_at=t");
    EXPECT_EQ(positional({tenant, "n", "{}", "u", "s", "o", "e", "t"}).substr(0, 5), "multi");
}

TEST(TrackArguments, PositionalRefusals) {
    EXPECT_EQ(positional({none, "signup", "{}"}).substr(0, 6), "22004 ");
    EXPECT_EQ(positional({"signup", "{}", "u", "s", "o", "e", "t", "x"}).substr(0, 6), "54023 ");
}

TEST(TrackArguments, NamedWithTheTenantAreTheFields) {
    EXPECT_EQ(named({{tenant}, {"signup"}, {"{}"}, skip, skip, skip, {"e"}}),
              std::string("multi tenant=") + std::string(tenant) + " name=signup properties={} event_id=e");
    // Every argument named and no tenant: a single-tenant call, the slots are the fields.
    EXPECT_EQ(named({skip, {"signup"}, {"{}"}, skip, {"s"}}), "single name=signup properties={} session_id=s");
}

TEST(TrackArguments, NamedSingleTenantShiftsOnlyThePositionalOnes) {
    // track('signup', '{}', event_id => e): the event id keeps its name.
    EXPECT_EQ(named({{"signup"}, {"{}"}, skip, skip, skip, skip, {"e"}}),
              "single name=signup properties={} event_id=e");
    // track('signup', '{}', 'u', event_id => e)
    EXPECT_EQ(named({{"signup"}, {"{}"}, {"u"}, skip, skip, skip, {"e"}}),
              "single name=signup properties={} user_id=u event_id=e");
    // track('signup', '{}', user_id => u, sent_at => t, occurred_at => o)
    EXPECT_EQ(named({{"signup"}, {"{}"}, skip, {"u"}, skip, {"o"}, skip, {"t"}}),
              "single name=signup properties={} user_id=u occurred_at=o sent_at=t");
    // track('signup', '{}', NULL, 'u', occurred_at => o): the same values, another call.
    EXPECT_EQ(named({{"signup"}, {"{}"}, {none}, {"u"}, skip, {"o"}}),
              "single name=signup properties={} session_id=u occurred_at=o");
    // track('signup', properties => '{}')
    EXPECT_EQ(named({{"signup"}, skip, {"{}"}}), "single name=signup properties={}");
    // track('signup') and track('signup', '{}') reach the named form too.
    EXPECT_EQ(named({{"signup"}}), "single name=signup");
    EXPECT_EQ(named({{"signup"}, {"{}"}}), "single name=signup properties={}");
}

TEST(TrackArguments, NamedRefusals) { EXPECT_EQ(named({{none}, {"signup"}, {"{}"}}).substr(0, 6), "22004 "); }

}  // namespace
}  // namespace telemetry
