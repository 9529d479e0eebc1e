#!/usr/bin/env python3
"""Send a small, bounded burst of API requests to the local backend so Prometheus has latency data.

Environment: VERIFY_BASE_URL (http://127.0.0.1:3000), VERIFY_PATH, VERIFY_REQUESTS (count), VERIFY_MAX_SECONDS
(wall-clock bound), VERIFY_TOKENS (comma-separated bearer tokens, used round-robin; every fifth request has none).
Prints one JSON line: requests sent, seconds taken and the count per HTTP status.
"""

import json
import os
import time
import urllib.error
import urllib.request


def main():
    base = os.environ.get("VERIFY_BASE_URL", "http://127.0.0.1:3000")
    path = os.environ.get("VERIFY_PATH", "/api/v1/ceo/summary")
    count = min(int(os.environ.get("VERIFY_REQUESTS", "60")), 1000)
    deadline = time.monotonic() + min(float(os.environ.get("VERIFY_MAX_SECONDS", "30")), 120.0)
    tokens = [t for t in os.environ.get("VERIFY_TOKENS", "").split(",") if t]
    statuses = {}
    sent = 0
    started = time.monotonic()
    while sent < count and time.monotonic() < deadline:
        request = urllib.request.Request(base + path)
        if tokens and sent % 5 != 4:
            request.add_header("Authorization", "Bearer " + tokens[sent % len(tokens)])
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                response.read()
                code = response.status
        except urllib.error.HTTPError as exc:
            code = exc.code
        except (urllib.error.URLError, OSError):
            code = -1
        statuses[str(code)] = statuses.get(str(code), 0) + 1
        sent += 1
    print(json.dumps({"sent": sent, "seconds": round(time.monotonic() - started, 2), "statuses": statuses}))


if __name__ == "__main__":
    main()
