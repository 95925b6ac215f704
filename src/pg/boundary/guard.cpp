#include <algorithm>
#include <cstring>
#include <new>

#include "core/json/json_path.hpp"
#include "pg/boundary/guard.hpp"

namespace telemetry::pg {

namespace {
// Cut on a character boundary: the message goes to the client and the server log as UTF-8.
void copy_text(char* out, std::size_t capacity, std::string_view text) noexcept {
    const std::size_t n = utf8_prefix(text, capacity - 1);
    std::memcpy(out, text.data(), n);
    out[n] = '\0';
}

int sqlstate_code(const char* state) noexcept {
    if (std::strlen(state) != 5) return ERRCODE_INTERNAL_ERROR;
    return MAKE_SQLSTATE(state[0], state[1], state[2], state[3], state[4]);
}
}  // namespace

void PendingError::capture(const char* state, std::string_view msg, std::string_view det,
                           std::string_view hnt) noexcept {
    set = true;
    sqlstate = sqlstate_code(state);
    copy_text(message, sizeof message, msg.empty() ? std::string_view("internal error") : msg);
    copy_text(detail, sizeof detail, det);
    copy_text(hint, sizeof hint, hnt);
}

void PendingError::capture(const Error& error) noexcept {
    capture(error.sqlstate.c_str(), error.message, error.detail, error.hint);
}

void PendingError::capture(ErrorData* postgres_error) noexcept {
    set = true;
    postgres = postgres_error;
}

[[noreturn]] static void raise_code(int code, const char* message, const char* detail, const char* hint) {
    ereport(ERROR, (errcode(code), errmsg_internal("%s", message), detail ? errdetail_internal("%s", detail) : 0,
                    hint ? errhint("%s", hint) : 0));
    pg_unreachable();
}

void PendingError::raise() const {
    if (postgres != nullptr) ReThrowError(postgres);
    raise_code(sqlstate, message, detail[0] ? detail : nullptr, hint[0] ? hint : nullptr);
}

namespace detail {
ErrorData* capture_pg_error(MemoryContext context) noexcept {
    // We are in PG_CATCH: copy the error out of ErrorContext before flushing it.
    MemoryContextSwitchTo(context);
    ErrorData* data = CopyErrorData();
    FlushErrorState();
    return data;
}
}  // namespace detail

void* palloc_or_throw(std::size_t size) {
    if (size == 0) size = 1;
    if (!AllocSizeIsValid(size)) throw std::bad_alloc();
    void* p = MemoryContextAllocExtended(CurrentMemoryContext, size, MCXT_ALLOC_NO_OOM);
    if (!p) throw std::bad_alloc();
    return p;
}

char* pstrdup_or_throw(std::string_view text) {
    char* p = static_cast<char*>(palloc_or_throw(text.size() + 1));
    std::memcpy(p, text.data(), text.size());
    p[text.size()] = '\0';
    return p;
}

namespace {
// Runs body; returns normally with its result, or raises what it threw once no C++ frame that
// threw is left. Shared by both guarded_call overloads.
//
// Whatever way the body left, PostgreSQL's error stacks are put back as they were at entry
// before anything else is raised: an exception thrown inside a PG_TRY block, or across a frame
// that pushed an error context callback, leaves them pointing into frames that no longer
// exist, and the next ereport would jump into one.
template <typename Body>
auto run_guarded(Body&& body) noexcept -> decltype(body()) {
    sigjmp_buf* const entry_exception_stack = PG_exception_stack;
    ErrorContextCallback* const entry_context_stack = error_context_stack;
    PendingError pending;
    ErrorData* pg_error = nullptr;
    try {
        if constexpr (std::is_void_v<decltype(body())>) {
            body();
            if (PG_exception_stack == entry_exception_stack && error_context_stack == entry_context_stack) return;
        } else {
            const auto result = body();
            if (PG_exception_stack == entry_exception_stack && error_context_stack == entry_context_stack)
                return result;
        }
        // Something returned from inside a PG_TRY block, or without popping its error context.
        pending.capture(sqlstate::internal_error, "telemetry: PostgreSQL's error stack was left changed");
    } catch (const PgError& e) {
        pg_error = e.data();
    } catch (...) {
        pending.capture(current_exception_error());
    }
    PG_exception_stack = entry_exception_stack;
    error_context_stack = entry_context_stack;
    // The catch block has ended: the exception object is gone and nothing here has a
    // destructor, so raising now skips nothing.
    if (pg_error) ReThrowError(pg_error);
    pending.raise();
}
}  // namespace

void guarded_call(void (*body)()) noexcept {
    run_guarded([body] { body(); });
}

Datum guarded_call(FunctionBody body, FunctionCallInfo fcinfo) noexcept {
    return run_guarded([body, fcinfo] { return body(fcinfo); });
}

}  // namespace telemetry::pg
