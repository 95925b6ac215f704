/*
 * batch_client: sends client batches to PostgreSQL the way an application's ingest endpoint
 * would, one statement (and transaction) per batch with the batch as a bind parameter, and
 * prints the events per second of each way of ingesting. psql -f is no driver for this: its
 * own SQL lexer, scanning every 400 kB literal, would cost more than the server's work.
 *
 *   batch_client CONNINFO LABEL=MODE:FILE [LABEL=MODE:FILE ...]
 *
 * MODE and FILE:
 *   track_batch     lines "tenant<TAB>json array": SELECT ... FROM telemetry.track_batch($1, $2)
 *   insert_select   lines "tenant<TAB>json array": INSERT ... SELECT ... FROM jsonb_array_elements($2)
 *   copy            lines of COPY text rows, 1,000 per batch: COPY ... FROM STDIN
 *
 * With several sides, their batches are interleaved: batch 1 of every side, then batch 2, and
 * so on, the order of the sides turning at each batch, and each statement timed on its own.
 * So every side meets the same server, disk and cache at the same moments, and a slow second
 * of the machine cannot favour one of them. Prints "LABEL events seconds events_per_second
 * wal_bytes", a line per side: the seconds are the sum of its statements' times, the WAL what
 * the server's insert position moved during them (read between statements, off the clock).
 *
 * Every statement's result is checked: a batch with an event not accepted stops the run. The
 * files are read into memory before the clock starts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>

#define BATCH_EVENTS 1000
#define MAX_SIDES 8

typedef enum { MODE_COPY, MODE_TRACK_BATCH, MODE_INSERT_SELECT } Mode;

typedef struct {
    const char* label;
    Mode mode;
    char* data;
    char** lines;
    size_t nlines;
    size_t batches;
    size_t events;
    double seconds;
    unsigned long long wal_bytes;
} Side;

static void die(const char* what, PGconn* conn) {
    fprintf(stderr, "batch_client: %s%s%s\n", what, conn ? ": " : "", conn ? PQerrorMessage(conn) : "");
    exit(1);
}

static char* read_file(const char* path, size_t* size) {
    FILE* f = fopen(path, "rb");
    if (!f) die("cannot open a batch file", NULL);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char* data = malloc((size_t)n + 1);
    if (!data || fread(data, 1, (size_t)n, f) != (size_t)n) die("cannot read a batch file", NULL);
    data[n] = '\0';
    fclose(f);
    *size = (size_t)n;
    return data;
}

/* Splits data into lines in place; returns the number of lines. */
static size_t split_lines(char* data, size_t size, char*** lines) {
    size_t count = 0, capacity = 1024;
    *lines = malloc(capacity * sizeof(char*));
    for (char* p = data; p < data + size && *p;) {
        char* end = strchr(p, '\n');
        if (count == capacity) *lines = realloc(*lines, (capacity *= 2) * sizeof(char*));
        (*lines)[count++] = p;
        if (!end) break;
        *end = '\0';
        p = end + 1;
    }
    return count;
}

/* LABEL=MODE:FILE */
static void parse_side(char* arg, Side* side) {
    char *eq = strchr(arg, '='), *colon = eq ? strchr(eq, ':') : NULL;
    if (!eq || !colon) die("a side is LABEL=MODE:FILE", NULL);
    *eq = '\0';
    *colon = '\0';
    side->label = arg;
    const char* mode = eq + 1;
    if (strcmp(mode, "copy") == 0) side->mode = MODE_COPY;
    else if (strcmp(mode, "track_batch") == 0) side->mode = MODE_TRACK_BATCH;
    else if (strcmp(mode, "insert_select") == 0) side->mode = MODE_INSERT_SELECT;
    else die("unknown mode (copy, track_batch, insert_select)", NULL);
    size_t size;
    side->data = read_file(colon + 1, &size);
    side->nlines = split_lines(side->data, size, &side->lines);
    side->batches = side->mode == MODE_COPY ? (side->nlines + BATCH_EVENTS - 1) / BATCH_EVENTS : side->nlines;
}

static double seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void expect_count(PGresult* res, PGconn* conn, const char* label) {
    char expected[16];
    snprintf(expected, sizeof expected, "%d", BATCH_EVENTS);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) die(label, conn);
    if (strcmp(PQgetvalue(res, 0, 0), expected) != 0) {
        fprintf(stderr, "batch_client: %s: a batch gave \"%s\", expected \"%s\"\n", label, PQgetvalue(res, 0, 0),
                expected);
        exit(1);
    }
}

