# The test SMTP server: aiosmtpd on 127.0.0.1:PORT, run as
#   python3 regulars_smtp_server.py PORT MAIL_DIR LOGINS_JSON
# Stores each message as JSON (envelope, decoded headers, decoded text body, raw source,
# the login it came under) in MAIL_DIR, or answers with the reply written in
# MAIL_DIR/reply (for fault tests) without storing. When LOGINS_JSON lists
# [user, password] pairs, AUTH PLAIN/LOGIN is required over plain TCP (the server is on
# loopback) and any other pair gets 535.
import email, json, os, sys, threading, warnings
from email import policy

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

# aiosmtpd warns that AUTH without TLS is unsafe: this server is on loopback only.
warnings.filterwarnings("ignore")


class Store:
    def __init__(self, out_dir):
        self.out_dir = out_dir
        self.count = 0

    async def handle_DATA(self, server, session, envelope):
        reply_file = os.path.join(self.out_dir, "reply")
        if os.path.exists(reply_file):
            with open(reply_file, encoding="utf-8") as f:
                return f.read().strip()
        raw = envelope.original_content or envelope.content
        msg = email.message_from_bytes(raw, policy=policy.default)
        part = msg.get_body(preferencelist=("plain",))
        login = session.auth_data
        doc = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "headers": [[k, str(v)] for k, v in msg.items()],
            "body": part.get_content() if part is not None else None,
            "raw": raw.decode("utf-8", "replace"),
            "auth_user": login if isinstance(login, str) else None,
        }
        self.count += 1
        name = "%06d.json" % self.count
        tmp = os.path.join(self.out_dir, "." + name)
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(doc, f, ensure_ascii=False)
        os.rename(tmp, os.path.join(self.out_dir, name))
        return "250 Message accepted for delivery"


class Logins:
    """Accepts exactly the given user/password pairs; the session keeps the user."""

    def __init__(self, pairs):
        self.pairs = {(user, password) for user, password in pairs}

    def __call__(self, server, session, envelope, mechanism, auth_data):
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        user = auth_data.login.decode("utf-8", "replace")
        password = auth_data.password.decode("utf-8", "replace")
        if (user, password) in self.pairs:
            return AuthResult(success=True, auth_data=user)
        return AuthResult(success=False, handled=False)


def main():
    port, out_dir, logins_file = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    with open(logins_file, encoding="utf-8") as f:
        pairs = json.load(f)
    options = {}
    if pairs:
        options = dict(
            authenticator=Logins(pairs), auth_required=True, auth_require_tls=False
        )
    controller = Controller(Store(out_dir), hostname="127.0.0.1", port=port, **options)
    controller.start()
    threading.Event().wait()


main()
