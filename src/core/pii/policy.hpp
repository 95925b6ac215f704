// The policy for personal data found where the catalog declared none (docs/pii.md, "Policy"):
// what ingest, and the write-path trigger, do with a value the detectors flag (detect.hpp) that
// no x-pii tag covers, and with a user_id or session_id that shows personal data.
//
// The default is redact: the event is kept and the value becomes "[redacted:<detector>]".
// Never reject by default: detection is heuristic, and track() runs in the application's own
// transaction, where an error would roll back its business change. A tenant may choose, for all
// its event types or for one: reject (the event is refused, 23514), hash (a keyed hash tagged
// "h1:"), drop (the member is removed) or allow (stored as sent).
//
// What is looked at:
//   - every value (strings, and integral numbers as their digits) and every key, at any depth,
//     outside the members an x-pii tag covers (the catalog decided those: allow, hash, redact,
//     drop, reject), and not values already redacted (exactly "[redacted:<detector>]"); a hash
//     "h1:…" shows nothing the detectors look for, so a replay, a restore or a second pass
//     never rewrites twice;
//   - the names of members the schema does not declare, when they say what a value cannot
//     show: password, secret, person_name, street_address, birth_date (classify_key), over a
//     string or number (a container is looked into: an "address" holding only a country is
//     not one). A member the schema declares is the catalog's to tag; its value is still
//     scanned. A key such as "email" or "phone" with a value that shows nothing
//     ("email": "none") is left: those detectors need the value's evidence;
//   - user_id and session_id: an identifier is never redacted to one constant (every user would
//     become one), so redact, hash and drop all hash it; reject refuses; allow keeps it.
//
// A key that itself shows personal data (an e-mail address used as a key) cannot be kept under
// redact: its member is removed; hash replaces the key with its hash; drop removes the member.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/base/arena.hpp"
#include "core/catalog/schema.hpp"
#include "core/json/json.hpp"
#include "core/pii/detect.hpp"
#include "core/pii/rewrite.hpp"

namespace telemetry {

enum class UndeclaredPii : std::uint8_t { redact, hash, drop, reject, allow };
inline constexpr int undeclared_pii_action_count = 5;
std::optional<UndeclaredPii> parse_undeclared_pii(std::string_view text) noexcept;
const char* to_string(UndeclaredPii action) noexcept;

// A tenant's choices: one for all its event types, and some for one type each.
struct TenantPiiPolicy {
    UndeclaredPii all_types = UndeclaredPii::redact;
    std::vector<std::pair<std::string, UndeclaredPii>> by_type;

    UndeclaredPii for_type(std::string_view name) const noexcept {
        for (const auto& [type, action] : by_type)
            if (type == name) return action;
        return all_types;
    }
};

// The action for an event type of a tenant whose policy is `policy` (nullptr: none set, redact).
inline UndeclaredPii undeclared_pii_action(const TenantPiiPolicy* policy, std::string_view type) noexcept {
    return policy != nullptr ? policy->for_type(type) : UndeclaredPii::redact;
}

// One value acted on: what was found, and what the policy did (under allow nothing is looked
// at, so nothing is counted).
struct PiiDecision {
    pii::Detector detector;
    UndeclaredPii action;
};

struct UndeclaredPiiOutcome {
    const JsonValue* properties = nullptr;  // the same pointer when nothing changed
    bool properties_changed = false;
    std::optional<std::string_view> user_id;  // hashed when it showed personal data
    std::optional<std::string_view> session_id;
    bool user_id_changed = false;
    bool session_id_changed = false;
    // reject: where (a path in the properties, "$.note", or "user_id", "session_id") and what.
    bool rejected = false;
    std::string rejected_at;
    pii::Detector rejected_detector = pii::Detector::email;
    std::vector<PiiDecision> decisions;
};

// The redaction tag of a detector: "[redacted:email]".
std::string redaction_tag(pii::Detector detector);
// Whether a string is exactly a redaction tag an earlier pass wrote: "[redacted]" (x-pii) or
// "[redacted:<detector>]" with a known detector. Such values are never looked at again; a hash
// ("h1:…") is scanned like any value and shows nothing (a look-alike with a card number in it
// is caught).
bool is_pii_tag(std::string_view text) noexcept;
// The keyed hash of a value found by a detector: over its normalised text, lower-cased for an
// e-mail address, so that "Alice@Example.com" and "alice@example.com" are one person.
std::string detected_value_hash(const PiiHashKey& key, std::string_view text, pii::Detector detector);

// Why an event is refused under reject, naming where (a path, "user_id") and the detector,
// never the value. The hint to go with it is undeclared_pii_hint.
std::string undeclared_pii_refusal(std::string_view where, pii::Detector detector);
inline constexpr const char* undeclared_pii_hint =
    "Declare the property with x-pii in the catalog, or send a reference instead of the data.";

// Applies `action` to what the detectors find in `properties` (outside x-pii members of
// `schema`, which may be nullptr: no type known), user_id and session_id. Strings it makes live
// in `arena`. Throws std::bad_alloc only.
UndeclaredPiiOutcome apply_undeclared_pii(const SchemaNode* schema, const JsonValue& properties,
                                          std::optional<std::string_view> user_id,
                                          std::optional<std::string_view> session_id, UndeclaredPii action,
                                          const PiiHashKey& key, Arena& arena);

// The same for user_id and session_id alone (properties nullptr in the outcome). Throws
// std::bad_alloc only.
UndeclaredPiiOutcome judge_identifiers(std::optional<std::string_view> user_id,
                                       std::optional<std::string_view> session_id, UndeclaredPii action,
                                       const PiiHashKey& key, Arena& arena);

// Appends `more` to a list of decisions kept in `arena` (a decision's pii_decisions and
// pii_decision_count), for counting once the event is decided.
void append_decisions(const std::vector<PiiDecision>& more, const PiiDecision*& list, std::uint32_t& count,
                      Arena& arena);

}  // namespace telemetry
