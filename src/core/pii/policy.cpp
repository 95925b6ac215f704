#include "core/pii/policy.hpp"

#include <algorithm>
#include <unordered_set>
#include <cstdint>

#include "core/base/sha256.hpp"
#include "core/json/json_path.hpp"
#include "core/pii/scan_json.hpp"

namespace telemetry {

std::optional<UndeclaredPii> parse_undeclared_pii(std::string_view text) noexcept {
    if (text == "redact") return UndeclaredPii::redact;
    if (text == "hash") return UndeclaredPii::hash;
    if (text == "drop") return UndeclaredPii::drop;
    if (text == "reject") return UndeclaredPii::reject;
    if (text == "allow") return UndeclaredPii::allow;
    return std::nullopt;
}

const char* to_string(UndeclaredPii action) noexcept {
    switch (action) {
        case UndeclaredPii::redact:
            return "redact";
        case UndeclaredPii::hash:
            return "hash";
        case UndeclaredPii::drop:
            return "drop";
        case UndeclaredPii::reject:
            return "reject";
        case UndeclaredPii::allow:
            return "allow";
    }
    return "redact";
}

std::string redaction_tag(pii::Detector detector) {
    std::string tag = "[redacted:";
    tag += pii::detector_name(detector);
    tag += ']';
    return tag;
}

bool is_pii_tag(std::string_view text) noexcept {
    if (text == pii_redacted) return true;
    if (text.size() < 12 || text.substr(0, 10) != "[redacted:" || text.back() != ']') return false;
    const std::string_view name = text.substr(10, text.size() - 11);
    for (int d = 0; d < pii::detector_count; ++d)
        if (pii::detector_name(static_cast<pii::Detector>(d)) == name) return true;
    return false;
}

std::string detected_value_hash(const PiiHashKey& key, std::string_view text, pii::Detector detector) {
    std::string normal = pii::needs_normalising(text) ? pii::normalise(text) : std::string(text);
    // Surrounding blanks are not part of the value.
    const std::size_t first = normal.find_first_not_of(" \t\r\n");
    normal = first == std::string::npos ? std::string()
                                        : normal.substr(first, normal.find_last_not_of(" \t\r\n") - first + 1);
    if (detector == pii::Detector::email)
        for (char& c : normal)
            if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    JsonValue v;
    v.kind = JsonKind::string;
    v.string = normal;
    return pii_hash(key, v);
}

std::string undeclared_pii_refusal(std::string_view where, pii::Detector detector) {
    std::string reason(where);
    reason += ": personal data (";
    reason += pii::detector_name(detector);
    reason += ") where the catalog declares none, refused by the tenant's policy";
    return reason;
}

namespace {

// What the policy needs to know of a key: whether its text shows personal data (value
// detectors), and which key-name detector it names. Key names repeat from event to event, and
// classify_key() is the costliest step of a typical event, so the answers for keys that show
// nothing are remembered in a small table per thread (a backend is one thread): 512 sets of
// two, keys of up to 64 bytes. Keys that do show something are never kept.
struct KeyVerdict {
    bool shows_value = false;  // its own text holds personal data (an e-mail address as a key)
    pii::Detector value_detector = pii::Detector::email;
    bool names = false;  // classify_key() said so
    pii::Detector named = pii::Detector::email;
};

// Two ways per set, so that two keys of one event that share a set do not evict each other on
// every event.
constexpr std::size_t key_memo_sets = 512;
constexpr std::size_t key_memo_max_length = 64;
struct MemoEntry {
    std::uint32_t hash = 0;  // compared first: most misses never touch the text
    bool used = false;
    KeyVerdict verdict;
    std::string key;
};
struct MemoSet {
    MemoEntry way[2];
    unsigned char next = 0;  // the way the next new text takes

