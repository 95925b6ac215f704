// The shared library's entry: magic block and _PG_init.
#include "pg/guard.hpp"
#include "pg/settings.hpp"

extern "C" {
PG_MODULE_MAGIC;
void _PG_init(void);
}

namespace telemetry::pg {

int retention_days = 90;
int premake_days = 7;
bool restoring = false;

void define_settings() {
    DefineCustomIntVariable("telemetry.retention_days",
                            "Days of raw events kept, unless a tenant sets its own.",
                            "Partitions are made this many days back, so every event recent enough to be "
                            "accepted has somewhere to go.",
                            &retention_days, 90, 1, 3650, PGC_SUSET, 0, nullptr, nullptr, nullptr);
    DefineCustomIntVariable("telemetry.premake_days", "Days ahead of today for which partitions are kept ready.",
                            nullptr, &premake_days, 7, 1, 365, PGC_SUSET, 0, nullptr, nullptr, nullptr);
    DefineCustomBoolVariable("telemetry.restoring", "Set while restoring a dump of a database that uses telemetry.",
                             "CREATE EXTENSION then makes no partitions: the dump brings its own.", &restoring,
                             false, PGC_SUSET, 0, nullptr, nullptr, nullptr);
    MarkGUCPrefixReserved("telemetry");
}

}  // namespace telemetry::pg

static void init_module() { telemetry::pg::define_settings(); }

void _PG_init(void) { telemetry::pg::guarded_call(init_module); }
