// telemetry.self_test(kind): drives each path of the error boundary on purpose, so an operator
// (and test/t/002_error_boundary.pl) can see that this build turns every kind of failure into a
// clean ERROR and never takes the server down, and that engine state living across SPI fetches
// is freed when an error interrupts it. Not granted to PUBLIC. telemetry.self_test_jsonb(document):
// this build's jsonb codec against PostgreSQL's.
#include <cstring>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/base/error.hpp"
#include "core/json/json.hpp"
#include "core/json/json_text.hpp"
#include "core/json/jsonb.hpp"
#include "pg/boundary/context_owned.hpp"
#include "pg/boundary/convert.hpp"
#include "pg/boundary/guard.hpp"

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
    pg_call([]() noexcept { (void)DirectFunctionCall1(int4in, CStringGetDatum("not a number")); });
}

// A PostgreSQL error raised through pg_call inside a core phase: raised unchanged by the
// phase's helper, with its own SQLSTATE.
void postgres_error_in_core_phase() {
    core_phase_or_raise([] {
        std::vector<std::string> alive(4, std::string(64, 'x'));
        pg_call([]() noexcept { (void)DirectFunctionCall1(int4in, CStringGetDatum("not a number")); });
    });
}

// The two ways C++ code can leave PostgreSQL's error stacks pointing into a dead frame, which
// the guard must repair before it raises: an exception thrown between PG_TRY and PG_END_TRY
// (pg_call forbids it at compile time, so this is done by hand here), and an exception thrown
// across a frame that pushed an error context callback.
void exception_inside_pg_try() {
    PG_TRY();
    { throw std::runtime_error("self_test: an exception thrown inside PG_TRY"); }
    PG_CATCH();
    { PG_RE_THROW(); }
    PG_END_TRY();
}

void describe_nothing(void*) {}

// Engine state as an analytics engine keeps it across SPI fetches: C++ containers on the heap,
// 64 KB of them at least, so that one left behind per call shows in the backend's memory.
int live_stream_states = 0;

struct StreamState {
    std::vector<char> ballast = std::vector<char>(64 * 1024, 'x');
    std::unordered_map<std::int64_t, std::int64_t> per_bucket;
    std::vector<std::string> labels;
    StreamState() { ++live_stream_states; }
    ~StreamState() { --live_stream_states; }
};

// Streams 300 rows from an SPI cursor, 100 at a time, into state owned by a memory context
// (context_owned.hpp). With fail, the cursor's query divides by zero at row 250: the ereport
// leaves from inside SPI_cursor_fetch, past this frame, and only the context's reset callback,
// run by the transaction's abort, destroys the state.
text* stream_rows(bool fail) {
    MemoryContext caller = CurrentMemoryContext;
    MemoryContext call_memory = AllocSetContextCreate(caller, "telemetry.self_test stream", ALLOCSET_SMALL_SIZES);
    StreamState* state = core_phase_or_raise([&] { return make_context_owned<StreamState>(call_memory); });
    SPI_connect();
    Portal cursor = SPI_cursor_open_with_args(
        nullptr,
        fail
            ? "SELECT g, 1 OPERATOR(pg_catalog./) (250 OPERATOR(pg_catalog.-) g) FROM pg_catalog.generate_series(1, 300) g"
            : "SELECT g, 1 FROM pg_catalog.generate_series(1, 300) g",
        0, nullptr, nullptr, nullptr, true, 0);
    std::int64_t rows[100];
    for (;;) {
        SPI_cursor_fetch(cursor, true, 100);
        const int n = static_cast<int>(SPI_processed);
        if (n == 0) break;
        bool isnull;
        for (int i = 0; i < n; ++i)
            rows[i] = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull));
        SPI_freetuptable(SPI_tuptable);
        core_phase_or_raise([&] {
            for (int i = 0; i < n; ++i) {
                ++state->per_bucket[rows[i] / 10];
                state->labels.push_back("row " + std::to_string(rows[i]));
            }
        });
    }
    SPI_cursor_close(cursor);
    SPI_finish();
    const std::size_t streamed = state->labels.size();
    MemoryContextSwitchTo(caller);
    MemoryContextDelete(call_memory);  // runs ~StreamState
    char result[64];
    snprintf(result, sizeof result, "streamed %zu rows", streamed);
    return cstring_to_text(result);
}

void exception_under_error_context() {
    ErrorContextCallback callback;
    callback.callback = describe_nothing;
    callback.arg = nullptr;
    callback.previous = error_context_stack;
    error_context_stack = &callback;
    throw std::runtime_error("self_test: an exception thrown under an error context callback");
}

}  // namespace

}  // namespace telemetry::pg

