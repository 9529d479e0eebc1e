"""The stand-in app honours the app contract: env validation, health, metrics, auth, rate limit, graceful shutdown."""

from __future__ import annotations

import importlib.util
import re
import socket
import subprocess
import sys
import threading
import time

import pytest

from ansible_collections.dese.ea_plan.plugins.filter.jwt import jwt_encode

from standin_helpers import ACME, JWT_SECRET, STANDIN, base_env, free_port, request

SIDE_SERVICES = ("finbot", "mubot", "dese", "observability")
CLAIMS = {"id": "11111111-1111-4111-8111-0000000000a1", "email": "admin@acme.example", "role": "admin",
          "organizationId": ACME}
SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*",?)*\})? '
                    r'(-?[0-9.eE+-]+|\+Inf|NaN)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def load_standin():
    spec = importlib.util.spec_from_file_location("dese_standin_under_test", STANDIN)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def parse_metrics(text: str) -> tuple[dict, list]:
    """{family: type} and [(name, {labels}, value)]; fails on any line that is not Prometheus text format."""
    types, samples = {}, []
    for line in text.splitlines():
        if not line:
            continue
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ", 3)
            assert kind in ("counter", "gauge", "histogram", "summary", "untyped"), line
            assert name not in types, f"duplicate TYPE for {name}"
            types[name] = kind
            continue
        if line.startswith("# HELP "):
            continue
        match = SAMPLE.match(line)
        assert match, f"not a Prometheus sample line: {line!r}"
        labels = dict(LABEL.findall(match.group(2) or ""))
        samples.append((match.group(1), labels, float(match.group(3))))
    return types, samples


def token(**overrides) -> str:
    claims = {k: v for k, v in {**CLAIMS, **overrides}.items() if v is not None}
    return jwt_encode(claims, JWT_SECRET, ttl=300)


def run_to_exit(service: str, **env) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(STANDIN), service], env=base_env(**env), capture_output=True,
                          text=True, timeout=20, check=False)


# --- environment validation -------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("service", "env", "message"), [
    ("backend", {"NODE_ENV": "staging"}, "Invalid NODE_ENV 'staging'"),
    ("finbot", {"NODE_ENV": "prod"}, "Invalid NODE_ENV 'prod'"),
    ("frontend", {"LOG_LEVEL": "verbose"}, "Invalid LOG_LEVEL 'verbose'"),
    ("backend", {"LOG_FORMAT": "xml"}, "Invalid LOG_FORMAT 'xml'"),
    ("backend", {"DATABASE_URL": None}, "DATABASE_URL is required"),
    ("backend", {"DATABASE_URL": "mysql://u:p@h:1/db"}, "DATABASE_URL must look like"),
    ("backend", {"REDIS_URL": None}, "REDIS_URL is required"),
    ("backend", {"DATABASE_ENABLE_READ_REPLICA": "false"}, "even 'false'"),
    ("backend", {"S3_ENABLED": "false"}, "S3_ENABLED is set"),
])
def test_invalid_environment_exits_non_zero_with_the_reason(service, env, message, unused_backend_urls):
    base = dict(unused_backend_urls) if service == "backend" else {}
    base.update(env)
    result = run_to_exit(service, **{k: v for k, v in base.items() if v is not None})
    assert result.returncode == 1
    assert message in result.stderr


def test_unknown_command_exits_2():
    result = run_to_exit("worker")
    assert result.returncode == 2 and "unknown service" in result.stderr


