#!/usr/bin/env python3
"""Stand-in for the DESE EA PLAN v7 image: the same processes, ports, env rules, metrics and API contract.

One file, several processes chosen by the first argument (the app role runs each as its own container):

    standin.py backend        # API on $PORT (3000): /health*, /metrics, /api/v1/ceo/summary (PostgreSQL under RLS + Redis)
    standin.py frontend       # HTML on $PORT (3000 in the container): GET / and a proxy of /api/v1/* to $BACKEND_URL
    standin.py finbot|mubot|dese|observability   # side services on 5555..5558: GET /<module>/health
    standin.py healthcheck URL                   # exit 0 when URL answers 2xx (for Docker health checks)

Only the Python standard library plus psycopg2 and redis (Debian's python3-psycopg2 / python3-redis).
See tests/standin/README.md and /work/shared/docs/app-contract.md.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import json
import os
import re
import signal
import sys
import threading
import time
import urllib.parse
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# The real app's hard-coded fallback when JWT_SECRET is shorter than 32 characters (public: it is in its source).
DEFAULT_JWT_SECRET = "dese-ea-plan-default-jwt-secret-please-change-me"
JWT_MIN_LENGTH = 32
NODE_ENVS = ("development", "production", "test")
LOG_LEVELS = ("error", "warn", "info", "debug")
LOG_FORMATS = ("json", "simple")
SIDE_SERVICES = {"finbot": 5555, "mubot": 5556, "dese": 5557, "observability": 5558}
BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
MAX_ROUTE_SERIES = 500
SUMMARY_CACHE_PREFIX = "dese:summary:"
UUID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailers",
              "transfer-encoding", "upgrade", "host", "content-length"}
# finance / system / iot / ai aggregates; each query runs under RLS only (no WHERE): the policies do the filtering.
SUMMARY_QUERIES = {
    "finance": {
        "invoices": "SELECT count(*) FROM invoices",
        "invoice_total": "SELECT coalesce(sum(amount), 0) FROM invoices",
        "transactions": "SELECT count(*) FROM transactions",
    },
    "system": {"users": "SELECT count(*) FROM users"},
    "iot": {
        "devices": "SELECT count(*) FROM devices",
        "telemetry_points": "SELECT count(*) FROM telemetry",
    },
    "ai": {
        "deals": "SELECT count(*) FROM deals",
        "pipeline_value": "SELECT coalesce(sum(value), 0) FROM deals",
    },
}


class ConfigError(Exception):
    """Invalid environment: the process exits non-zero with this message, like the real app."""


# --------------------------------------------------------------------------------------------------------------------
# Configuration and logging
# --------------------------------------------------------------------------------------------------------------------

def _flag(env: dict, name: str) -> bool:
    """The app's boolean trap: ANY non-empty string is true, including "false" and "0"."""
    return bool(env.get(name, ""))


