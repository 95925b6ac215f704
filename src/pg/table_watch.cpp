#include "pg/table_watch.hpp"

namespace telemetry::pg {

namespace {
constexpr int max_watches = 8;
TableWatch* watches[max_watches];
int watch_count = 0;
bool callback_registered = false;
}  // namespace

void TableWatch::on_relcache_invalidation(Datum, Oid relid) {
    // Relcache callbacks must not fail or touch catalogs: compare and flag only.
    for (int i = 0; i < watch_count; ++i)
        if (relid == InvalidOid || relid == watches[i]->relid_) watches[i]->valid_ = false;
}

void TableWatch::enroll() {
    if (enrolled_) return;
    if (!callback_registered) {
        CacheRegisterRelcacheCallback(on_relcache_invalidation, 0);
        callback_registered = true;
    }
    if (watch_count == max_watches) elog(ERROR, "telemetry: too many table watches");
    watches[watch_count++] = this;
    enrolled_ = true;
}

bool TableWatch::stale() {
    enroll();
    AcceptInvalidationMessages();
    return !valid_;
}

Oid TableWatch::reading() {
    enroll();
    const Oid namespace_oid = get_namespace_oid("telemetry", false);
    relid_ = get_relname_relid(relname_, namespace_oid);
    if (!OidIsValid(relid_))
        ereport(ERROR, (errcode(ERRCODE_UNDEFINED_TABLE), errmsg("telemetry.%s is missing", relname_),
                        errhint("Is the extension installed in this database?")));
    valid_ = true;
    return relid_;
}

}  // namespace telemetry::pg
