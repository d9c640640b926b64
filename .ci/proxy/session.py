#!/usr/bin/env python3
"""A short session through nginx with TLS (started by session.sh beside this file).

Through the proxy, over https checked against the session's own certificate: signing in on the
portal gives a session cookie that is Secure and HttpOnly, redirects stay on https, and a
Twilio-style webhook signed over the PUBLIC https URL is accepted (and reaches the inbox) while a
wrong signature, or one made for the address the server listens on, is refused. Sent straight to a
second server started without --trusted-proxy, the same forwarded headers change nothing: a webhook
signed for the URL they claim is refused and cookies stay as plain http gives them.

Python's standard library only (http.client, ssl, hmac): nothing here shares code with the server.
Usage: session.py BINARY PROXIED_URL PROXIED_DB LISTENING_URL DIRECT_URL DIRECT_DB CA_FILE
(LISTENING_URL: where the proxied server listens, behind nginx.)
"""
import base64
import hashlib
import hmac
import http.client
import json
import re
import sqlite3
import ssl
import subprocess
import sys
import time
import urllib.parse

PASSWORD = "correct horse battery staple"
WEBHOOK = "/webhooks/simulator/inbound"


def check(condition, message):
    if not condition:
        raise SystemExit("FAILED: " + message)
    print("ok   " + message)


def twilio_signature(url, parameters, token):
    """Twilio's request signature: HMAC-SHA1 over the URL and the sorted parameters, base64."""
    data = url + "".join(key + parameters[key] for key in sorted(parameters))
    return base64.b64encode(hmac.new(token.encode(), data.encode(), hashlib.sha1).digest()).decode()


