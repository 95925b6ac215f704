#include "core/ingest/decide.hpp"

#include <cstring>
#include <string>
#include <vector>

#include "core/catalog/event_name.hpp"
#include "core/catalog/schema.hpp"
#include "core/pii/rewrite.hpp"
#include "core/base/sha256.hpp"

namespace telemetry {

const char* to_string(IngestStatus status) noexcept {
    switch (status) {
        case IngestStatus::accepted:
            return "accepted";
        case IngestStatus::duplicate:
            return "duplicate";
        case IngestStatus::quarantined:
            return "quarantined";
        case IngestStatus::rejected:
            return "rejected";
        case IngestStatus::sampled_out:
            return "sampled_out";
        case IngestStatus::opted_out:
            return "opted_out";
    }
    return "rejected";
}

const char* to_string(RefusalReason reason) noexcept {
    switch (reason) {
        case RefusalReason::none:
            return "none";
        case RefusalReason::invalid_event:
            return "invalid_event";
        case RefusalReason::unknown_type:
            return "unknown_type";
        case RefusalReason::inactive_type:
            return "inactive_type";
        case RefusalReason::invalid_time:
            return "invalid_time";
        case RefusalReason::schema:
            return "schema";
        case RefusalReason::personal_data:
            return "personal_data";
        case RefusalReason::too_large:
            return "too_large";
        case RefusalReason::internal:
            break;
    }
    return "internal";
}

RefusalReason refusal_reason_of(const char* sqlstate) noexcept {
    const std::string_view state = sqlstate != nullptr ? sqlstate : "";
    if (state == "42704") return RefusalReason::unknown_type;
    if (state == "55000") return RefusalReason::inactive_type;
    if (state == "22008") return RefusalReason::invalid_time;
    if (state == "23514") return RefusalReason::schema;
    if (state == "54000") return RefusalReason::too_large;
    if (state == "53200" || state == "XX000" || state.empty()) return RefusalReason::internal;
    return RefusalReason::invalid_event;  // 22004, 42602, 22023, 22001, 22P02, ...: the event itself
}

bool sample_keeps(std::string_view tenant_id, std::string_view actor, double rate) noexcept {
    if (rate >= 1.0) return true;
    Sha256 h;
    h.update(tenant_id.data(), tenant_id.size());
    h.update("\0", 1);
    h.update(actor.data(), actor.size());
    const Sha256Digest d = h.finish();
    std::uint64_t x = 0;
    for (int i = 0; i < 8; ++i) x = (x << 8) | d[static_cast<std::size_t>(i)];
    // Keep when x / 2^64 < rate.
    const double unit = static_cast<double>(x >> 11) * 0x1.0p-53;
    return unit < rate;
}

namespace {

struct Decider {
    const Catalog& catalog;
    const IngestSettings& settings;
    const IncomingEvent& in;
    Arena& arena;
    IngestDecision out;

    void record_pii_decisions(const UndeclaredPiiOutcome& found) {
        append_decisions(found.decisions, out.pii_decisions, out.pii_decision_count, arena);
    }

    IngestDecision reject(const char* state, const std::string& reason) {
        out.status = IngestStatus::rejected;
        out.sqlstate = state;
        out.reason = arena.copy(reason);
        return out;
    }

    std::string quoted_name() const { return "event \"" + std::string(*in.name) + "\""; }
    std::string quoted_type() const { return "event type \"" + std::string(*in.name) + "\""; }

    // A violation's path (relative to the properties) as seen from the caller's document.
    std::string caller_path(const std::string& path) const { return std::string(in.properties_path) + path.substr(1); }

