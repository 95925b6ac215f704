// The ingest decision, rule by rule, and batch elements.
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "core/ingest/batch.hpp"
#include "core/catalog/catalog_document.hpp"
#include "core/ingest/decide.hpp"
#include "core/catalog/schema.hpp"

namespace telemetry {
namespace {

constexpr std::int64_t day_us = 86400000000LL;
constexpr std::int64_t now_us = 1795248000LL * 1000000;  // 2026-11-21T08:00:00Z

struct IngestTest : ::testing::Test {
    HeapChunks chunks;
    Arena arena{chunks.source()};
    std::unique_ptr<Catalog> catalog;
    IngestSettings settings;

    void SetUp() override {
        const std::vector<EventTypeSpec> events = parse_catalog_document(R"({"events": [
          {"name": "signup", "schema": {"required": ["plan"], "properties": {"plan": {"type": "string", "enum": ["free", "pro"]},
            "email": {"type": "string", "x-pii": "hash"}, "ua": {"x-pii": "redact"}, "card": {"x-pii": "reject"}},
            "additionalProperties": false}},
          {"name": "page_view", "max_bytes": 40, "schema": {"properties": {"path": {"type": "string"}}}},
          {"name": "loose", "on_violation": "omit", "schema": {"properties": {"n": {"type": "integer"}, "s": {"type": "string"}},
            "additionalProperties": "omit"}},
          {"name": "kept", "on_violation": "quarantine", "max_bytes": 30, "schema": {"properties": {"n": {"type": "integer"}}}},
          {"name": "chatty", "sample_rate": 0.25},
          {"name": "old_thing", "status": "deprecated"},
          {"name": "future_thing", "status": "planned"},
          {"name": "spam", "status": "blocked"}]})");
        catalog = std::make_unique<Catalog>(events);
        settings.now_us = now_us;
        settings.retention_us = 90 * day_us;
        settings.future_tolerance_us = 300 * 1000000LL;
        settings.tenant_id = "tenant-0000000001";
        settings.pii_master_key = "master";
    }

    const JsonValue* json(const std::string& text) {
        ParsedText parsed =
            parse_json_text(arena.copy(text), max_property_depth, arena);  // strings may point into the text
        auto* v = arena.allocate_array<JsonValue>(1);
        new (v) JsonValue(parsed.root);
        return v;
    }
    IncomingEvent event(const std::string& name, const std::string& properties = "{}") {
        IncomingEvent e;
        e.name = arena.copy(name);
        e.properties = json(properties);
        e.event_id = Uuid{};
        return e;
    }
    IngestDecision decide_(const IncomingEvent& e) { return decide(*catalog, settings, e, arena); }
    std::string outcome(const IncomingEvent& e) {
        const IngestDecision d = decide_(e);
        std::string s = to_string(d.status);
        if (*d.sqlstate) s += std::string(" ") + d.sqlstate;
        if (!d.reason.empty()) s += ": " + std::string(d.reason);
        return s;
    }
    std::string stored(const IngestDecision& d) {
        std::string out;
        append_canonical(*d.properties, out);
        return out;
    }
};

TEST_F(IngestTest, AcceptsAValidEvent) {
    const IngestDecision d = decide_(event("signup", R"({"plan": "pro"})"));
    EXPECT_EQ(d.status, IngestStatus::accepted);
    EXPECT_FALSE(d.properties_rewritten);
    EXPECT_EQ(d.occurred_at_us, now_us);
    EXPECT_EQ(d.sample_weight, 1.0f);
    EXPECT_EQ(d.flags, 0);
    EXPECT_EQ(d.type->name, "signup");
}

