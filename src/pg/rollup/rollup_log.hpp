// The rollups' invalidation log, written where events change (src/sql/50_rollup.sql).
//
// Changes to events of days before the threshold (closed days) are noted as they happen: by the
// row trigger telemetry.log_event_changes() (INSERT, COPY, UPDATE, DELETE, MERGE, whatever the
// partition: heap, sub-partitioned, foreign) and by track(), track_batch() and
// replay_quarantine(), which write below the executor, through log_written_events(). The note
// goes to telemetry.rollup_invalidations when the transaction commits (or prepares), once: one
// row per tenant and kind of change. The threshold is read once per transaction, after its
// first lock on telemetry.events or a partition, with the latest snapshot: a threshold moved
// before that is seen, and a mover that commits later waits for the transaction
// (refresh_rollups, wait_for_event_writers).
#pragma once

#include "pg/boundary/pg_headers.hpp"
#include "pg/ingest/event_store.hpp"

namespace telemetry::pg {

// Whether a trigger calls telemetry.log_event_changes(), the invalidation log's, which the
// direct write path stands in for (log_written_events).
bool is_rollup_log_trigger(const Trigger& trigger);

// Notes the (tenant, day) of events[which[0..n)], just written, whose day is closed. A
// comparison per event; the threshold is read once per transaction. Call with the events
// table locked and no C++ object alive.
void log_written_events(const StoredEvent* events, const int* which, int n);

// Transaction callbacks (from _PG_init): the note is written before commit and forgotten after.
void register_rollup_callbacks();

}  // namespace telemetry::pg