class Server:
    """One running `textcredits serve`, reached at `base` (through nginx, or directly)."""

    def __init__(self, binary, base, database, ca_file=None):
        self.binary = binary
        self.base = base
        self.database = database
        parts = urllib.parse.urlsplit(base)
        self.scheme, self.host, self.port = parts.scheme, parts.hostname, parts.port
        self.context = ssl.create_default_context(cafile=ca_file) if parts.scheme == "https" else None

    def request(self, method, path, body=None, headers=None):
        if self.context:
            connection = http.client.HTTPSConnection(self.host, self.port, context=self.context, timeout=15)
        else:
            connection = http.client.HTTPConnection(self.host, self.port, timeout=15)
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        response.text = response.read().decode("utf-8", "replace")
        connection.close()
        return response

    def wait_until_up(self):
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                if self.request("GET", "/health").status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.3)
        raise SystemExit("FAILED: %s did not answer /health within 60 s" % self.base)

    def cli(self, *arguments):
        return subprocess.run([self.binary, *arguments, "--database", self.database], check=True, capture_output=True,
                              text=True, stdin=subprocess.DEVNULL).stdout

    def set_up(self, name):
        created = json.loads(self.cli("orgs", "create", "--name", name, "--country", "US", "--timezone", "America/Chicago",
                                      "--owner-password", PASSWORD, "--json"))
        self.email, self.key = created["owner_email"], created["api_key"]
        numbers = json.loads(self.request("GET", "/v1/numbers", headers={"Authorization": "Bearer " + self.key}).text)
        self.number = (numbers.get("data") or numbers.get("numbers") or [{}])[0].get("number")
        check(self.number is not None, "%s: the organisation has a number to text (%s)" % (self.base, numbers))
        path = self.database[len("sqlite:"):]
        with sqlite3.connect("file:%s?mode=ro" % path, uri=True) as db:
            self.token = db.execute("SELECT value FROM server_secrets WHERE name = 'simulator_auth_token'").fetchone()[0]

    def sign_in(self, headers=None):
        """Signs the owner in; returns the sign-in POST's response and the cookies set on the way."""
        headers = headers or {}
        form = self.request("GET", "/sign-in", headers=headers)
        token = re.search(r'name="_csrf" value="([0-9a-f]+)"', form.text).group(1)
        cookies = form.headers.get_all("Set-Cookie") or []
        jar = "; ".join(cookie.split(";")[0] for cookie in cookies)
        body = urllib.parse.urlencode({"_csrf": token, "email": self.email, "password": PASSWORD, "next": "/dashboard"})
        signed_in = self.request("POST", "/sign-in", body=body, headers={
            **headers, "Cookie": jar, "Content-Type": "application/x-www-form-urlencoded"})
        return form, signed_in, cookies + (signed_in.headers.get_all("Set-Cookie") or [])

    def webhook(self, signed_for, signature=None, headers=None, sender="+14155550123"):
        parameters = {"MessageSid": "SMproxy%d" % int(time.time() * 1000), "From": sender, "To": self.number,
                      "Body": "Through the proxy", "NumSegments": "1", "AccountSid": "ACsimulator"}
        signature = signature or twilio_signature(signed_for + WEBHOOK, parameters, self.token)
        return self.request("POST", WEBHOOK, body=urllib.parse.urlencode(parameters), headers={
            **(headers or {}), "Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature})


def cookie(name, cookies):
    return next((value for value in cookies if value.startswith(name + "=")), None)


def attributes(value):
    return {part.strip().split("=")[0].lower() for part in (value or "").split(";")[1:]}


def stays_on(base, location):
    target = urllib.parse.urlsplit(urllib.parse.urljoin(base + "/", location or ""))
    origin = urllib.parse.urlsplit(base)
    return location and target.scheme == origin.scheme and target.netloc == origin.netloc


def through_the_proxy(server, listening):
    health = server.request("GET", "/health")
    check(health.status == 200, "GET /health over https through nginx answers 200 (certificate checked)")
    check("max-age" in (health.headers.get("Strict-Transport-Security") or ""), "https responses carry HSTS")

    form, signed_in, cookies = server.sign_in()
    check(signed_in.status == 303, "signing in through the proxy redirects (303, got %d)" % signed_in.status)
    location = signed_in.headers.get("Location")
    check(stays_on(server.base, location), "the sign-in redirect stays on %s (Location: %s)" % (server.base, location))
    session = cookie("tc_session", cookies)
    check(session is not None, "signing in sets the session cookie")
    check({"secure", "httponly"} <= attributes(session), "the session cookie is Secure and HttpOnly: " + session)
    for value in cookies:
        check("secure" in attributes(value), "every cookie over https is Secure: " + value.split("=")[0])
    jar = {"Cookie": session.split(";")[0]}
    dashboard = server.request("GET", "/dashboard", headers=jar)
    check(dashboard.status == 200 and "Proxy Academy" in dashboard.text, "the dashboard opens with that cookie")
    home = server.request("GET", "/", headers=jar)
    check(home.status in (302, 303) and stays_on(server.base, home.headers.get("Location")),
          "GET / redirects to the dashboard on https (Location: %s)" % home.headers.get("Location"))
    anonymous = server.request("GET", "/dashboard")
    check(anonymous.status in (302, 303) and stays_on(server.base, anonymous.headers.get("Location")),
          "a signed-out visit is sent to the sign-in page on https (Location: %s)" % anonymous.headers.get("Location"))

    accepted = server.webhook(server.base, sender="+14155550177")
    check(accepted.status == 200, "a webhook signed over the public https URL is accepted (%d %s)"
          % (accepted.status, accepted.text[:200]))
    conversations = server.request("GET", "/v1/conversations", headers={"Authorization": "Bearer " + server.key})
    check("+14155550177" in conversations.text, "the text it carried reached the inbox")
    wrong = server.webhook(server.base, signature=base64.b64encode(b"not the signature at all!").decode())
    check(wrong.status == 403, "the same webhook with a wrong signature is refused (%d)" % wrong.status)
    internal = server.webhook(listening)
    check(internal.status == 403,
          "a signature over the address the server listens on (%s) is refused through the proxy (%d)"
          % (listening, internal.status))


def straight_to_an_untrusting_server(server):
    claimed = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "texts.example.org", "X-Forwarded-For": "203.0.113.9"}
    forged = server.webhook("https://texts.example.org", headers=claimed)
    check(forged.status == 403, "without --trusted-proxy, a webhook signed for the URL forwarded headers claim "
          "is refused (%d)" % forged.status)
    own = server.webhook(server.base, headers=claimed)
    check(own.status == 200, "the same webhook signed for the server's own URL is accepted (%d)" % own.status)
    form, signed_in, cookies = server.sign_in(headers=claimed)
    session = cookie("tc_session", cookies)
    check(signed_in.status == 303 and session is not None, "signing in directly works")
    check("secure" not in attributes(session), "X-Forwarded-Proto from an untrusted peer does not make cookies Secure")
    check(form.headers.get("Strict-Transport-Security") is None, "nor does it turn on HSTS")


def main():
    binary, proxied_url, proxied_db, listening, direct_url, direct_db, ca_file = sys.argv[1:8]
    proxied = Server(binary, proxied_url, proxied_db, ca_file)
    direct = Server(binary, direct_url, direct_db)
    proxied.wait_until_up()
    direct.wait_until_up()
    proxied.set_up("Proxy Academy")
    direct.set_up("Direct Academy")
    through_the_proxy(proxied, listening)
    straight_to_an_untrusting_server(direct)
    print("proxy session passed")


if __name__ == "__main__":
    main()
