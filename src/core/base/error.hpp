// Errors of the pure core, and the core's one convention for them (DESIGN.md §2):
//
//  - A function that cannot fail is noexcept.
//  - Any other function reports failure by throwing: DomainError for a refusal (a SQLSTATE of
//    docs/errors.md and a message that names the rule and the JSON path, never a value, which
//    may be personal data), std::bad_alloc when memory runs out. Nothing else is thrown on
//    purpose: anything else is a bug, reported as XX000.
//  - A refusal that is part of an answer is a value, not an error: an event's decision (decide()
//    turns even its own failure into a rejected event, so one bad event never costs its batch),
//    the problem of one element of a batch (ElementProblem).
//  - No exception leaves the core for PostgreSQL: the glue runs core code only through
//    run_core_phase() (src/pg/boundary/guard.hpp), which catches everything and raises the error
//    once the C++ frames are gone. Tests and fuzzers look at an error as a value with
//    capture_errors().
//
// The glue turns an Error into an ereport with the SQLSTATE it carries.
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

// A refusal, thrown by core functions (see above).
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

// Runs body and returns what it threw as an Error, or an empty Error (sqlstate "") on success:
// for tests and fuzzers, and for decide(), whose failure is an answer.
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
