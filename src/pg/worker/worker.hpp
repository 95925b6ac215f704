// The maintenance worker (DESIGN.md §6, docs/worker.md): one background worker, registered when
// telemetry is in shared_preload_libraries, connected to telemetry.database. A scheduler only:
// every telemetry.naptime seconds it runs the same steps as CALL telemetry.run_maintenance(),
// each in its own transaction, through the same SQL functions.
#pragma once

namespace telemetry::pg {

// Registers the worker (from _PG_init, while shared_preload_libraries is processed).
void register_maintenance_worker();

}  // namespace telemetry::pg
