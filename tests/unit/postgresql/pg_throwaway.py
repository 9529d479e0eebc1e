"""A throwaway PostgreSQL 15 cluster for tests and benchmarks: Debian's initdb/pg_ctl run as the postgres OS user.

The data directory and the unix socket live in a fresh temporary directory owned by postgres; the server listens on a
free loopback port with scram-sha-256 authentication (peer on the unix socket, as Debian configures it) and is
stopped (and the directory removed) by stop().
"""

from __future__ import annotations

import os
import pickle
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile

import psycopg2

PG_BIN = os.environ.get("DESE_PG_BIN", "/usr/lib/postgresql/15/bin")
REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
MIGRATION_SET = os.path.join(REPO, "tests", "standin", "drizzle")
ROLE_PASSWORD = "Test0nlyPassw0rd"  # login roles of throwaway clusters only: loopback, deleted with the cluster


def _free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _as_postgres(args, **kwargs):
    """Run a command as the postgres OS user (root cannot run initdb)."""
    prefix = [] if os.geteuid() == pwd.getpwnam("postgres").pw_uid else ["runuser", "-u", "postgres", "--"]
    # cwd "/": the caller's directory may be closed to postgres (initdb refuses to start there)
    done = subprocess.run(prefix + args, check=False, capture_output=True, text=True, cwd="/", **kwargs)
    if done.returncode:
        raise RuntimeError("%s failed (%d): %s" % (os.path.basename(args[0]), done.returncode,
                                                   (done.stderr or done.stdout).strip()))
    return done


class Cluster:
    """A running throwaway cluster; `superuser` / `password` log in over TCP on 127.0.0.1:`port`."""

    def __init__(self, extra_settings=None):
        self.superuser = "postgres"
        self.password = secrets.token_hex(16)
        self.host = "127.0.0.1"
        self.port = _free_port()
        self.base = tempfile.mkdtemp(prefix="dese-pg-")
        self.data = os.path.join(self.base, "data")
        self.socket_dir = os.path.join(self.base, "run")
        self.log = os.path.join(self.base, "server.log")
        self.extra_settings = dict(extra_settings or {})
        self.running = False

    def start(self):
        try:
            return self._start()
        except BaseException:
            self.stop()  # no half-started cluster or temporary directory left behind
            raise

    def _start(self):
        pg = pwd.getpwnam("postgres")
        os.makedirs(self.socket_dir)
        pwfile = os.path.join(self.base, "pwfile")
        with open(pwfile, "w", encoding="ascii") as handle:
            handle.write(self.password + "\n")
        for path in (self.base, self.socket_dir, pwfile):
            os.chown(path, pg.pw_uid, pg.pw_gid)
        os.chmod(self.base, 0o700)
        # as Debian sets it up: peer on the unix socket, scram-sha-256 over TCP
        _as_postgres([os.path.join(PG_BIN, "initdb"), "-D", self.data, "-U", self.superuser, "--pwfile", pwfile,
                      "--auth-local=peer", "--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"])
        os.unlink(pwfile)
        settings = {"listen_addresses": "127.0.0.1", "port": str(self.port), "unix_socket_directories": self.socket_dir,
                    "fsync": "off", "synchronous_commit": "off", "full_page_writes": "off", "max_connections": "50"}
        settings.update(self.extra_settings)
        options = " ".join("-c %s=%s" % (key, value) for key, value in settings.items())
        _as_postgres([os.path.join(PG_BIN, "pg_ctl"), "-D", self.data, "-l", self.log, "-o", options, "-w",
                      "-t", "60", "start"])
        self.running = True
        return self

    def stop(self):
        if self.running or os.path.exists(os.path.join(self.data, "postmaster.pid")):
            try:
                _as_postgres([os.path.join(PG_BIN, "pg_ctl"), "-D", self.data, "-m", "immediate", "-w", "stop"])
            finally:
                self.running = False
                shutil.rmtree(self.base, ignore_errors=True)
        shutil.rmtree(self.base, ignore_errors=True)

    def run_as_postgres(self, function, *args):
        """Call function(*args) in a child process running as the postgres OS user; return its result (pickled)."""
        pg = pwd.getpwnam("postgres")
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:  # child: become postgres, run, send back (ok, value)
            os.close(read_end)
            code = 0
            try:
                os.setgid(pg.pw_gid)
                os.setuid(pg.pw_uid)
                os.environ.update(HOME=pg.pw_dir, USER="postgres", LOGNAME="postgres")
                payload = (True, function(*args))
            except BaseException as exc:  # noqa: BLE001 - everything goes back to the parent
                payload, code = (False, "%s: %s" % (type(exc).__name__, exc)), 1
            with os.fdopen(write_end, "wb") as pipe:
                pickle.dump(payload, pipe)
            os._exit(code)
        os.close(write_end)
        with os.fdopen(read_end, "rb") as pipe:
            data = pipe.read()
        os.waitpid(pid, 0)
        ok, value = pickle.loads(data)
        if not ok:
            raise RuntimeError(value)
        return value

    def params(self, database="postgres", user=None, password=None, **extra):
        """Module parameters (connection part) for this cluster."""
        params = {"login_host": self.host, "login_port": self.port, "login_user": user or self.superuser,
                  "login_password": self.password if password is None else password, "login_unix_socket": "",
                  "database": database, "connect_timeout": 10}
        params.update(extra)
        return params

    def connect(self, database="postgres", user=None, password=None, autocommit=True):
        conn = psycopg2.connect(host=self.host, port=self.port, dbname=database, user=user or self.superuser,
                                password=self.password if password is None else password)
        conn.autocommit = autocommit
        return conn

    def execute(self, sql, database="postgres", params=None):
        """Run one statement as the superuser; return all rows (or None)."""
        conn = self.connect(database)
        try:
            with conn.cursor() as cur:
                cur.execute(sql, params)
                return cur.fetchall() if cur.description else None
        finally:
            conn.close()

    def create_database(self, name, owner=None):
        self.execute('CREATE DATABASE "%s"%s' % (name, (' OWNER "%s"' % owner) if owner else ""))
        return name
