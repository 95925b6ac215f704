#include "pg/boundary/search_path.hpp"

#include "pg/boundary/pg_headers.hpp"

extern "C" {
#include "access/xact.h"
}

namespace telemetry::pg {

namespace {

// One open scope: the subtransaction it began in, and the GUC nest level at which it set the
// safe path (0: not set yet), with the subtransaction that set it.
struct Scope {
    SubTransactionId began_in;
    int level;
    SubTransactionId set_in;
};

// Deeper nesting would mean a trigger calling track() calling a trigger ... 64 times over; such
// a call is refused when it needs the safe path (it cannot be given one it could restore).
constexpr int max_scopes = 64;
Scope scopes[max_scopes];
int depth = 0;  // scopes opened, including those beyond max_scopes
bool callbacks_registered = false;

Scope* current() noexcept { return depth > 0 && depth <= max_scopes ? &scopes[depth - 1] : nullptr; }

// Subtransaction abort: scopes opened inside it were skipped by the error (their entry points
// never returned), and paths set inside it were undone by the abort's GUC processing.
void on_subtransaction_event(SubXactEvent event, SubTransactionId subid, SubTransactionId, void*) {
    if (event != SUBXACT_EVENT_ABORT_SUB) return;
    while (depth > 0 && (depth > max_scopes || scopes[depth - 1].began_in >= subid)) --depth;
    for (int i = 0; i < depth; ++i)
        if (scopes[i].level != 0 && scopes[i].set_in >= subid) scopes[i].level = 0;
}

// The end of the transaction ends every scope (an entry point of ours never spans a commit:
// they are functions, not procedures).
void on_transaction_event(XactEvent event, void*) {
    if (event == XACT_EVENT_ABORT || event == XACT_EVENT_PARALLEL_ABORT || event == XACT_EVENT_COMMIT ||
        event == XACT_EVENT_PARALLEL_COMMIT || event == XACT_EVENT_PREPARE)
        depth = 0;
}

}  // namespace

void begin_search_path_scope() noexcept {
    ++depth;
    if (Scope* scope = current()) *scope = Scope{GetCurrentSubTransactionId(), 0, InvalidSubTransactionId};
}

void end_search_path_scope() noexcept {
    Scope* scope = current();
    if (scope != nullptr && scope->level != 0) AtEOXact_GUC(true, scope->level);
    if (depth > 0) --depth;
}

void use_safe_search_path() {
    if (depth > max_scopes)
        ereport(ERROR, (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
                        errmsg("telemetry entry points are nested more than %d deep", max_scopes),
                        errhint("A trigger on telemetry.events calls track() again, and so on?")));
    Scope* scope = current();
    if (scope == nullptr || scope->level != 0) return;
    const int level = NewGUCNestLevel();
    scope->level = level;
    scope->set_in = GetCurrentSubTransactionId();
    (void)set_config_option("search_path", "pg_catalog, pg_temp", PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE, true, 0,
                            false);
}

void register_search_path_callbacks() {
    if (callbacks_registered) return;
    RegisterSubXactCallback(on_subtransaction_event, nullptr);
    RegisterXactCallback(on_transaction_event, nullptr);
    callbacks_registered = true;
}

}  // namespace telemetry::pg