TELEMETRY_FUNCTION(telemetry_self_test) {
    using namespace telemetry;
    if (PG_ARGISNULL(0)) ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("kind must not be NULL")));
    const std::string_view kind = telemetry::pg::text_view(PG_GETARG_TEXT_PP(0));
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
    if (kind == "postgres_error_in_core_phase") pg::postgres_error_in_core_phase();
    if (kind == "exception_inside_pg_try") pg::exception_inside_pg_try();
    if (kind == "exception_under_error_context") pg::exception_under_error_context();
    if (kind == "engine_state_across_fetches") PG_RETURN_TEXT_P(pg::stream_rows(false));
    if (kind == "engine_state_error_mid_stream") PG_RETURN_TEXT_P(pg::stream_rows(true));
    if (kind == "engine_states_alive") {
        char count[16];
        snprintf(count, sizeof count, "%d", pg::live_stream_states);
        PG_RETURN_TEXT_P(cstring_to_text(count));
    }
    if (kind == "postgres_error")
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("self_test: a PostgreSQL error from glue")));
    ereport(
        ERROR,
        (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("unknown self_test kind"),
         errhint(
             "Kinds: ok, domain_error, cpp_exception, bad_alloc, unknown_exception, postgres_error, "
             "postgres_error_under_cpp, postgres_error_in_core_phase, exception_inside_pg_try, exception_under_error_context, unwound, "
             "engine_state_across_fetches, engine_state_error_mid_stream, engine_states_alive.")));
    PG_RETURN_NULL();
}

namespace telemetry::pg {
namespace {

// Core phase of self_test_jsonb: our parse + encode of the text, and our decode of PostgreSQL's
// bytes, re-printed as compact text.
struct CodecCheck {
    const char* encoded = nullptr;
    std::size_t encoded_size = 0;
    char* reprinted = nullptr;       // canonical text of the decoded jsonb (palloc'd)
    std::size_t canonical_size = 0;  // what canonical_size() says about it
};

void run_codec(std::string_view text, const Jsonb* postgres, Arena& arena, CodecCheck& out) {
    core_phase_or_raise([&] {
        ParsedText parsed = parse_json_text(text, 64, arena);
        if (const ElementProblem* problem = parsed.first_problem()) throw DomainError(problem->sqlstate, problem->rule);
        const std::string_view encoded = encode_jsonb(parsed.root, arena);
        out.encoded = encoded.data();
        out.encoded_size = encoded.size();
        const JsonbBytes bytes = jsonb_bytes(postgres);
        const JsonValue decoded = decode_jsonb(bytes.data, bytes.size, 64, arena);
        std::string canonical;
        append_canonical(decoded, canonical);
        out.reprinted = pstrdup_or_throw(canonical);
        out.canonical_size = telemetry::canonical_size(decoded);
    });
}

}  // namespace
}  // namespace telemetry::pg

// self_test_jsonb(document text) RETURNS text: NULL when this build's jsonb reader and writer
// agree with PostgreSQL on the document (the bytes jsonb_in makes, and the value read back),
// else what differs. test/t/004_jsonb_codec.pl runs it over thousands of random documents.
TELEMETRY_FUNCTION(telemetry_self_test_jsonb) {
    using namespace telemetry;
    using namespace telemetry::pg;
    if (PG_ARGISNULL(0)) PG_RETURN_NULL();
    text* document = PG_GETARG_TEXT_PP(0);
    const std::string_view view = telemetry::pg::text_view(document);
    Jsonb* postgres = DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(text_to_cstring(document))));

    MemoryContext call_memory =
        AllocSetContextCreate(CurrentMemoryContext, "telemetry.self_test_jsonb", ALLOCSET_DEFAULT_SIZES);
    Arena arena(chunks_from(call_memory));
    CodecCheck check;
    run_codec(view, postgres, arena, check);

    char problem[160] = "";
    if (check.encoded_size != VARSIZE(postgres)) {
        snprintf(problem, sizeof problem, "encoded size %zu, jsonb_in makes %u", check.encoded_size, VARSIZE(postgres));
    } else if (std::memcmp(check.encoded, postgres, check.encoded_size) != 0) {
        std::size_t at = 0;
        while (at < check.encoded_size && check.encoded[at] == reinterpret_cast<const char*>(postgres)[at]) ++at;
        snprintf(problem, sizeof problem, "encoded bytes differ from jsonb_in's at offset %zu", at);
    } else if (check.canonical_size != strlen(check.reprinted)) {
        snprintf(problem, sizeof problem, "canonical_size says %zu, the text has %zu bytes", check.canonical_size,
                 strlen(check.reprinted));
    } else {
        Jsonb* reparsed = DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(check.reprinted)));
        if (compareJsonbContainers(&reparsed->root, &postgres->root) != 0)
            snprintf(problem, sizeof problem, "the decoded value reads back differently");
    }
    MemoryContextDelete(call_memory);
    if (problem[0] == '\0') PG_RETURN_NULL();
    PG_RETURN_TEXT_P(cstring_to_text(problem));
}
