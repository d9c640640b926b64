#!/bin/bash
# GET /contacts with 100,000 contacts, under wrk (release build, SQLite): BENCHMARKS.md.
# Usage: .ci/bench/contacts-page.sh [path/to/release/textcredits]
set -e
B=$(realpath "${1:-.build/release/textcredits}")
D=/tmp/cbench; rm -rf $D; mkdir -p $D; cd $D
DB=sqlite:$D/c.sqlite
$B migrate --database $DB > /dev/null
ORG=$($B orgs create --database $DB --name "Harbour Realty" --country US --timezone America/Chicago --owner-password "correct horse battery" --json)
KEY=$(echo "$ORG" | python3 -c "import json,sys;print(json.load(sys.stdin)['api_key'])")
EMAIL=$(echo "$ORG" | python3 -c "import json,sys;print(json.load(sys.stdin)['owner_email'])")
$B serve --port 8932 --database $DB --log-level warning > server.log 2>&1 &
echo $! > pid; sleep 2
python3 - "$KEY" <<'PY'
import json, sys, urllib.request
key = sys.argv[1]
for batch in range(100):
    rows = [{"name": "Client %d %s" % (batch * 1000 + i, ["Ortiz", "Park", "Diaz", "Nguyen", "Smith"][i % 5]),
             "phone": "+1415%03d%04d" % (200 + batch, 2000 + i), "email": "client%d@example.com" % (batch * 1000 + i),
             "groups": ["buyers" if i % 2 else "sellers"]} for i in range(1000)]
    request = urllib.request.Request("http://127.0.0.1:8932/v1/contacts/import", method="POST",
        data=json.dumps({"contacts": rows, "consent": "opted_in"}).encode(),
        headers={"Authorization": "Bearer " + key, "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=120) as response:
        assert response.status in (200, 201, 202), response.status
print("imported")
PY
sqlite3 $D/c.sqlite "select count(*) from contacts"
rm -f jar
T=$(curl -s -c jar -b jar localhost:8932/sign-in | grep -o 'name="_csrf" value="[0-9a-f]*"' | grep -o '[0-9a-f]\{20,\}')
curl -s -c jar -b jar -o /dev/null -X POST localhost:8932/sign-in --data-urlencode "_csrf=$T" --data-urlencode "email=$EMAIL" --data-urlencode "password=correct horse battery"
COOKIE=$(awk '$6=="tc_session"{print "tc_session="$7}' jar)
for path in "/contacts" "/contacts?search=Park" "/contacts?search=415-203-2500" "/contacts?group=buyers&consent=opted_in"; do
  echo "== GET $path"
  curl -s -o /dev/null -w "status %{http_code}, %{size_download} bytes\n" -H "Cookie: $COOKIE" "localhost:8932$path"
  wrk -t1 -c64 -d15s --latency -H "Cookie: $COOKIE" -H "Accept: text/html" "http://127.0.0.1:8932$path" | grep -E "Requests/sec|50%|99%|Non-2xx|Socket errors"
done
kill $(cat pid)
