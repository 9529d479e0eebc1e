#!/usr/bin/env python3
"""Connect as the app role over TCP (TLS + scram) and report what each tenant sees, as JSON.

Usage: tenant_check.py HOST PORT DATABASE USER [read-write|read-only]  (password in the PGPASSWORD environment variable)
Reports the session's TLS state, whether the server is in recovery, per-organization row counts and sums on several
tenant tables and the row counts without tenant context. read-write (default) adds the SQLSTATE of a cross-tenant
INSERT (expected 42501) and whether a same-tenant INSERT works; read-only (a streaming replica) adds the SQLSTATE of a
same-tenant INSERT (expected 25006, read-only transaction).
"""

import json
import os
import sys

import psycopg2

ORGS = {
    "acme": "11111111-1111-4111-8111-111111111111",
    "globex": "22222222-2222-4222-8222-222222222222",
}
QUERIES = {
    "organizations": "SELECT count(*), 0 FROM organizations",
    "users": "SELECT count(*), 0 FROM users",
    "invoices": "SELECT count(*), coalesce(sum(amount), 0) FROM invoices",
    "transactions": "SELECT count(*), coalesce(sum(amount), 0) FROM transactions",
    "deals": "SELECT count(*), coalesce(sum(value), 0) FROM deals",
    "devices": "SELECT count(*), count(*) FILTER (WHERE status = 'online') FROM devices",
    "telemetry": "SELECT count(*), coalesce(sum(value), 0) FROM telemetry",
    "activities": "SELECT count(*), 0 FROM activities",
}


def snapshot(cur):
    result = {}
    for table, query in QUERIES.items():
        cur.execute(query)
        count, total = cur.fetchone()
        result[table] = [int(count), str(total)]
    return result


def read_only_write(cur):
    """SQLSTATE of an INSERT the tenant's own policy allows: a replica must still refuse it."""
    cur.execute("SELECT set_config('app.current_organization_id', %s, false)", (ORGS["acme"],))
    try:
        cur.execute("INSERT INTO devices (organization_id, name) VALUES (%s, 'on-replica')", (ORGS["acme"],))
    except psycopg2.Error as exc:
        return exc.pgcode
    return "succeeded"


def read_write_checks(conn, cur, report):
    # Cross-tenant write: acme's context, globex's organization_id.
    cur.execute("SELECT set_config('app.current_organization_id', %s, false)", (ORGS["acme"],))
    try:
        cur.execute("INSERT INTO devices (organization_id, name) VALUES (%s, 'intruder')", (ORGS["globex"],))
        report["cross_tenant_insert"] = "succeeded"
    except psycopg2.Error as exc:
        report["cross_tenant_insert"] = exc.pgcode
    # Same-tenant write works (then undone), so the 42501 above is RLS and not a missing grant.
    conn.autocommit = False
    cur.execute("INSERT INTO devices (organization_id, name) VALUES (%s, 'own') RETURNING 1", (ORGS["acme"],))
    report["own_tenant_insert"] = cur.fetchone()[0] == 1
    conn.rollback()


def main(host, port, database, user, mode="read-write"):
    conn = psycopg2.connect(host=host, port=int(port), dbname=database, user=user,
                            password=os.environ["PGPASSWORD"], sslmode="require", connect_timeout=10)
    conn.autocommit = True
    report = {}
    with conn.cursor() as cur:
        cur.execute("SELECT ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
        report["ssl"], report["tls_version"] = cur.fetchone()
        cur.execute("SELECT host(inet_server_addr()), current_user")
        report["server_addr"], report["current_user"] = cur.fetchone()
        cur.execute("SELECT pg_is_in_recovery()")
        report["in_recovery"] = cur.fetchone()[0]
        report["no_context"] = snapshot(cur)
        for name, org in ORGS.items():
            cur.execute("SELECT set_config('app.current_organization_id', %s, false)", (org,))
            report[name] = snapshot(cur)
        if mode == "read-only":
            report["own_tenant_insert"] = read_only_write(cur)
        else:
            read_write_checks(conn, cur, report)
    conn.close()
    print(json.dumps(report, sort_keys=True))


if __name__ == "__main__":
    main(*sys.argv[1:6])
