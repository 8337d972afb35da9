"""receivers.py — the chaos run's mail sink and webhook receiver (issue 25), python3's standard
library only. Both keep every copy they accept, in memory (the driver is never killed), keyed
by the id a retry reuses (the Message-ID of an e-mail, the webhook-id of a POST), and both can
be dropped (the port closed, open connections cut) and brought back on the same port. They
listen on 127.0.0.1, or on the address given (the containers' network's gateway, in the
container run).

The sink speaks enough SMTP for libcurl (EHLO, MAIL, RCPT, DATA, QUIT; no STARTTLS offered):
a message is kept before its "250" goes out, so one acknowledged is one kept. The receiver
checks each POST as the Standard Webhooks specification says (webhook-id, webhook-timestamp
within five minutes, webhook-signature "v1,base64(HMAC-SHA256(key, id.timestamp.body))" with
the key the base64 after "whsec_"), answers 204 when it holds and 401 when not; a bad
signature is counted, never kept."""

import base64
import email
import email.header
import email.policy
import hashlib
import hmac
import http.server
import json
import socket
import socketserver
import threading
import time


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


class Dropable:
    """A server on a fixed port of 127.0.0.1 (or of `host`) that can be stopped (port closed,
    connections cut) and started again."""

    handler = None

    def __init__(self, port, host="127.0.0.1"):
        self.port, self.host = port, host
        self.server = None
        self.sessions = set()
        self.lock = threading.Lock()
        self.drops = 0
        self.times = {}     # id -> when each copy came

    def start(self):
        for _ in range(100):  # the port of before may linger a moment after a drop
            try:
                self.server = _Server((self.host, self.port), self.handler)
                break
            except OSError:
                time.sleep(0.1)
        else:
            raise RuntimeError("cannot listen on %s:%d again" % (self.host, self.port))
        self.server.owner = self
        threading.Thread(target=self.server.serve_forever, args=(0.1,), daemon=True).start()

    def stop(self):
        server, self.server = self.server, None
        if not server:
            return
        server.shutdown()
        server.server_close()
        with self.lock:
            for s in list(self.sessions):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
        self.drops += 1

    @property
    def up(self):
        return self.server is not None


class _SmtpSession(socketserver.StreamRequestHandler):
    def handle(self):
        owner = self.server.owner
        with owner.lock:
            owner.sessions.add(self.connection)
        try:
            self._talk(owner)
        except OSError:
            pass
        finally:
            with owner.lock:
                owner.sessions.discard(self.connection)

    def _say(self, line):
        self.wfile.write(line.encode() + b"\r\n")
        self.wfile.flush()

    def _talk(self, owner):
        self._say("220 chaos sink ESMTP")
        while True:
            line = self.rfile.readline(65536)
            if not line:
                return
            verb = line[:4].upper()
            if verb == b"EHLO":
                self._say("250-chaos\r\n250-8BITMIME\r\n250 SIZE 10000000")
            elif verb in (b"HELO", b"MAIL", b"RCPT", b"RSET", b"NOOP"):
                self._say("250 ok")
            elif verb == b"DATA":
                self._say("354 go on")
                lines = []
                while True:
                    got = self.rfile.readline(65536)
                    if not got:
                        return  # cut before the end: not accepted
                    if got.rstrip(b"\r\n") == b".":
                        break
                    lines.append(got[1:] if got.startswith(b".") else got)
                owner.keep(b"".join(lines))
                self._say("250 queued")
            elif verb == b"QUIT":
                self._say("221 bye")
                return
            else:
                self._say("502 no")


class SmtpSink(Dropable):
    handler = _SmtpSession

    def __init__(self, port, host="127.0.0.1"):
        super().__init__(port, host)
        self.copies = {}    # Message-ID -> how many copies came
        self.mails = {}     # Message-ID -> {to, text}

    def keep(self, raw):
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        mid = (msg.get("Message-ID") or "").strip().strip("<>")
        to = (msg.get("To") or "").strip().strip("<>")
        try:
            text = msg.get_content()
        except (LookupError, ValueError):
            text = ""
        with self.lock:
            self.copies[mid] = self.copies.get(mid, 0) + 1
            self.times.setdefault(mid, []).append(time.time())
            self.mails.setdefault(mid, {"to": to, "text": text})


class _HookHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def handle(self):
        owner = self.server.owner
        with owner.lock:
            owner.sessions.add(self.connection)
        try:
            super().handle()
        except OSError:
            pass
        finally:
            with owner.lock:
                owner.sessions.discard(self.connection)

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        ok = self.server.owner.verify(self.headers, body)
        if ok:
            self.server.owner.keep(self.headers["webhook-id"], body)
        self.send_response(204 if ok else 401)
        self.send_header("Content-Length", "0")
        self.end_headers()


class WebhookReceiver(Dropable):
    handler = _HookHandler

    def __init__(self, port, secret, host="127.0.0.1"):
        super().__init__(port, host)
        self.key = base64.b64decode(secret[len("whsec_"):])
        self.copies = {}    # webhook-id -> how many copies came
        self.hooks = {}     # webhook-id -> the body's data
        self.bad = 0        # POSTs whose signature or timestamp does not hold

    def verify(self, headers, body):
        wid, stamp = headers.get("webhook-id"), headers.get("webhook-timestamp")
        sigs = (headers.get("webhook-signature") or "").split()
        good = False
        if wid and stamp and stamp.isdigit() and abs(time.time() - int(stamp)) <= 300:
            mac = hmac.new(self.key, wid.encode() + b"." + stamp.encode() + b"." + body,
                           hashlib.sha256).digest()
            want = base64.b64encode(mac).decode()
            good = any(s.startswith("v1,") and hmac.compare_digest(s[3:], want) for s in sigs)
        if not good:
            with self.lock:
                self.bad += 1
        return good

    def keep(self, wid, body):
        try:
            data = json.loads(body).get("data", {})
        except ValueError:
            data = {}
        with self.lock:
            self.copies[wid] = self.copies.get(wid, 0) + 1
            self.times.setdefault(wid, []).append(time.time())
            self.hooks.setdefault(wid, data)