TEST_F(IngestTest, FieldsAndCatalog) {
    IncomingEvent nameless = event("signup");
    nameless.name.reset();
    EXPECT_EQ(outcome(nameless), "rejected 22004: event name must not be NULL");
    EXPECT_EQ(outcome(event("Sign Up")), "rejected 42602: event name must start with a lower-case letter (a-z)");
    EXPECT_EQ(outcome(event("nope")), "rejected 42704: event type \"nope\" is not in the catalog");
    EXPECT_EQ(outcome(event("future_thing")),
              "rejected 55000: event type \"future_thing\" is planned: it does not accept events");
    EXPECT_EQ(outcome(event("spam")), "rejected 55000: event type \"spam\" is blocked: it does not accept events");
    EXPECT_EQ(outcome(event("old_thing")), "accepted: event type is deprecated");
    IncomingEvent e = event("page_view");
    e.user_id = "";
    EXPECT_EQ(outcome(e), "rejected 22023: user_id must not be empty");
    e.user_id = std::string_view(arena.copy(std::string(257, 'u')));
    EXPECT_EQ(outcome(e), "rejected 22001: user_id must be at most 256 bytes");
    e.user_id.reset();
    e.session_id = "";
    EXPECT_EQ(outcome(e), "rejected 22023: session_id must not be empty");
    EXPECT_EQ(outcome(event("page_view", "[1]")), "rejected 22023: properties must be a JSON object, found an array");
    EXPECT_EQ(outcome(event("page_view", "null")), "rejected 22023: properties must be a JSON object, found null");
}

TEST_F(IngestTest, OptedOutWinsOverEverything) {
    IncomingEvent e = event("no_such_event");
    e.opted_out = true;
    EXPECT_EQ(outcome(e), "opted_out");
    e.read_sqlstate = "22030";
    e.read_problem = "$.a: duplicate key";
    EXPECT_EQ(outcome(e), "rejected 22030: $.a: duplicate key");  // an unreadable event is not looked at further
}

TEST_F(IngestTest, Time) {
    IncomingEvent e = event("page_view");
    e.occurred_at_us = now_us - day_us;
    EXPECT_EQ(decide_(e).occurred_at_us, now_us - day_us);
    // PostHog's rule: the client clock is off by (sent_at - received_at).
    e.occurred_at_us = now_us + 3600LL * 1000000 - 10 * 1000000LL;
    e.sent_at_us = now_us + 3600LL * 1000000;  // client clock one hour ahead
    IngestDecision d = decide_(e);
    EXPECT_EQ(d.occurred_at_us, now_us - 10 * 1000000LL);
    EXPECT_EQ(d.flags, event_flag::clock_corrected);
    // Too far ahead: clamped to received_at and flagged.
    e.sent_at_us.reset();
    e.occurred_at_us = now_us + day_us;
    d = decide_(e);
    EXPECT_EQ(d.status, IngestStatus::accepted);
    EXPECT_EQ(d.occurred_at_us, now_us);
    EXPECT_EQ(d.flags, event_flag::time_clamped);
    // Within the tolerance: kept.
    e.occurred_at_us = now_us + 60 * 1000000LL;
    EXPECT_EQ(decide_(e).occurred_at_us, now_us + 60 * 1000000LL);
    // Older than the retention: refused.
    e.occurred_at_us = now_us - 91 * day_us;
    EXPECT_EQ(outcome(e), "rejected 22008: occurred_at is older than the tenant's retention of 90 days");
    // Absurd.
    e.occurred_at_us = -1;
    EXPECT_EQ(outcome(e), "rejected 22008: occurred_at is not a plausible time (before 1970 or after 2199)");
    e.occurred_at_us = latest_plausible_us;
    EXPECT_EQ(outcome(e), "rejected 22008: occurred_at is not a plausible time (before 1970 or after 2199)");
    e.occurred_at_us = now_us;
    e.sent_at_us = latest_plausible_us + 1;
    EXPECT_EQ(outcome(e), "rejected 22008: sent_at is not a plausible time (before 1970 or after 2199)");
}