    const MemoEntry* find(std::uint32_t hash, std::string_view text) const noexcept {
        for (const MemoEntry& e : way)
            if (e.used && e.hash == hash && e.key == text) return &e;
        return nullptr;
    }
    void remember(std::uint32_t hash, std::string_view text, const KeyVerdict& verdict) {
        MemoEntry& entry = way[next];
        next ^= 1;
        entry.key.assign(text.data(), text.size());
        entry.hash = hash;
        entry.verdict = verdict;
        entry.used = true;
    }
};
thread_local MemoSet key_memo[key_memo_sets];

// Values repeat too (an enumeration, a model name, a page path, a user agent): a value up to 128
// bytes in which the detectors found nothing is remembered the same way, in 512 sets of two,
// so that the next event with it pays a hash and a comparison instead of the scanners. Values
// with a finding are never kept.
constexpr std::size_t value_memo_sets = 512;
constexpr std::size_t value_memo_max_length = 128;
thread_local MemoSet value_memo[value_memo_sets];

std::uint32_t fnv1a(std::string_view text) noexcept {
    std::uint32_t h = 2166136261u;
    for (const char c : text) h = (h ^ static_cast<unsigned char>(c)) * 16777619u;
    return h;
}

// Key names whose value is personal data whatever it looks like: what a value cannot show.
bool key_alone_decides(pii::Detector d) noexcept {
    return d == pii::Detector::password || d == pii::Detector::secret || d == pii::Detector::person_name ||
           d == pii::Detector::street_address || d == pii::Detector::birth_date;
}

struct PolicyWalker {
    UndeclaredPii action;
    const PiiHashKey& key;
    Arena& arena;
    UndeclaredPiiOutcome& out;
    std::vector<pii::Finding> findings;
    std::string digits;

    KeyVerdict judge_key(std::string_view key_text) {
        MemoSet* set = nullptr;
        std::uint32_t hash = 0;
        if (key_text.size() <= key_memo_max_length) {
            hash = fnv1a(key_text);
            set = &key_memo[hash % key_memo_sets];
            if (const MemoEntry* seen = set->find(hash, key_text)) return seen->verdict;
        }
        KeyVerdict verdict;
        verdict.shows_value = detect(key_text, {}, verdict.value_detector);
        verdict.names = pii::classify_key(key_text, verdict.named);
        if (set != nullptr && !verdict.shows_value) set->remember(hash, key_text, verdict);
        return verdict;
    }

    // The first detector that flags `text`, if any. `under_key`: the key the value is under (a
    // dotted quad under one naming a version is not an address); empty for keys and ids.
    bool detect(std::string_view text, std::string_view under_key, pii::Detector& found) {
        // A redaction tag is skipped; a hash ("h1:" and 22 characters) is scanned like any value:
        // one shows nothing the detectors look for, and a look-alike holding a card number
        // ("h1:4111111111111111...") is caught.
        if (text.empty() || is_pii_tag(text)) return false;
        // Most short values can hold nothing any scanner looks for: ruled out in one pass.
        const pii::Prescan need = pii::prescan(text);
        if (need == pii::Prescan::nothing) return false;
        const bool plain = need == pii::Prescan::scan;
        MemoSet* set = nullptr;
        std::uint32_t hash = 0;
        if (text.size() <= value_memo_max_length) {
            hash = fnv1a(text);
            set = &value_memo[hash % value_memo_sets];
            if (set->find(hash, text) != nullptr) return false;  // seen before, nothing in it
        }
        findings.clear();
        if (plain) pii::scan_value(text, findings);
        else pii::scan_value(pii::normalise(text), findings);
        if (findings.empty() && set != nullptr) set->remember(hash, text, KeyVerdict{});
        for (const pii::Finding& f : findings) {
            if (f.detector == pii::Detector::ip_address && pii::names_a_version(under_key)) continue;
            found = f.detector;
            return true;
        }
        return false;
    }

    void refuse(const PathStep& at, pii::Detector d) {
        if (out.rejected) return;
        out.rejected = true;
        out.rejected_at = at.str();
        out.rejected_detector = d;
    }

    // What a flagged value becomes; false: the member or element goes.
    // `text`: the value's own text (a string, a number's digits), hashed normalised; empty for a
    // container, hashed as canonical JSON.
    bool replace(const JsonValue& v, std::string_view text, pii::Detector d, const PathStep& at,
                 JsonValue& replacement) {
        out.decisions.push_back(PiiDecision{d, action});
        switch (action) {
            case UndeclaredPii::allow:
                replacement = v;
                return true;
            case UndeclaredPii::reject:
                refuse(at, d);
                replacement = v;
                return true;
            case UndeclaredPii::drop:
                return false;
            case UndeclaredPii::hash: {
                replacement = JsonValue{};
                replacement.kind = JsonKind::string;
                replacement.string = arena.copy(text.empty() ? pii_hash(key, v) : detected_value_hash(key, text, d));
                return true;
            }
            case UndeclaredPii::redact:
                replacement = JsonValue{};
                replacement.kind = JsonKind::string;
                replacement.string = arena.copy(redaction_tag(d));
                return true;
        }
        return true;
    }

    // The value's own text when it may show something: a string, or an integral number's digits.
    bool value_text(const JsonValue& v, std::string_view& text) {
        if (v.kind == JsonKind::string) {
            text = v.string;
            return true;
        }
        if (v.kind == JsonKind::number && v.number != nullptr && pii::integer_text(*v.number, digits)) {
            text = digits;
            return true;
        }
        return false;
    }

