"""Fixtures for the stand-in app tests: run its processes on loopback ports, a throwaway PostgreSQL, a throwaway Redis.

PostgreSQL comes from tests/unit/postgresql/pg_throwaway.py (Debian's PostgreSQL 15 binaries, root only); Redis from
the host's redis-server when it is installed. Tests that need one skip with the reason when it is missing.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time

import pytest

from standin_helpers import (APP_PASSWORD, DRIZZLE, EXTRA_POLICY_TABLES, PG_HELPERS, REDIS_PASSWORD, Service,
                             base_env, free_port)


@pytest.fixture()
def start():
    """start(service, **env) -> a running Service (stopped at teardown)."""
    started: list[Service] = []

    def _start(service: str, wait: bool = True, **env) -> Service:
        port_var = "PORT" if service in ("backend", "frontend") else f"{service.upper()}_PORT"
        port = int(env.pop("port", 0) or free_port())
        svc = Service(service, base_env(**{port_var: port, **env}), port)
        started.append(svc)
        return svc.wait_ready() if wait else svc

    yield _start
    for svc in started:
        svc.stop()


@pytest.fixture()
def unused_backend_urls():
    """DATABASE_URL / REDIS_URL pointing at closed loopback ports (dependencies down)."""
    return {"DATABASE_URL": f"postgresql://dese_app:x@127.0.0.1:{free_port()}/dese",
            "REDIS_URL": f"redis://dese_app:x@127.0.0.1:{free_port()}"}


def _apply_migrations(cluster, database: str) -> None:
    conn = cluster.connect(database)
    try:
        with conn.cursor() as cur:
            cur.execute("SET ROLE dese_owner")
            journal = json.loads((DRIZZLE / "meta" / "_journal.json").read_text())
            for entry in journal["entries"]:
                sql = (DRIZZLE / f"{entry['tag']}.sql").read_text()
                for statement in sql.split("--> statement-breakpoint"):
                    if statement.strip():
                        cur.execute(statement)
            for table in EXTRA_POLICY_TABLES:
                cur.execute(f'ALTER TABLE "{table}" ENABLE ROW LEVEL SECURITY')
                cur.execute(f'CREATE POLICY tenant_isolation ON "{table}" USING (organization_id = '
                            "(SELECT NULLIF(current_setting('app.current_organization_id', true), '')::uuid))")
    finally:
        conn.close()


@pytest.fixture(scope="session")
def postgres():
    """A throwaway cluster with the stand-in's migration set applied; yields {'url': DATABASE_URL as dese_app, ...}."""
    if os.geteuid() != 0 or not os.path.isdir("/usr/lib/postgresql/15/bin"):
        pytest.skip("needs root and PostgreSQL 15 binaries in /usr/lib/postgresql/15/bin")
    if not (PG_HELPERS / "pg_throwaway.py").is_file() or not (DRIZZLE / "meta" / "_journal.json").is_file():
        pytest.skip("tests/unit/postgresql/pg_throwaway.py or the drizzle migration set is missing")
    sys.path.insert(0, str(PG_HELPERS))
    try:
        from pg_throwaway import Cluster  # pylint: disable=import-outside-toplevel
    finally:
        sys.path.remove(str(PG_HELPERS))
    cluster = Cluster().start()
    try:
        cluster.execute("CREATE ROLE dese_owner NOLOGIN")
        cluster.execute("CREATE ROLE dese_app LOGIN NOSUPERUSER NOBYPASSRLS PASSWORD %s", params=(APP_PASSWORD,))
        for name in ("dese", "empty"):
            cluster.create_database(name, owner="dese_owner")
            cluster.execute(f"GRANT CONNECT ON DATABASE {name} TO dese_app")
            cluster.execute("ALTER SCHEMA public OWNER TO dese_owner", database=name)
            cluster.execute("ALTER DEFAULT PRIVILEGES FOR ROLE dese_owner IN SCHEMA public "
                            "GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO dese_app", database=name)
        _apply_migrations(cluster, "dese")
        yield {"cluster": cluster,
               "url": f"postgresql://dese_app:{APP_PASSWORD}@127.0.0.1:{cluster.port}/dese",
               "empty_url": f"postgresql://dese_app:{APP_PASSWORD}@127.0.0.1:{cluster.port}/empty"}
    finally:
        cluster.stop()


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory):
    """A throwaway redis-server on a loopback port with an ACL user like the redis role's; skips when not installed."""
    binary = shutil.which("redis-server")
    if not binary:
        pytest.skip("redis-server is not installed on this host")
    port = free_port()
    workdir = tmp_path_factory.mktemp("redis")
    acl = workdir / "users.acl"
    acl.write_text("user default off\n"
                   f"user dese_app on >{REDIS_PASSWORD} ~dese:* resetchannels -@all +@read +@write +@connection "
                   "-@dangerous\n"
                   f"user admin on >{REDIS_PASSWORD} ~* &* +@all\n")
    proc = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                             "--dir", str(workdir), "--aclfile", str(acl)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    import redis  # pylint: disable=import-outside-toplevel
    admin = redis.Redis(host="127.0.0.1", port=port, username="admin", password=REDIS_PASSWORD)
    deadline = time.monotonic() + 10
    while True:
        try:
            admin.ping()
            break
        except redis.ConnectionError:
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                pytest.skip("redis-server did not start")
            time.sleep(0.05)
    try:
        yield {"url": f"redis://dese_app:{REDIS_PASSWORD}@127.0.0.1:{port}", "admin": admin, "port": port}
    finally:
        proc.terminate()
        proc.wait(10)
