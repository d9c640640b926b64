"""A local SMTP server for the SMTP client's tests: STARTTLS required before AUTH, AUTH PLAIN
with user "mailer" / password "s3cret", recipients @nowhere.example refused (550), and every
accepted message appended to a JSON-lines file. Prints "PORT CERTFILE" on its first line of output, then serves until its standard input
closes (the test ended, however it ended) or it is terminated.
Usage: python smtp_server.py OUTFILE"""
import json, os, signal, socket, ssl, subprocess, sys, tempfile
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

out_path = sys.argv[1]
workdir = tempfile.mkdtemp()
cert, key = os.path.join(workdir, "cert.pem"), os.path.join(workdir, "key.pem")
subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "1",
                "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
               check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
context.load_cert_chain(cert, key)

def authenticator(server, session, envelope, mechanism, auth_data):
    ok = isinstance(auth_data, LoginPassword) and auth_data.login == b"mailer" and auth_data.password == b"s3cret"
    return AuthResult(success=ok)

class Handler:
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.endswith("@nowhere.example"):
            return "550 5.1.1 No such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with open(out_path, "a") as out:
            out.write(json.dumps({"from": envelope.mail_from, "to": envelope.rcpt_tos, "tls": session.ssl is not None,
                                  "data": envelope.content.decode("utf-8")}) + "\n")
        return "250 Message accepted"

sock = socket.socket(); sock.bind(("127.0.0.1", 0)); port = sock.getsockname()[1]; sock.close()
controller = Controller(Handler(), hostname="127.0.0.1", port=port, tls_context=context, require_starttls=True,
                        authenticator=authenticator, auth_require_tls=True, auth_required=True)
controller.start()
print(port, cert, flush=True)
signal.signal(signal.SIGTERM, signal.SIG_DFL)
sys.stdin.read()
os._exit(0)