class Config:
    def __init__(self, service: str, env: dict | None = None):
        env = dict(os.environ if env is None else env)
        self.service = service
        self.warnings: list[str] = []
        self.node_env = env.get("NODE_ENV", "development")
        if self.node_env not in NODE_ENVS:
            raise ConfigError(f"Invalid NODE_ENV {self.node_env!r}: expected one of {', '.join(NODE_ENVS)}")
        self.log_level = env.get("LOG_LEVEL", "info")
        if self.log_level not in LOG_LEVELS:
            raise ConfigError(f"Invalid LOG_LEVEL {self.log_level!r}: expected one of {', '.join(LOG_LEVELS)}")
        self.log_format = env.get("LOG_FORMAT", "json")
        if self.log_format not in LOG_FORMATS:
            raise ConfigError(f"Invalid LOG_FORMAT {self.log_format!r}: expected one of {', '.join(LOG_FORMATS)}")
        self.version = env.get("APP_VERSION", "dev")
        self.broken = bool(env.get("STANDIN_BROKEN", ""))
        self.host = env.get("HOST", "0.0.0.0")  # nosec B104 - the contract says the app binds all interfaces
        # Side services: <NAME>_PORT, else PORT, else their contract port (5555..5558).
        port_var = f"{service.upper()}_PORT" if env.get(f"{service.upper()}_PORT") else "PORT"
        try:
            self.port = int(env.get(port_var) or SIDE_SERVICES.get(service, 3000))
        except ValueError as exc:
            raise ConfigError(f"Invalid {port_var} {env.get(port_var)!r}: expected a TCP port number") from exc
        self.metrics_enabled = env.get("PROMETHEUS_ENABLED", "") == "true"
        self.rate_limit_enabled = env.get("DISABLE_RATE_LIMIT", "") != "true"
        self.rate_limit_max = int(env.get("RATE_LIMIT_MAX", "100"))
        self.rate_limit_window = float(env.get("RATE_LIMIT_WINDOW_MS", str(15 * 60 * 1000))) / 1000.0
        self.cors_origin = env.get("CORS_ORIGIN", "")
        if "," in self.cors_origin or " " in self.cors_origin.strip():
            self.warnings.append(f"CORS_ORIGIN {self.cors_origin!r} is not a single origin: no browser origin will match")
        self.shutdown_delay = float(env.get("SHUTDOWN_DELAY_SECONDS", "0"))
        self.summary_ttl = int(env.get("SUMMARY_CACHE_TTL_SECONDS", "30"))
        self.backend_url = env.get("BACKEND_URL", "http://127.0.0.1:3000")
        # The boolean trap, faithfully: "false" switches these ON.
        self.read_replica = _flag(env, "DATABASE_ENABLE_READ_REPLICA")
        self.redis_cluster = _flag(env, "REDIS_CLUSTER_ENABLED")
        self.s3_enabled = _flag(env, "S3_ENABLED")
        self.database_url = env.get("DATABASE_URL", "")
        self.replica_url = env.get("DATABASE_READ_REPLICA_URL", "")
        self.redis_url = env.get("REDIS_URL", "")
        self.pool_max = int(env.get("DATABASE_POOL_MAX", "10"))
        secret = env.get("JWT_SECRET", "")
        self.jwt_default = len(secret) < JWT_MIN_LENGTH
        if self.jwt_default:
            secret = DEFAULT_JWT_SECRET
            if service == "backend":
                self.warnings.append(f"JWT_SECRET is shorter than {JWT_MIN_LENGTH} characters: "
                                     "falling back to the public default secret")
        self.jwt_secret = secret
        if service == "backend":
            self._validate_backend(env)

    def _validate_backend(self, env: dict) -> None:
        if not self.database_url:
            raise ConfigError("DATABASE_URL is required (postgresql://USER:PASSWORD@HOST:PORT/DB)")
        parsed = urllib.parse.urlsplit(self.database_url)
        if parsed.scheme not in ("postgres", "postgresql") or not parsed.hostname or not parsed.path.strip("/"):
            raise ConfigError("DATABASE_URL must look like postgresql://USER:PASSWORD@HOST:PORT/DB")
        if not self.redis_url:
            raise ConfigError("REDIS_URL is required (redis://[USER]:PASSWORD@HOST:PORT)")
        if urllib.parse.urlsplit(self.redis_url).scheme not in ("redis", "rediss"):
            raise ConfigError("REDIS_URL must look like redis://[USER]:PASSWORD@HOST:PORT")
        if self.read_replica and not self.replica_url:
            raise ConfigError(
                "DATABASE_ENABLE_READ_REPLICA is set (any non-empty value enables it, even 'false') "
                "but DATABASE_READ_REPLICA_URL is empty")
        if self.s3_enabled and not env.get("S3_BUCKET"):
            raise ConfigError("S3_ENABLED is set (any non-empty value enables it, even 'false') but S3_BUCKET is empty")

    def features(self) -> dict:
        return {"metrics": self.metrics_enabled, "rateLimit": self.rate_limit_enabled,
                "readReplica": self.read_replica, "redisCluster": self.redis_cluster, "s3": self.s3_enabled,
                "defaultJwtSecret": self.jwt_default}


