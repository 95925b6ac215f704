// The shared library's entry: magic block and _PG_init.
#include "pg/catalog/catalog_cache.hpp"
#include "pg/observe/counters.hpp"
#include "pg/boundary/guard.hpp"
#include "pg/boundary/search_path.hpp"
#include "pg/rollup/rollup_log.hpp"
#include "pg/settings.hpp"
#include "pg/worker/metrics_http.hpp"
#include "pg/worker/worker.hpp"
#include "pg/tenancy/tenant_identity.hpp"

extern "C" {
PG_MODULE_MAGIC;
void _PG_init(void);
}

static void init_module() {
    telemetry::pg::define_settings();
    telemetry::pg::register_search_path_callbacks();
    telemetry::pg::register_catalog_callbacks();
    telemetry::pg::register_tenancy_callbacks();
    telemetry::pg::register_rollup_callbacks();
    if (process_shared_preload_libraries_in_progress) {
        telemetry::pg::register_maintenance_worker();
        // The metrics endpoint has a process of its own only when an address is set.
        if (telemetry::pg::metrics_listen != nullptr && telemetry::pg::metrics_listen[0] != '\0')
            telemetry::pg::register_metrics_http_worker();
        telemetry::pg::request_shared_counters();
        telemetry::pg::request_token_ledger();
    }
}

void _PG_init(void) { telemetry::pg::guarded_call(init_module); }