def test_config_rules_are_the_contracts():
    standin = load_standin()
    urls = {"DATABASE_URL": "postgresql://u:p@h:5432/db", "REDIS_URL": "redis://u:p@h:6379"}
    short = standin.Config("backend", {**urls, "JWT_SECRET": "x" * 31})
    assert short.jwt_secret == standin.DEFAULT_JWT_SECRET and any("public default" in w for w in short.warnings)
    assert standin.Config("backend", {**urls, "JWT_SECRET": "y" * 32}).jwt_secret == "y" * 32
    assert not standin.Config("backend", {**urls, "PROMETHEUS_ENABLED": "True"}).metrics_enabled
    assert not standin.Config("backend", {**urls, "PROMETHEUS_ENABLED": "1"}).metrics_enabled
    assert standin.Config("backend", {**urls, "PROMETHEUS_ENABLED": "true"}).metrics_enabled
    assert standin.Config("backend", urls).rate_limit_enabled
    assert not standin.Config("backend", {**urls, "DISABLE_RATE_LIMIT": "true"}).rate_limit_enabled
    trap = standin.Config("backend", {**urls, "REDIS_CLUSTER_ENABLED": "false"})
    assert trap.redis_cluster, "any non-empty string, including 'false', must switch the flag on"
    assert not standin.Config("backend", urls).redis_cluster
    multi = standin.Config("backend", {**urls, "CORS_ORIGIN": "https://a.example,https://b.example"})
    assert any("single origin" in w for w in multi.warnings)
    assert standin.Config("backend", urls).node_env == "development"


def test_real_image_commands_select_the_same_processes():
    standin = load_standin()
    assert standin.select_service(["node", "services/finbot.js"]) == "finbot"
    assert standin.select_service(["node", "frontend/server.js"]) == "frontend"
    assert standin.select_service(["node", "dist/index.js"]) == "backend"
    assert standin.select_service(["observability"]) == "observability"


# --- side services and frontend ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", SIDE_SERVICES)
def test_side_service_health(start, name):
    svc = start(name, APP_VERSION="2")
    status, headers, body = svc.get(f"/{name}/health")
    assert status == 200 and headers["content-type"].startswith("application/json")
    assert body["status"] == "healthy" and body["service"] == name and body["version"] == "2"
    assert svc.get("/finbot/health" if name != "finbot" else "/mubot/health")[0] == 404


def test_side_services_default_to_their_contract_ports():
    standin = load_standin()
    ports = {name: standin.Config(name, {}).port for name in SIDE_SERVICES}
    assert ports == {"finbot": 5555, "mubot": 5556, "dese": 5557, "observability": 5558}
    assert standin.Config("finbot", {"PORT": "6000"}).port == 6000
    assert standin.Config("frontend", {}).port == 3000


def test_broken_build_fails_every_health_endpoint(start, unused_backend_urls):
    side = start("dese", wait=False, STANDIN_BROKEN="1")
    backend = start("backend", wait=False, STANDIN_BROKEN="1", **unused_backend_urls)
    for svc in (side, backend):
        deadline = time.monotonic() + 30
        while True:
            try:
                status = svc.get("/health/live")[0]
                break
            except OSError:
                assert time.monotonic() < deadline
                time.sleep(0.05)
        assert status == 503
    assert side.get("/dese/health")[0] == 503
    assert backend.get("/health/ready")[0] == 503


def test_frontend_serves_html_and_proxies_the_api(start, unused_backend_urls):
    backend = start("backend", **unused_backend_urls)
    frontend = start("frontend", BACKEND_URL=f"http://127.0.0.1:{backend.port}")
    status, headers, body = frontend.get("/")
    assert status == 200 and headers["content-type"].startswith("text/html") and "<html" in body
    status, _, body = frontend.get("/api/v1/ceo/summary")
    assert status == 401 and body["error"] == "Authentication required"  # the backend's answer, through the proxy
    status, _, body = frontend.get("/api/v1/ceo/summary", headers={"Authorization": f"Bearer {token(organizationId=None)}"})
    assert status == 400


def test_frontend_answers_502_when_the_backend_is_down(start):
    frontend = start("frontend", BACKEND_URL=f"http://127.0.0.1:{free_port()}")
    assert frontend.get("/api/v1/ceo/summary")[0] == 502
    assert frontend.get("/")[0] == 200


