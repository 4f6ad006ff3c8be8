#!/usr/bin/env python3
"""fake-registry.py - a registry that misbehaves on purpose, for the client's tests.

    fake-registry.py DIR MODE BLOB

Serves the file BLOB as every blob (its digest is the file's sha256) on
127.0.0.1, a port chosen by the kernel and written to DIR/port. Each request
is appended to DIR/requests as "METHOD PATH RANGE AUTH". MODE:

    ok          serve the blob (Range honoured)
    wrong       same length, different bytes
    long        the blob plus one extra byte
    close-mid   first GET: half the blob, then the connection closes; later
                GETs honour Range
    norange     like close-mid, but later GETs ignore Range (200, whole blob)
    hang        first GET: half the blob, then nothing for 60 s
    500x3       the first 3 blob GETs answer 500, then the blob
    500always   every blob GET answers 500
    redirect    /v2/ wants Basic auth; blob GETs redirect (307) to
                http://localhost:PORT/storage/..., which refuses (403) any
                request that carries an Authorization header
    bearer      /v2/ wants a Bearer token from /token (Basic user:pass
                required there when DIR/creds holds "user:pass")
    expire      like bearer, but each token is good for 2 requests: the
                client must fetch a new one when refused

The server exits by itself after 300 s. TLS handshakes are dropped at once,
so a client that tries https first falls back to http quickly.
"""
import base64
import hashlib
import http.server
import os
import socket
import sys
import threading
import time

DIR, MODE, BLOB = sys.argv[1], sys.argv[2], sys.argv[3]
DATA = open(BLOB, "rb").read()
DIGEST = "sha256:" + hashlib.sha256(DATA).hexdigest()
LOCK = threading.Lock()
COUNT = {"blob": 0, "token": 0}
USES = {}


def log(line):
    with LOCK:
        with open(os.path.join(DIR, "requests"), "a") as f:
            f.write(line + "\n")


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def handle(self):
        try:
            first = self.connection.recv(1, socket.MSG_PEEK)
        except OSError:
            return
        if first == b"\x16":  # a TLS ClientHello: we speak plain http only
            return
        super().handle()

    def reply(self, code, body=b"", headers=()):
        self.send_response(code)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def auth_ok(self):
        auth = self.headers.get("Authorization", "")
        if MODE == "redirect":
            if auth.startswith("Basic "):
                return True
            self.reply(401, b'{"errors":[{"code":"UNAUTHORIZED","message":"basic"}]}',
                       [("WWW-Authenticate", 'Basic realm="fake"')])
            return False
        if MODE in ("bearer", "expire"):
            tok = auth[len("Bearer "):] if auth.startswith("Bearer tok-") else None
            if tok and MODE == "expire":
                with LOCK:
                    USES[tok] = USES.get(tok, 0) + 1
                    if USES[tok] > 2:
                        tok = None
            if tok:
                return True
            port = self.server.server_address[1]
            self.reply(401, b'{"errors":[{"code":"UNAUTHORIZED","message":"token"}]}',
                       [("WWW-Authenticate",
                         'Bearer realm="http://127.0.0.1:%d/token",service="fake-svc"' % port)])
            return False
        return True

    def token(self):
        creds_file = os.path.join(DIR, "creds")
        if os.path.exists(creds_file):
            want = "Basic " + base64.b64encode(open(creds_file).read().strip().encode()).decode()
            if self.headers.get("Authorization", "") != want:
                self.reply(401, b'{"errors":[{"code":"UNAUTHORIZED","message":"bad creds"}]}')
                return
        with LOCK:
            COUNT["token"] += 1
            n = COUNT["token"]
        self.reply(200, b'{"access_token":"tok-%d","expires_in":300}' % n,
                   [("Content-Type", "application/json")])

    def send_blob(self, data, honour_range=True):
        rng = self.headers.get("Range")
        start = 0
        if rng and honour_range and rng.startswith("bytes="):
            start = int(rng[6:].split("-")[0])
        if start:
            self.send_response(206)
            self.send_header("Content-Range", "bytes %d-%d/%d" % (start, len(data) - 1, len(data)))
        else:
            self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Docker-Content-Digest", DIGEST)
        self.send_header("Content-Length", str(len(data) - start))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data[start:])

    def send_half(self, then):
        self.send_response(200)
        self.send_header("Content-Length", str(len(DATA)))
        self.end_headers()
        self.wfile.write(DATA[: len(DATA) // 2])
        self.wfile.flush()
        if then == "hang":
            for _ in range(600):  # bounded: 60 s, or until the client goes
                time.sleep(0.1)
                try:
                    if self.connection.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b"":
                        break
                except BlockingIOError:
                    pass
                except OSError:
                    break
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        log("%s %s %s %s" % (self.command, self.path, self.headers.get("Range", "-"),
                             (self.headers.get("Authorization") or "-").split(" ")[0]))
        if self.path.startswith("/token"):
            return self.token()
        if self.path.startswith("/storage/"):
            if self.headers.get("Authorization"):
                return self.reply(403, b"credentials leaked to the storage host")
            return self.send_blob(DATA)
        if not self.path.startswith("/v2/"):
            return self.reply(404)
        if not self.auth_ok():
            return
        if self.path == "/v2/":
            return self.reply(200, b"{}")
        if "/blobs/" not in self.path:
            return self.reply(404, b'{"errors":[{"code":"NAME_UNKNOWN","message":"no"}]}')
        with LOCK:
            COUNT["blob"] += 1
            n = COUNT["blob"]
        if MODE == "ok":
            return self.send_blob(DATA)
        if MODE == "wrong":
            return self.send_blob(bytes(b ^ 0x55 for b in DATA))
        if MODE == "long":
            return self.send_blob(DATA + b"x")
        if MODE in ("close-mid", "norange"):
            if n == 1:
                return self.send_half("close")
            return self.send_blob(DATA, honour_range=(MODE == "close-mid"))
        if MODE == "hang":
            if n == 1:
                return self.send_half("hang")
            return self.send_blob(DATA)
        if MODE == "500x3":
            if n <= 3:
                return self.reply(500, b"try later")
            return self.send_blob(DATA)
        if MODE == "500always":
            return self.reply(500, b'{"errors":[{"code":"UNKNOWN","message":"always broken"}]}')
        if MODE == "redirect":
            port = self.server.server_address[1]
            return self.reply(307, b"", [("Location", "http://localhost:%d/storage/%s" % (port, DIGEST))])
        if MODE in ("bearer", "expire"):
            return self.send_blob(DATA)
        return self.reply(500, b"unknown mode")


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    address_family = socket.AF_INET


def main():
    srv = Server(("127.0.0.1", 0), Handler)
    # "localhost" may resolve to ::1 first; the redirect mode needs it on v4 too.
    with open(os.path.join(DIR, "port.tmp"), "w") as f:
        f.write(str(srv.server_address[1]))
    os.rename(os.path.join(DIR, "port.tmp"), os.path.join(DIR, "port"))
    threading.Timer(300, lambda: os._exit(0)).start()
    srv.serve_forever()


main()
