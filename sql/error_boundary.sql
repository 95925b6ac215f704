-- The C++/PostgreSQL error boundary (DESIGN.md §2): every kind of failure becomes a clean
-- ERROR with its SQLSTATE, and the session carries on. test/t/002_error_boundary.pl repeats
-- this 10,000 times and watches memory and the postmaster.
-- Each test file starts from a fresh extension, so it does not depend on the others.
DROP EXTENSION telemetry;
CREATE EXTENSION telemetry;
CREATE FUNCTION pg_temp.diagnostics(kind text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    state text; message text; detail text; hint text;
BEGIN
    PERFORM telemetry.self_test(kind);
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, message = MESSAGE_TEXT, detail = PG_EXCEPTION_DETAIL,
                            hint = PG_EXCEPTION_HINT;
    RETURN format('%s | %s | detail: %s | hint: %s', state, message, nullif(detail, ''), nullif(hint, ''));
END $$;

SELECT telemetry.self_test('ok');
-- A domain error thrown in C++ keeps its SQLSTATE, detail and hint.
SELECT pg_temp.diagnostics('domain_error');
\set VERBOSITY sqlstate
SELECT telemetry.self_test('domain_error');
-- Any other std::exception is an internal error with its message.
SELECT telemetry.self_test('cpp_exception');
\set VERBOSITY default
SELECT telemetry.self_test('cpp_exception');
-- std::bad_alloc is out of memory.
\set VERBOSITY sqlstate
SELECT telemetry.self_test('bad_alloc');
-- Something that is not even a std::exception.
SELECT telemetry.self_test('unknown_exception');
\set VERBOSITY default
SELECT telemetry.self_test('unknown_exception');
-- A PostgreSQL error raised while C++ objects were alive: carried out as an exception, the C++
-- frames unwound (their destructors ran), then re-raised unchanged.
SELECT telemetry.self_test('unwound') AS destroyed_before;
SELECT telemetry.self_test('postgres_error_under_cpp');
\set VERBOSITY sqlstate
SELECT telemetry.self_test('postgres_error_under_cpp');
\set VERBOSITY default
SELECT telemetry.self_test('unwound') AS destroyed_after;
-- The same inside a core phase (run_core_phase): the PostgreSQL error comes out unchanged.
SELECT pg_temp.diagnostics('postgres_error_in_core_phase');
-- An exception thrown inside PG_TRY, or across a frame that pushed an error context callback,
-- leaves PostgreSQL's error stacks pointing into dead frames; the guard puts them back before it
-- raises, so the errors that follow (inside a plpgsql handler, and at top level) land safely.
SELECT pg_temp.diagnostics('exception_inside_pg_try');
SELECT telemetry.self_test('exception_inside_pg_try');
SELECT pg_temp.diagnostics('exception_under_error_context');
SELECT telemetry.self_test('exception_under_error_context');
SELECT telemetry.self_test('postgres_error_under_cpp');
-- Engine state living across SPI fetches belongs to a memory context (context_owned): streamed
-- to the end it is destroyed with the context; an error in the cursor's query half way (a
-- division by zero at row 250 of 300) leaves past it, and the abort destroys it all the same.
SELECT telemetry.self_test('engine_state_across_fetches');
SELECT telemetry.self_test('engine_state_error_mid_stream');
SELECT telemetry.self_test('engine_states_alive') AS engine_states_alive;
-- In a subtransaction: destroyed when it rolls back, before the transaction ends.
BEGIN;
SAVEPOINT streaming;
SELECT telemetry.self_test('engine_state_error_mid_stream');
ROLLBACK TO SAVEPOINT streaming;
SELECT telemetry.self_test('engine_states_alive') AS alive_after_rollback_to_savepoint;
SELECT pg_temp.diagnostics('engine_state_error_mid_stream');
SELECT telemetry.self_test('engine_states_alive') AS alive_after_plpgsql_handler;
COMMIT;
-- A plain PostgreSQL error from glue code.
SELECT telemetry.self_test('postgres_error');
SELECT telemetry.self_test('no such kind');
SELECT telemetry.self_test(NULL);

-- Errors inside a transaction abort only that transaction; a savepoint recovers it.
BEGIN;
SAVEPOINT s;
SELECT telemetry.self_test('cpp_exception');
ROLLBACK TO SAVEPOINT s;
SELECT telemetry.self_test('ok') AS after_savepoint_rollback;
COMMIT;

-- Caught in PL/pgSQL a thousand times, each kind: the backend is still well.
DO $$
DECLARE
    kind text;
    caught integer := 0;
BEGIN
    FOR i IN 1..1000 LOOP
        FOREACH kind IN ARRAY ARRAY['domain_error', 'cpp_exception', 'bad_alloc', 'unknown_exception',
                                    'postgres_error_under_cpp', 'postgres_error'] LOOP
            BEGIN
                PERFORM telemetry.self_test(kind);
            EXCEPTION WHEN OTHERS THEN
                caught := caught + 1;
            END;
        END LOOP;
    END LOOP;
    RAISE NOTICE 'caught % errors', caught;
END
$$;
SELECT telemetry.self_test('ok') AS still_ok;

-- self_test is not granted to PUBLIC: a role without the grant may not call it.
CREATE ROLE telemetry_regress_nobody;
GRANT USAGE ON SCHEMA telemetry TO telemetry_regress_nobody;
SET ROLE telemetry_regress_nobody;
SELECT telemetry.self_test('ok');
RESET ROLE;
REVOKE USAGE ON SCHEMA telemetry FROM telemetry_regress_nobody;
DROP ROLE telemetry_regress_nobody;
