# -*- coding: utf-8 -*-
# Copyright: DESE EA PLAN platform team
# Apache License 2.0 (see galaxy.yml)
"""Connection helpers shared by the dese.ea_plan PostgreSQL modules.

Kept free of AnsibleModule so unit tests (and the benchmark) can call them with a plain dict.
"""

from __future__ import annotations

import traceback

PSYCOPG2_IMPORT_ERROR = None
try:
    import psycopg2
    import psycopg2.extensions
    from psycopg2 import sql as pgsql
except ImportError:  # pragma: no cover - reported by the modules through missing_required_lib
    psycopg2 = None
    pgsql = None
    PSYCOPG2_IMPORT_ERROR = traceback.format_exc()

HAS_PSYCOPG2 = psycopg2 is not None


def connection_argument_spec():
    """Argument spec shared by every module that connects to PostgreSQL."""
    return dict(
        login_host=dict(type="str", default=""),
        login_port=dict(type="int", default=5432),
        login_user=dict(type="str"),
        login_password=dict(type="str", no_log=True, default=""),
        login_unix_socket=dict(type="str", default=""),
        database=dict(type="str", required=True, aliases=["db", "login_db"]),
        connect_timeout=dict(type="int", default=10),
    )


class PostgresError(Exception):
    """An error with a message fit for an operator, plus any partial result to return."""

    def __init__(self, msg, **result):
        super().__init__(msg)
        self.msg = msg
        self.result = result
        self.not_there_yet = False


def connect_kwargs(params):
    """Translate module parameters into psycopg2.connect() keyword arguments.

    A unix socket directory wins over login_host; with neither, libpq uses its default socket directory, so a task
    that becomes the postgres OS user connects by peer authentication without a password.
    """
    kwargs = {
        "dbname": params["database"],
        "port": int(params.get("login_port") or 5432),
        "connect_timeout": int(params.get("connect_timeout") or 10),
        "application_name": params.get("application_name") or "dese.ea_plan",
    }
    host = params.get("login_unix_socket") or params.get("login_host")
    if host:
        kwargs["host"] = host
    if params.get("login_user"):
        kwargs["user"] = params["login_user"]
    if params.get("login_password"):
        kwargs["password"] = params["login_password"]
    return kwargs


def connect(params, session_role=None):
    """Open a connection (autocommit off) and optionally SET ROLE; raise PostgresError with a clear message."""
    if not HAS_PSYCOPG2:
        raise PostgresError("psycopg2 is required on the target host (Debian: python3-psycopg2)")
    kwargs = connect_kwargs(params)
    try:
        conn = psycopg2.connect(**kwargs)
    except psycopg2.Error as exc:
        where = kwargs.get("host") or "the default unix socket"
        text = str(exc).strip()
        error = PostgresError("cannot connect to database %r on %s port %s as %s: %s" % (
            kwargs["dbname"], where, kwargs["port"], kwargs.get("user") or "the current OS user", text))
        # Not there yet (fresh host in check mode) as opposed to refused (wrong password, pg_hba): callers may
        # tolerate the former in check mode only.
        error.not_there_yet = any(marker in text for marker in (
            'database "%s" does not exist' % kwargs["dbname"], "Connection refused", "No such file or directory"))
        raise error from None
    conn.autocommit = False
    if session_role:
        try:
            with conn.cursor() as cur:
                cur.execute(pgsql.SQL("SET ROLE {}").format(pgsql.Identifier(session_role)))
            conn.commit()
        except psycopg2.Error as exc:
            conn.close()
            raise PostgresError("cannot SET ROLE %s (is the login user a member of it?): %s" % (
                session_role, str(exc).strip())) from None
    return conn


def sqlstate_of(exc):
    """SQLSTATE of a psycopg2 error, or None."""
    return getattr(exc, "pgcode", None)


def error_text(exc):
    """Primary message of a psycopg2 error without the trailing context lines libpq adds."""
    diag = getattr(exc, "diag", None)
    primary = getattr(diag, "message_primary", None) if diag is not None else None
    return (primary or str(exc)).strip()
