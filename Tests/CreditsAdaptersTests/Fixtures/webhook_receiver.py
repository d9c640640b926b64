"""A local webhook endpoint for the outbound webhook tests. Every request to /hook/NAME is checked
with the `standardwebhooks` library from PyPI (not our own verifier) against each secret listed
for NAME in the JSON file SECRETS ({"NAME": ["whsec_…", …]}, read at each request), and appended
to the JSON-lines file OUT as {"name", "id", "timestamp", "signature", "body", "verified": [one
bool per secret], "status"}. /hook/NAME/CODES (e.g. /hook/flaky/500,500,500) answers the listed
status codes to its first requests, then 200. Prints "PORT" on its first line, then serves until
its standard input closes (the test ended) or it is terminated.
Usage: python webhook_receiver.py OUT SECRETS"""
import json, sys, threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

out_path, secrets_path = sys.argv[1], sys.argv[2]
lock = threading.Lock()
counts = {}


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length", "0")))
        parts = self.path.strip("/").split("/")
        name = parts[1] if len(parts) > 1 else ""
        plan = [int(code) for code in parts[2].split(",")] if len(parts) > 2 and parts[2] else []
        try:
            with open(secrets_path) as f:
                secrets = json.load(f).get(name, [])
        except (OSError, ValueError):
            secrets = []
        headers = {k.lower(): v for k, v in self.headers.items()}
        verified = []
        for secret in secrets:
            try:
                Webhook(secret).verify(body, headers)
                verified.append(True)
            except WebhookVerificationError:
                verified.append(False)
        with lock:
            seen = counts.get(self.path, 0)
            counts[self.path] = seen + 1
            status = plan[seen] if seen < len(plan) else 200
            with open(out_path, "a") as f:
                f.write(json.dumps({
                    "name": name, "id": headers.get("webhook-id"), "timestamp": headers.get("webhook-timestamp"),
                    "signature": headers.get("webhook-signature"), "body": body.decode("utf-8"),
                    "verified": verified, "status": status,
                }) + "\n")
        self.send_response(status)
        self.send_header("content-length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):
        pass


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
threading.Thread(target=server.serve_forever, daemon=True).start()
sys.stdin.read()
server.shutdown()
