#include "core/ingest/written_row.hpp"

#include <string>
#include <vector>

#include "core/catalog/event_name.hpp"
#include "core/catalog/schema.hpp"
#include "core/pii/policy.hpp"
#include "core/pii/rewrite.hpp"

namespace telemetry {

namespace {

struct RowChecker {
    const Catalog& catalog;
    const IngestSettings& settings;
    const WrittenRow& row;
    Arena& arena;
    RowCheck out;

    RowCheck refuse(const char* state, const std::string& reason, const char* hint = "") {
        out.refused = true;
        out.sqlstate = state;
        out.reason = arena.copy(reason);
        out.hint = hint;
        return out;
    }

    // The row's name is whatever the writer put there: shown only when it follows the naming
    // rule (which leaves no room for an address or a number that could be personal data).
    std::string quoted_name() const {
        if (check_event_name(row.name) != EventNameVerdict::ok) return "an event whose name breaks the naming rule";
        return "event \"" + std::string(row.name) + "\"";
    }

    void keep_decisions(const UndeclaredPiiOutcome& found) {
        append_decisions(found.decisions, out.pii_decisions, out.pii_decision_count, arena);
    }

    RowCheck refuse_undeclared(const UndeclaredPiiOutcome& found) {
        return refuse("23514",
                      quoted_name() + ": " + undeclared_pii_refusal(found.rejected_at, found.rejected_detector),
                      undeclared_pii_hint);
    }

    RowCheck run() {
        // A type the catalog does not know (a backfill of a retired type, an import) is held to
        // the default limit, and every value in it is undeclared.
        const EventTypeSpec* type = catalog.find(row.name);
        const CompiledSchema* schema = nullptr;
        if (type != nullptr) {
            schema = catalog.schema(*type);
            if (schema == nullptr)
                return refuse("55000", "event type \"" + std::string(row.name) +
                                           "\" has a schema that does not compile; fix it with load_catalog()");
        }
        // The ids first, as decide() judges them. An UPDATE that changed only the ids
        // (anonymize_user()'s pseudonym) has nothing else checked: not the rest of a row stored
        // under the rules of its day.
        const PiiHashKey key{settings.pii_master_key, settings.tenant_id};
        const UndeclaredPii action = undeclared_pii_action(settings.pii_policy, row.name);
        const UndeclaredPiiOutcome ids = judge_identifiers(row.user_id, row.session_id, action, key, arena);
        keep_decisions(ids);
        if (ids.rejected) return refuse_undeclared(ids);
        out.user_id = ids.user_id;
        out.session_id = ids.session_id;
        out.ids_rewritten = ids.user_id_changed || ids.session_id_changed;
        if (ids.user_id_changed) out.flags |= event_flag::user_id_hashed;
        if (ids.session_id_changed) out.flags |= event_flag::session_id_hashed;
        if (row.ids_only) {
            out.properties = row.properties;
            return out;
        }

        const JsonValue& properties = *row.properties;
        if (properties.kind != JsonKind::object)
            return refuse("22023",
                          quoted_name() + ": properties must be a JSON object, found " + describe_kind(properties));

        const JsonValue* stored = &properties;
        if (schema == nullptr) {
            // What cannot be checked whatever the type: too deep to read (a value the policy
            // could not look into, and that the size would not count), or too many values.
            static const std::shared_ptr<const CompiledSchema> any_object = compile_schema("{}", "$");
            for (const Violation& v : validate(*any_object, properties))
                if (v.keyword == "depth" || v.keyword == "size")
                    return refuse("23514", quoted_name() + ": " + v.path + ": " + v.keyword + ": " + v.message);
        } else {
            // x-pii "reject", and what cannot be checked (too deep, too many values). The rest of
            // the schema is the writer's business, as for a backfill.
            for (const Violation& v : validate(*schema, properties))
                if (v.keyword == "x-pii" || v.keyword == "depth" || v.keyword == "size")
                    return refuse("23514", quoted_name() + ": " + v.path + ": " + v.keyword + ": " + v.message);
            // x-pii hash, redact, drop: what is already tagged stays.
            const Rewritten rewritten = rewrite_properties(*schema, properties, {}, key, arena, {}, false, true);
            stored = rewritten.value;
            if (rewritten.pii_applied) out.flags |= event_flag::pii_rewritten;
        }

        // Personal data where nothing was declared.
        const UndeclaredPiiOutcome found = apply_undeclared_pii(schema != nullptr ? &schema->root() : nullptr, *stored,
                                                                std::nullopt, std::nullopt, action, key, arena);
        keep_decisions(found);
        if (found.rejected) return refuse_undeclared(found);
        if (found.properties_changed) {
            stored = found.properties;
            out.flags |= event_flag::pii_detected;
        }

        const std::size_t size = canonical_size(*stored);
        const std::int32_t limit = type != nullptr ? type->max_bytes : default_max_bytes;
        if (size > static_cast<std::size_t>(limit))
            return refuse("54000", quoted_name() + ": properties are " + std::to_string(size) +
                                       " bytes of JSON, over the limit of " + std::to_string(limit));
        out.properties = stored;
        out.properties_rewritten = stored != row.properties;
        return out;
    }
};

}  // namespace

RowCheck check_written_row(const Catalog& catalog, const IngestSettings& settings, const WrittenRow& row,
                           Arena& arena) noexcept {
    RowChecker checker{catalog, settings, row, arena, {}};
    RowCheck check;
    const Error error = capture_errors([&] { check = checker.run(); });
    if (failed(error)) {
        check = RowCheck{};
        check.refused = true;
        check.sqlstate = error.sqlstate == sqlstate::out_of_memory ? sqlstate::out_of_memory : sqlstate::internal_error;
        try {
            check.reason = arena.copy(error.message);
        } catch (...) {
            check.reason = "internal error";
        }
    }
    return check;
}

}  // namespace telemetry

#include "core/base/no_postgres.hpp"
