#!/usr/bin/env python3
"""Load for the crash test: N threads send uniquely tokened messages with Python's smtplib, forever,
printing "ACK <token>" the moment the server answered 250 to the message's DATA. A message whose
transaction broke (the server was killed) is sent again with the same token, as a real client
would retry it, until it is acknowledged. Stops when the file given as --stop exists.

Usage: load_client.py --port N --threads N --to ADDRESS --stop FILE [--reuse 0..1]
"""
import argparse
import os
import random
import smtplib
import sys
import threading
import time

lock = threading.Lock()


def say(line: str) -> None:
    with lock:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


def worker(n: int, args) -> None:
    seq = 0
    conn = None
    token = None
    while not os.path.exists(args.stop):
        if token is None:
            seq += 1
            token = f"t{n}-{seq}"
        try:
            if conn is None:
                conn = smtplib.SMTP("127.0.0.1", args.port, timeout=30)
                conn.ehlo("load.mailplane.test")
            body = (
                f"From: load@outside.example\r\nTo: {args.to}\r\nSubject: crash {token}\r\n"
                f"Message-ID: <{token}@load.mailplane.test>\r\nDate: Sat, 31 Jan 2026 12:00:00 +0000\r\n"
                f"X-Token: {token}\r\n\r\n" + ("payload line for the crash test\r\n" * 40)
            )
            code, _ = conn.mail("load@outside.example")
            if code != 250:
                raise smtplib.SMTPException(f"MAIL {code}")
            code, _ = conn.rcpt(args.to)
            if code != 250:
                raise smtplib.SMTPException(f"RCPT {code}")
            code, _ = conn.data(body.encode())
            if code == 250:
                say(f"ACK {token}")
                token = None
            else:
                say(f"NACK {token} {code}")
            if random.random() > args.reuse:
                conn.quit()
                conn = None
        except (OSError, smtplib.SMTPException):
            # The engine is down or restarting: drop the connection and try again shortly.
            try:
                if conn is not None:
                    conn.close()
            except OSError:
                pass
            conn = None
            time.sleep(0.02)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--threads", type=int, default=8)
    p.add_argument("--to", required=True)
    p.add_argument("--stop", required=True)
    p.add_argument("--reuse", type=float, default=0.7)
    args = p.parse_args()
    threads = [threading.Thread(target=worker, args=(i, args), daemon=True) for i in range(args.threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    say("DONE")


if __name__ == "__main__":
    main()