# --- backend without its dependencies ------------------------------------------------------------------------------

def test_health_endpoints_with_database_and_redis_down(start, unused_backend_urls):
    backend = start("backend", APP_VERSION="1", **unused_backend_urls)
    assert backend.get("/health/live")[0] == 200
    status, _, body = backend.get("/health/ready")
    assert status == 503 and body["checks"] == {"database": "down", "redis": "down"}
    status, _, body = backend.get("/health")
    assert status == 503 and body["status"] == "unhealthy" and body["version"] == "1"


@pytest.mark.parametrize(("headers", "status"), [
    ({}, 401),
    ({"Authorization": "Basic YWRtaW46YWRtaW4="}, 401),
    ({"Authorization": "Bearer not.a.token"}, 401),
    ({"Authorization": "Bearer " + jwt_encode(CLAIMS, "another-secret-that-is-long-enough-000000", ttl=60)}, 401),
    ({"Authorization": "Bearer " + jwt_encode(CLAIMS, JWT_SECRET, ttl=60, now=time.time() - 3600)}, 401),
    ({"Authorization": "Bearer " + jwt_encode({**CLAIMS, "organizationId": None}, JWT_SECRET, ttl=60)}, 400),
    ({"Authorization": "Bearer " + jwt_encode({**CLAIMS, "organizationId": "acme"}, JWT_SECRET, ttl=60)}, 400),
])
def test_summary_auth_paths(start, unused_backend_urls, headers, status):
    backend = start("backend", **unused_backend_urls)
    assert backend.get("/api/v1/ceo/summary", headers=headers)[0] == status


def test_valid_token_reaches_the_database(start, unused_backend_urls):
    backend = start("backend", **unused_backend_urls)
    status, _, body = backend.get("/api/v1/ceo/summary", headers={"Authorization": f"Bearer {token()}"})
    assert status == 503 and body["error"] == "Database unavailable"  # past auth; PostgreSQL is down


def test_short_jwt_secret_falls_back_to_the_public_default(start, unused_backend_urls):
    standin = load_standin()
    backend = start("backend", JWT_SECRET="too-short", **unused_backend_urls)
    forged = jwt_encode(CLAIMS, standin.DEFAULT_JWT_SECRET, ttl=60)
    status, _, body = backend.get("/api/v1/ceo/summary", headers={"Authorization": f"Bearer {forged}"})
    assert status == 503, "a token signed with the public default must pass auth when JWT_SECRET is short"
    assert backend.get("/health")[2]["features"]["defaultJwtSecret"] is True
    assert "public default" in backend.stop()


def test_metrics_names_labels_and_histogram(start, unused_backend_urls):
    backend = start("backend", **unused_backend_urls)
    for _ in range(3):  # plus the one start() made while waiting for the port: 4
        backend.get("/health/live")
    backend.get("/api/v1/ceo/summary")
    status, headers, text = backend.get("/metrics")
    assert status == 200 and headers["content-type"].startswith("text/plain")
    types, samples = parse_metrics(text)
    assert types["http_requests_total"] == "counter"
    assert types["http_request_duration_seconds"] == "histogram"
    assert types["database_connections_active"] == "gauge"
    live = [s for s in samples if s[0] == "http_requests_total" and s[1].get("route") == "/health/live"]
    assert live == [("http_requests_total", {"method": "GET", "route": "/health/live", "status_code": "200"}, 4.0)]
    assert any(s[0] == "http_requests_total" and s[1] == {"method": "GET", "route": "/api/v1/ceo/summary",
                                                          "status_code": "401"} for s in samples)
    assert not any("status" in s[1] for s in samples), "the label is status_code, never status"
    buckets = [s for s in samples if s[0] == "http_request_duration_seconds_bucket" and s[1]["route"] == "/health/live"]
    assert [b[1]["le"] for b in buckets] == ["0.1", "0.25", "0.5", "1", "2.5", "5", "10", "+Inf"]
    assert [b[2] for b in buckets] == sorted(b[2] for b in buckets) and buckets[-1][2] == 4
    count = [s for s in samples if s[0] == "http_request_duration_seconds_count" and s[1]["route"] == "/health/live"]
    assert count[0][2] == 4 and any(s[0] == "http_request_duration_seconds_sum" for s in samples)
    names = {s[0] for s in samples}
    assert {"database_connections_active", "database_connection_pool_size", "database_connection_pool_active",
            "process_start_time_seconds", "process_resident_memory_bytes", "process_cpu_seconds_total",
            "nodejs_eventloop_lag_seconds", "nodejs_heap_size_used_bytes", "nodejs_version_info"} <= names
    assert types["nodejs_eventloop_lag_seconds"] == "gauge"
    lag = [s[2] for s in samples if s[0] == "nodejs_eventloop_lag_seconds"]
    assert len(lag) == 1 and 0 <= lag[0] < 5
    pool = [s for s in samples if s[0] == "database_connection_pool_size"]
    assert pool and pool[0][1] == {"type": "primary"}


