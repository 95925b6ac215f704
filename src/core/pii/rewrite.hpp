// x-pii, as properties are stored: values tagged "hash" become keyed hashes, "redact" a fixed
// marker, "drop" disappear (docs/catalog.md). The same pass removes the members that
// on_violation "omit" or additionalProperties "omit" leave out, since both rewrite the stored
// properties and most events need neither (one walk, or none).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/base/arena.hpp"
#include "core/catalog/schema.hpp"
#include "core/json/json.hpp"
#include "core/json/json_path.hpp"

namespace telemetry {

// The key for x-pii "hash": values become "h1:" + base64url(HMAC-SHA-256(tenant key, value))[:22],
// where the tenant key is HMAC-SHA-256(master key, tenant id). Linkable within a tenant, not
// across tenants, and not reversible by enumeration without the master key.
struct PiiHashKey {
    std::string_view master;     // the secret (docs/operations.md, telemetry.pii_hash_key)
    std::string_view tenant_id;  // 16 bytes
};

// Applies what changes stored properties: x-pii hash/redact/drop, and removes the members named
// by `omit` (paths from Violations) and, with additionalProperties "omit", undeclared members.
// `value` is the same pointer when nothing changed. Values tagged x-pii "reject" must have been
// refused before this is called. `rewritten_before`: the JSON Pointers of the values this
// rewrote before (a quarantined event being replayed, which keeps them with the row): a value
// there already hashed or redacted is left as it is. Everywhere else every tagged value is
// rewritten, whatever it looks like, so a client cannot pass short plaintext, or another user's
// hash, for a hash, nor can a value stored before its property was tagged. `trust_tagged`: a
// value that already has the form (a hash, "[redacted]") is kept wherever it is: the write-path
// trigger, checking rows a privileged role wrote or a restore brings back, never rewrites twice.
struct Rewritten {
    const JsonValue* value;
    bool pii_applied = false;  // some value was hashed, redacted or dropped
    bool omitted = false;      // some member was removed for a violation or as undeclared
    // With record_paths: the JSON Pointers of the values now hashed or redacted, those left as
    // they were included (for a quarantine row; events do not keep them).
    std::vector<std::string> pii_rewritten_paths;
};
Rewritten rewrite_properties(const CompiledSchema& schema, const JsonValue& properties,
                             const std::vector<std::string>& omit, const PiiHashKey& key, Arena& arena,
                             const PathList& rewritten_before = {}, bool record_paths = false,
                             bool trust_tagged = false);

// The stored form of a hashed value, and whether a string has its shape (so that a replayed
// event is not hashed twice).
std::string pii_hash(const PiiHashKey& key, const JsonValue& value);
bool is_pii_hash(std::string_view s) noexcept;
inline constexpr std::string_view pii_redacted = "[redacted]";

}  // namespace telemetry
