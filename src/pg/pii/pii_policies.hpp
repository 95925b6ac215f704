// The tenants' policies for undeclared personal data (telemetry.pii_policies), cached per
// backend and reloaded when the table changes (TableWatch). Read as the table's owner, so that
// the write-path trigger finds them whoever wrote the row.
#pragma once

#include "core/pii/policy.hpp"
#include "pg/boundary/pg_headers.hpp"

namespace telemetry::pg {

// The tenant's policy; nullptr when it has set none (redact for every type). Valid until the
// next call. In a database whose SQL is older than 0.7.0: allow, as those releases stored.
const TenantPiiPolicy* tenant_pii_policy(const pg_uuid_t& tenant);

}  // namespace telemetry::pg