TEST_F(IngestTest, SamplingIsConsistentPerActorAndWeighted) {
    int kept = 0;
    for (int u = 0; u < 4000; ++u) {
        IncomingEvent e = event("chatty");
        const std::string user = "user-" + std::to_string(u);
        e.user_id = arena.copy(user);
        const IngestDecision first = decide_(e);
        const IngestDecision again = decide_(e);
        ASSERT_EQ(first.status, again.status) << user;  // the same user: the same answer
        if (first.status == IngestStatus::accepted) {
            ++kept;
            EXPECT_EQ(first.sample_weight, 4.0f);
        } else {
            EXPECT_EQ(first.status, IngestStatus::sampled_out);
        }
    }
    EXPECT_NEAR(kept / 4000.0, 0.25, 0.03);
    // Per tenant: another tenant keeps a different set of users.
    int same = 0;
    IngestSettings other = settings;
    other.tenant_id = "tenant-0000000002";
    for (int u = 0; u < 400; ++u) {
        const std::string user = "user-" + std::to_string(u);
        same += sample_keeps(settings.tenant_id, "u:" + user, 0.5) == sample_keeps(other.tenant_id, "u:" + user, 0.5);
    }
    EXPECT_LT(same, 300);
    EXPECT_TRUE(sample_keeps("t", "anyone", 1.0));
}

TEST_F(IngestTest, SchemaUnderEachPolicy) {
    EXPECT_EQ(outcome(event("signup", R"({"plan": "gold"})")),
              "rejected 23514: event \"signup\": $.plan: enum: not one of the 2 allowed values, found a string");
    EXPECT_EQ(outcome(event("signup", R"({"plan": 1, "x": 2, "y": 3})")),
              "rejected 23514: event \"signup\": $.plan: type: expected a string, found a number (and 2 more)");
    EXPECT_EQ(outcome(event("signup", "{}")), "rejected 23514: event \"signup\": $.plan: required: missing");
    // quarantine keeps it, with the first violation's path and rule.
    const IngestDecision q = decide_(event("kept", R"({"n": "three"})"));
    EXPECT_EQ(q.status, IngestStatus::quarantined);
    EXPECT_STREQ(q.sqlstate, "23514");
    EXPECT_EQ(q.violation_path, "$.n");
    EXPECT_EQ(q.quarantine_reason, "event \"kept\": $.n: type: expected an integer (64-bit), found a string");
    EXPECT_EQ(q.violation_rule, "type");
    // omit removes the offending and undeclared members and accepts the rest.
    const IngestDecision o = decide_(event("loose", R"({"n": 1.5, "s": "ok", "extra": true})"));
    EXPECT_EQ(o.status, IngestStatus::accepted);
    EXPECT_EQ(stored(o), R"({"s":"ok"})");
    EXPECT_EQ(o.flags, event_flag::properties_omitted);
}

TEST_F(IngestTest, PiiTags) {
    const IngestDecision d = decide_(event("signup", R"({"plan": "pro", "email": "jo@example.com", "ua": "Mozilla"})"));
    ASSERT_EQ(d.status, IngestStatus::accepted);
    EXPECT_TRUE(d.properties_rewritten);
    EXPECT_EQ(d.flags, event_flag::pii_rewritten);
    const std::string s = stored(d);
    EXPECT_EQ(s.find("jo@example.com"), std::string::npos);
    EXPECT_NE(s.find("\"ua\":\"[redacted]\""), std::string::npos);
    // reject: refused, never quarantined, and the reason does not show the value.
    const std::string r = outcome(event("signup", R"({"plan": "pro", "card": "4111111111111111"})"));
    EXPECT_EQ(r, "rejected 23514: event \"signup\": $.card: x-pii: the catalog refuses this property (x-pii: reject)");
}

