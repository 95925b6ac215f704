// The error boundary between C++ and PostgreSQL (DESIGN.md §2).
//
// PostgreSQL reports errors with siglongjmp, C++ with exceptions; mixed wrongly, either one kills
// every session of the server. So:
//  - every SQL-callable function is declared with TELEMETRY_FUNCTION, which runs its body
//    through guarded_call(): no exception leaves it, and the error is raised after the catch
//    block has ended, from fixed buffers, with nothing alive that has a destructor;
//  - a PostgreSQL call made while C++ objects are alive goes through pg_call(), which turns the
//    PostgreSQL error into a PgError exception; the guard re-raises it once the C++ frames
//    have unwound;
//  - everywhere else, glue code calls PostgreSQL only when no C++ object is alive in its frame.
//
// Glue files include C++ and core headers first, then PostgreSQL headers (pg_headers.hpp):
// port.h redefines snprintf and friends, which breaks standard headers included after it.
#pragma once

#include <cstddef>
#include <exception>
#include <string_view>
#include <type_traits>

#include "core/base/error.hpp"
#include "pg/boundary/pg_headers.hpp"
#include "pg/boundary/search_path.hpp"

namespace telemetry::pg {

// An error waiting to be raised. Fixed buffers only: it is trivially destructible, so an
// ereport that longjmps over it skips nothing.
struct PendingError {
    bool set = false;
    int sqlstate;
    char message[1024];
    char detail[1024];
    char hint[512];
    ErrorData* postgres = nullptr;  // a PostgreSQL error caught by pg_call(): raised as it was

    void capture(const Error& error) noexcept;
    void capture(const char* state, std::string_view message, std::string_view detail = {},
                 std::string_view hint = {}) noexcept;
    void capture(ErrorData* postgres_error) noexcept;
    [[noreturn]] void raise() const;
};
static_assert(std::is_trivially_destructible_v<PendingError>);

// A PostgreSQL error caught under C++ frames. Must reach guarded_call(), which re-raises it:
// the transaction is in an aborted state and only PostgreSQL's abort processing may clean up.
class PgError : public std::exception {
public:
    explicit PgError(ErrorData* data) noexcept : data_(data) {}
    const char* what() const noexcept override { return "PostgreSQL error"; }
    ErrorData* data() const noexcept { return data_; }

private:
    ErrorData* data_;
};

namespace detail {
ErrorData* capture_pg_error(MemoryContext context) noexcept;
}

// Runs f, a call into PostgreSQL that may raise, from code where C++ objects are alive. f must
// itself hold nothing with a destructor and must return void or a trivially copyable value. f
// must be noexcept: an exception thrown between PG_TRY and PG_END_TRY would leave
// PG_exception_stack pointing into this dead frame, and the next ereport would jump there.
template <typename F>
auto pg_call(F&& f) -> decltype(f()) {
    using Result = decltype(f());
    static_assert(std::is_void_v<Result> || std::is_trivially_copyable_v<Result>);
    static_assert(noexcept(f()), "pg_call's callable must be noexcept: declare it []() noexcept { ... }");
    MemoryContext context = CurrentMemoryContext;
    ErrorData* volatile error = nullptr;
    if constexpr (std::is_void_v<Result>) {
        PG_TRY();
        { f(); }
        PG_CATCH();
        { error = detail::capture_pg_error(context); }
        PG_END_TRY();
        if (error) throw PgError(error);
    } else {
        Result result{};
        PG_TRY();
        { result = f(); }
        PG_CATCH();
        { error = detail::capture_pg_error(context); }
        PG_END_TRY();
        if (error) throw PgError(error);
        return result;
    }
}

// Runs `phase`, core code that may throw (the convention of core/base/error.hpp: DomainError,
// std::bad_alloc), from glue. Returns true when it finished; otherwise `pending` holds what it
// threw and false is returned. Whatever the phase made on its stack is gone when this returns,
// so the caller may raise the pending error at once. The phase calls PostgreSQL only through
// pg_call(), whose error is then raised unchanged (a cancel stays a cancel).
template <typename Phase>
bool run_core_phase(PendingError& pending, Phase&& phase) noexcept {
    try {
        phase();
        return true;
    } catch (const PgError& e) {
        pending.capture(e.data());
        return false;
    } catch (...) {
        pending.capture(current_exception_error());
        return false;
    }
}

// The same, raising the error at once; returns what the phase returns, which must be trivially
// destructible (nothing is skipped when a later ereport jumps over it).
template <typename Phase>
auto core_phase_or_raise(Phase&& phase) -> decltype(phase()) {
    using Result = decltype(phase());
    PendingError pending;
    if constexpr (std::is_void_v<Result>) {
        if (!run_core_phase(pending, phase)) pending.raise();
    } else {
        static_assert(std::is_trivially_destructible_v<Result>, "the result outlives the phase: keep it plain");
        Result result{};
        if (!run_core_phase(pending, [&] { result = phase(); })) pending.raise();
        return result;
    }
}

// palloc in the current memory context that reports failure as std::bad_alloc instead of an
// ereport, for filling PostgreSQL structures from code where C++ objects are alive.
void* palloc_or_throw(std::size_t size);
char* pstrdup_or_throw(std::string_view text);

using FunctionBody = Datum (*)(FunctionCallInfo);

// The one guard of every SQL-callable entry point.
Datum guarded_call(FunctionBody body, FunctionCallInfo fcinfo) noexcept;

// The same guard for entry points without fmgr arguments: _PG_init, background worker main.
void guarded_call(void (*body)()) noexcept;

}  // namespace telemetry::pg

// Declares the SQL-callable C function `name` (unmangled, with its fmgr info record) whose body
// follows the macro and runs inside guarded_call().
#define TELEMETRY_FUNCTION(name)                                                                \
    static Datum name##_body(FunctionCallInfo fcinfo);                                          \
    extern "C" {                                                                                \
    PG_FUNCTION_INFO_V1(name);                                                                  \
    Datum name(PG_FUNCTION_ARGS) { return ::telemetry::pg::guarded_call(name##_body, fcinfo); } \
    }                                                                                           \
    static Datum name##_body(FunctionCallInfo fcinfo)

// TELEMETRY_FUNCTION for SECURITY DEFINER entry points: the body runs in a search path scope
// (search_path.hpp), so whatever SQL or executor code it runs resolves names in pg_catalog.
#define TELEMETRY_DEFINER_FUNCTION(name)                                   \
    static Datum name##_body(FunctionCallInfo fcinfo);                     \
    extern "C" {                                                           \
    PG_FUNCTION_INFO_V1(name);                                             \
    Datum name(PG_FUNCTION_ARGS) {                                         \
        ::telemetry::pg::begin_search_path_scope();                        \
        Datum result = ::telemetry::pg::guarded_call(name##_body, fcinfo); \
        ::telemetry::pg::end_search_path_scope();                          \
        return result;                                                     \
    }                                                                      \
    }                                                                      \
    static Datum name##_body(FunctionCallInfo fcinfo)
