#!/usr/bin/env python3
"""Tiny webhook receiver for the monitoring scenario: appends every POST (path + JSON body) to a JSON-lines file."""

import json
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer

OUTPUT = sys.argv[1] if len(sys.argv) > 1 else "/var/lib/webhook-receiver/received.jsonl"
PORT = int(sys.argv[2]) if len(sys.argv) > 2 else 9099


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802 - http.server naming
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        try:
            payload = json.loads(body)
        except ValueError:
            payload = {"raw": body.decode(errors="replace")}
        record = {"path": self.path, "authorization": self.headers.get("Authorization", ""), "payload": payload}
        with open(OUTPUT, "a", encoding="utf-8") as out:
            out.write(json.dumps(record) + "\n")
        self.send_response(200)
        self.end_headers()

    def log_message(self, *_args):
        pass


if __name__ == "__main__":
    HTTPServer(("127.0.0.1", PORT), Handler).serve_forever()
