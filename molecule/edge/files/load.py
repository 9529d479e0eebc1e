#!/usr/bin/env python3
"""Bounded HTTP(S) request loop for the edge scenario: a fixed rate, a request count and a time limit, then a JSON report.

Each request opens its own connection (a client that reuses keep-alive connections must retry on a connection the
server closed; a fresh connection shows what the edge itself does). Failures are anything but a 2xx/3xx answer:
other statuses, connection errors and timeouts. Stops at --max-requests, at --max-seconds, or when --stop-file exists.

    load.py --url https://127.0.0.1/health/ready --url https://127.0.0.1/ --rate 20 --max-requests 6000 \
            --max-seconds 300 --stop-file /tmp/load.stop --out /tmp/load.json --insecure
"""

from __future__ import annotations

import argparse
import http.client
import json
import math
import os
import ssl
import threading
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor


def one_request(url: str, headers: dict[str, str], timeout: float, context: ssl.SSLContext | None) -> dict:
    parts = urllib.parse.urlsplit(url)
    if parts.scheme == "https":
        conn = http.client.HTTPSConnection(parts.hostname, parts.port or 443, timeout=timeout, context=context)
    else:
        conn = http.client.HTTPConnection(parts.hostname, parts.port or 80, timeout=timeout)
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    started = time.monotonic()
    try:
        conn.request("GET", path, headers={**headers, "Connection": "close"})
        response = conn.getresponse()
        response.read()
        return {"status": response.status, "seconds": time.monotonic() - started}
    except (OSError, http.client.HTTPException) as error:
        return {"status": None, "error": f"{type(error).__name__}: {error}", "seconds": time.monotonic() - started}
    finally:
        conn.close()


def percentile(values: list[float], fraction: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, math.ceil(fraction * len(ordered)) - 1))  # nearest rank
    return round(ordered[index], 4)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", action="append", required=True, help="URL to request (repeat: used in turn)")
    parser.add_argument("--header", action="append", default=[], help="extra header 'Name: value'")
    parser.add_argument("--rate", type=float, default=20.0, help="requests per second; 0 = one after the other")
    parser.add_argument("--max-requests", type=int, required=True)
    parser.add_argument("--max-seconds", type=float, required=True)
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds per request")
    parser.add_argument("--stop-file", default="")
    parser.add_argument("--out", required=True)
    parser.add_argument("--insecure", action="store_true", help="do not verify the server certificate")
    args = parser.parse_args()

    headers = dict(h.split(":", 1) for h in args.header)
    headers = {k.strip(): v.strip() for k, v in headers.items()}
    context = ssl._create_unverified_context() if args.insecure else ssl.create_default_context()  # noqa: S323
    results: list[dict] = []
    lock = threading.Lock()
    started = time.monotonic()

    def run(index: int, url: str) -> None:
        result = one_request(url, headers, args.timeout, context)
        result.update(url=url, at=round(time.monotonic() - started, 3), index=index)
        with lock:
            results.append(result)

    sent = 0
    with ThreadPoolExecutor(max_workers=64 if args.rate > 0 else 1) as pool:
        while sent < args.max_requests and time.monotonic() - started < args.max_seconds:
            if args.stop_file and os.path.exists(args.stop_file):
                break
            url = args.url[sent % len(args.url)]
            if args.rate > 0:
                pool.submit(run, sent, url)
                sent += 1
                delay = started + sent / args.rate - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
            else:
                run(sent, url)
                sent += 1
    elapsed = time.monotonic() - started

    ok = [r for r in results if r["status"] is not None and 200 <= r["status"] < 400]
    failed = [r for r in results if r not in ok]
    statuses: dict[str, int] = {}
    for result in results:
        key = str(result["status"]) if result["status"] is not None else "error"
        statuses[key] = statuses.get(key, 0) + 1
    latencies = [r["seconds"] for r in ok]
    report = {
        "requests": len(results),
        "ok": len(ok),
        "failed": len(failed),
        "statuses": statuses,
        "seconds": round(elapsed, 2),
        "rate": round(len(results) / elapsed, 2) if elapsed else 0,
        "p50_seconds": percentile(latencies, 0.50),
        "p95_seconds": percentile(latencies, 0.95),
        "max_seconds": round(max(latencies), 4) if latencies else None,
        "failures": sorted(failed, key=lambda r: r["index"])[:20],
    }
    tmp = args.out + ".tmp"
    with open(tmp, "w", encoding="utf-8") as handle:
        json.dump(report, handle, indent=2)
    os.replace(tmp, args.out)
    print(json.dumps({k: v for k, v in report.items() if k != "failures"}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
