// The metrics endpoint's worker (issue 13, docs/worker.md): a background worker of its own,
// registered when telemetry is in shared_preload_libraries and telemetry.metrics_listen is set,
// which serves GET /metrics over HTTP (core/observe/http_endpoint) with the text of
// telemetry.metrics() in telemetry.database. Its own process: a slow or hostile client can
// delay a scrape, never maintenance or a session.
#pragma once

namespace telemetry::pg {

// Registers the worker (from _PG_init, while shared_preload_libraries is processed).
void register_metrics_http_worker();

}  // namespace telemetry::pg
