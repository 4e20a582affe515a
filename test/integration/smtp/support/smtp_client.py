#!/usr/bin/env python3
"""An independent SMTP client for the engine's tests: Python's smtplib drives one session and prints every reply as JSON.

Usage: smtp_client.py < spec.json   (the spec on stdin: messages may be larger than an argument may be)
spec: {"host", "port", "source"?: "127.0.0.2", "helo"?, "starttls"?: bool,
       "logins"?: [{"user", "password", "mechanism"?: "PLAIN"|"LOGIN"}],
       "messages"?: [{"from", "to": [...], "data": "<RFC 5322 text>"}]}
Output: [{"cmd": "MAIL", "code": 250, "text": "..."}, ...]; a broken session adds {"cmd": "ERROR", ...}.
"""
import json
import smtplib
import ssl
import sys


def main() -> None:
    spec = json.load(sys.stdin)
    out = []

    def rec(cmd, code, msg):
        text = msg.decode("utf-8", "replace") if isinstance(msg, bytes) else str(msg)
        out.append({"cmd": cmd, "code": code, "text": text})

    try:
        s = smtplib.SMTP(timeout=60, source_address=(spec.get("source", "127.0.0.1"), 0))
        rec("CONNECT", *s.connect(spec["host"], spec["port"]))
        # connect() does not record the host; starttls() needs it for the TLS server name.
        s._host = spec["host"]
        rec("EHLO", *s.ehlo(spec.get("helo", "client.mailplane.test")))
        if spec.get("starttls"):
            ctx = ssl.create_default_context()
            # The engine's certificate is self-signed; the test is about the protocol, not the PKI.
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            rec("STARTTLS", *s.starttls(context=ctx))
            rec("EHLO", *s.ehlo(spec.get("helo", "client.mailplane.test")))
        for login in spec.get("logins", []):
            s.user, s.password = login["user"], login["password"]
            mech = login.get("mechanism", "PLAIN")
            auth = s.auth_plain if mech == "PLAIN" else s.auth_login
            try:
                rec("AUTH", *s.auth(mech, auth, initial_response_ok=True))
            except smtplib.SMTPAuthenticationError as e:
                rec("AUTH", e.smtp_code, e.smtp_error)
            except smtplib.SMTPNotSupportedError as e:
                rec("AUTH", 0, str(e))
            except smtplib.SMTPResponseException as e:
                rec("AUTH", e.smtp_code, e.smtp_error)
        for m in spec.get("messages", []):
            code, text = s.mail(m["from"])
            rec("MAIL", code, text)
            if code >= 400:
                s.rset()
                continue
            accepted = 0
            for r in m["to"]:
                code, text = s.rcpt(r)
                rec("RCPT", code, text)
                accepted += 1 if code < 400 else 0
            if accepted == 0:
                s.rset()
                continue
            try:
                rec("DATA", *s.data(m["data"].encode("utf-8")))
            except smtplib.SMTPDataError as e:
                rec("DATA", e.smtp_code, e.smtp_error)
        try:
            s.quit()
        except smtplib.SMTPServerDisconnected:
            pass
    except smtplib.SMTPResponseException as e:
        rec("ERROR", e.smtp_code, e.smtp_error)
    except Exception as e:  # noqa: BLE001 - report anything as a step, the test asserts on it
        rec("ERROR", 0, repr(e))
    print(json.dumps(out))


if __name__ == "__main__":
    main()