TEST_F(IngestTest, PathsInABatchAreRelativeToTheElement) {
    IncomingEvent e = event("signup", R"({"plan": "gold"})");
    e.properties_path = "$.properties";
    EXPECT_EQ(
        outcome(e),
        "rejected 23514: event \"signup\": $.properties.plan: enum: not one of the 2 allowed values, found a string");
    IncomingEvent q = event("kept", R"({"n": "three"})");
    q.properties_path = "$.properties";
    const IngestDecision d = decide_(q);
    EXPECT_EQ(d.reason, "event \"kept\": $.properties.n: type: expected an integer (64-bit), found a string");
    EXPECT_EQ(d.violation_path, "$.n");  // quarantine rows: relative to the properties, whatever the form
    EXPECT_EQ(d.quarantine_reason, "event \"kept\": $.n: type: expected an integer (64-bit), found a string");
}

TEST_F(IngestTest, SizeLimitOnTheStoredForm) {
    // {"path":"<29 characters>"} is exactly 40 bytes, the limit.
    EXPECT_EQ(outcome(event("page_view", R"({"path": "/1234567890123456789012345678"})")), "accepted");
    EXPECT_EQ(outcome(event("page_view", R"({"path": "/12345678901234567890123456789"})")),
              "rejected 54000: event \"page_view\": properties are 41 bytes of JSON, over the limit of 40");
    const IngestDecision q = decide_(event("kept", R"({"n": 1, "padding": "xxxxxxxxxxxxxxxxxxxx"})"));
    EXPECT_EQ(q.status, IngestStatus::quarantined);
    EXPECT_STREQ(q.sqlstate, "54000");
    EXPECT_EQ(q.violation_rule, "max_bytes");
}

TEST_F(IngestTest, BatchElements) {
    ParsedText parsed = parse_json_text(R"([
        {"name": "page_view", "properties": {"path": "/"}, "user_id": 42, "session_id": "s",
         "event_id": "0192d5b4-1c2e-7a3b-9c4d-5e6f708192a3", "occurred_at": "2026-11-21T07:59:00Z", "sent_at": 1795248000000},
        {"name": "page_view", "propertes": {}},
        {"name": 7},
        {"name": "page_view", "event_id": "not-a-uuid"},
        {"name": "page_view", "occurred_at": "yesterday"},
        {"name": "page_view", "occurred_at": true},
        "page_view",
        {"name": "page_view", "properties": {"a": 1, "a": 2}}
    ])",
                                        max_property_depth + 1, arena);
    auto unpacked = [&](std::uint32_t i) {
        return unpack_batch_element(parsed.root.elements[i], parsed.problems[i], arena);
    };
    const IncomingEvent first = unpacked(0);
    EXPECT_FALSE(*first.read_sqlstate);
    EXPECT_EQ(*first.name, "page_view");
    EXPECT_EQ(*first.user_id, "42");
    EXPECT_EQ(*first.session_id, "s");
    ASSERT_TRUE(first.event_id);
    EXPECT_EQ((*first.event_id)[0], 0x01);
    EXPECT_EQ(*first.occurred_at_us, now_us - 60 * 1000000LL);
    EXPECT_EQ(*first.sent_at_us, now_us);
    auto problem = [&](std::uint32_t i) {
        const IncomingEvent e = unpacked(i);
        return std::string(e.read_sqlstate) + " " + std::string(e.read_problem);
    };
    EXPECT_EQ(
        problem(1),
        "22023 $.propertes: unknown key (allowed: name, properties, user_id, session_id, event_id, occurred_at, sent_at)");
    EXPECT_EQ(problem(2), "22023 $.name: expected a string, found a number");
    EXPECT_EQ(problem(3), "22P02 $.event_id: expected a UUID such as 0192d5b4-1c2e-7a3b-9c4d-5e6f708192a3");
    EXPECT_EQ(problem(4), "22007 $.occurred_at: time must be an RFC 3339 timestamp such as 2026-11-21T10:00:00Z");
    EXPECT_EQ(problem(5), "22007 $.occurred_at: expected an RFC 3339 string or epoch milliseconds, found a boolean");
    EXPECT_EQ(problem(6), "22023 an event must be a JSON object, found a string");
    EXPECT_EQ(problem(7), "22030 $.properties.a: duplicate key");
}