    // Returns false when the value goes (drop); `changed` tells whether `result` differs.
    bool value(const SchemaNode* s, const JsonValue& v, const PathStep& at, std::string_view under_key,
               JsonValue& result, bool& changed) {
        if (s != nullptr && s->pii != PiiAction::none) {  // the catalog decided for this member
            result = v;
            return true;
        }
        std::string_view text;
        pii::Detector d;
        // An integral number of fewer than 7 digits is a count, not a phone or card number.
        const bool small_number = v.kind == JsonKind::number && v.number != nullptr && v.number->point < 7;
        if (!small_number && value_text(v, text) && detect(text, under_key, d)) {
            if (!replace(v, text, d, at, result)) {
                changed = true;
                return false;
            }
            if (action != UndeclaredPii::allow && action != UndeclaredPii::reject) changed = true;
            return true;
        }
        if (v.kind == JsonKind::object) {
            result = object(s, v, at, changed);
            return true;
        }
        if (v.kind == JsonKind::array) {
            result = array(s != nullptr ? s->items.get() : nullptr, v, at, under_key, changed);
            return true;
        }
        result = v;
        return true;
    }

    JsonValue array(const SchemaNode* items, const JsonValue& v, const PathStep& at, std::string_view under_key,
                    bool& changed) {
        JsonValue* elements = nullptr;  // made at the first change
        std::uint32_t kept = 0;
        for (std::uint32_t i = 0; i < v.count; ++i) {
            JsonValue element;
            bool element_changed = false;
            const bool keep = value(items, v.elements[i], at.index(i), under_key, element, element_changed);
            if ((element_changed || !keep) && elements == nullptr) {
                elements = arena.allocate_array<JsonValue>(v.count);
                for (std::uint32_t k = 0; k < i; ++k) new (&elements[k]) JsonValue(v.elements[k]);
                kept = i;
            }
            if (elements != nullptr && keep) new (&elements[kept++]) JsonValue(element);
        }
        if (elements == nullptr) return v;
        changed = true;
        JsonValue out_value = v;
        out_value.elements = elements;
        out_value.count = kept;
        return out_value;
    }

    JsonValue object(const SchemaNode* s, const JsonValue& v, const PathStep& at, bool& changed) {
        JsonMember* members = nullptr;  // made at the first change
        std::uint32_t kept = 0;
        bool key_hashed = false;
        for (std::uint32_t i = 0; i < v.count; ++i) {
            const JsonMember& m = v.members[i];
            const SchemaNode* child = s != nullptr ? s->property(m.key) : nullptr;
            JsonMember member{m.key, m.value};
            bool keep = true;
            bool member_changed = false;
            if (child != nullptr && child->pii != PiiAction::none) {
                // Declared by the catalog: neither the key nor the value is ours to judge.
            } else {
                // A declared member's name was judged when the schema was compiled, and its
                // name alone decides nothing (the catalog's to tag): no work per event.
                KeyVerdict verdict;
                if (child != nullptr) {
                    verdict.shows_value = child->name_shows_pii;
                    if (verdict.shows_value) detect(m.key, {}, verdict.value_detector);
                } else {
                    verdict = judge_key(m.key);
                }
                pii::Detector d = verdict.value_detector;
                if (verdict.shows_value) {
                    // The key itself shows personal data: it cannot be kept as it is.
                    const PathStep here = at.key("~redacted");
                    out.decisions.push_back(PiiDecision{d, action});
                    if (action == UndeclaredPii::reject) refuse(here, d);
                    else if (action == UndeclaredPii::hash) {
                        member.key = arena.copy(detected_value_hash(key, m.key, d));
                        member_changed = true;
                        key_hashed = true;
                    } else if (action != UndeclaredPii::allow) {
                        keep = false;
                    }
                }
                const PathStep here = at.key(member_changed ? member.key : m.key);
                if (keep && child == nullptr && verdict.names && key_alone_decides(verdict.named) &&
                    value_may_be_named(m.value)) {
                    d = verdict.named;
                    JsonValue replaced;
                    std::string_view text;
                    if (!value_text(m.value, text)) text = {};
                    keep = replace(m.value, text, d, here, replaced);
                    if (keep && action != UndeclaredPii::reject) member.value = replaced;
                    member_changed = member_changed || action != UndeclaredPii::reject;
                } else if (keep) {
                    keep = value(child, m.value, here, m.key, member.value, member_changed);
                    if (!keep) member_changed = true;
                }
            }
            if ((member_changed || !keep) && members == nullptr) {
                members = arena.allocate_array<JsonMember>(v.count);
                for (std::uint32_t k = 0; k < i; ++k) new (&members[k]) JsonMember(v.members[k]);
                kept = i;
            }
            if (members != nullptr && keep) new (&members[kept++]) JsonMember(member);
        }
        if (members == nullptr) return v;
        changed = true;
        if (key_hashed) kept = drop_repeated_keys(members, kept);
        JsonValue out_value = v;
        out_value.members = members;
        out_value.count = kept;
        return out_value;
    }

