// Replays SQL statements on an SQLite database the way sqlite-nio runs them (each statement
// prepared, stepped through every row and finalized), and prints how long SQLite took: the
// store's own time for a workload, without the server around it. Statements are separated by a
// line holding only the ASCII record separator (0x1E). Built against sqlite-nio's own amalgamation
// (its symbols carry the sqlite_nio_ prefix) by store_limit.sh.
//
// Usage: replay DATABASE FILE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sqlite_nio_sqlite3.h"

#define SQL(name) sqlite_nio_sqlite3_##name

static double seconds(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)now.tv_sec + (double)now.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s DATABASE FILE\n", argv[0]);
        return 2;
    }
    FILE *file = fopen(argv[2], "rb");
    if (!file) {
        perror(argv[2]);
        return 1;
    }
    fseek(file, 0, SEEK_END);
    long length = ftell(file);
    fseek(file, 0, SEEK_SET);
    char *text = malloc((size_t)length + 1);
    if (!text || fread(text, 1, (size_t)length, file) != (size_t)length) {
        fprintf(stderr, "cannot read %s\n", argv[2]);
        return 1;
    }
    text[length] = 0;
    fclose(file);

    sqlite3 *db;
    if (SQL(open)(argv[1], &db) != SQLITE_OK) {
        fprintf(stderr, "cannot open %s\n", argv[1]);
        return 1;
    }
    // The server's settings (SQLiteStore): WAL, synchronous NORMAL, foreign keys on.
    const char *pragmas[] = {"PRAGMA journal_mode = WAL", "PRAGMA synchronous = NORMAL", "PRAGMA foreign_keys = ON"};
    for (int i = 0; i < 3; i++) SQL(exec)(db, pragmas[i], 0, 0, 0);

    double prepare = 0, run = 0;
    int count = 0;
    for (char *statement = text; statement && *statement;) {
        char *end = strstr(statement, "\n\x1e\n");
        if (end) *end = 0;
        sqlite3_stmt *prepared;
        double start = seconds();
        if (SQL(prepare_v3)(db, statement, -1, 0, &prepared, 0) != SQLITE_OK) {
            fprintf(stderr, "prepare failed: %s\n%.300s\n", SQL(errmsg)(db), statement);
            return 1;
        }
        double prepared_at = seconds();
        int result;
        while ((result = SQL(step)(prepared)) == SQLITE_ROW) {}
        if (result != SQLITE_DONE) {
            fprintf(stderr, "step failed: %s\n%.300s\n", SQL(errmsg)(db), statement);
            return 1;
        }
        SQL(finalize)(prepared);
        prepare += prepared_at - start;
        run += seconds() - prepared_at;
        count++;
        statement = end ? end + 3 : 0;
    }
    SQL(close)(db);
    printf("%d %.6f %.6f\n", count, prepare, run);
    return 0;
}
