#!/usr/bin/env bash
# Checks the server's Prometheus metrics with Prometheus' own tool (.ci/run calls it).
#
# usage: .ci/metrics/check.sh BINARY [RULES]
#   BINARY  the textcredits executable
#   RULES   the alert rules file (default: ops/prometheus-alerts.yml)
# env (optional):
#   PROMTOOL    promtool (default: promtool on the PATH; Debian package `prometheus`)
#   KEEP_DIR=1  keep the temporary directory (database, server log, metrics) for inspection
#
# Starts `textcredits serve` on a free port with a new SQLite database in a temporary directory
# and TEXTCREDITS_METRICS_TOKEN set, makes an organisation with the CLI, sends a text to two
# contacts through the API (one delivered, one failed, so the counters exist), waits until the
# campaign is final, fetches /metrics with the token and pipes it to `promtool check metrics`:
# any problem it prints fails the check, as does a metric of the README's list that is missing.
# Then `promtool check rules` on the alert rules. Exits 0 when everything passed.
set -euo pipefail

BIN=$(readlink -f "${1:?usage: .ci/metrics/check.sh BINARY [RULES]}")
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
RULES=$(readlink -f "${2:-$ROOT/ops/prometheus-alerts.yml}")
PROMTOOL=${PROMTOOL:-promtool}

WORK=$(mktemp -d "${TMPDIR:-/tmp}/textcredits-metrics.XXXXXX")
SERVER_PID=""
cleanup() {
    if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill "$SERVER_PID" 2>/dev/null || true
        for _ in $(seq 1 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$SERVER_PID" 2>/dev/null || true
    fi
    if [ "${KEEP_DIR:-0}" = 1 ]; then echo "kept $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

die() { echo "metrics check: $*" >&2; exit 1; }
json() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$@"; }

command -v "$PROMTOOL" >/dev/null || die "promtool not found (install the Debian package prometheus)"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
B=http://127.0.0.1:$PORT
DB=sqlite:$WORK/metrics.sqlite
TOKEN=metrics-$RANDOM$RANDOM

"$BIN" migrate --database "$DB" >/dev/null || die "migrate failed"
"$BIN" orgs create --database "$DB" --name "Metrics Check School" --country US --timezone America/Chicago \
    --json >"$WORK/org.json" || die "orgs create failed"
KEY=$(json "$WORK/org.json" api_key)
ORG=$(json "$WORK/org.json" organization_id)
"$BIN" credits adjust --database "$DB" --org "$ORG" --credits 50 --reason "Metrics check" >/dev/null \
    || die "credits adjust failed"

(cd "$WORK" && exec env TEXTCREDITS_METRICS_TOKEN="$TOKEN" "$BIN" serve --port "$PORT" --database "$DB" \
    --simulator-delay 0.2 >"$WORK/server.log" 2>&1) &
SERVER_PID=$!
for _ in $(seq 1 150); do curl -fsS "$B/health/ready" >/dev/null 2>&1 && break; sleep 0.2; done
curl -fsS "$B/health/ready" >/dev/null || die "server not ready (see $WORK/server.log)"

A="Authorization: Bearer $KEY"
call() {  # METHOD PATH JSON → body in $WORK/reply.json, fails unless 2xx
    local code
    code=$(curl -sS -o "$WORK/reply.json" -w "%{http_code}" -X "$1" -H "$A" -H 'Content-Type: application/json' \
        -H "X-Request-Id: ci-metrics-check" -d "$3" "$B$2")
    case "$code" in 2*) ;; *) die "$1 $2 answered $code: $(cat "$WORK/reply.json")" ;; esac
}
# Open all day, so the check passes at any hour.
call PATCH /v1/organization/sms-settings \
    '{"sending_hours": {"start": "00:00", "end": "23:59", "days": ["mon","tue","wed","thu","fri","sat","sun"]}}'
# +1 415 555 0001 fails at the Simulator; the other is delivered.
call POST /v1/contacts/import '{"consent": "opted_in", "contacts": [
  {"name": "Ana Ortiz", "phone": "+14155552671", "groups": ["families"]},
  {"name": "Ben Park", "phone": "+14155550001", "groups": ["families"]}]}'
call POST /v1/messages '{"groups": ["families"], "body": "Practice moves to 5pm Thursday."}'
CAMPAIGN=$(json "$WORK/reply.json" id)
for _ in $(seq 1 100); do
    curl -fsS -H "$A" "$B/v1/campaigns/$CAMPAIGN" -o "$WORK/campaign.json" || true
    [ "$(json "$WORK/campaign.json" status 2>/dev/null)" = completed ] && break
    sleep 0.2
done
[ "$(json "$WORK/campaign.json" status)" = completed ] || die "the campaign did not complete: $(cat "$WORK/campaign.json")"

code=$(curl -sS -o "$WORK/metrics.txt" -w "%{http_code}" -H "Authorization: Bearer $TOKEN" "$B/metrics")
[ "$code" = 200 ] || die "/metrics answered $code"
echo "== promtool check metrics ($(grep -c '^# TYPE' "$WORK/metrics.txt") metric families)"
if ! "$PROMTOOL" check metrics <"$WORK/metrics.txt" >"$WORK/promtool.out" 2>&1 || [ -s "$WORK/promtool.out" ]; then
    cat "$WORK/promtool.out" >&2
    die "promtool check metrics found problems"
fi
for family in hb_requests_total http_server_request_duration_seconds textcredits_sends_total \
    textcredits_ledger_batch_operations textcredits_queue_messages textcredits_queue_calls \
    textcredits_holds_pending textcredits_holds_pending_millicredits textcredits_holds_overdue \
    textcredits_holds_pending_oldest_age_seconds; do
    grep -q "^# TYPE $family " "$WORK/metrics.txt" || die "metric $family is missing"
done
grep -q '^textcredits_sends_total{status="delivered"} 1' "$WORK/metrics.txt" || die "the delivered text was not counted"
grep -q '^textcredits_sends_total{status="failed"} 1' "$WORK/metrics.txt" || die "the failed text was not counted"
grep 'campaign dispatched' "$WORK/server.log" | grep -q 'request_id=ci-metrics-check' \
    || die "the dispatcher's line about the campaign lacks the request id"

echo "== promtool check rules $(basename "$RULES")"
"$PROMTOOL" check rules "$RULES"
echo "metrics check passed"
