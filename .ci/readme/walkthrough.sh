#!/usr/bin/env bash
# Runs the README's first hour as written: every ```sh first-hour block, top to bottom, in one
# shell, in a new temporary directory (so `./textcredits.sqlite` is a fresh database), with the
# built binary standing in for `swift run textcredits`. Any command that fails, any request that
# does not succeed, and any status other than the one the README shows (a `# HTTP 402` line after
# a command that prints its status) fails the walkthrough.
#
# usage: .ci/readme/walkthrough.sh BINARY [README]
# env (optional): WALKTHROUGH_TIMEOUT (seconds, default 600), WALKTHROUGH_PORT (default: a free port; the README's localhost:8080 is
#   rewritten to it, so a server already on 8080 does not get in the way), KEEP_DIR=1 (keep the
#   temporary directory: the extracted script, the server's log, the database).
# The README's text stays as a newcomer types it: `swift` and `curl` are small scripts put first
# on the PATH. `swift run textcredits ARGS` runs BINARY ARGS (and gives `serve` the port,
# `simulate` the server's address); any other `swift` command is the real one. `curl` is the
# real curl with the port rewritten and --fail-with-body --show-error added, except for a command that
# prints its status (-w '…%{http_code}…'), whose status is checked against the README instead.
set -euo pipefail

bin=$(readlink -f "${1:?usage: walkthrough.sh BINARY [README]}")
readme=$(readlink -f "${2:-$(dirname "$0")/../../README.md}")
[ -x "$bin" ] || { echo "walkthrough: $bin is not executable" >&2; exit 2; }
command -v jq >/dev/null || { echo "walkthrough: the README needs jq (Debian: apt-get install jq)" >&2; exit 2; }

dir=$(mktemp -d "${TMPDIR:-/tmp}/textcredits-walkthrough.XXXXXX")
port=${WALKTHROUGH_PORT:-$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')}
mkdir -p "$dir/shims" "$dir/run"

# Stop whatever server the walkthrough left running (it stops its own at the end when it succeeds).
cleanup() {
    status=$?
    for pid in $(pgrep -f "^$bin serve" 2>/dev/null || true); do
        if [ "$(readlink -f "/proc/$pid/cwd" 2>/dev/null)" = "$dir/run" ]; then kill "$pid" 2>/dev/null || true; fi
    done
    if [ "$status" -ne 0 ] && [ -f "$dir/server.log" ]; then
        echo "---- the server's log (last 40 lines)" >&2
        tail -n 40 "$dir/server.log" >&2
    fi
    if [ "${KEEP_DIR:-0}" = 1 ] || [ "$status" -ne 0 ]; then echo "walkthrough: kept $dir" >&2; else rm -rf "$dir"; fi
}
trap cleanup EXIT

real_swift=$(command -v swift || echo /usr/bin/swift)
real_curl=$(command -v curl)

cat >"$dir/shims/swift" <<SHIM
#!/usr/bin/env bash
# \`swift run textcredits ARGS\` is the built binary; anything else is the real swift.
if [ "\${1:-}" = run ] && [ "\${2:-}" = textcredits ]; then
    shift 2
    case "\${1:-}" in
        serve) exec env TEXTCREDITS_PORT=$port "$bin" "\$@" ;;
        simulate) exec "$bin" "\$1" "\$2" --server "http://127.0.0.1:$port" "\${@:3}" ;;
        *) exec "$bin" "\$@" ;;
    esac
fi
exec "$real_swift" "\$@"
SHIM

cat >"$dir/shims/curl" <<SHIM
#!/usr/bin/env bash
# The README's localhost:8080 is this walkthrough's server; a request must succeed unless the
# command prints its status, which the next README line (# HTTP NNN) then checks.
args=("\${@//localhost:8080/127.0.0.1:$port}")
if [[ "\${args[*]}" == *http_code* ]]; then
    output=\$("$real_curl" "\${args[@]}") || exit
    printf '%s\n' "\$output"
    printf '%s\n' "\$output" | tail -n 1 | grep -oE '[0-9]{3}' | tail -n 1 >"$dir/last-status"
    exit 0
fi
exec "$real_curl" --fail-with-body --show-error "\${args[@]}"
SHIM
chmod +x "$dir/shims/swift" "$dir/shims/curl"

# The first-hour blocks, in order. A line "# HTTP NNN" after a command that prints its status
# becomes a check of that status; a command printing its status without one is an error.
python3 - "$readme" "$dir/walkthrough.sh" <<'PY'
import re, sys
readme, out = sys.argv[1], sys.argv[2]
blocks, current = [], None
for number, line in enumerate(open(readme, encoding="utf-8"), 1):
    if current is None:
        if re.match(r"^```sh first-hour\s*$", line):
            current = (number, [])
    elif line.startswith("```"):
        blocks.append(current)
        current = None
    else:
        current[1].append(line.rstrip("\n"))
if current is not None or not blocks:
    sys.exit("walkthrough: no complete ```sh first-hour block in " + readme)
script, waiting = [], None
for start, lines in blocks:
    script.append(f"echo '==== README.md line {start}'")
    continued = False
    for line in lines:
        if continued:
            script.append(line)
            continued = line.endswith("\\")
            continue
        continued = line.endswith("\\")
        expected = re.match(r"^# HTTP (\d{3})\s*$", line)
        if expected:
            if waiting is None:
                sys.exit(f"walkthrough: '# HTTP' without a command printing its status near README line {start}")
            script.append(f"expect_status {expected.group(1)}")
            waiting = None
            continue
        if waiting is not None and line.strip() and not line.lstrip().startswith("#"):
            sys.exit(f"walkthrough: the command printing its status near README line {waiting} has no '# HTTP NNN' line")
        if "http_code" in line:
            waiting = start
        script.append(line)
if waiting is not None:
    sys.exit(f"walkthrough: the command printing its status near README line {waiting} has no '# HTTP NNN' line")
open(out, "w", encoding="utf-8").write("\n".join(script) + "\n")
print(f"walkthrough: {len(blocks)} first-hour blocks, {sum(len(b[1]) for b in blocks)} lines")
PY

cat >"$dir/prelude.sh" <<PRELUDE
set -euo pipefail
set -v
expect_status() {
    local seen
    seen=\$(cat "$dir/last-status" 2>/dev/null || echo none)
    [ "\$seen" = "\$1" ] || { echo "walkthrough: expected HTTP \$1, the server answered \$seen" >&2; exit 1; }
    echo "walkthrough: HTTP \$1 as the README says"
}
PRELUDE

echo "== the README's first hour ($(date -u +%H:%M) UTC) on port $port in $dir/run"
cd "$dir/run"
started=$(date +%s)
PATH="$dir/shims:$PATH" TMPDIR="$dir" timeout "${WALKTHROUGH_TIMEOUT:-600}" bash -c "source '$dir/prelude.sh'; source '$dir/walkthrough.sh'"
echo "== the first hour ran as written in $(($(date +%s) - started)) s"
