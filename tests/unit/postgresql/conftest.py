"""Fixtures for the PostgreSQL plugin tests: one throwaway cluster per session, one fresh database per test.

RLS tests start from template databases (migrated, and migrated + enforced) built once per session and cloned per
test with CREATE DATABASE ... TEMPLATE, which is much faster than migrating every time.
"""

from __future__ import annotations

import itertools
import os
import shutil

import pytest

from ansible_collections.dese.ea_plan.plugins.modules import postgresql_migrate, postgresql_rls
from pg_throwaway import MIGRATION_SET, ROLE_PASSWORD, Cluster

APP_ROLE = "dese_app"
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


def _new_database(cluster, template=None):
    name = "t%d" % next(_counter)
    if template:
        cluster.execute('CREATE DATABASE "%s" TEMPLATE "%s" OWNER dese_owner' % (name, template))
        return name
    cluster.create_database(name, owner="dese_owner")
    cluster.execute("GRANT CONNECT ON DATABASE %s TO %s" % (name, APP_ROLE))
    cluster.execute("ALTER SCHEMA public OWNER TO dese_owner", database=name)
    # what the postgresql role grants the app role: DML on the owner's tables, never ownership
    cluster.execute("ALTER DEFAULT PRIVILEGES FOR ROLE dese_owner IN SCHEMA public "
                    "GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO %s" % APP_ROLE, database=name)
    cluster.execute("ALTER DEFAULT PRIVILEGES FOR ROLE dese_owner IN SCHEMA public "
                    "GRANT USAGE, SELECT ON SEQUENCES TO %s" % APP_ROLE, database=name)
    return name


def _migrator(cluster, database):
    return cluster.params(database, user="dese_migrator", password=ROLE_PASSWORD, session_role="dese_owner")


@pytest.fixture()
def database(pg_cluster):
    """A fresh, empty database owned by dese_owner."""
    return _new_database(pg_cluster)


@pytest.fixture()
def migrator_params(pg_cluster, database):
    """Connection parameters of the migration user, acting as the owner role."""
    return _migrator(pg_cluster, database)


@pytest.fixture()
def migration_set(tmp_path):
    """A private, writable copy of the project's Drizzle migration set."""
    target = tmp_path / "drizzle"
    shutil.copytree(MIGRATION_SET, target)
    return target


@pytest.fixture(scope="session")
def templates(pg_cluster):
    """Template databases: the migration set applied, and the same with RLS enforced for dese_app."""
    migrated = _new_database(pg_cluster)
    postgresql_migrate.run(dict(_migrator(pg_cluster, migrated), migrations_dir=MIGRATION_SET))
    enforced = _new_database(pg_cluster, template=migrated)
    postgresql_rls.run(dict(_migrator(pg_cluster, enforced), app_role=APP_ROLE, state="enforced"))
    return {"migrated": migrated, "enforced": enforced}


@pytest.fixture()
def app_role(pg_cluster):
    """The app role; tests may break it (BYPASSRLS, SUPERUSER, membership): it is repaired afterwards."""
    yield APP_ROLE
    pg_cluster.execute("ALTER ROLE %s NOSUPERUSER NOBYPASSRLS" % APP_ROLE)
    pg_cluster.execute("REVOKE dese_owner FROM %s" % APP_ROLE)


@pytest.fixture()
def migrated(pg_cluster, templates):
    """A database with the migration set applied (the app's own policies only, no FORCE)."""
    return _new_database(pg_cluster, template=templates["migrated"])


@pytest.fixture()
def enforced(pg_cluster, templates):
    """A database with the migration set applied and RLS enforced for the app role."""
    return _new_database(pg_cluster, template=templates["enforced"])


@pytest.fixture()
def rls_params(pg_cluster, request, app_role):
    """postgresql_rls parameters for whichever of `migrated` / `enforced` the test uses."""
    name = request.getfixturevalue("enforced" if "enforced" in request.fixturenames else "migrated")
    return dict(_migrator(pg_cluster, name), app_role=app_role)
