// telemetry.self_test(kind): drives each path of the error boundary on purpose, so an operator
// (and test/t/002_error_boundary.pl) can see that this build turns every kind of failure into a
// clean ERROR and never takes the server down. Superuser only.
#include <stdexcept>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "pg/guard.hpp"

namespace telemetry::pg {

namespace {

// Counts destructor runs, to show that C++ frames were unwound when a PostgreSQL error was
// carried through them.
int unwound_objects = 0;

struct CountsItsDestruction {
    std::string payload = std::string(64, 'x');  // owns heap memory, as real objects do
    ~CountsItsDestruction() { ++unwound_objects; }
};

// A PostgreSQL error raised from under live C++ objects, the way glue code calls PostgreSQL
// while it holds parsed documents: through pg_call.
void postgres_error_under_cpp() {
    CountsItsDestruction alive;
    std::vector<std::string> more(8, alive.payload);
    pg_call([] { (void)DirectFunctionCall1(int4in, CStringGetDatum("not a number")); });
}

}  // namespace

}  // namespace telemetry::pg

TELEMETRY_FUNCTION(telemetry_self_test) {
    using namespace telemetry;
    if (PG_ARGISNULL(0))
        ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("kind must not be NULL")));
    const std::string_view kind(VARDATA_ANY(PG_GETARG_TEXT_PP(0)), VARSIZE_ANY_EXHDR(PG_GETARG_TEXT_PP(0)));
    if (kind == "ok") PG_RETURN_TEXT_P(cstring_to_text("ok"));
    if (kind == "unwound") {
        char count[16];
        snprintf(count, sizeof count, "%d", pg::unwound_objects);
        PG_RETURN_TEXT_P(cstring_to_text(count));
    }
    if (kind == "domain_error")
        throw DomainError(sqlstate::invalid_parameter_value, "self_test: a domain error thrown in C++",
                          "raised as an exception, reported with its own SQLSTATE", "this is a test");
    if (kind == "cpp_exception") throw std::runtime_error("self_test: a std::runtime_error thrown in C++");
    if (kind == "bad_alloc") throw std::bad_alloc();
    if (kind == "unknown_exception") throw 42;
    if (kind == "postgres_error_under_cpp") pg::postgres_error_under_cpp();
    if (kind == "postgres_error")
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("self_test: a PostgreSQL error from glue")));
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("unknown self_test kind"),
                    errhint("Kinds: ok, domain_error, cpp_exception, bad_alloc, unknown_exception, postgres_error, "
                            "postgres_error_under_cpp, unwound.")));
    PG_RETURN_NULL();
}
