// The search path of our SECURITY DEFINER entry points (DESIGN.md §5).
//
// Code that runs with the extension owner's rights must not resolve names through a search path
// the caller controls. Our own SQL qualifies every name, so it needs no protection; what does is
// the code PostgreSQL runs on our behalf when we write through the executor or SPI: a DBA's
// trigger on a partition, a rule, a CHECK constraint or an index expression, any of which may
// call a function without a search path of its own. Before any of that runs, the search path is
// set to "pg_catalog, pg_temp" as a GUC at a nesting level of its own, exactly as the function
// option SET search_path would: a function that has its own SET search_path still gets it, and
// the caller's path is back when we return or fail.
//
// Setting a GUC costs about 2 µs (a twentieth of a track() call), and most calls never reach
// such code (track() writes heap partitions without the executor), so the path is set lazily:
// each entry point opens a scope, and use_safe_search_path() sets the path the first time a
// step of that call needs it. Scopes nest (a DBA's trigger may call track() again); one that an
// error skipped is closed by the (sub)transaction abort that handled the error.
#pragma once

namespace telemetry::pg {

// Opens and closes the scope of one call of a SECURITY DEFINER entry point.
void begin_search_path_scope() noexcept;
void end_search_path_scope() noexcept;

// Before running SQL or executor code in the current scope: sets the safe search path unless
// this scope has already set it. Outside any scope (SECURITY INVOKER functions, which get the
// caller's rights and the SQL-level SET search_path of their definition) it does nothing. May
// raise (out of memory): call with no C++ object alive.
//
// Invariant: call it only from the glue code of the entry point that opened the scope, at the
// GUC nesting level the entry point runs at, never from code PostgreSQL calls back while a
// deeper level is open (a function's own SET clause). The level it opens must be the innermost
// one until end_search_path_scope() closes it; closed by anything else first, the close would
// leave PostgreSQL's GUC nesting counter off.
void use_safe_search_path();

// Registers the transaction callbacks that close scopes skipped by errors. From _PG_init.
void register_search_path_callbacks();

}  // namespace telemetry::pg
