// The rollups' invalidation log, written where events change (src/sql/50_rollup.sql).
//
// Statement triggers on telemetry.events log what INSERT, COPY, UPDATE, DELETE, MERGE and
// TRUNCATE change; track(), track_batch() and replay_quarantine(), which write below the
// executor, call log_written_events() for what they wrote. Both log only days before the
// threshold, read after the writer's lock on telemetry.events was taken, with the latest
// snapshot: a threshold moved meanwhile is seen, or its mover waits for the writer
// (refresh_rollups, wait_for_event_writers).
#pragma once

#include "pg/boundary/pg_headers.hpp"
#include "pg/ingest/event_store.hpp"

namespace telemetry::pg {

// Whether an INSERT statement trigger on the events table is ours (the invalidation log),
// which the direct write path replaces with log_written_events().
bool is_rollup_log_trigger(const Trigger& trigger);

// Logs the (tenant, day) cells of events[which[0..n)], just written, whose day is closed: each
// at most once per transaction. Cheap when none is closed (a comparison per event). Call with
// the events table locked and no C++ object alive.
void log_written_events(const StoredEvent* events, const int* which, int n);

// Transaction callbacks (from _PG_init).
void register_rollup_callbacks();

}  // namespace telemetry::pg