class Logger:
    def __init__(self, level: str = "info", fmt: str = "json", service: str = "app"):
        self.threshold = LOG_LEVELS.index(level)
        self.fmt = fmt
        self.service = service
        self.lock = threading.Lock()

    def log(self, level: str, message: str, **fields) -> None:
        if LOG_LEVELS.index(level) > self.threshold:
            return
        if self.fmt == "json":
            line = json.dumps({"timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "level": level,
                               "service": self.service, "message": message, **fields})
        else:
            extra = " ".join(f"{k}={v}" for k, v in fields.items())
            line = f"{level}: {message} {extra}".rstrip()
        with self.lock:
            print(line, flush=True)

    def error(self, message: str, **fields) -> None:
        self.log("error", message, **fields)

    def warn(self, message: str, **fields) -> None:
        self.log("warn", message, **fields)

    def info(self, message: str, **fields) -> None:
        self.log("info", message, **fields)

    def debug(self, message: str, **fields) -> None:
        self.log("debug", message, **fields)


# --------------------------------------------------------------------------------------------------------------------
# JWT (HS256), metrics, rate limiting
# --------------------------------------------------------------------------------------------------------------------

def _b64url_decode(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def jwt_verify(token: str, secret: str, now: float | None = None) -> dict:
    """Return the claims of a valid HS256 token; raise ValueError otherwise (what jsonwebtoken's verify does)."""
    parts = token.split(".")
    if len(parts) != 3:
        raise ValueError("jwt malformed")
    try:
        header = json.loads(_b64url_decode(parts[0]))
        claims = json.loads(_b64url_decode(parts[1]))
        signature = _b64url_decode(parts[2])
    except (ValueError, TypeError) as exc:
        raise ValueError("jwt malformed") from exc
    if not isinstance(header, dict) or header.get("alg") != "HS256":
        raise ValueError("invalid algorithm")
    expected = hmac.new(secret.encode(), f"{parts[0]}.{parts[1]}".encode(), hashlib.sha256).digest()
    if not hmac.compare_digest(expected, signature):
        raise ValueError("invalid signature")
    if not isinstance(claims, dict):
        raise ValueError("jwt malformed")
    now = time.time() if now is None else now
    if "exp" in claims and (not isinstance(claims["exp"], (int, float)) or now >= claims["exp"]):
        raise ValueError("jwt expired")
    if "nbf" in claims and isinstance(claims["nbf"], (int, float)) and now < claims["nbf"]:
        raise ValueError("jwt not active")
    return claims


def _fmt(value: float) -> str:
    if value == float("inf"):
        return "+Inf"
    return repr(float(value)) if not float(value).is_integer() else str(int(value))


def _labels(pairs: dict) -> str:
    def esc(v: str) -> str:
        return str(v).replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')
    return "{" + ",".join(f'{k}="{esc(v)}"' for k, v in pairs.items()) + "}"


class Metrics:
    """http_requests_total and http_request_duration_seconds exactly as the contract names them."""

    def __init__(self):
        self.lock = threading.Lock()
        self.requests: dict[tuple, int] = {}
        self.durations: dict[tuple, list] = {}  # key -> [bucket counts..., sum, count]

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        with self.lock:
            key = (method, route, str(status))
            if key not in self.requests and len(self.requests) >= MAX_ROUTE_SERIES:
                key = (method, "other", str(status))
            self.requests[key] = self.requests.get(key, 0) + 1
            hist = self.durations.setdefault(key, [0] * len(BUCKETS) + [0.0, 0])
            for i, bound in enumerate(BUCKETS):
                if seconds <= bound:
                    hist[i] += 1
            hist[-2] += seconds
            hist[-1] += 1

    def render_http(self) -> list[str]:
        lines = ["# HELP http_requests_total Total number of HTTP requests",
                 "# TYPE http_requests_total counter"]
        with self.lock:
            items = sorted(self.requests.items())
            hists = sorted((k, list(v)) for k, v in self.durations.items())
        for (method, route, status), count in items:
            lines.append(f"http_requests_total{_labels({'method': method, 'route': route, 'status_code': status})} {count}")
        lines += ["# HELP http_request_duration_seconds Duration of HTTP requests in seconds",
                  "# TYPE http_request_duration_seconds histogram"]
        for (method, route, status), hist in hists:
            base = {"method": method, "route": route, "status_code": status}
            for i, bound in enumerate(BUCKETS):
                lines.append(f"http_request_duration_seconds_bucket{_labels({**base, 'le': _fmt(bound)})} {hist[i]}")
            lines.append(f"http_request_duration_seconds_bucket{_labels({**base, 'le': '+Inf'})} {hist[-1]}")
            lines.append(f"http_request_duration_seconds_sum{_labels(base)} {hist[-2]:.6f}")
            lines.append(f"http_request_duration_seconds_count{_labels(base)} {hist[-1]}")
        return lines


def process_metrics(start_time: float) -> list[str]:
    lines = []
    try:
        with open("/proc/self/stat", encoding="ascii") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
        ticks = os.sysconf("SC_CLK_TCK")
        utime, stime = int(fields[11]) / ticks, int(fields[12]) / ticks
        vsize, rss = int(fields[20]), int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
        lines += ["# TYPE process_cpu_user_seconds_total counter", f"process_cpu_user_seconds_total {utime:.2f}",
                  "# TYPE process_cpu_system_seconds_total counter", f"process_cpu_system_seconds_total {stime:.2f}",
                  "# TYPE process_cpu_seconds_total counter", f"process_cpu_seconds_total {utime + stime:.2f}",
                  "# TYPE process_resident_memory_bytes gauge", f"process_resident_memory_bytes {rss}",
                  "# TYPE process_virtual_memory_bytes gauge", f"process_virtual_memory_bytes {vsize}"]
        lines += ["# TYPE process_open_fds gauge", f"process_open_fds {len(os.listdir('/proc/self/fd'))}"]
    except (OSError, IndexError, ValueError):
        pass
    lines += ["# TYPE process_start_time_seconds gauge", f"process_start_time_seconds {start_time:.0f}"]
    return lines


class EventLoopLag:
    """prom-client's nodejs_eventloop_lag_seconds, the stand-in's way: how late a timer fires on a busy process.

    A background thread asks for a 50 ms sleep and records the overshoot (the real app measures a setImmediate's
    delay); under load the GIL makes the overshoot grow, as a busy event loop does.
    """

    INTERVAL = 0.05

    def __init__(self):
        self.lag = 0.0
        threading.Thread(target=self._measure, name="eventloop-lag", daemon=True).start()

    def _measure(self) -> None:
        while True:
            started = time.monotonic()
            time.sleep(self.INTERVAL)
            self.lag = max(0.0, time.monotonic() - started - self.INTERVAL)


def nodejs_metrics(lag: EventLoopLag) -> list[str]:
    """The nodejs_* defaults of prom-client that dashboards and alert rules use (same names and types)."""
    rss = 0
    try:
        with open("/proc/self/statm", encoding="ascii") as handle:
            rss = int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, IndexError, ValueError):
        pass
    return [
        "# HELP nodejs_eventloop_lag_seconds Lag of event loop in seconds.",
        "# TYPE nodejs_eventloop_lag_seconds gauge", f"nodejs_eventloop_lag_seconds {lag.lag:.6f}",
        "# HELP nodejs_active_handles_total Number of active libuv handles grouped by handle type.",
        "# TYPE nodejs_active_handles_total gauge", f"nodejs_active_handles_total {threading.active_count()}",
        "# HELP nodejs_heap_size_used_bytes Process heap size used from Node.js in bytes.",
        "# TYPE nodejs_heap_size_used_bytes gauge", f"nodejs_heap_size_used_bytes {rss}",
        "# HELP nodejs_version_info Node.js version info.",
        "# TYPE nodejs_version_info gauge",
        'nodejs_version_info{version="v20.0.0",major="20",minor="0",patch="0"} 1',
    ]


