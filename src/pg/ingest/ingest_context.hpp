// What the ingest pipeline needs to know besides the catalog: a tenant's retention and who opted
// out (the key behind x-pii "hash" is in tenancy/database_secrets). Each is cached per backend and forgotten when its table
// changes (TableWatch).
#pragma once

#include <string_view>

#include "pg/boundary/pg_headers.hpp"

namespace telemetry::pg {

// The tenant's retention_days, or telemetry.retention_days when it has none.
int tenant_retention_days(const pg_uuid_t& tenant);

// Whether (tenant, user) is in telemetry.opt_outs, as of now (the latest snapshot, so an
// opt-out committed after a REPEATABLE READ transaction began still counts). Asked of the
// table's primary key and remembered: first whether the tenant has any opt-out (most have none,
// and then no user of theirs costs a question), then for the user; up to opt_out_cache_entries
// answers per backend, least recently used first out, all forgotten when the table changes. A
// backend never loads the table, however many users opted out. A call asks
// tenant_has_opt_outs() once, then is_opted_out() for each user only if it said yes.
bool tenant_has_opt_outs(const pg_uuid_t& tenant);
bool is_opted_out(const pg_uuid_t& tenant, std::string_view user_id);
inline constexpr long opt_out_cache_entries = 16384;

}  // namespace telemetry::pg
