"""Helpers shared by the stand-in app tests and their fixtures (a module of its own: `conftest` is not importable)."""

from __future__ import annotations

import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
STANDIN = REPO / "tests" / "standin" / "app" / "standin.py"
DRIZZLE = REPO / "tests" / "standin" / "drizzle"
PG_HELPERS = REPO / "tests" / "unit" / "postgresql"
APP_PASSWORD = "StandinApp0nly"  # throwaway cluster on loopback, removed at session end
REDIS_PASSWORD = "StandinRedis0nly"
JWT_SECRET = "standin-unit-test-secret-0123456789abcdefghijklmnopqrstuvwxyz"
ACME = "11111111-1111-4111-8111-111111111111"
GLOBEX = "22222222-2222-4222-8222-222222222222"
# Tables the summary reads that the migration set leaves without a policy: the collection's RLS module adds one in a
# deployment; here the fixture adds the same inlinable tenant policy.
EXTRA_POLICY_TABLES = ("users", "devices", "telemetry")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def request(port: int, path: str, method: str = "GET", headers: dict | None = None, timeout: float = 10.0):
    """(status, headers, body) of one HTTP request to 127.0.0.1:port; body decoded as JSON when it is JSON."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, headers=headers or {})
        resp = conn.getresponse()
        raw = resp.read()
        ctype = resp.getheader("Content-Type", "")
        body = json.loads(raw) if ctype.startswith("application/json") and raw else raw.decode()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, body
    finally:
        conn.close()


class Service:
    """One stand-in process on a loopback port."""

    def __init__(self, service: str, env: dict, port: int):
        self.service = service
        self.port = port
        self.proc = subprocess.Popen([sys.executable, str(STANDIN), service], env=env, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True)

    def wait_ready(self, timeout: float = 30.0) -> "Service":
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"{self.service} exited {self.proc.returncode}: {self.proc.stdout.read()}")
            try:
                request(self.port, "/health/live", timeout=1)
                return self
            except OSError:
                time.sleep(0.05)
        raise AssertionError(f"{self.service} did not listen on {self.port} within {timeout}s")

    def get(self, path: str, **kwargs):
        return request(self.port, path, **kwargs)

    def stop(self) -> str:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        return self.proc.stdout.read()


def base_env(**extra) -> dict:
    """The test environment; an extra value of None removes the variable."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "NODE_ENV": "test", "LOG_FORMAT": "json",
           "JWT_SECRET": JWT_SECRET, "PROMETHEUS_ENABLED": "true", "DISABLE_RATE_LIMIT": "true",
           "PYTHONPATH": os.environ.get("PYTHONPATH", "")}
    env.update({k: str(v) for k, v in extra.items() if v is not None})
    return {k: v for k, v in env.items() if extra.get(k, "") is not None and (v != "" or k in extra)}