class RateLimiter:
    """express-rate-limit's default: a fixed window per client IP, every route included (/health and /metrics too)."""

    def __init__(self, limit: int, window: float):
        self.limit = limit
        self.window = window
        self.lock = threading.Lock()
        self.hits: dict[str, tuple[float, int]] = {}

    def hit(self, ip: str) -> tuple[bool, int]:
        now = time.monotonic()
        with self.lock:
            start, count = self.hits.get(ip, (now, 0))
            if now - start >= self.window:
                start, count = now, 0
            count += 1
            self.hits[ip] = (start, count)
            return count <= self.limit, max(self.limit - count, 0)


# --------------------------------------------------------------------------------------------------------------------
# Backing services
# --------------------------------------------------------------------------------------------------------------------

class Database:
    """A small thread-safe pool over psycopg2; connections are opened lazily so the app starts with PostgreSQL down."""

    def __init__(self, url: str, pool_max: int, kind: str = "primary"):
        import psycopg2  # pylint: disable=import-outside-toplevel
        self.psycopg2 = psycopg2
        self.url = url
        self.kind = kind
        self.pool_max = pool_max
        self.idle: list = []
        self.active = 0
        self.cond = threading.Condition()

    def size(self) -> int:
        with self.cond:
            return len(self.idle) + self.active

    def in_use(self) -> int:
        with self.cond:
            return self.active

    def acquire(self, timeout: float = 5.0):
        deadline = time.monotonic() + timeout
        with self.cond:
            while not self.idle and self.active >= self.pool_max:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError("database pool exhausted")
                self.cond.wait(remaining)
            conn = self.idle.pop() if self.idle else None
            self.active += 1
        if conn is None or conn.closed:
            try:
                conn = self.psycopg2.connect(self.url, connect_timeout=3, application_name="dese-standin")
            except Exception:
                self.release(None)
                raise
        return conn

    def release(self, conn, broken: bool = False) -> None:
        with self.cond:
            self.active -= 1
            if conn is not None:
                if broken or conn.closed:
                    try:
                        conn.close()
                    except Exception:  # pylint: disable=broad-except
                        pass
                else:
                    self.idle.append(conn)
            self.cond.notify()

    def run(self, func):
        """Run func(cursor) in one transaction; a failed connection is thrown away rather than reused."""
        conn = self.acquire()
        broken = False
        try:
            with conn:  # commits on success, rolls back on error
                with conn.cursor() as cur:
                    cur.execute("SET LOCAL statement_timeout = '5s'")
                    return func(cur)
        except self.psycopg2.Error as exc:
            broken = bool(conn.closed) or isinstance(exc, (self.psycopg2.OperationalError, self.psycopg2.InterfaceError))
            raise
        finally:
            self.release(conn, broken)

    def ping(self) -> None:
        self.run(lambda cur: cur.execute("SELECT 1"))

    def close(self) -> None:
        with self.cond:
            for conn in self.idle:
                conn.close()
            self.idle = []


