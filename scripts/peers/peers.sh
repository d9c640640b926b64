#!/usr/bin/env bash
# Peer benchmark of issue 19: `textcredits estimate --jsonl` against smsutil (PyPI) and Twilio's
# Messaging Segment Calculator (npm sms-segments-calculator) on the corpora of corpus.py.
# Not part of CI. See README.md beside this file.
#
# Usage: scripts/peers/peers.sh path/to/textcredits [--rounds N]
#
# Environment:
#   XDG_CACHE_HOME            the peers are installed under $XDG_CACHE_HOME/textcredits-peers
#                             (default ~/.cache/textcredits-peers)
#   PEERS_TWILIO_NODE_MODULES a node_modules folder that already holds sms-segments-calculator and
#                             grapheme-splitter, used when npm cannot install them (no registry)
set -euo pipefail

usage() {
    echo "usage: $0 path/to/textcredits [--rounds N]" >&2
    exit 2
}

[[ $# -ge 1 ]] || usage
textcredits=$1
shift
rounds=5
while [[ $# -gt 0 ]]; do
    case $1 in
        --rounds)
            [[ $# -ge 2 && $2 =~ ^[1-9][0-9]*$ ]] || usage
            rounds=$2
            shift 2
            ;;
        *) usage ;;
    esac
done
[[ -x $textcredits ]] || { echo "peers: $textcredits is not an executable" >&2; exit 2; }
textcredits=$(cd "$(dirname "$textcredits")" && pwd)/$(basename "$textcredits")

here=$(cd "$(dirname "$0")" && pwd)
cache=${XDG_CACHE_HOME:-$HOME/.cache}/textcredits-peers
smsutil_spec="smsutil==1.1.3"
twilio_spec="sms-segments-calculator@^1.2.0"
mkdir -p "$cache"

work=$(mktemp -d "${TMPDIR:-/tmp}/textcredits-peers.XXXXXX")
trap 'rm -rf "$work"' EXIT

echo "corpora (python3 corpus.py):"
python3 "$here/corpus.py" "$work/corpora" | sed 's/^/  /'

# smsutil in a venv of its own.
driver_args=()
venv=$cache/venv
log=$work/smsutil-install.log
if { [[ -x $venv/bin/python ]] || python3 -m venv "$venv"; } >"$log" 2>&1 &&
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --timeout 20 --retries 1 \
        "$smsutil_spec" >>"$log" 2>&1; then
    driver_args+=(--smsutil-python "$venv/bin/python")
else
    reason=$(grep -v '^\s*$' "$log" | tail -n 1 | cut -c 1-160 || true)
    echo "smsutil: skipped (offline: ${reason:-pip failed})"
    driver_args+=(--smsutil-skipped "offline: ${reason:-pip failed}")
fi

# Twilio's calculator for node, from npm into the cache.
node_dir=$cache/node
log=$work/twilio-install.log
if ! command -v node >/dev/null 2>&1; then
    echo "twilio: skipped (node is not installed)"
    driver_args+=(--twilio-skipped "node is not installed")
elif command -v npm >/dev/null 2>&1 &&
    timeout 60 npm install --prefix "$node_dir" --no-audit --no-fund --fetch-retries 1 \
        --fetch-timeout 20000 "$twilio_spec" >"$log" 2>&1; then
    driver_args+=(--twilio-node-path "$node_dir/node_modules")
else
    if command -v npm >/dev/null 2>&1; then
        reason=$(grep -m 1 -E 'npm (ERR!|error) (network|code)' "$log" | cut -c 1-160 || true)
        reason="offline: ${reason:-npm install failed}"
    else
        reason="npm is not installed"
    fi
    modules=${PEERS_TWILIO_NODE_MODULES:-}
    if [[ -n $modules && -f $modules/sms-segments-calculator/package.json ]]; then
        echo "twilio: npm could not install it ($reason); using PEERS_TWILIO_NODE_MODULES=$modules"
        driver_args+=(--twilio-node-path "$modules" --twilio-note "from PEERS_TWILIO_NODE_MODULES, not npm")
    elif [[ -f $node_dir/node_modules/sms-segments-calculator/package.json ]]; then
        echo "twilio: npm could not install it ($reason); using the copy already in $node_dir"
        driver_args+=(--twilio-node-path "$node_dir/node_modules" --twilio-note "earlier npm install in the cache")
    else
        echo "twilio: skipped ($reason)"
        driver_args+=(--twilio-skipped "$reason")
    fi
fi

python3 "$here/peers.py" --textcredits "$textcredits" --corpora "$work/corpora" --work "$work/out" \
    --rounds "$rounds" "${driver_args[@]}"
