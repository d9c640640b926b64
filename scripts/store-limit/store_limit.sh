#!/usr/bin/env bash
# The SQLite half of issue 19's ledger target, side by side with the store itself: runs
# `textcredits bench ledger` on SQLite, then replays the very statements it ran (captured from
# SQLiteKit's debug log, binds written in as literals) with a small C program linked against
# sqlite-nio's own SQLite amalgamation, on a freshly migrated database, and prints the holds per
# second SQLite itself reaches for them: with each statement prepared as the server does, and with
# preparing left out (what reusing prepared statements could reach at best). Not part of CI.
#
# Usage: scripts/store-limit/store_limit.sh path/to/textcredits [--holds N] [--rounds N]
# Needs: a C compiler (cc), python3, and sqlite-nio's checkout under .build/checkouts (any build).
set -euo pipefail

usage() {
    echo "usage: $0 path/to/textcredits [--holds N] [--rounds N]" >&2
    exit 2
}

[[ $# -ge 1 ]] || usage
textcredits=$(realpath "$1")
shift
holds=10240
rounds=3
while [[ $# -gt 0 ]]; do
    case $1 in
        --holds)
            [[ $# -ge 2 && $2 =~ ^[1-9][0-9]*$ ]] || usage
            holds=$2
            shift 2
            ;;
        --rounds)
            [[ $# -ge 2 && $2 =~ ^[1-9][0-9]*$ ]] || usage
            rounds=$2
            shift 2
            ;;
        *) usage ;;
    esac
done

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
amalgamation="$root/.build/checkouts/sqlite-nio/Sources/VaporCSQLite"
[[ -f $amalgamation/sqlite_nio_sqlite3.c ]] || {
    echo "sqlite-nio's amalgamation is not at $amalgamation (run swift build first)" >&2
    exit 1
}

work=$(mktemp -d /tmp/textcredits-store-limit.XXXXXX)
trap 'rm -rf "$work"' EXIT

# The compile options of sqlite-nio's Package.swift that change how fast SQLite runs.
cc -O2 -DSQLITE_DQS=0 -DSQLITE_THREADSAFE=1 -DSQLITE_SECURE_DELETE -DSQLITE_DEFAULT_MEMSTATUS=0 \
    -DSQLITE_OMIT_DEPRECATED -DSQLITE_OMIT_SHARED_CACHE -DSQLITE_OMIT_PROGRESS_CALLBACK -DSQLITE_OMIT_TRACE \
    -I"$amalgamation/include" -o "$work/replay" "$here/replay.c" "$amalgamation/sqlite_nio_sqlite3.c" -lpthread -lm

echo "textcredits bench ledger --holds $holds (SQLite), rounds: $rounds"
for _ in $(seq "$rounds"); do
    "$textcredits" bench ledger --holds "$holds" | grep -E '^(reserve|post):' | sed 's/^/  server  /'
done

# One more run with every statement logged; its own rates are slowed by the logging and not shown.
TEXTCREDITS_LOG_LEVEL=debug "$textcredits" bench ledger --holds "$holds" > "$work/log.txt" 2>&1
python3 "$here/extract.py" "$work/log.txt" "$work"
"$textcredits" migrate --database "sqlite:$work/base.sqlite" > /dev/null

echo "SQLite alone, the same statements replayed (C, sqlite-nio's amalgamation), rounds: $rounds"
for _ in $(seq "$rounds"); do
    rm -f "$work"/replay.sqlite*
    cp "$work/base.sqlite" "$work/replay.sqlite"
    for phase in reserve post; do
        read -r count prepare run < <("$work/replay" "$work/replay.sqlite" "$work/$phase.sql")
        awk -v phase="$phase" -v holds="$holds" -v count="$count" -v prepare="$prepare" -v run="$run" 'BEGIN {
            printf "  store   %s: %.1f holds/s (%d statements: prepare %.3f s, run %.3f s); without preparing: %.1f holds/s\n",
                phase, holds / (prepare + run), count, prepare, run, holds / run
        }'
    done
done
