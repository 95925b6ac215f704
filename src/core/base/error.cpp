#include "core/base/error.hpp"

namespace telemetry {

namespace {
// Copies what() into an Error without letting a bad_alloc escape.
Error with_message(const char* state, const char* what) noexcept {
    Error e;
    e.sqlstate = state;  // short strings stay in the small-string buffer: no allocation
    try {
        e.message = what;
    } catch (...) {
        e.message.clear();
    }
    return e;
}
}  // namespace

Error current_exception_error() noexcept {
    try {
        throw;
    } catch (DomainError& e) {
        return std::move(e.error());
    } catch (const std::bad_alloc&) {
        return with_message(sqlstate::out_of_memory, "out of memory");
    } catch (const std::exception& e) {
        return with_message(sqlstate::internal_error, e.what());
    } catch (...) {
        return with_message(sqlstate::internal_error, "unknown C++ exception");
    }
}

}  // namespace telemetry

#include "core/base/no_postgres.hpp"
