#!/usr/bin/env python3
"""The review's attack, over HTTP, against a real `textcredits serve` on a fresh SQLite file:
organisation A imports N contacts in G groups each (one POST /v1/contacts/import) while
organisation B adds one contact at a time (POST /v1/contacts every 10 ms). Prints how long the
import took and B's write latencies (p50, p99, max). Works against older servers too (they answer
the import when done; newer ones answer at once and add it in a job, which this polls).

    bench/import_over_http.py .build/release/textcredits [--contacts 10000] [--groups 50]
"""
import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request


def call(method, url, key, body=None):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, method=method, data=data)
    request.add_header("Authorization", f"Bearer {key}")
    request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=600) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def organisation(binary, database, name):
    out = subprocess.run(
        [binary, "orgs", "create", "--database", database, "--name", name, "--country", "US",
         "--timezone", "America/Chicago", "--credit-mode", "shared"],
        check=True, capture_output=True, text=True).stdout
    for line in out.splitlines():
        if "api_key" in line:
            return line.split()[1]
    raise SystemExit(f"no api_key in: {out}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("binary")
    parser.add_argument("--contacts", type=int, default=10_000)
    parser.add_argument("--groups", type=int, default=50)
    args = parser.parse_args()
    directory = tempfile.mkdtemp(prefix="import-http-")
    database = f"sqlite:{directory}/bench.sqlite"
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    subprocess.run([args.binary, "migrate", "--database", database], check=True, capture_output=True)
    key_a = organisation(args.binary, database, "Big School")
    key_b = organisation(args.binary, database, "Small Studio")
    server = subprocess.Popen([args.binary, "serve", "--port", str(port), "--database", database,
                               "--log-level", "error"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(300):
            try:
                urllib.request.urlopen(base + "/health", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        rows = [{"name": f"Parent {i} Example", "phone": f"+1415{200 + i // 8000}{2000 + i % 8000}",
                 "groups": [f"class {g:02}" for g in range(args.groups)]} for i in range(args.contacts)]
        payload = {"contacts": rows}
        size = len(json.dumps(payload).encode())
        done = threading.Event()
        latencies = []

        def office():
            index = 0
            while not done.is_set():
                started = time.monotonic()
                status, _ = call("POST", base + "/v1/contacts", key_b,
                                 {"name": f"Walk-in {index}", "phone": f"+1628{200 + index // 8000}{2000 + index % 8000}"})
                latencies.append((time.monotonic() - started) * 1000)
                if status != 201:
                    print(f"office write answered {status}", file=sys.stderr)
                index += 1
                time.sleep(0.01)

        writer = threading.Thread(target=office)
        writer.start()
        time.sleep(0.5)
        started = time.monotonic()
        status, body = call("POST", base + "/v1/contacts/import", key_a, payload)
        answered = time.monotonic() - started
        if status == 202:
            while True:
                _, job = call("GET", f"{base}/v1/contacts/imports/{body['id']}", key_a)
                if job["status"] in ("completed", "failed"):
                    break
                time.sleep(0.2)
        finished = time.monotonic() - started
        time.sleep(0.5)
        done.set()
        writer.join()
        ordered = sorted(latencies)
        p99 = ordered[min(len(ordered) - 1, len(ordered) * 99 // 100)]
        print(f"{args.contacts} contacts × {args.groups} groups ({size / 1e6:.1f} MB): import answered {status} "
              f"after {answered:.1f} s, every row added after {finished:.1f} s")
        print(f"other organisation: {len(ordered)} writes, p50 {statistics.median(ordered):.1f} ms, "
              f"p99 {p99:.1f} ms, max {ordered[-1]:.1f} ms")
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
