// Knowing when a table of ours changed, so a backend's cache of it can be rebuilt.
//
// A statement trigger on the table (telemetry.table_changed / catalog_changed) sends a relcache
// invalidation for it; every backend processes those at its next transaction, lock, or
// AcceptInvalidationMessages() call, and one relcache callback marks the matching watch stale.
// No polling, and a session sees its own changes from its next statement.
#pragma once

#include "pg/pg_headers.hpp"

namespace telemetry::pg {

class TableWatch {
public:
    // relname: a table in schema telemetry.
    constexpr explicit TableWatch(const char* relname) noexcept : relname_(relname) {}

    // Takes in waiting invalidations (cheap when there are none) and says whether the cache
    // must be rebuilt: never built, or the table changed since.
    bool stale();
    // Call right before reading the table to rebuild: looks up its OID and marks the cache
    // fresh; a change that arrives while reading marks it stale again. Errors if the table is
    // missing (the extension is not installed here).
    Oid reading();
    bool valid() const noexcept { return valid_; }
    void invalidate() noexcept { valid_ = false; }

private:
    static void on_relcache_invalidation(Datum, Oid relid);
    void enroll();

    const char* relname_;
    Oid relid_ = InvalidOid;
    bool valid_ = false;
    bool enrolled_ = false;
};

}  // namespace telemetry::pg