def test_no_http_metrics_unless_prometheus_enabled_is_exactly_true(start, unused_backend_urls):
    backend = start("backend", PROMETHEUS_ENABLED="True", **unused_backend_urls)
    backend.get("/health/live")
    _, samples = parse_metrics(backend.get("/metrics")[2])
    names = {s[0] for s in samples}
    assert not any(n.startswith("http_") for n in names)
    assert "database_connections_active" in names


def test_rate_limiter_covers_health_and_metrics(start, unused_backend_urls):
    backend = start("backend", DISABLE_RATE_LIMIT=None, wait=False, **unused_backend_urls)
    backend.wait_ready()  # one /health/live request
    statuses = [backend.get("/health/live")[0] for _ in range(99)]
    assert statuses == [200] * 99  # 100 requests in the window so far
    assert backend.get("/metrics")[0] == 429
    assert backend.get("/health/live")[0] == 429


def test_rate_limiter_off_with_disable_rate_limit_true(start, unused_backend_urls):
    backend = start("backend", DISABLE_RATE_LIMIT="true", RATE_LIMIT_MAX="3", **unused_backend_urls)
    assert {backend.get("/health/live")[0] for _ in range(10)} == {200}


def test_cors_echoes_only_the_configured_origin(start, unused_backend_urls):
    backend = start("backend", CORS_ORIGIN="https://app.example", **unused_backend_urls)
    _, headers, _ = backend.get("/health/live", headers={"Origin": "https://app.example"})
    assert headers["access-control-allow-origin"] == "https://app.example"
    _, headers, _ = backend.get("/health/live", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in headers


def test_sigterm_finishes_in_flight_requests(start):
    """A request in progress when SIGTERM arrives still gets its answer; then the process exits 0."""
    hanging = socket.socket()  # accepts connections, never answers: /health waits for connect_timeout (3 s)
    hanging.bind(("127.0.0.1", 0))
    hanging.listen(8)
    db_url = f"postgresql://dese_app:x@127.0.0.1:{hanging.getsockname()[1]}/dese"
    backend = start("backend", DATABASE_URL=db_url, REDIS_URL=f"redis://dese_app:x@127.0.0.1:{free_port()}")
    result = {}

    def slow_request():
        result["status"] = request(backend.port, "/health", timeout=20)[0]

    worker = threading.Thread(target=slow_request)
    worker.start()
    hanging.settimeout(15)
    pending_db, _ = hanging.accept()  # the backend is now inside the request, waiting for "PostgreSQL"
    backend.proc.terminate()
    worker.join(20)
    try:
        assert result.get("status") == 503, "the in-flight request must be answered, not dropped"
        assert backend.proc.wait(10) == 0
        with pytest.raises(OSError):
            request(backend.port, "/health/live", timeout=2)
    finally:
        pending_db.close()
        hanging.close()