    // Two keys may hash alike ("Ann@x.com" and "ann@x.com" are one person), or a hash may equal a
    // key sent as it is: the first member keeps the name, later ones go (jsonb keeps one).
    static std::uint32_t drop_repeated_keys(JsonMember* members, std::uint32_t count) {
        std::unordered_set<std::string_view> seen;
        seen.reserve(count);
        std::uint32_t kept = 0;
        for (std::uint32_t i = 0; i < count; ++i)
            if (seen.insert(members[i].key).second) members[kept++] = members[i];
        return kept;
    }

    // A value a key's name can make personal data: a string or a number (a container is looked
    // into: an "address" holding only a country is not one), not one a pass already tagged.
    // (A hash is what hash made of such a value before: kept, so that a second pass changes
    // nothing. A value's own scan does not trust the shape; a name alone has nothing to scan.)
    static bool value_may_be_named(const JsonValue& v) noexcept {
        if (v.kind == JsonKind::number) return true;
        return v.kind == JsonKind::string && !v.string.empty() && !is_pii_tag(v.string) && !is_pii_hash(v.string);
    }

    // An identifier column: hashed (redact, hash, drop), refused (reject) or kept (allow).
    std::optional<std::string_view> identifier(std::optional<std::string_view> id, const char* column, bool& changed) {
        pii::Detector d;
        if (!id || !detect(*id, {}, d)) return id;
        // Counted as what was done: an id is hashed under redact and drop too.
        const bool kept_or_refused = action == UndeclaredPii::allow || action == UndeclaredPii::reject;
        out.decisions.push_back(PiiDecision{d, kept_or_refused ? action : UndeclaredPii::hash});
        if (action == UndeclaredPii::allow) return id;
        if (action == UndeclaredPii::reject) {
            if (!out.rejected) {
                out.rejected = true;
                out.rejected_at = column;
                out.rejected_detector = d;
            }
            return id;
        }
        changed = true;
        return arena.copy(detected_value_hash(key, *id, d));
    }
};

}  // namespace

UndeclaredPiiOutcome judge_identifiers(std::optional<std::string_view> user_id,
                                       std::optional<std::string_view> session_id, UndeclaredPii action,
                                       const PiiHashKey& key, Arena& arena) {
    UndeclaredPiiOutcome out;
    out.user_id = user_id;
    out.session_id = session_id;
    if (action == UndeclaredPii::allow) return out;  // nothing to do: not even looked at
    PolicyWalker walker{action, key, arena, out, {}, {}};
    out.user_id = walker.identifier(user_id, "user_id", out.user_id_changed);
    out.session_id = walker.identifier(session_id, "session_id", out.session_id_changed);
    return out;
}

void append_decisions(const std::vector<PiiDecision>& more, const PiiDecision*& list, std::uint32_t& count,
                      Arena& arena) {
    if (more.empty()) return;
    const std::size_t n = count + more.size();
    auto* all = arena.allocate_array<PiiDecision>(n);
    std::copy(list, list + count, all);
    std::copy(more.begin(), more.end(), all + count);
    list = all;
    count = static_cast<std::uint32_t>(n);
}

UndeclaredPiiOutcome apply_undeclared_pii(const SchemaNode* schema, const JsonValue& properties,
                                          std::optional<std::string_view> user_id,
                                          std::optional<std::string_view> session_id, UndeclaredPii action,
                                          const PiiHashKey& key, Arena& arena) {
    UndeclaredPiiOutcome out = judge_identifiers(user_id, session_id, action, key, arena);
    out.properties = &properties;
    if (action == UndeclaredPii::allow) return out;
    PolicyWalker walker{action, key, arena, out, {}, {}};
    JsonValue result;
    bool changed = false;
    walker.value(schema, properties, PathStep(), {}, result, changed);
    if (changed && action != UndeclaredPii::reject) {
        auto* stored = arena.allocate_array<JsonValue>(1);
        new (stored) JsonValue(result);
        out.properties = stored;
        out.properties_changed = true;
    }
    return out;
}

}  // namespace telemetry

#include "core/base/no_postgres.hpp"
