"""Shared fixtures of the unit tests: a throwaway Prometheus for the plugins that query a live server."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

PROMETHEUS = shutil.which("prometheus") or "/usr/bin/prometheus"

# Rules the dead-rule tests expect to be judged alive or dead on a server that only scrapes itself.
PROBE_RULES = """
groups:
  - name: probe
    rules:
      - alert: Alive
        expr: up{job="self"} == 0
      - alert: AliveWithoutErrors
        expr: sum(rate(prometheus_http_requests_total{code=~"5.."}[5m])) > 0
      - alert: DeadSuffix
        expr: prometheus_http_requests > 0
      - alert: DeadLabel
        expr: prometheus_http_requests_total{status="200"} > 0
      - alert: DeadValue
        expr: up{job="selff"} == 0
      - record: job:up:sum
        expr: sum by (job) (up)
      # records nothing while no request fails: the alert on it is alive
      - record: job:http_errors:rate5m
        expr: sum by (job) (rate(prometheus_http_requests_total{code=~"5.."}[5m]))
      - alert: AliveOnRecordedErrors
        expr: job:http_errors:rate5m > 0
      # recorded from a metric that does not exist: the alert on it is dead
      - record: job:typo:rate5m
        expr: sum by (job) (rate(prometheus_http_request_total[5m]))
      - alert: DeadOnRecordedTypo
        expr: job:typo:rate5m > 0
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def prometheus_query(url: str, expr: str) -> list:
    with urllib.request.urlopen(f"{url}/api/v1/query?{urllib.parse.urlencode({'query': expr})}", timeout=5) as answer:
        return json.load(answer)["data"]["result"]


@pytest.fixture(scope="session")
def prometheus(tmp_path_factory):
    """Debian's prometheus on a loopback port, scraping itself every second, with PROBE_RULES loaded.

    Ready once a rate() over its own counters has two samples (a few seconds).
    """
    if not Path(PROMETHEUS).is_file():
        pytest.skip("Debian's prometheus package is not installed (make setup installs it)")
    workdir = tmp_path_factory.mktemp("prometheus")
    port = _free_port()
    (workdir / "rules.yml").write_text(PROBE_RULES)
    (workdir / "prometheus.yml").write_text(
        "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
        f"rule_files: [{workdir / 'rules.yml'}]\n"
        f"scrape_configs: [{{job_name: self, static_configs: [{{targets: ['127.0.0.1:{port}']}}]}}]\n")
    process = subprocess.Popen(
        [PROMETHEUS, f"--config.file={workdir / 'prometheus.yml'}", f"--storage.tsdb.path={workdir / 'data'}",
         f"--web.listen-address=127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    try:
        while True:
            try:
                if prometheus_query(url, "rate(prometheus_http_requests_total[1m])"):
                    break
            except OSError:
                pass
            if time.monotonic() > deadline or process.poll() is not None:
                pytest.fail("the throwaway Prometheus did not come up within 60 s")
            time.sleep(0.5)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=20)
