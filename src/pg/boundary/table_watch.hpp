// Knowing when a table of ours changed, so a backend's cache of it can be rebuilt.
//
// A statement trigger on the table (telemetry.table_changed / catalog_changed, enabled ALWAYS so
// that it fires under session_replication_role = replica too) sends a relcache invalidation for
// it; every backend processes those at its next transaction, lock, or AcceptInvalidationMessages()
// call, and one relcache callback counts a change of the matching watch. No polling, and a session
// sees its own changes from its next command, or at once when a subtransaction that made them
// rolls back (PostgreSQL replays its invalidations locally then). Changes that fire no trigger at
// all (ALTER TABLE ... DISABLE TRIGGER, pg_restore --disable-triggers) reach the caches through
// telemetry.invalidate_caches().
//
// Validity follows the read: a cache is fresh only when a rebuild that began after the last
// change completed. A reload that fails half way (lock_timeout, cancel, out of memory) leaves the
// cache stale, so the next call tries again; a change that arrives while reading does too.
#pragma once

#include <cstdint>

#include "pg/boundary/pg_headers.hpp"

namespace telemetry::pg {

class TableWatch {
public:
    // relname: a table in schema telemetry.
    constexpr explicit TableWatch(const char* relname) noexcept : relname_(relname) {}

    // Takes in waiting invalidations (cheap when there are none) and says whether the cache
    // must be rebuilt: never built, or the table changed since the last completed rebuild.
    bool stale();

    // A rebuild: begin_reading() before reading the table (it resolves the table's OID, and
    // errors if the table is missing: the extension is not installed here), finished() once the
    // cache holds what was read. A rebuild that never finishes leaves the cache stale.
    struct Reading {
        Oid relid;
        std::uint64_t generation;
    };
    Reading begin_reading();
    void finished(const Reading& reading) noexcept { built_generation_ = reading.generation; }
    // Whether no change has been seen since `reading` began (without taking in new ones): what
    // was read is still current as far as this backend knows.
    bool unchanged_since(const Reading& reading) const noexcept { return generation_ == reading.generation; }

private:
    static void on_relcache_invalidation(Datum, Oid relid);
    void enroll();

    const char* relname_;
    Oid relid_ = InvalidOid;
    std::uint64_t generation_ = 1;        // counts changes seen
    std::uint64_t built_generation_ = 0;  // the generation the cache was built at
    bool enrolled_ = false;
};

// The OID of table telemetry.<relname>; InvalidOid when missing and missing_ok, else 42P01.
Oid telemetry_relid(const char* relname, bool missing_ok);

// The owner of a relation (42P01-like internal error when it is gone). Our tables are read and
// written as their owner where the caller may not (caches, logs), never as a superuser.
Oid relation_owner(Oid relid);

// Acting as a table's owner, whoever called, with the safe search path and row-level security
// not forced on the owner: how the extension reads and writes its own tables (caches, logs).
// restore_user() puts the caller back; a transaction or subtransaction abort does too.
struct SavedUser {
    Oid user;
    int context;
};
SavedUser become_owner_of(Oid relid);
void restore_user(const SavedUser& saved);

// Sends an invalidation for telemetry.<relname> to every backend, this one included (from its
// next command on), as the table's change trigger does. For changes that fired no trigger.
void broadcast_table_change(const char* relname);

}  // namespace telemetry::pg
