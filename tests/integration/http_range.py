#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""A static HTTP server on 127.0.0.1 that answers Range requests (python's http.server does
not), for the https/http source tests: nbdkit's curl plugin needs byte ranges.

usage: http_range.py DIR PORTFILE   serves DIR; writes the port it bound to PORTFILE once
listening (the test waits for that file, not for a fixed time). With HTTP_RANGE_AUTH=USER:PASS
in the environment, paths under /private/ answer 401 without those Basic credentials.
"""
import base64
import http.server
import os
import re
import sys


class Handler(http.server.SimpleHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as real servers (curl reuses connections)

    def log_message(self, *args):
        pass

    def send_head(self):
        auth = os.environ.get("HTTP_RANGE_AUTH")
        want = "Basic " + base64.b64encode(auth.encode()).decode() if auth else None
        if want and self.path.startswith("/private/") and self.headers.get("Authorization") != want:
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Basic realm="test"')
            self.send_header("Content-Length", "0")
            self.end_headers()
            return None
        path = self.translate_path(self.path)
        if not os.path.isfile(path):
            self.send_error(404)
            return None
        size = os.path.getsize(path)
        rng = self.headers.get("Range")
        start, end = 0, size - 1
        m = re.fullmatch(r"bytes=(\d+)-(\d*)", rng or "")
        f = open(path, "rb")
        if m:
            start = int(m.group(1))
            end = min(int(m.group(2)) if m.group(2) else size - 1, size - 1)
            if start > end:
                f.close()
                self.send_error(416)
                return None
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
        else:
            self.send_response(200)
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("Content-Length", str(end - start + 1))
        self.end_headers()
        f.seek(start)
        self.remaining = end - start + 1
        return f

    def copyfile(self, source, outputfile):
        while self.remaining > 0:
            chunk = source.read(min(self.remaining, 1 << 20))
            if not chunk:
                break
            outputfile.write(chunk)
            self.remaining -= len(chunk)


def main():
    directory, portfile = sys.argv[1], sys.argv[2]
    handler = lambda *a, **k: Handler(*a, directory=directory, **k)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    with open(portfile + ".tmp", "w") as f:
        f.write(str(server.server_address[1]))
    os.rename(portfile + ".tmp", portfile)
    server.serve_forever()


if __name__ == "__main__":
    main()
