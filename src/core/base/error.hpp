// Errors of the pure core, as plain data.
//
// The core never lets an exception out of its API: each API function catches everything and
// returns an Error instead (see capture_errors below). The glue turns an Error into an
// ereport with the SQLSTATE it carries. The scheme of SQLSTATEs is documented in docs/errors.md.
#pragma once

#include <exception>
#include <new>
#include <string>
#include <utility>

namespace telemetry {

// Standard SQLSTATEs, so that drivers classify our errors without knowing about us.
namespace sqlstate {
inline constexpr const char* null_value_not_allowed = "22004";
inline constexpr const char* datetime_field_overflow = "22008";
inline constexpr const char* invalid_parameter_value = "22023";
inline constexpr const char* invalid_text_representation = "22P02";
inline constexpr const char* check_violation = "23514";
inline constexpr const char* invalid_name = "42602";
inline constexpr const char* undefined_object = "42704";
inline constexpr const char* insufficient_privilege = "42501";
inline constexpr const char* program_limit_exceeded = "54000";
inline constexpr const char* object_not_in_prerequisite_state = "55000";
inline constexpr const char* out_of_memory = "53200";
inline constexpr const char* internal_error = "XX000";
}  // namespace sqlstate

// One error: a SQLSTATE, a message that names the rule and the JSON path (never a value, which
// may be personal data), and an optional detail and hint.
struct Error {
    std::string sqlstate = sqlstate::internal_error;
    std::string message;
    std::string detail;
    std::string hint;
};

// Thrown inside the core (never out of it) to report a domain error.
class DomainError : public std::exception {
public:
    explicit DomainError(Error error) : error_(std::move(error)) {}
    DomainError(const char* state, std::string message, std::string detail = {}, std::string hint = {})
        : error_{state, std::move(message), std::move(detail), std::move(hint)} {}

    const char* what() const noexcept override { return error_.message.c_str(); }
    const Error& error() const noexcept { return error_; }
    Error& error() noexcept { return error_; }

private:
    Error error_;
};

// The Error for the exception being handled. Must be called inside a catch block. Never throws:
// when even the copy of a message fails, the Error keeps its code and loses its text.
Error current_exception_error() noexcept;

// Runs body and returns what it threw as an Error, or an empty Error (sqlstate "") on success.
// This is the one way core API functions keep exceptions inside the core.
template <typename Body>
Error capture_errors(Body&& body) noexcept {
    try {
        body();
        return Error{"", {}, {}, {}};
    } catch (...) {
        return current_exception_error();
    }
}

inline bool failed(const Error& e) noexcept { return !e.sqlstate.empty(); }

}  // namespace telemetry
