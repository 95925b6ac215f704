// The ingest decision: what happens to one event, decided once, the same way for track(),
// track_batch() and (later) the write-path triggers.
//
// The checks run in this order, and the first that fails decides (docs/ingest.md):
//   1. the event could be read (text batches: duplicate keys, NUL characters, numbers);
//   2. the user has opted out                          -> opted_out (nothing else is looked at)
//   3. the event's own fields: name, ids, times        -> rejected
//   4. the catalog knows the type and it accepts events -> rejected
//   5. time: clock-skew correction, future clamp, retention, plausibility
//   6. sampling (consistent per actor)                 -> sampled_out
//   7. the property schema, under the type's policy    -> rejected | quarantined | omit members
//   8. x-pii rewriting (hash, redact, drop)
//   9. personal data where nothing was declared, and in user_id and session_id, under the
//      tenant's policy (core/pii/policy.hpp)               -> rejected | rewritten
//      (the ids are judged before 6, so that a hashed id samples as it is stored)
//  10. the size limit on the final properties          -> rejected | quarantined
// Deduplication by event_id and the insert happen afterwards, in the glue, because they need
// the database.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "core/base/arena.hpp"
#include "core/catalog/catalog.hpp"
#include "core/json/json.hpp"
#include "core/json/json_path.hpp"
#include "core/json/json_text.hpp"
#include "core/base/uuid.hpp"
#include "core/pii/policy.hpp"