/* Sends batch b of a side as one statement. */
static void send_batch(PGconn* conn, Side* side, size_t b) {
    if (side->mode == MODE_COPY) {
        PGresult* res =
            PQexec(conn, "COPY bench_diy_events (tenant_id, name, properties, user_id, session_id) FROM STDIN");
        if (PQresultStatus(res) != PGRES_COPY_IN) die("COPY", conn);
        PQclear(res);
        for (size_t i = b * BATCH_EVENTS; i < (b + 1) * BATCH_EVENTS && i < side->nlines; ++i) {
            if (PQputCopyData(conn, side->lines[i], (int)strlen(side->lines[i])) != 1 ||
                PQputCopyData(conn, "\n", 1) != 1)
                die("COPY data", conn);
            ++side->events;
        }
        if (PQputCopyEnd(conn, NULL) != 1) die("COPY end", conn);
        res = PQgetResult(conn);
        if (PQresultStatus(res) != PGRES_COMMAND_OK) die("COPY", conn);
        PQclear(res);
        while ((res = PQgetResult(conn)) != NULL) PQclear(res);
        return;
    }
    const char* sql =
        side->mode == MODE_TRACK_BATCH
            ? "SELECT count(*) FILTER (WHERE status = 'accepted') FROM telemetry.track_batch($1::uuid, $2::text)"
            : "WITH inserted AS (INSERT INTO bench_diy_events (tenant_id, name, properties, user_id, session_id) "
              "SELECT $1::uuid, e->>'name', e->'properties', e->>'user_id', e->>'session_id' "
              "FROM jsonb_array_elements($2::jsonb) AS e RETURNING 1) SELECT count(*) FROM inserted";
    char* line = side->lines[b];
    char* tab = strchr(line, '\t');
    if (!tab) die("a line without a tab", NULL);
    *tab = '\0';
    const char* values[2] = {line, tab + 1};
    PGresult* res = PQexecParams(conn, sql, 2, NULL, values, NULL, NULL, 0);
    *tab = '\t';
    expect_count(res, conn, side->label);
    PQclear(res);
    side->events += BATCH_EVENTS;
}

/* The server's WAL insert position, in bytes. */
static unsigned long long wal_position(PGconn* conn) {
    PGresult* res = PQexec(conn, "SELECT pg_current_wal_insert_lsn()");
    if (PQresultStatus(res) != PGRES_TUPLES_OK) die("reading the WAL position", conn);
    unsigned int high = 0, low = 0;
    if (sscanf(PQgetvalue(res, 0, 0), "%X/%X", &high, &low) != 2) die("an unreadable WAL position", NULL);
    PQclear(res);
    return ((unsigned long long)high << 32) | low;
}

int main(int argc, char** argv) {
    if (argc < 3 || argc - 2 > MAX_SIDES) {
        fprintf(
            stderr,
            "usage: batch_client CONNINFO LABEL=MODE:FILE [LABEL=MODE:FILE ...] (modes: copy, track_batch, insert_select)\n");
        return 2;
    }
    const int nsides = argc - 2;
    Side sides[MAX_SIDES] = {0};
    for (int s = 0; s < nsides; ++s) {
        parse_side(argv[s + 2], &sides[s]);
        if (sides[s].batches != sides[0].batches) die("the sides have different numbers of batches", NULL);
    }

    PGconn* conn = PQconnectdb(argv[1]);
    if (PQstatus(conn) != CONNECTION_OK) die("connection failed", conn);

    for (size_t b = 0; b < sides[0].batches; ++b) {
        for (int k = 0; k < nsides; ++k) {
            Side* side = &sides[(b + (size_t)k) % (size_t)nsides];
            const unsigned long long wal_before = wal_position(conn);
            const double start = seconds();
            send_batch(conn, side, b);
            side->seconds += seconds() - start;
            side->wal_bytes += wal_position(conn) - wal_before;
        }
    }
    for (int s = 0; s < nsides; ++s)
        printf("%s %zu %.6f %.0f %llu\n", sides[s].label, sides[s].events, sides[s].seconds,
               (double)sides[s].events / sides[s].seconds, sides[s].wal_bytes);
    PQfinish(conn);
    for (int s = 0; s < nsides; ++s) {
        free(sides[s].lines);
        free(sides[s].data);
    }
    return 0;
}
