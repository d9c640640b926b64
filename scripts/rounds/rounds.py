#!/usr/bin/env python3
"""Interleaved rounds of `bench ledger` or `bench send` for two or more builds (issue 19).

This VM's speed drifts by 20-30 % from one minute to the next, more than most changes, so
BENCHMARKS.md compares builds by the medians of interleaved rounds: each round runs every build
once, in turn, each on a fresh database, and `ledger verify` must be clean after every run. For
each run it prints the benchmark's figures, the CPU the benchmark used, and the CPU PostgreSQL's
processes used (when PostgreSQL runs on this machine and their /proc entries can be read), then
the median and range of each over the rounds.

Not part of CI. See README.md beside this file.
"""

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse

FIGURE = re.compile(r"^(reserve|post|accept|settle): ([0-9.]+)")
UNIT = {"reserve": "reserve holds/s", "post": "post holds/s", "accept": "accept s", "settle": "settle msg/s"}
TICKS = os.sysconf("SC_CLK_TCK")


def postgres_cpu_seconds():
    """CPU time of every process named postgres that this user can read, or None."""
    total, found = 0, False
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)
            if not fields[0].endswith("(postgres"):
                continue
            values = fields[1].split()
            # utime, stime, cutime and cstime are fields 14-17 of stat, 12-15 after the name.
            total += sum(int(v) for v in values[11:15])
            found = True
        except (OSError, IndexError, ValueError):
            continue
    return total / TICKS if found else None


def fresh_database(args, run):
    """A new database for one run: a PostgreSQL database made again through the admin URL, or a
    new SQLite file."""
    if not args.admin_url:
        return "sqlite:" + os.path.join(args.workdir, f"run-{run}.sqlite")
    name = urllib.parse.urlparse(args.database).path.lstrip("/")
    owner = urllib.parse.urlparse(args.database).username
    for statement in (f'DROP DATABASE IF EXISTS "{name}"', f'CREATE DATABASE "{name}" OWNER "{owner}"'):
        subprocess.run(["psql", "-q", "-X", args.admin_url, "-c", statement], check=True,
                       stdout=subprocess.DEVNULL)
    return args.database


def shown(value):
    return f"{value:,.2f}" if value < 100 else f"{value:,.0f}"


def run_once(args, build, run):
    database = fresh_database(args, run)
    command = [build, "bench", args.bench, "--database", database]
    if database.startswith("sqlite:"):
        # The benchmark deletes a file it made unless told to keep it; `ledger verify` must see it.
        command.append("--keep")
    if args.bench == "ledger":
        command += ["--holds", str(args.count)]
    else:
        command += ["--recipients", str(args.count)]
    command += args.extra
    before_pg = postgres_cpu_seconds()
    before = os.times()
    started = time.monotonic()
    finished = subprocess.run(command, capture_output=True, text=True)
    wall = time.monotonic() - started
    after = os.times()
    after_pg = postgres_cpu_seconds()
    if finished.returncode != 0:
        sys.exit(f"{' '.join(command)} failed:\n{finished.stdout}{finished.stderr}")
    figures = {}
    for line in finished.stdout.splitlines():
        match = FIGURE.match(line)
        if match:
            figures[UNIT[match.group(1)]] = float(match.group(2))
    figures["app CPU s"] = (after.children_user - before.children_user) + (after.children_system - before.children_system)
    if args.admin_url and before_pg is not None and after_pg is not None:
        figures["PostgreSQL CPU s"] = after_pg - before_pg
    figures["wall s"] = wall
    verify = subprocess.run([build, "ledger", "verify", "--database", database], capture_output=True, text=True)
    if verify.returncode != 0:
        sys.exit(f"ledger verify failed after {build}:\n{verify.stdout}{verify.stderr}")
    if database.startswith("sqlite:"):
        for suffix in ("", "-wal", "-shm"):
            try:
                os.remove(database[len("sqlite:"):] + suffix)
            except FileNotFoundError:
                pass
    return figures


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("bench", choices=["ledger", "send"])
    parser.add_argument("builds", nargs="+", help="textcredits executables to compare")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--count", type=int, default=60000, help="holds (ledger) or recipients (send)")
    parser.add_argument("--database", help="postgres://user:password@host:port/db, dropped and made again each run")
    parser.add_argument("--admin-url", help="a URL of a role that may drop and create that database")
    parser.add_argument("--extra", nargs=argparse.REMAINDER, default=[], help="more options for the benchmark")
    args = parser.parse_args()
    if bool(args.database) != bool(args.admin_url):
        parser.error("--database and --admin-url go together (neither: a new SQLite file each run)")
    if args.database:
        url = urllib.parse.urlparse(args.database)
        if url.scheme not in ("postgres", "postgresql") or not url.username or not url.path.strip("/"):
            parser.error("--database is postgres://user:password@host:port/database (the user owns the database)")
    if args.rounds < 1 or args.count < 1:
        parser.error("--rounds and --count must be positive")
    for build in args.builds:
        if not os.access(build, os.X_OK):
            parser.error(f"{build} is not an executable")
    if len(set(args.builds)) != len(args.builds):
        parser.error("name each build once (copy a build to compare it with itself)")
    results = {build: [] for build in args.builds}
    with tempfile.TemporaryDirectory(prefix="textcredits-rounds-") as workdir:
        args.workdir = workdir
        run = 0
        for round_number in range(1, args.rounds + 1):
            # Every other round in the opposite order, so that no build always runs right after
            # the same one (a checkpoint, autovacuum or a warm cache left behind).
            order = args.builds if round_number % 2 else list(reversed(args.builds))
            for build in order:
                run += 1
                figures = run_once(args, build, run)
                results[build].append(figures)
                line = "  ".join(f"{key} {shown(value)}" for key, value in figures.items())
                print(f"round {round_number}  {build}: {line}", flush=True)
    print(f"\nmedian (range) over {args.rounds} rounds, {args.count:,} {'holds' if args.bench == 'ledger' else 'recipients'}:")
    for build in args.builds:
        keys = results[build][0].keys()
        parts = []
        for key in keys:
            values = [figures[key] for figures in results[build] if key in figures]
            parts.append(f"{key} {shown(statistics.median(values))} ({shown(min(values))}-{shown(max(values))})")
        print(f"  {build}: " + "  ".join(parts))


if __name__ == "__main__":
    main()
