// The maintenance worker (DESIGN.md §6, docs/worker.md): one background worker, registered when
// telemetry is in shared_preload_libraries, connected to telemetry.database. A scheduler only:
// every telemetry.naptime seconds it runs the same steps as CALL telemetry.run_maintenance(),
// each in its own transaction, through the same SQL functions.
#pragma once

namespace telemetry::pg {

// Registers the worker (from _PG_init, while shared_preload_libraries is processed).
void register_maintenance_worker();

// When one of telemetry's workers starts: once the server is consistent (a standby too), or once
// recovery has finished (a primary only).
enum class WorkerStart { consistent_state, recovery_finished };

// Registers one of telemetry's background workers, the way they all are: connected to a
// database, restarted 10 s after it exits with an error, its entry point FUNCTION_NAME (an
// extern "C" function of this library). From _PG_init only.
void register_telemetry_worker(WorkerStart start, const char* function_name, const char* name, const char* type);

}  // namespace telemetry::pg
