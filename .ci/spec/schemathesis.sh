#!/usr/bin/env bash
# Bounded schemathesis run of the TextCredits API against a fresh server (.ci/run calls it; .ci/spec/gate.py
# then reads the report).
#
# usage: ci_schemathesis.sh BINARY SPEC JUNIT_DIR
#   BINARY     the textcredits executable (its resource bundle next to it)
#   SPEC       the openapi.yaml to test against (passed to schemathesis as a file)
#   JUNIT_DIR  directory for the junit report (created)
# env (optional):
#   ST            schemathesis CLI            (default: st on the PATH)
#   ST_MAX_TIME   time budget in seconds      (default 150)
#   ST_EXTRA      extra arguments for `st run` (word-split), e.g. "--report junit,ndjson"
#   KEEP_DIR=1    keep the temporary directory (database, server log) for inspection
#
# Starts `textcredits serve` on a free port with a new SQLite database in a temporary
# directory (without TEXTCREDITS_METRICS_TOKEN), creates an organisation and its API key,
# seeds it (card, purchase, brand, number, contacts, an import, a staff member, an API key,
# auto-renew settings, a campaign, a plan and an inbound text), runs schemathesis with
# `--checks all`, stops the server and exits with schemathesis's exit code
# (0 = no failures, 1 = failures; other codes = schemathesis could not run).
set -uo pipefail

BIN=$(readlink -f "${1:?usage: ci_schemathesis.sh BINARY SPEC JUNIT_DIR}")
SPEC=$(readlink -f "${2:?usage: ci_schemathesis.sh BINARY SPEC JUNIT_DIR}")
JUNIT_DIR=${3:?usage: ci_schemathesis.sh BINARY SPEC JUNIT_DIR}
ST=${ST:-st}
MAX_TIME=${ST_MAX_TIME:-150}
mkdir -p "$JUNIT_DIR"; JUNIT_DIR=$(readlink -f "$JUNIT_DIR")

WORK=$(mktemp -d "${TMPDIR:-/tmp}/textcredits-st.XXXXXX")
SERVER_PID=""
cleanup() {
    if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill "$SERVER_PID" 2>/dev/null
        for _ in $(seq 1 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$SERVER_PID" 2>/dev/null
    fi
    if [ "${KEEP_DIR:-0}" = 1 ]; then echo "kept $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

die() { echo "ci_schemathesis: $*" >&2; exit 2; }

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
B=http://127.0.0.1:$PORT
DB=sqlite:$WORK/t.sqlite

"$BIN" migrate --database "$DB" >/dev/null || die "migrate failed"
"$BIN" orgs create --database "$DB" --name "Bright Stars Gym" --country US --timezone America/Chicago \
    --credit-mode individual --json >"$WORK/org.json" || die "orgs create failed"
KEY=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["api_key"])' "$WORK/org.json")
ORG=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["organization_id"])' "$WORK/org.json")
"$BIN" credits adjust --database "$DB" --org "$ORG" --credits 500 --reason "Welcome" >/dev/null || die "credits adjust failed"

(cd "$WORK" && exec env -u TEXTCREDITS_METRICS_TOKEN "$BIN" serve --port "$PORT" --database "$DB" >"$WORK/server.log" 2>&1) &
SERVER_PID=$!
for _ in $(seq 1 100); do curl -fsS "$B/health" >/dev/null 2>&1 && break; sleep 0.2; done
curl -fsS "$B/health" >/dev/null 2>&1 || die "server did not start (see $WORK/server.log)"

# --- seed -----------------------------------------------------------------------------
A="Authorization: Bearer $KEY"
p() {  # METHOD PATH [JSON]
    local code
    code=$(curl -sS -o /dev/null -w "%{http_code}" -X "$1" -H "$A" -H 'Content-Type: application/json' \
        -H "Idempotency-Key: seed-$RANDOM$RANDOM" ${3:+-d "$3"} "$B$2")
    echo "seed $code $1 $2"
}
p PUT /v1/billing/payment-method '{"card":{"number":"4242 4242 4242 4242","exp_month":12,"exp_year":2040}}'
p POST /v1/credits/purchases '{"credits": 100}'
p PUT /v1/credits/auto-renew '{"enabled":false,"credits":500,"threshold":100}'
p POST /v1/sms/brand '{"legal_name":"Bright Stars Gym LLC","tax_id":"123456789","website":"https://brightstars.example","email":"office@brightstars.example","phone":"+14155552600","street":"1 Main St","city":"Austin","region":"TX","postal_code":"78701","vertical":"education"}'
sleep 3
p POST /v1/sms/numbers '{"area_code":"512"}'
for i in 1 2 3; do
    p POST /v1/contacts "{\"name\":\"Ana Ortiz $i\",\"phone\":\"+1415555267$i\",\"groups\":[\"families\"],\"consent\":\"opted_in\"}"
done
p POST /v1/contacts/import '{"contacts":[{"name":"Ben Park","phone":"+14155550101","groups":["students"]},{"name":"Cy","phone":"12"},{"name":"Ana Ortiz 1","phone":"+14155552671"}]}'
p POST /v1/staff '{"name":"Dana Lee","email":"dana@example.com","role":"staff","credits_per_month":10}'
p POST /v1/api-keys '{"name":"Website signup form"}'
sleep 3
p POST /v1/messages '{"groups":["families"],"body":"Hi {{first_name}}, the gym closes at 5 today.","override_sending_hours":true}'
"$BIN" plans set --database "$DB" --org "$ORG" --name Starter --credits 100 >/dev/null && echo "seed plan"
"$BIN" simulate inbound --server "$B" --database "$DB" --org "$ORG" --from +14155552671 "Thanks! See you" >/dev/null \
    && echo "seed inbound"

# --- run ------------------------------------------------------------------------------
# shellcheck disable=SC2086
"$ST" run "$SPEC" --url "$B" -H "Authorization: Bearer $KEY" \
    --checks all --exclude-path /metrics \
    --max-time "$MAX_TIME" --workers 1 --seed 1 \
    --report junit --report-dir "$JUNIT_DIR" --no-color ${ST_EXTRA:-}
STATUS=$?
echo "schemathesis exit code: $STATUS"
exit $STATUS
