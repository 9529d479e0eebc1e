#!/usr/bin/env python3
"""Measure what the collection's row-level security policy costs. Prints figures; asserts nothing.

A throwaway PostgreSQL 15 cluster (the unit tests' helper) gets 1,000,000 invoices across 100 organizations, copied
into one table per policy style so every style is measured in the same interleaved rounds (the machine is shared, so
load changes during a run hit every variant alike). The tenant query the app runs (count and sum of one organization's
invoices, filtered by organization_id) is timed as the app role under RLS and as the owner with RLS off (the owner
bypasses RLS: no FORCE here); figures are medians and ratios of medians. Repeated without the tenant index, and with
RLS doing the filtering alone (no WHERE clause).

Policy styles:
  single   - what dese.ea_plan.postgresql_rls writes: tenant sub-select OR super-admin sub-select in one policy
  two      - the documented alternative: a tenant policy plus a separate permissive super-admin policy
  range    - for comparison only: an index-friendly super-admin escape (BETWEEN two InitPlan bounds)

Last line: `rls_overhead_ratio=<x>` = tenant query with index, single policy vs no RLS.
Run: .venv/bin/python bench/rls_overhead.py [--rows 1000000] [--orgs 100] [--repeat 31]   (as root; ~1-2 min)
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "unit", "postgresql"))

from pg_throwaway import ROLE_PASSWORD, Cluster  # noqa: E402  (the unit tests' throwaway-cluster helper)

ORG = "app.current_organization_id"
ROLE = "app.current_user_role"
TENANT = "(SELECT NULLIF(current_setting('%s', true), '')::uuid)" % ORG
SUPER = "(SELECT current_setting('%s', true)) = 'super_admin'" % ROLE
LOW = ("(SELECT CASE WHEN current_setting('%s', true) = 'super_admin' THEN '00000000-0000-0000-0000-000000000000'"
       "::uuid ELSE NULLIF(current_setting('%s', true), '')::uuid END)" % (ROLE, ORG))
HIGH = LOW.replace("00000000-0000-0000-0000-000000000000", "ffffffff-ffff-ffff-ffff-ffffffffffff")
POLICIES = {
    "single": ["CREATE POLICY tenant_isolation ON {tbl} TO bench_app USING (organization_id = {t} OR {s}) "
               "WITH CHECK (organization_id = {t} OR {s})"],
    "two": ["CREATE POLICY tenant_isolation ON {tbl} TO bench_app USING (organization_id = {t}) "
            "WITH CHECK (organization_id = {t})",
            "CREATE POLICY tenant_super_admin ON {tbl} TO bench_app USING ({s}) WITH CHECK ({s})"],
    "range": ["CREATE POLICY tenant_isolation ON {tbl} TO bench_app USING (organization_id BETWEEN {lo} AND {hi}) "
              "WITH CHECK (organization_id BETWEEN {lo} AND {hi})"],
}
TENANT_QUERY = "SELECT count(*), sum(amount) FROM {tbl} WHERE organization_id = %s"
RLS_ONLY_QUERY = "SELECT count(*), sum(amount) FROM {tbl}"


def org_id(number):
    return "00000000-0000-4000-8000-%012x" % number


def load(cluster, rows, orgs):
    cluster.execute("CREATE ROLE bench_owner LOGIN PASSWORD %s", params=(ROLE_PASSWORD,))
    cluster.execute("CREATE ROLE bench_app LOGIN NOSUPERUSER NOBYPASSRLS PASSWORD %s", params=(ROLE_PASSWORD,))
    cluster.create_database("bench", owner="bench_owner")
    owner = cluster.connect("bench", user="bench_owner", password=ROLE_PASSWORD)
    started = time.perf_counter()
    with owner.cursor() as cur:
        for style, statements in POLICIES.items():
            table = "invoices_" + style
            cur.execute("CREATE TABLE %s (id bigserial PRIMARY KEY, organization_id uuid NOT NULL, "
                        "amount numeric(14,2) NOT NULL, created_at timestamptz NOT NULL)" % table)
            cur.execute("INSERT INTO " + table + " (organization_id, amount, created_at) "
                        "SELECT ('00000000-0000-4000-8000-' || lpad(to_hex(g %% %s), 12, '0'))::uuid, "
                        "(g %% 997) * 1.25, '2026-01-01'::timestamptz + g * interval '1 second' "
                        "FROM generate_series(1, %s) AS g", (orgs, rows))
            cur.execute("CREATE INDEX %s_organization_id_idx ON %s (organization_id)" % (table, table))
            cur.execute("GRANT SELECT ON %s TO bench_app" % table)
            cur.execute("ALTER TABLE %s ENABLE ROW LEVEL SECURITY" % table)
            for statement in statements:
                cur.execute(statement.format(tbl=table, t=TENANT, s=SUPER, lo=LOW, hi=HIGH))
            cur.execute("VACUUM ANALYZE %s" % table)
    print("loaded %d rows across %d organizations into %d tables in %.1f s" % (
        rows, orgs, len(POLICIES), time.perf_counter() - started))
    return owner


def run_once(conn, sql, params):
    with conn.cursor() as cur:
        start = time.perf_counter()
        cur.execute(sql, params)
        cur.fetchall()
        return (time.perf_counter() - start) * 1000


def measure(owner, app, orgs, repeat, label, rls_only=True):
    """Interleaved rounds: baseline and every style per organization. Return {variant: median ms}."""
    samples = {"baseline": []}
    for style in POLICIES:
        samples[style] = []
        if rls_only:
            samples[style + " (RLS alone)"] = []
    with app.cursor() as cur:
        for index in range(repeat + 3):
            org = orgs[(index * 37) % len(orgs)]
            cur.execute("SELECT set_config(%s, %s, false)", (ORG, org))
            timings = {"baseline": run_once(owner, TENANT_QUERY.format(tbl="invoices_single"), (org,))}
            for style in POLICIES:
                table = "invoices_" + style
                timings[style] = run_once(app, TENANT_QUERY.format(tbl=table), (org,))
                if rls_only:
                    timings[style + " (RLS alone)"] = run_once(app, RLS_ONLY_QUERY.format(tbl=table), None)
            if index >= 3:  # the first rounds warm the caches
                for key, value in timings.items():
                    samples[key].append(value)
    medians = {key: statistics.median(values) for key, values in samples.items()}
    base = medians["baseline"]
    print("[%s] owner, RLS off, WHERE organization_id: median %.2f ms over %d rounds" % (label, base, repeat))
    for key, value in medians.items():
        if key != "baseline":
            print("[%s] app role, %-20s median %8.2f ms  x%.2f" % (label, key + ":", value, value / base))
    return {key: value / base for key, value in medians.items()}


def sanity(app, orgs):
    """Every style must return the same tenant figures (else the comparison means nothing)."""
    with app.cursor() as cur:
        cur.execute("SELECT set_config(%s, %s, false)", (ORG, orgs[1]))
        results = set()
        for style in POLICIES:
            cur.execute(RLS_ONLY_QUERY.format(tbl="invoices_" + style))
            results.add(cur.fetchone())
        cur.execute("SELECT set_config(%s, '', false)", (ORG,))
        cur.execute("SELECT count(*) FROM invoices_single")
        empty = cur.fetchone()[0]
    print("per-tenant result identical across styles: %s; rows without tenant context: %d" % (len(results) == 1, empty))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--orgs", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=31)
    args = parser.parse_args()
    cluster = Cluster({"shared_buffers": "768MB", "work_mem": "16MB", "max_parallel_workers_per_gather": "0",
                       "jit": "off"}).start()
    try:
        owner = load(cluster, args.rows, args.orgs)
        app = cluster.connect("bench", user="bench_app", password=ROLE_PASSWORD)
        orgs = [org_id(n) for n in range(args.orgs)]
        sanity(app, orgs)
        indexed = measure(owner, app, orgs, args.repeat, "index")
        with owner.cursor() as cur:
            for style in POLICIES:
                cur.execute("DROP INDEX invoices_%s_organization_id_idx" % style)
        plain = measure(owner, app, orgs, max(args.repeat // 3, 5), "no index", rls_only=False)
        print("median ratio, tenant query under RLS vs owner without RLS (single OR policy, what the module writes): "
              "with index x%.2f, without index x%.2f" % (indexed["single"], plain["single"]))
        print("two permissive policies: with index x%.2f, without index x%.2f; RLS alone filtering with index: "
              "single x%.2f, two x%.2f, range x%.2f" % (indexed["two"], plain["two"], indexed["single (RLS alone)"],
                                                       indexed["two (RLS alone)"], indexed["range (RLS alone)"]))
        print("rls_overhead_ratio=%.2f" % indexed["single"])
        app.close()
        owner.close()
    finally:
        cluster.stop()


if __name__ == "__main__":
    main()
