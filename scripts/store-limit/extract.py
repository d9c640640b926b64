"""Turns the debug log of `textcredits bench ledger` (TEXTCREDITS_LOG_LEVEL=debug: SQLiteKit logs
every statement with its binds) into the statements the benchmark ran after the schema's
migrations, binds written in as literals, split where the posts begin: reserve.sql and post.sql
for replay.c.

Usage: extract.py LOG OUTDIR
"""

import json
import re
import sys

ENTRY = re.compile(r"\S+ debug textcredits: binds=\[(.*?)\] sql=(.*) \[SQLiteKit\] Executing query\s*$", re.S)
SEPARATOR = "\n\x1e\n"


def literal(value):
    if value is None:
        return "NULL"
    if isinstance(value, (int, float)):
        return str(value)
    return "'" + str(value).replace("'", "''") + "'"


def statements(log):
    for part in re.split(r"(?m)^(?=\d{4}-\d\d-\d\dT)", log):
        match = ENTRY.match(part)
        if not match:
            continue
        binds_text, sql = match.group(1), match.group(2)
        try:
            binds = json.loads("[" + binds_text + "]") if binds_text.strip() else []
        except json.JSONDecodeError:
            binds = None  # a migration's escaped text; never after the migrations (checked below)
        yield sql, binds


def main():
    log_path, out = sys.argv[1], sys.argv[2]
    with open(log_path, encoding="utf-8") as file:
        entries = list(statements(file.read()))
    last_migration = max(i for i, (sql, _) in enumerate(entries) if "schema_migrations" in sql)
    written = []
    for sql, binds in entries[last_migration + 1 :]:
        if binds is None:
            sys.exit("a statement's binds could not be read: " + sql[:200])
        written.append(re.sub(r"\?(\d+)", lambda m: literal(binds[int(m.group(1)) - 1]), sql) if binds else sql)
    first_post = min(i for i, sql in enumerate(written) if "idempotency_key IN ('post-" in sql)
    split = max(i for i in range(first_post) if written[i].startswith("BEGIN"))
    with open(out + "/reserve.sql", "w", encoding="utf-8") as file:
        file.write(SEPARATOR.join(written[:split]))
    with open(out + "/post.sql", "w", encoding="utf-8") as file:
        file.write(SEPARATOR.join(written[split:]))


if __name__ == "__main__":
    main()
