// The database's own secret keys (telemetry.secrets, readable by the extension's owner only and
// never dumped), each overridable by a superuser-only setting that keeps it stable across
// databases, restores and standbys. Cached per backend, reloaded when the table changes.
#pragma once

#include <string_view>

namespace telemetry::pg {

// The key behind x-pii "hash": telemetry.pii_hash_key if set, else the row pii_hash_key.
std::string_view pii_master_key();

// The key that signs tenant tokens: telemetry.tenant_token_key if set, else the row
// tenant_token_key. Raises 55000 when neither exists (a database still on a release before
// tenant tokens: ALTER EXTENSION telemetry UPDATE makes one).
std::string_view tenant_token_key();

}  // namespace telemetry::pg
