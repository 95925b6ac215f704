// The checks every row written to telemetry.events outside track() and track_batch() gets, in
// the BEFORE INSERT OR UPDATE trigger (src/pg/ingest/write_guard.cpp): a raw INSERT, COPY,
// INSERT ... ON CONFLICT DO UPDATE, UPDATE or MERGE by a role allowed to write the table.
// track() and track_batch() store below the executor, where no trigger fires, after decide()
// made the same checks: nothing is checked twice.
//
// The row is taken as the writer made it (times, ids, sampling and schema are its business, as
// for a backfill), but what the extension promises of every stored event holds:
//   1. its properties are a JSON object                             -> 22023
//   2. of a type the catalog knows: no value where it says x-pii "reject" (23514), and x-pii
//      hash, redact and drop applied (a value already hashed or redacted is kept: a restore or
//      a second write never rewrites twice). A type it does not know (a backfill of a retired
//      type, an import) is not refused: every value in it is undeclared, under the default
//      limit (2048 bytes)
//   3. the tenant's policy for undeclared personal data (core/pii/policy.hpp), in the properties
//      and in user_id and session_id                               -> 23514 under reject
//   4. the type's size limit, on the same canonical form decide() measures -> 54000
// The same row through track() and through the trigger is stored alike (test: sql/write_paths).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "core/base/arena.hpp"
#include "core/catalog/catalog.hpp"
#include "core/ingest/decide.hpp"
#include "core/json/json.hpp"

namespace telemetry {

struct WrittenRow {
    std::string_view name;
    const JsonValue* properties = nullptr;
    std::optional<std::string_view> user_id;
    std::optional<std::string_view> session_id;
    // An UPDATE that changed the ids and nothing else checked (anonymize_user() replacing an id
    // with a pseudonym): only the ids are judged, so that a row stored under the rules of its
    // day (an older release, a policy since changed) never blocks an erasure.
    bool ids_only = false;
};

struct RowCheck {
    bool refused = false;
    const char* sqlstate = "";
    std::string_view reason;
    const char* hint = "";
    // When not refused: what to store (the same pointers when nothing changed).
    const JsonValue* properties = nullptr;
    bool properties_rewritten = false;
    std::optional<std::string_view> user_id;
    std::optional<std::string_view> session_id;
    bool ids_rewritten = false;
    std::uint16_t flags = 0;  // bits to add to the row's flags (event_flag)
    const PiiDecision* pii_decisions = nullptr;
    std::uint32_t pii_decision_count = 0;
};

// settings: tenant_id, pii_master_key and pii_policy are used. Never throws.
RowCheck check_written_row(const Catalog& catalog, const IngestSettings& settings, const WrittenRow& row,
                           Arena& arena) noexcept;

}  // namespace telemetry