class Cache:
    def __init__(self, url: str, cluster: bool):
        import redis  # pylint: disable=import-outside-toplevel
        self.redis = redis
        self.url = url
        self.cluster = cluster
        self.client = None
        self.lock = threading.Lock()

    def _client(self):
        with self.lock:
            if self.client is None:
                kwargs = {"socket_timeout": 2, "socket_connect_timeout": 2}
                if self.cluster:  # what REDIS_CLUSTER_ENABLED does: a cluster client, which a standalone server refuses
                    from redis.cluster import RedisCluster  # pylint: disable=import-outside-toplevel
                    self.client = RedisCluster.from_url(self.url, **kwargs)
                else:
                    self.client = self.redis.Redis.from_url(self.url, **kwargs)
            return self.client

    def _reset(self) -> None:
        with self.lock:
            self.client = None

    def call(self, method: str, *args, **kwargs):
        try:
            return getattr(self._client(), method)(*args, **kwargs)
        except Exception:
            if self.cluster:
                self._reset()
            raise

    def ping(self) -> None:
        if not self.call("ping"):
            raise RuntimeError("redis did not answer PONG")


# --------------------------------------------------------------------------------------------------------------------
# HTTP
# --------------------------------------------------------------------------------------------------------------------

class App:
    """State shared by the request handlers of one process."""

    def __init__(self, config: Config, logger: Logger):
        self.config = config
        self.log = logger
        self.started = time.time()
        self.metrics = Metrics()
        self.eventloop_lag = EventLoopLag()
        self.limiter = RateLimiter(config.rate_limit_max, config.rate_limit_window)
        self.draining = threading.Event()
        self.db = self.replica = self.cache = None
        if config.service == "backend":
            self.db = Database(config.database_url, config.pool_max)
            if config.read_replica:
                self.replica = Database(config.replica_url, config.pool_max, kind="replica")
            self.cache = Cache(config.redis_url, config.redis_cluster)

    # -- dependency checks ------------------------------------------------------------------------------------------
    def check(self) -> dict:
        checks = {}
        for name, probe in (("database", self.db.ping), ("redis", self.cache.ping)):
            try:
                probe()
                checks[name] = "up"
            except Exception as exc:  # pylint: disable=broad-except
                checks[name] = "down"
                self.log.warn(f"{name} check failed", error=f"{type(exc).__name__}: {exc}"[:300])
        return checks


