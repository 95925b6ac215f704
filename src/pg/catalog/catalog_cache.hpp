// The backend's copy of the event catalog.
//
// Built from telemetry.event_types on first use and rebuilt after any change to it. A statement
// trigger on the table (telemetry.catalog_changed) sends a relcache invalidation; no polling.
//
// Versions: one top-level statement validates against one catalog version, within one
// transaction. Invalidations from other sessions are taken in when a new statement (or, in a
// procedure that commits, a new transaction) starts, so a change committed elsewhere applies
// from the next statement on, even inside an open transaction. A change made by this session
// applies at once (a DO block may define an event type and then track it), and so does the
// rollback of one (a subtransaction that defined a type and failed). The table is read with the
// latest snapshot, as PostgreSQL reads its own catalogs, so a REPEATABLE READ transaction never
// caches an outdated catalog. A reload that fails half way (lock_timeout, cancel) is tried again
// by the next call (table_watch.hpp).
#pragma once

#include <string_view>

#include "core/catalog/catalog.hpp"
#include "pg/boundary/pg_headers.hpp"

namespace telemetry::pg {

// The current catalog. Call it with no C++ object alive (it may run SPI). The reference, and
// every pointer into it, stays valid until the transaction ends: a version replaced meanwhile
// (a DBA's trigger changed the catalog and tracked again while this call was writing) is freed
// only then.
const Catalog& current_catalog();

// True the first time this backend is told about a deprecated event type since the catalog was
// last rebuilt, so the warning is given once per session rather than once per event.
bool first_deprecation_notice(const EventTypeSpec& type);

// Called by the catalog_changed trigger: this session changed the catalog.
void note_own_catalog_change();

// Registers the (sub)transaction callbacks that notice a rolled-back change. From _PG_init.
void register_catalog_callbacks();

}  // namespace telemetry::pg
