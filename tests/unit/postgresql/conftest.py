"""Fixtures for the PostgreSQL plugin tests: one throwaway cluster per session, one fresh database per test."""

from __future__ import annotations

import itertools
import os
import shutil

import pytest

from pg_throwaway import Cluster

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
MIGRATION_SET = os.path.join(REPO, "tests", "standin", "drizzle")
ROLE_PASSWORD = "Test0nlyPassw0rd"  # roles of the throwaway cluster only; loopback, removed at session end
_counter = itertools.count(1)


@pytest.fixture(scope="session")
def pg_cluster():
    if not os.path.isdir("/usr/lib/postgresql/15/bin") or os.geteuid() != 0:
        pytest.skip("needs root and PostgreSQL 15 binaries in /usr/lib/postgresql/15/bin")
    cluster = Cluster().start()
    try:
        # The deployment's role layout: NOLOGIN owner, migrator member of it, app role that owns nothing.
        cluster.execute("CREATE ROLE dese_owner NOLOGIN")
        cluster.execute("CREATE ROLE dese_migrator LOGIN PASSWORD %s IN ROLE dese_owner", params=(ROLE_PASSWORD,))
        cluster.execute("CREATE ROLE dese_app LOGIN NOSUPERUSER NOBYPASSRLS PASSWORD %s", params=(ROLE_PASSWORD,))
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture()
def database(pg_cluster):
    """A fresh database owned by dese_owner; the app role may connect and use the public schema."""
    name = "t%d" % next(_counter)
    pg_cluster.create_database(name, owner="dese_owner")
    pg_cluster.execute("GRANT CONNECT ON DATABASE %s TO dese_app" % name)
    pg_cluster.execute("ALTER SCHEMA public OWNER TO dese_owner", database=name)
    pg_cluster.execute("ALTER DEFAULT PRIVILEGES FOR ROLE dese_owner IN SCHEMA public "
                       "GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO dese_app", database=name)
    pg_cluster.execute("ALTER DEFAULT PRIVILEGES FOR ROLE dese_owner IN SCHEMA public "
                       "GRANT USAGE, SELECT ON SEQUENCES TO dese_app", database=name)
    return name


@pytest.fixture()
def migrator_params(pg_cluster, database):
    """Connection parameters of the migration user, acting as the owner role."""
    return pg_cluster.params(database, user="dese_migrator", password=ROLE_PASSWORD, session_role="dese_owner")


@pytest.fixture()
def migration_set(tmp_path):
    """A private, writable copy of the project's Drizzle migration set."""
    target = tmp_path / "drizzle"
    shutil.copytree(MIGRATION_SET, target)
    return target