class Handler(BaseHTTPRequestHandler):
    server_version = "dese-standin"
    sys_version = ""
    protocol_version = "HTTP/1.0"
    timeout = 30
    app: App = None  # set per process by serve()

    # -- plumbing -----------------------------------------------------------------------------------------------------
    def log_message(self, format, *args):  # noqa: A002 - signature from BaseHTTPRequestHandler
        self.app.log.debug("request", client=self.client_address[0], line=format % args)

    def _send(self, status: int, body, content_type: str = "application/json", headers: dict | None = None) -> None:
        if isinstance(body, (dict, list)):
            data = json.dumps(body).encode()
        elif isinstance(body, str):
            data = body.encode()
        else:
            data = body
        self.send_response(status)
        self.send_header("Content-Type", content_type if content_type != "application/json"
                         else "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        origin = self.headers.get("Origin")
        if origin and self.app.config.cors_origin and origin == self.app.config.cors_origin:
            self.send_header("Access-Control-Allow-Origin", origin)
            self.send_header("Access-Control-Allow-Credentials", "true")
            self.send_header("Vary", "Origin")
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)
        self._status = status

    def _dispatch(self) -> None:
        started = time.monotonic()
        self._status = 500
        route = urllib.parse.urlsplit(self.path).path
        try:
            self._route(route)
        except (BrokenPipeError, ConnectionResetError):
            pass
        except Exception as exc:  # pylint: disable=broad-except
            self.app.log.error("unhandled error", route=route, error=f"{type(exc).__name__}: {exc}"[:300])
            try:
                self._send(500, {"error": "Internal Server Error"})
            except OSError:
                pass
        finally:
            if self.app.config.metrics_enabled:
                self.app.metrics.observe(self.command, route, self._status, time.monotonic() - started)

    def _route(self, route: str) -> None:
        config = self.app.config
        if config.rate_limit_enabled:
            allowed, remaining = self.app.limiter.hit(self.client_address[0])
            if not allowed:
                self._send(429, {"error": "Too many requests, please try again later."},
                           headers={"RateLimit-Limit": str(config.rate_limit_max), "RateLimit-Remaining": "0"})
                return
        if self.command == "OPTIONS":
            self._send(204, b"", headers={"Access-Control-Allow-Methods": "GET,POST,PUT,PATCH,DELETE",
                                          "Access-Control-Allow-Headers": "Authorization,Content-Type"})
            return
        if route == "/health/live":
            self._live()
            return
        getattr(self, f"_route_{config.service}", self._route_side)(route)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _dispatch

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    # -- every process --------------------------------------------------------------------------------------------
    def _live(self) -> None:
        if self.app.config.broken:
            self._send(503, {"status": "unhealthy", "reason": "broken build", "version": self.app.config.version})
        else:
            self._send(200, {"status": "alive", "version": self.app.config.version})

    # -- backend ------------------------------------------------------------------------------------------------------
    def _route_backend(self, route: str) -> None:
        app, config = self.app, self.app.config
        if route == "/health":
            checks = app.check()
            healthy = all(v == "up" for v in checks.values()) and not config.broken
            self._send(200 if healthy else 503, {
                "status": "healthy" if healthy else "unhealthy", "version": config.version,
                "service": "backend", "environment": config.node_env, "uptime": round(time.time() - app.started, 1),
                "checks": checks, "features": config.features()})
        elif route == "/health/ready":
            checks = app.check()
            ready = all(v == "up" for v in checks.values()) and not config.broken and not app.draining.is_set()
            self._send(200 if ready else 503, {"status": "ready" if ready else "not ready", "checks": checks,
                                               "version": config.version})
        elif route == "/metrics":
            self._send(200, self._metrics_text(), "text/plain; version=0.0.4; charset=utf-8")
        elif route == "/api/v1/ceo/summary" and self.command in ("GET", "HEAD"):
            self._summary()
        elif route.startswith("/api/"):
            self._send(404, {"error": "Not Found", "path": route})
        else:
            self._send(404, {"error": "Not Found"})

    def _metrics_text(self) -> str:
        app = self.app
        lines = app.metrics.render_http() if app.config.metrics_enabled else []
        pools = [p for p in (app.db, app.replica) if p is not None]
        lines += ["# HELP database_connections_active Active database connections",
                  "# TYPE database_connections_active gauge",
                  f"database_connections_active {sum(p.in_use() for p in pools)}",
                  "# HELP database_connection_pool_size Database connection pool size",
                  "# TYPE database_connection_pool_size gauge"]
        lines += [f'database_connection_pool_size{{type="{p.kind}"}} {p.size()}' for p in pools]
        lines += ["# HELP database_connection_pool_active Database connections in use",
                  "# TYPE database_connection_pool_active gauge"]
        lines += [f'database_connection_pool_active{{type="{p.kind}"}} {p.in_use()}' for p in pools]
        lines += process_metrics(app.started)
        lines += nodejs_metrics(app.eventloop_lag)
        return "\n".join(lines) + "\n"

    def _authenticate(self) -> dict | None:
        header = self.headers.get("Authorization", "")
        if not header.startswith("Bearer "):
            self._send(401, {"error": "Authentication required"})
            return None
        try:
            return jwt_verify(header[7:].strip(), self.app.config.jwt_secret)
        except ValueError as exc:
            self._send(401, {"error": "Invalid token", "detail": str(exc)})
            return None

    def _summary(self) -> None:
        claims = self._authenticate()
        if claims is None:
            return
        org = claims.get("organizationId")
        if not org or not isinstance(org, str) or not UUID_RE.match(org):
            self._send(400, {"error": "Organization context required"})
            return
        role = str(claims.get("role") or "user")
        user_id = str(claims.get("id") or "")
        cacheable = role != "super_admin"  # a super admin's view spans tenants: never share it through the cache
        key = SUMMARY_CACHE_PREFIX + org.lower()
        app = self.app
        if cacheable:
            try:
                cached = app.cache.call("get", key)
                if cached:
                    body = json.loads(cached)
                    body["cache"] = "hit"
                    self._send(200, body)
                    return
            except Exception as exc:  # pylint: disable=broad-except
                app.log.warn("summary cache read failed", error=f"{type(exc).__name__}: {exc}"[:300])

        def query(cur):
            cur.execute("SELECT set_config('app.current_organization_id', %s, true), "
                        "set_config('app.current_user_id', %s, true), "
                        "set_config('app.current_user_role', %s, true)", (org, user_id, role))
            result = {}
            for section, stats in SUMMARY_QUERIES.items():
                result[section] = {}
                for name, sql in stats.items():
                    cur.execute(sql)
                    value = cur.fetchone()[0]
                    result[section][name] = float(value) if isinstance(value, Decimal) else value
            return result

        pool = app.replica or app.db
        try:
            body = pool.run(query)
        except pool.psycopg2.Error as exc:
            app.log.error("summary query failed", error=f"{type(exc).__name__}: {exc}"[:300])
            self._send(500 if getattr(exc, "pgcode", None) else 503,
                       {"error": "Database error" if getattr(exc, "pgcode", None) else "Database unavailable"})
            return
        except TimeoutError:
            self._send(503, {"error": "Database unavailable"})
            return
        body.update({"organizationId": org, "generatedAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())})
        if cacheable:
            try:
                app.cache.call("set", key, json.dumps(body), ex=app.config.summary_ttl)
            except Exception as exc:  # pylint: disable=broad-except
                app.log.warn("summary cache write failed", error=f"{type(exc).__name__}: {exc}"[:300])
        body["cache"] = "miss"
        self._send(200, body)

    # -- frontend -----------------------------------------------------------------------------------------------------
    def _route_frontend(self, route: str) -> None:
        config = self.app.config
        if route.startswith("/api/v1/"):
            self._proxy()
        elif route == "/":
            status = 503 if config.broken else 200
            page = ("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>DESE EA PLAN</title></head>"
                    f"<body><h1>DESE EA PLAN v7</h1><p>stand-in frontend, version {config.version}</p></body></html>")
            self._send(status, page, "text/html; charset=utf-8")
        else:
            self._send(404, "<!DOCTYPE html><html><body><h1>404</h1></body></html>", "text/html; charset=utf-8")

    def _proxy(self) -> None:
        target = urllib.parse.urlsplit(self.app.config.backend_url)
        conn_cls = http.client.HTTPSConnection if target.scheme == "https" else http.client.HTTPConnection
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
        headers["X-Forwarded-For"] = self.client_address[0]
        body = self._body()
        try:
            conn = conn_cls(target.hostname, target.port, timeout=15)
            conn.request(self.command, target.path.rstrip("/") + self.path, body=body or None, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
            passed = {k: v for k, v in resp.getheaders() if k.lower() not in HOP_BY_HOP | {"content-type", "server", "date"}}
            self._send(resp.status, data, resp.getheader("Content-Type", "application/octet-stream"), passed)
            conn.close()
        except (OSError, http.client.HTTPException) as exc:
            self.app.log.warn("backend unreachable", error=f"{type(exc).__name__}: {exc}"[:300])
            self._send(502, {"error": "Bad Gateway"})

    # -- side services ------------------------------------------------------------------------------------------------
    def _route_side(self, route: str) -> None:
        service, config = self.app.config.service, self.app.config
        if route == f"/{service}/health":
            if config.broken:
                self._send(503, {"status": "unhealthy", "service": service, "version": config.version})
            else:
                self._send(200, {"status": "healthy", "service": service, "version": config.version,
                                 "uptime": round(time.time() - self.app.started, 1)})
        else:
            self._send(404, {"error": "Not Found"})


class Server(ThreadingHTTPServer):
    daemon_threads = False  # server_close() then waits for in-flight requests: SIGTERM drops nothing
    block_on_close = True
    allow_reuse_address = True
    request_queue_size = 128


def serve(config: Config, logger: Logger) -> int:
    app = App(config, logger)
    handler = type("BoundHandler", (Handler,), {"app": app})
    server = Server((config.host, config.port), handler)

    def stop(signum, _frame):
        if app.draining.is_set():
            return
        app.draining.set()
        logger.info("shutting down: finishing in-flight requests", signal=signal.Signals(signum).name)

        def shutdown():
            if config.shutdown_delay > 0:  # keep answering (ready=503) while load balancers notice
                time.sleep(config.shutdown_delay)
            server.shutdown()
        threading.Thread(target=shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    logger.info(f"{config.service} listening", port=config.port, version=config.version, node_env=config.node_env)
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()  # joins the request threads
        if app.db:
            app.db.close()
        logger.info("stopped")
    return 0


def healthcheck(url: str, timeout: float = 5.0) -> int:
    parsed = urllib.parse.urlsplit(url)
    try:
        conn = http.client.HTTPConnection(parsed.hostname or "127.0.0.1", parsed.port or 80, timeout=timeout)
        conn.request("GET", parsed.path or "/")
        status = conn.getresponse().status
    except (OSError, http.client.HTTPException) as exc:
        print(f"unhealthy: {exc}", file=sys.stderr)
        return 1
    print(status)
    return 0 if 200 <= status < 300 else 1


def select_service(args: list[str]) -> str:
    """The service a command line asks for: `finbot`, or the real image's style `node services/finbot.js`."""
    if not args:
        return os.environ.get("STANDIN_SERVICE", "backend")
    if args[0] in ("backend", "frontend", "healthcheck", *SIDE_SERVICES):
        return args[0]
    for arg in args:
        for part in re.split(r"[/\\.]", arg):
            if part in ("frontend", *SIDE_SERVICES):
                return part
    return "backend" if args[0] in ("node", "npm") else args[0]


def main(argv: list[str]) -> int:
    service = select_service(argv[1:])
    if service == "healthcheck":
        return healthcheck(argv[2] if len(argv) > 2 else f"http://127.0.0.1:{os.environ.get('PORT', '3000')}/health/live")
    if service not in ("backend", "frontend", *SIDE_SERVICES):
        print(f"unknown service {service!r}: expected backend, frontend, {', '.join(SIDE_SERVICES)} or healthcheck",
              file=sys.stderr)
        return 2
    try:
        config = Config(service)
    except (ConfigError, ValueError) as exc:
        print(json.dumps({"level": "error", "service": service, "message": f"Invalid environment: {exc}"}),
              file=sys.stderr, flush=True)
        return 1
    logger = Logger(config.log_level, config.log_format, service)
    for warning in config.warnings:
        logger.warn(warning)
    return serve(config, logger)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