namespace telemetry {

enum class IngestStatus : std::uint8_t { accepted, duplicate, quarantined, rejected, sampled_out, opted_out };
const char* to_string(IngestStatus status) noexcept;

// Why an event was refused (rejected or quarantined), as one of a few classes: the reason label
// of telemetry_events_refused_total (a bounded label, where the reason text is not).
enum class RefusalReason : std::uint8_t {
    none,
    invalid_event,  // NULL or malformed name, empty or oversized ids, properties not an object, unreadable
    unknown_type,   // not in the catalog
    inactive_type,  // planned or blocked, or a schema that does not compile
    invalid_time,   // implausible, older than retention, or no partition for its day
    schema,         // the type's schema refused the properties
    personal_data,  // x-pii reject, or the tenant's policy for undeclared personal data
    too_large,      // over max_bytes
    internal,       // out of memory, or a bug
};
inline constexpr int refusal_reason_count = 9;
static_assert(static_cast<int>(RefusalReason::internal) + 1 == refusal_reason_count);
const char* to_string(RefusalReason reason) noexcept;
// The class of a refusal by its SQLSTATE (personal data shares 23514 with the schema: decide()
// says so itself).
RefusalReason refusal_reason_of(const char* sqlstate) noexcept;

// Bits of telemetry.events.flags.
namespace event_flag {
inline constexpr std::uint16_t time_clamped = 1;        // occurred_at was too far ahead: stored as received_at
inline constexpr std::uint16_t clock_corrected = 2;     // occurred_at shifted by (received_at - sent_at)
inline constexpr std::uint16_t properties_omitted = 4;  // members removed (on_violation or additionalProperties "omit")
inline constexpr std::uint16_t pii_rewritten = 8;       // x-pii hash, redact or drop changed the properties
inline constexpr std::uint16_t text_repaired = 16;      // a lone UTF-16 surrogate escape became U+FFFD
inline constexpr std::uint16_t pii_detected = 32;  // undeclared personal data in properties redacted, hashed or dropped
inline constexpr std::uint16_t user_id_hashed = 64;      // user_id showed personal data: stored as its keyed hash
inline constexpr std::uint16_t session_id_hashed = 128;  // session_id likewise
}  // namespace event_flag

inline constexpr std::size_t max_id_bytes = 256;

// One event as it arrived. Views point into memory that outlives the decision.
struct IncomingEvent {
    std::optional<std::string_view> name;
    const JsonValue* properties = nullptr;  // nullptr: none given, meaning {}
    std::optional<std::string_view> user_id;
    std::optional<std::string_view> session_id;
    std::optional<Uuid> event_id;                // the client's id, or the one made for it (sampling uses it)
    std::optional<std::int64_t> occurred_at_us;  // Unix microseconds
    std::optional<std::int64_t> sent_at_us;
    bool opted_out = false;      // the caller looked the user up in the opt-out list
    bool text_repaired = false;  // the reader replaced a lone surrogate (flag 16)
    // Where x-pii rewrote the properties before, as JSON Pointers (a quarantined event being
    // replayed: its row keeps them): a value there already hashed or redacted is not rewritten
    // again. Empty for what a client sends, who could otherwise store short plaintext, or another
    // user's hash, as a hash.
    PathList pii_rewritten_before;
    // Where the properties sit in the caller's document, for the paths in reasons: "$" when
    // they are track()'s argument, "$.properties" inside a batch element.
    std::string_view properties_path = "$";
    // A problem found while reading the event (text parser, or unpacking a batch element).
    const char* read_sqlstate = "";
    std::string_view read_problem;
};

struct IngestSettings {
    std::int64_t now_us = 0;               // received_at, Unix microseconds
    std::int64_t retention_us = 0;         // events older than this are refused
    std::int64_t future_tolerance_us = 0;  // later than now + this: clamped to now
    std::string_view tenant_id;            // 16 bytes: sampling and hashing are per tenant
    std::string_view pii_master_key;
    // The tenant's policy for undeclared personal data; nullptr: redact, for every type.
    const TenantPiiPolicy* pii_policy = nullptr;
};

struct IngestDecision {
    IngestStatus status = IngestStatus::rejected;
    const char* sqlstate = "";  // rejected and quarantined: the rule's SQLSTATE
    std::string_view reason;    // why; empty for a plain accept
    const char* hint = "";      // what to do about it, when there is something to say
    // Rejected and quarantined: personal_data, or none (then refusal_reason_of(sqlstate)).
    RefusalReason refusal = RefusalReason::none;
    // The catalog's name of the event's type once it was found there (a bounded label for the
    // counters), else empty: a name the catalog does not know is never a label.
    std::string_view event_type;
    // Accepted: the size of the stored properties, canonical JSON bytes.
    std::uint32_t stored_bytes = 0;
    // For accepted and quarantined events:
    const EventTypeSpec* type = nullptr;    // valid as long as the catalog decided from
    const JsonValue* properties = nullptr;  // what to store, maybe rewritten
    bool properties_rewritten = false;      // false: store the properties exactly as given
    std::int64_t occurred_at_us = 0;
    float sample_weight = 1;
    std::uint16_t flags = 0;
    // Quarantined: the first violation, with paths relative to the properties whatever form the
    // event came in, so quarantine rows read the same and replays update them alike.
    std::string_view violation_path;
    std::string_view violation_rule;
    std::string_view quarantine_reason;
    // Quarantined: the JSON Pointers of the values x-pii hashed or redacted, kept with the row so
    // that its replay trusts those and only those (IncomingEvent::pii_rewritten_before).
    PathList pii_rewritten_paths;
    // Accepted and quarantined: the ids to store (hashed when they showed personal data).
    std::optional<std::string_view> user_id;
    std::optional<std::string_view> session_id;
    // What the undeclared-PII policy did, one entry per value (for the counters).
    const PiiDecision* pii_decisions = nullptr;
    std::uint32_t pii_decision_count = 0;
};

IngestDecision decide(const Catalog& catalog, const IngestSettings& settings, const IncomingEvent& event,
                      Arena& arena) noexcept;

// Whether an actor is kept when its event type is sampled at `rate`: the same answer for every
// event of the same (tenant, actor), so a kept user's funnels stay whole.
bool sample_keeps(std::string_view tenant_id, std::string_view actor, double rate) noexcept;

// Plausible event times: from 1970 up to (not including) 2200. Outside: an error, not a clamp.
inline constexpr std::int64_t earliest_plausible_us = 0;
inline constexpr std::int64_t latest_plausible_us = 7258118400LL * 1000000;  // 2200-01-01T00:00:00Z

}  // namespace telemetry