// An id that shows personal data is stored as its hash, and sampled as it is stored: one person
// however the case of the address was written, so a kept user's funnels stay whole.
TEST_F(IngestTest, IdsThatShowPersonalDataAreHashedBeforeSampling) {
    int kept_both = 0, dropped_both = 0;
    for (int i = 0; i < 40; ++i) {
        const std::string local = "learner" + std::to_string(i);
        IncomingEvent lower = event("chatty");
        lower.user_id = arena.copy(local + "@example.com");
        IncomingEvent upper = event("chatty");
        upper.user_id = arena.copy("  " + local + "@EXAMPLE.COM");
        const IngestDecision a = decide_(lower);
        const IngestDecision b = decide_(upper);
        ASSERT_EQ(a.status, b.status) << local;
        if (a.status == IngestStatus::accepted) {
            ++kept_both;
            EXPECT_EQ(*a.user_id, *b.user_id);
            EXPECT_EQ(a.user_id->substr(0, 3), "h1:");
            EXPECT_TRUE(a.flags & event_flag::user_id_hashed);
        } else {
            ++dropped_both;
        }
    }
    EXPECT_GT(kept_both, 0);
    EXPECT_GT(dropped_both, 0);
}

}  // namespace
}  // namespace telemetry

namespace telemetry {
namespace {

// The bounded labels of the counters: a refusal's class, and the type only when the catalog
// knows the name.
TEST_F(IngestTest, RefusalReasonsAndLabels) {
    const auto reason = [&](const IngestDecision& d) {
        return std::string(to_string(d.refusal != RefusalReason::none ? d.refusal : refusal_reason_of(d.sqlstate)));
    };
    IngestDecision d = decide_(event("no_such_type"));
    EXPECT_EQ(reason(d), "unknown_type");
    EXPECT_TRUE(d.event_type.empty());
    d = decide_(event("Bad-Name"));
    EXPECT_EQ(reason(d), "invalid_event");
    EXPECT_TRUE(d.event_type.empty());
    d = decide_(event("spam"));
    EXPECT_EQ(reason(d), "inactive_type");
    EXPECT_EQ(d.event_type, "spam");
    d = decide_(event("signup", R"({"plan": "gold"})"));
    EXPECT_EQ(reason(d), "schema");
    EXPECT_EQ(d.event_type, "signup");
    d = decide_(event("signup", R"({"plan": "pro", "card": "4111111111111111"})"));
    EXPECT_EQ(reason(d), "personal_data");
    d = decide_(event("page_view", R"({"path": "/a/very/long/path/that/goes/on/and/on"})"));
    EXPECT_EQ(reason(d), "too_large");
    d = decide_(event("kept", R"({"n": "x"})"));
    EXPECT_EQ(d.status, IngestStatus::quarantined);
    EXPECT_EQ(reason(d), "schema");
    d = decide_(event("page_view", R"({"path": "/"})"));
    EXPECT_EQ(d.status, IngestStatus::accepted);
    EXPECT_EQ(d.stored_bytes, 12u);  // {"path":"/"}
    EXPECT_EQ(d.event_type, "page_view");
    // Refused before the catalog's checks, the type still labels the count.
    IncomingEvent opted = event("page_view", R"({"path": "/"})");
    opted.opted_out = true;
    d = decide_(opted);
    EXPECT_EQ(d.status, IngestStatus::opted_out);
    EXPECT_EQ(d.event_type, "page_view");
    // Personal data however the violations are ordered: a missing member first, then x-pii.
    d = decide_(event("signup", R"({"card": "4111111111111111"})"));
    EXPECT_EQ(d.status, IngestStatus::rejected);
    EXPECT_EQ(reason(d), "personal_data");
    EXPECT_STREQ(to_string(refusal_reason_of("22008")), "invalid_time");
    EXPECT_STREQ(to_string(refusal_reason_of("XX000")), "internal");
}

}  // namespace
}  // namespace telemetry
