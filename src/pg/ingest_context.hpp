// What the ingest pipeline needs to know besides the catalog: a tenant's retention, who opted
// out, and the key behind x-pii "hash". Each is cached per backend and rebuilt when its table
// changes (TableWatch).
#pragma once

#include <string_view>

#include "pg/pg_headers.hpp"

namespace telemetry::pg {

// The tenant's retention_days, or telemetry.retention_days when it has none.
int tenant_retention_days(const pg_uuid_t& tenant);

// Whether (tenant, user) is in telemetry.opt_outs. Above opt_out_cache_limit rows the set is
// not cached and each question is a query.
bool is_opted_out(const pg_uuid_t& tenant, std::string_view user_id);
inline constexpr long opt_out_cache_limit = 200000;

// telemetry.pii_hash_key if set, else this database's own key (telemetry.secrets).
std::string_view pii_master_key();

}  // namespace telemetry::pg
