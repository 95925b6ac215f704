/*
 * batch_client: sends client batches to PostgreSQL the way an application's ingest endpoint
 * would, one statement (and transaction) per batch with the batch as a bind parameter, and
 * prints the events per second. psql -f is no driver for this: its own SQL lexer, scanning
 * every 400 kB literal, would cost more than the server's work being measured.
 *
 *   batch_client CONNINFO MODE FILE
 *
 * MODE and FILE:
 *   track_batch     lines "tenant<TAB>json array": SELECT ... FROM telemetry.track_batch($1, $2)
 *   insert_select   lines "tenant<TAB>json array": INSERT ... SELECT ... FROM jsonb_array_elements($2)
 *   copy            lines of COPY text rows, 1,000 per batch: COPY ... FROM STDIN
 *
 * Every statement's result is checked: a batch with an event not accepted stops the run.
 * The file is read into memory before the clock starts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>

#define BATCH_EVENTS 1000

static void die(const char *what, PGconn *conn)
{
    fprintf(stderr, "batch_client: %s%s%s\n", what, conn ? ": " : "", conn ? PQerrorMessage(conn) : "");
    exit(1);
}

static char *read_file(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f) die("cannot open the batch file", NULL);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *data = malloc((size_t) n + 1);
    if (!data || fread(data, 1, (size_t) n, f) != (size_t) n) die("cannot read the batch file", NULL);
    data[n] = '\0';
    fclose(f);
    *size = (size_t) n;
    return data;
}

/* Splits data into lines in place; returns the number of lines. */
static size_t split_lines(char *data, size_t size, char ***lines)
{
    size_t count = 0, capacity = 1024;
    *lines = malloc(capacity * sizeof(char *));
    for (char *p = data; p < data + size && *p;) {
        char *end = strchr(p, '\n');
        if (count == capacity) *lines = realloc(*lines, (capacity *= 2) * sizeof(char *));
        (*lines)[count++] = p;
        if (!end) break;
        *end = '\0';
        p = end + 1;
    }
    return count;
}

static double seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double) t.tv_sec + (double) t.tv_nsec / 1e9;
}

static void expect_one_row(PGresult *res, PGconn *conn, const char *expected, const char *mode)
{
    if (PQresultStatus(res) != PGRES_TUPLES_OK) die(mode, conn);
    if (strcmp(PQgetvalue(res, 0, 0), expected) != 0) {
        fprintf(stderr, "batch_client: %s: a batch gave \"%s\", expected \"%s\"\n", mode, PQgetvalue(res, 0, 0), expected);
        exit(1);
    }
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: batch_client CONNINFO track_batch|insert_select|copy FILE\n");
        return 2;
    }
    const char *mode = argv[2];
    size_t size;
    char *data = read_file(argv[3], &size);
    char **lines;
    const size_t nlines = split_lines(data, size, &lines);

    PGconn *conn = PQconnectdb(argv[1]);
    if (PQstatus(conn) != CONNECTION_OK) die("connection failed", conn);

    size_t events = 0;
    const double start = seconds();
    if (strcmp(mode, "copy") == 0) {
        for (size_t first = 0; first < nlines; first += BATCH_EVENTS) {
            PGresult *res = PQexec(conn, "COPY bench_diy_events (tenant_id, name, properties, user_id, session_id) FROM STDIN");
            if (PQresultStatus(res) != PGRES_COPY_IN) die("COPY", conn);
            PQclear(res);
            for (size_t i = first; i < first + BATCH_EVENTS && i < nlines; ++i) {
                if (PQputCopyData(conn, lines[i], (int) strlen(lines[i])) != 1 || PQputCopyData(conn, "\n", 1) != 1)
                    die("COPY data", conn);
                ++events;
            }
            if (PQputCopyEnd(conn, NULL) != 1) die("COPY end", conn);
            res = PQgetResult(conn);
            if (PQresultStatus(res) != PGRES_COMMAND_OK) die("COPY", conn);
            PQclear(res);
        }
    } else {
        const int track = strcmp(mode, "track_batch") == 0;
        if (!track && strcmp(mode, "insert_select") != 0) die("unknown mode", NULL);
        const char *sql = track
            ? "SELECT count(*) FILTER (WHERE status = 'accepted') FROM telemetry.track_batch($1::uuid, $2::text)"
            : "WITH inserted AS (INSERT INTO bench_diy_events (tenant_id, name, properties, user_id, session_id) "
              "SELECT $1::uuid, e->>'name', e->'properties', e->>'user_id', e->>'session_id' "
              "FROM jsonb_array_elements($2::jsonb) AS e RETURNING 1) SELECT count(*) FROM inserted";
        char expected[16];
        snprintf(expected, sizeof expected, "%d", BATCH_EVENTS);
        for (size_t i = 0; i < nlines; ++i) {
            char *tab = strchr(lines[i], '\t');
            if (!tab) die("a line without a tab", NULL);
            *tab = '\0';
            const char *values[2] = {lines[i], tab + 1};
            PGresult *res = PQexecParams(conn, sql, 2, NULL, values, NULL, NULL, 0);
            expect_one_row(res, conn, expected, mode);
            PQclear(res);
            events += BATCH_EVENTS;
        }
    }
    const double elapsed = seconds() - start;
    printf("%zu %.6f %.0f\n", events, elapsed, (double) events / elapsed);
    PQfinish(conn);
    free(lines);
    free(data);
    return 0;
}
