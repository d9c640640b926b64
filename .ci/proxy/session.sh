#!/usr/bin/env bash
# The server behind nginx with TLS, as an operator runs it: a self-signed certificate for
# 127.0.0.1, nginx (as this user, everything in a temporary folder) terminating TLS and forwarding
# to `textcredits serve --public-url https://127.0.0.1:PORT --trusted-proxy 127.0.0.1` on a fresh
# SQLite database, and a second server started without --trusted-proxy. session.py beside this file
# then runs the session and says what it checks. Logs are printed when something fails.
# Usage: .ci/proxy/session.sh PATH/TO/textcredits   (PYTHON=… picks the interpreter; default python3)
set -euo pipefail
binary=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
here=$(cd "$(dirname "$0")" && pwd)
python=${PYTHON:-python3}
nginx=$(command -v nginx || echo /usr/sbin/nginx)
work=$(mktemp -d /tmp/textcredits-proxy.XXXXXX)
pids=()

finish() {
  status=$?
  [ -f "$work/nginx.pid" ] && kill "$(cat "$work/nginx.pid")" 2>/dev/null || true
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [ "$status" -ne 0 ]; then
    for log in error.log access.log proxied.log direct.log; do
      [ -f "$work/$log" ] && { echo "--- $log"; tail -n 40 "$work/$log"; }
    done
  fi
  rm -rf "$work"
  exit "$status"
}
trap finish EXIT

free_port() { "$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
proxy_port=$(free_port)
server_port=$(free_port)
direct_port=$(free_port)

echo "== a self-signed certificate for 127.0.0.1"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=127.0.0.1" -addext "subjectAltName=IP:127.0.0.1" \
  -keyout "$work/key.pem" -out "$work/cert.pem" 2>/dev/null

echo "== nginx on https://127.0.0.1:$proxy_port in front of the server on 127.0.0.1:$server_port"
# Run as root (CI), nginx would hand its workers to "nobody", who cannot enter this folder.
user_line=""
[ "$(id -u)" -eq 0 ] && user_line="user root;"
cat > "$work/nginx.conf" <<EOF
$user_line
worker_processes 1;
pid $work/nginx.pid;
error_log $work/error.log warn;
events { worker_connections 64; }
http {
    access_log $work/access.log;
    client_body_temp_path $work/client_body;
    proxy_temp_path $work/proxy;
    fastcgi_temp_path $work/fastcgi;
    uwsgi_temp_path $work/uwsgi;
    scgi_temp_path $work/scgi;
    server {
        listen 127.0.0.1:$proxy_port ssl;
        server_name 127.0.0.1;
        ssl_certificate $work/cert.pem;
        ssl_certificate_key $work/key.pem;
        client_max_body_size 25m;
        location / {
            proxy_pass http://127.0.0.1:$server_port;
            proxy_set_header Host \$http_host;
            proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto \$scheme;
            proxy_set_header X-Forwarded-Host \$http_host;
        }
    }
}
EOF
"$nginx" -q -t -c "$work/nginx.conf" -p "$work" -e "$work/error.log"
"$nginx" -c "$work/nginx.conf" -p "$work" -e "$work/error.log"

echo "== textcredits serve behind it (--trusted-proxy 127.0.0.1), and one on 127.0.0.1:$direct_port without"
"$binary" serve --port "$server_port" --database "sqlite:$work/proxied.sqlite" \
  --public-url "https://127.0.0.1:$proxy_port" --trusted-proxy 127.0.0.1 --log-level warning \
  </dev/null >"$work/proxied.log" 2>&1 &
pids+=($!)
"$binary" serve --port "$direct_port" --database "sqlite:$work/direct.sqlite" --log-level warning \
  </dev/null >"$work/direct.log" 2>&1 &
pids+=($!)

echo "== the session"
"$python" "$here/session.py" "$binary" "https://127.0.0.1:$proxy_port" "sqlite:$work/proxied.sqlite" \
  "http://127.0.0.1:$server_port" "http://127.0.0.1:$direct_port" "sqlite:$work/direct.sqlite" "$work/cert.pem"