    IngestDecision run() {
        // The type, looked up once: its name labels the counters whatever is decided below (a
        // name the catalog does not know never does).
        const EventTypeSpec* const type = in.name ? catalog.find(*in.name) : nullptr;
        if (type != nullptr) out.event_type = type->name;
        if (*in.read_sqlstate) return reject(in.read_sqlstate, std::string(in.read_problem));
        if (in.opted_out) {
            out.status = IngestStatus::opted_out;
            return out;
        }

        // 3. The event's own fields.
        if (!in.name) return reject("22004", "event name must not be NULL");
        const EventNameVerdict verdict = check_event_name(*in.name);
        if (verdict != EventNameVerdict::ok) return reject("42602", describe(verdict));
        for (const auto& [field, value] :
             {std::pair<const char*, const std::optional<std::string_view>*>{"user_id", &in.user_id},
              {"session_id", &in.session_id}}) {
            if (!*value) continue;
            if ((*value)->empty()) {
                out.hint = "Pass NULL for an event without one.";
                return reject("22023", std::string(field) + " must not be empty");
            }
            if ((*value)->size() > max_id_bytes)
                return reject("22001",
                              std::string(field) + " must be at most " + std::to_string(max_id_bytes) + " bytes");
        }

        // 4. The catalog.
        if (type == nullptr) {
            out.hint = "Declare it with telemetry.load_catalog() or telemetry.define_event() first.";
            return reject("42704", quoted_type() + " is not in the catalog");
        }
        if (type->status == EventStatus::planned || type->status == EventStatus::blocked) {
            if (type->status == EventStatus::planned)
                out.hint = "Set its status to active in the catalog to start recording it.";
            return reject("55000", quoted_type() + " is " + to_string(type->status) + ": it does not accept events");
        }
        const CompiledSchema* const compiled = catalog.schema(*type);
        if (compiled == nullptr)
            return reject("55000", quoted_type() + " has a schema that does not compile; fix it with load_catalog()");
        out.type = type;
        if (type->status == EventStatus::deprecated) out.reason = "event type is deprecated";

        // 5. Time.
        const std::int64_t now = settings.now_us;
        std::int64_t occurred = now;
        if (in.sent_at_us && (*in.sent_at_us < earliest_plausible_us || *in.sent_at_us >= latest_plausible_us))
            return reject("22008", "sent_at is not a plausible time (before 1970 or after 2199)");
        if (in.occurred_at_us) {
            occurred = *in.occurred_at_us;
            if (occurred < earliest_plausible_us || occurred >= latest_plausible_us)
                return reject("22008", "occurred_at is not a plausible time (before 1970 or after 2199)");
            if (in.sent_at_us) {
                // The client's clock is off by (sent_at - received_at); take that back out. An
                // event said to happen after it was sent would then land after it was received:
                // it is clamped to received_at.
                occurred += now - *in.sent_at_us;
                out.flags |= event_flag::clock_corrected;
                if (occurred > now) {
                    occurred = now;
                    out.flags |= event_flag::time_clamped;
                }
            }
        }
        if (occurred > now + settings.future_tolerance_us) {
            occurred = now;
            out.flags |= event_flag::time_clamped;
        }
        if (occurred < now - settings.retention_us) {
            out.hint =
                "A tenant's retention is telemetry.tenant_settings.retention_days, else telemetry.retention_days.";
            return reject("22008", "occurred_at is older than the tenant's retention of " +
                                       std::to_string(settings.retention_us / 86400000000LL) + " days");
        }
        out.occurred_at_us = occurred;

        // 9, for the ids: judged before sampling, so that an id stored as its hash samples as it
        // is stored (one person, however the id's case was written).
        const UndeclaredPii action = undeclared_pii_action(settings.pii_policy, *in.name);
        const PiiHashKey key{settings.pii_master_key, settings.tenant_id};
        const UndeclaredPiiOutcome ids = judge_identifiers(in.user_id, in.session_id, action, key, arena);
        record_pii_decisions(ids);
        if (ids.rejected) {
            out.hint = undeclared_pii_hint;
            out.refusal = RefusalReason::personal_data;
            return reject("23514",
                          quoted_name() + ": " + undeclared_pii_refusal(ids.rejected_at, ids.rejected_detector));
        }
        out.user_id = ids.user_id;
        out.session_id = ids.session_id;
        if (ids.user_id_changed) out.flags |= event_flag::user_id_hashed;
        if (ids.session_id_changed) out.flags |= event_flag::session_id_hashed;

        // 6. Sampling, by actor: the user, else the session, else the event itself.
        if (type->sample_rate < 1.0) {
            std::string actor;
            if (out.user_id) actor = "u:" + std::string(*out.user_id);
            else if (out.session_id) actor = "s:" + std::string(*out.session_id);
            else if (in.event_id) actor = "e:" + std::string(reinterpret_cast<const char*>(in.event_id->data()), 16);
            else return reject("XX000", "telemetry: an event without an id reached sampling");
            if (!sample_keeps(settings.tenant_id, actor, type->sample_rate)) {
                out.status = IngestStatus::sampled_out;
                return out;
            }
            out.sample_weight = static_cast<float>(1.0 / type->sample_rate);
        }

        // 7. The schema.
        static const JsonValue empty_object = [] {
            JsonValue v;
            v.kind = JsonKind::object;
            return v;
        }();
        const JsonValue& properties = in.properties ? *in.properties : empty_object;
        if (properties.kind != JsonKind::object)
            return reject("22023", std::string("properties must be a JSON object, found ") + describe_kind(properties));
        const CompiledSchema& schema = *compiled;
        std::vector<Violation> violations = validate(schema, properties);
        std::vector<std::string> omit;
        if (!violations.empty()) {
            // Never kept, not even in quarantine: a property the catalog refuses outright, and
            // a value that was not read (nested too deep, too large), which cannot be stored.
            bool never_kept = false;
            bool omittable = true;
            for (const Violation& v : violations) {
                never_kept = never_kept || v.keyword == "x-pii" || v.keyword == "depth" || v.keyword == "size";
                omittable = omittable && v.omittable && v.path != "$";
            }
            std::string more;
            if (violations.size() > 1)
                more = " (and " + std::to_string(violations.size() - 1) +
                       (violations.size() >= max_violations ? " or more" : "") + " more)";
            const std::string rule = ": " + violations[0].keyword + ": " + violations[0].message + more;
            const std::string reason = quoted_name() + ": " + caller_path(violations[0].path) + rule;
            for (const Violation& v : violations)
                if (v.keyword == "x-pii") out.refusal = RefusalReason::personal_data;
            if (never_kept || type->on_violation == ViolationPolicy::reject ||
                (type->on_violation == ViolationPolicy::omit && !omittable))
                return reject("23514", reason);
            if (type->on_violation == ViolationPolicy::quarantine) {
                out.status = IngestStatus::quarantined;
                out.sqlstate = "23514";
                out.reason = arena.copy(reason);
                out.violation_path = arena.copy(violations[0].path);
                out.violation_rule = arena.copy(violations[0].keyword);
                out.quarantine_reason = arena.copy(quoted_name() + ": " + violations[0].path + rule);
            } else {
                for (const Violation& v : violations) omit.push_back(v.path);
                out.flags |= event_flag::properties_omitted;
            }
        }

        // 8. x-pii rewriting, and the members omitted above.
        // Where x-pii rewrote is kept only with a quarantine row: asked for where one may be made.
        const Rewritten rewritten = rewrite_properties(schema, properties, omit, key, arena, in.pii_rewritten_before,
                                                       type->on_violation == ViolationPolicy::quarantine);
        const JsonValue* stored = rewritten.value;
        out.properties_rewritten = stored != &properties;
        if (rewritten.pii_applied) out.flags |= event_flag::pii_rewritten;
        if (rewritten.omitted) out.flags |= event_flag::properties_omitted;
        if (in.text_repaired) out.flags |= event_flag::text_repaired;
        out.properties = stored;
        if (!rewritten.pii_rewritten_paths.empty()) {  // for a quarantine row (see IngestDecision)
            const std::size_t n = rewritten.pii_rewritten_paths.size();
            auto* paths = arena.allocate_array<std::string_view>(n);
            for (std::size_t i = 0; i < n; ++i)
                new (&paths[i]) std::string_view(arena.copy(rewritten.pii_rewritten_paths[i]));
            out.pii_rewritten_paths = PathList{paths, n};
        }

        // 9. Personal data where nothing was declared (the ids were judged before sampling).
        const UndeclaredPiiOutcome found =
            apply_undeclared_pii(&schema.root(), *stored, std::nullopt, std::nullopt, action, key, arena);
        record_pii_decisions(found);
        if (found.rejected) {
            out.refusal = RefusalReason::personal_data;
            const std::string where = found.rejected_at[0] == '$' ? caller_path(found.rejected_at) : found.rejected_at;
            out.hint = undeclared_pii_hint;
            return reject("23514", quoted_name() + ": " + undeclared_pii_refusal(where, found.rejected_detector));
        }
        if (found.properties_changed) {
            stored = found.properties;
            out.properties = stored;
            out.properties_rewritten = true;
            out.flags |= event_flag::pii_detected;
        }

        // 10. Size, of what would be stored.
        const std::size_t size = canonical_size(*stored);
        out.stored_bytes = static_cast<std::uint32_t>(size);
        if (size > static_cast<std::size_t>(type->max_bytes)) {
            const std::string reason = quoted_name() + ": properties are " + std::to_string(size) +
                                       " bytes of JSON, over the limit of " + std::to_string(type->max_bytes);
            // Quarantine keeps oversized events too, up to the largest limit a catalog may set.
            if (type->on_violation != ViolationPolicy::quarantine || size > static_cast<std::size_t>(largest_max_bytes))
                return reject("54000", reason);
            if (out.status == IngestStatus::quarantined) return out;  // already quarantined for its schema
            out.status = IngestStatus::quarantined;
            out.sqlstate = "54000";
            out.reason = arena.copy(reason);
            out.violation_path = "$";
            out.violation_rule = "max_bytes";
            out.quarantine_reason = out.reason;
            return out;
        }
        if (out.status != IngestStatus::quarantined) out.status = IngestStatus::accepted;
        return out;
    }
};

}  // namespace

IngestDecision decide(const Catalog& catalog, const IngestSettings& settings, const IncomingEvent& event,
                      Arena& arena) noexcept {
    Decider decider{catalog, settings, event, arena, {}};
    IngestDecision decision;
    const Error error = capture_errors([&] { decision = decider.run(); });
    if (failed(error)) {
        decision = IngestDecision{};
        decision.status = IngestStatus::rejected;
        // The sqlstate must outlive this call: keep to the static strings of known codes.
        decision.sqlstate =
            error.sqlstate == sqlstate::out_of_memory ? sqlstate::out_of_memory : sqlstate::internal_error;
        try {
            decision.reason = arena.copy(error.message);
        } catch (...) {
            decision.reason = "internal error";
        }
    }
    return decision;
}

}  // namespace telemetry

#include "core/base/no_postgres.hpp"
