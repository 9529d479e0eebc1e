"""postgresql_rls (enforce and audit) against a real throwaway PostgreSQL 15 cluster (no mocks)."""

from __future__ import annotations

import json

import psycopg2
import pytest

from ansible.module_utils.testing import patch_module_args
from ansible_collections.dese.ea_plan.plugins.module_utils.postgres_common import PostgresError
from ansible_collections.dese.ea_plan.plugins.modules import postgresql_rls

from pg_throwaway import ROLE_PASSWORD

ACME = "11111111-1111-4111-8111-111111111111"
GLOBEX = "22222222-2222-4222-8222-222222222222"
TENANT_TABLES = sorted([
    "organizations", "users", "permissions", "integrations", "accounts", "invoices", "invoice_items", "transactions",
    "ledgers", "ledger_entries", "contacts", "pipeline_stages", "deals", "activities", "warehouses", "products",
    "stock_levels", "stock_movements", "devices", "telemetry"])
APP_POLICY_TABLES = {"invoices", "transactions", "deals"}  # carry the app's own policies (migration 0004)
# (users, invoices, sum(invoices.amount), transactions, deals, sum(deals.value), devices, telemetry, activities)
SEED = {ACME: (3, 12, 11700, 20, 4, 50000, 5, 50, 7), GLOBEX: (2, 5, 8750, 8, 6, 7200, 3, 18, 11)}
SEED_QUERY = ("SELECT (SELECT count(*) FROM users), (SELECT count(*) FROM invoices), "
              "(SELECT coalesce(sum(amount), 0) FROM invoices), (SELECT count(*) FROM transactions), "
              "(SELECT count(*) FROM deals), (SELECT coalesce(sum(value), 0) FROM deals), "
              "(SELECT count(*) FROM devices), (SELECT count(*) FROM telemetry), (SELECT count(*) FROM activities)")


def as_app(pg_cluster, database, role, sql, organization=None, user_role=None, params=None):
    """Run one query as the app role inside a transaction with the app's per-request settings."""
    conn = pg_cluster.connect(database, user=role, password=ROLE_PASSWORD, autocommit=False)
    try:
        with conn.cursor() as cur:
            if organization is not None:
                cur.execute("SELECT set_config('app.current_organization_id', %s, true)", (organization,))
            if user_role is not None:
                cur.execute("SELECT set_config('app.current_user_role', %s, true)", (user_role,))
            cur.execute(sql, params)
            return cur.fetchall() if cur.description else None
    finally:
        conn.rollback()
        conn.close()


def test_enforce_enables_forces_and_is_idempotent(pg_cluster, migrated, rls_params):
    check = postgresql_rls.run(dict(rls_params, state="enforced"), check_mode=True)
    assert check["changed"] is True and len(check["actions"]) > 40
    assert pg_cluster.execute("SELECT count(*) FROM pg_class WHERE relrowsecurity AND relnamespace = "
                              "'public'::regnamespace", migrated) == [(3,)], "check mode changed the database"

    result = postgresql_rls.run(dict(rls_params, state="enforced"))
    assert result["changed"] is True and result["rls_table_count"] == 20
    assert sorted(t["name"] for t in result["tables"]) == TENANT_TABLES
    for table in result["tables"]:
        assert table["rls_enabled"] and table["rls_forced"] and table["tenant_index"], table
        if table["name"] in APP_POLICY_TABLES:  # the app's own policies are kept, no second policy added
            assert table["policies"] == ["%s_org_isolation" % table["name"]]
        else:
            assert table["policies"] == ["tenant_isolation"]
    assert [t["tenant_column"] for t in result["tables"] if t["name"] == "organizations"] == ["id"]
    assert [f for f in result["findings"] if f["severity"] == "error"] == []

    again = postgresql_rls.run(dict(rls_params, state="enforced"))
    assert again["changed"] is False and again["actions"] == []
    assert postgresql_rls.run(dict(rls_params, state="enforced"), check_mode=True)["changed"] is False


def test_each_tenant_sees_only_its_rows(pg_cluster, enforced, app_role):
    for organization, expected in SEED.items():
        assert as_app(pg_cluster, enforced, app_role, SEED_QUERY, organization)[0] == expected
        assert as_app(pg_cluster, enforced, app_role, "SELECT id::text FROM organizations",
                      organization) == [(organization,)]
    both = tuple(a + b for a, b in zip(SEED[ACME], SEED[GLOBEX]))
    assert as_app(pg_cluster, enforced, app_role, SEED_QUERY, ACME, user_role="super_admin")[0] == both


@pytest.mark.parametrize("organization", [None, ""], ids=["never-set", "empty-after-transaction"])
def test_no_tenant_context_sees_no_rows(pg_cluster, enforced, app_role, organization):
    counts = " UNION ALL ".join("SELECT '%s', count(*) FROM %s" % (t, t) for t in TENANT_TABLES)
    rows = as_app(pg_cluster, enforced, app_role, counts, organization)
    assert [r for r in rows if r[1] != 0] == []
    assert len(rows) == 20


@pytest.mark.parametrize("table", ["devices", "invoices"], ids=["collection-policy", "app-policy"])
def test_cross_tenant_insert_is_refused(pg_cluster, enforced, app_role, table):
    insert = {"devices": "INSERT INTO devices (organization_id, name) VALUES (%s, 'intruder')",
              "invoices": "INSERT INTO invoices (organization_id, number, amount) VALUES (%s, 'X-1', 1)"}[table]
    with pytest.raises(psycopg2.Error) as refused:
        as_app(pg_cluster, enforced, app_role, insert, ACME, params=(GLOBEX,))
    assert refused.value.pgcode == "42501"
    as_app(pg_cluster, enforced, app_role, insert, ACME, params=(ACME,))  # its own tenant works


def test_audit_is_clean_after_enforce_and_reports_public_app_policies(enforced, rls_params):
    result = postgresql_rls.run(dict(rls_params, state="audit", expected_count=20))
    assert result["changed"] is False and result["rls_table_count"] == 20
    assert [f for f in result["findings"] if f["severity"] == "error"] == []
    public = sorted(f["object"] for f in result["findings"] if "PUBLIC" in f["problem"])
    assert public == ["public.%s policy %s_org_isolation" % (t, t) for t in sorted(APP_POLICY_TABLES)]
    assert all(set(f) == {"object", "problem", "fix", "severity"} for f in result["findings"])


FAULTS = {
    "bypassrls": ("ALTER ROLE {app} BYPASSRLS", "role {app}", "BYPASSRLS", "error"),
    "superuser": ("ALTER ROLE {app} SUPERUSER", "role {app}", "SUPERUSER", "error"),
    "force-removed": ("ALTER TABLE devices NO FORCE ROW LEVEL SECURITY", "public.devices", "not forced", "error"),
    "rls-disabled": ("ALTER TABLE telemetry DISABLE ROW LEVEL SECURITY", "public.telemetry", "not enabled", "error"),
    "no-policy": ("DROP POLICY tenant_isolation ON contacts", "public.contacts", "no row-level security policy",
                  "error"),
    "public-policy": ("CREATE POLICY leak ON products USING (true)", "public.products policy leak", "PUBLIC", "error"),
    "view-without-security-invoker": ("CREATE VIEW device_overview AS SELECT name, status FROM devices",
                                      "public.device_overview", "security_invoker", "error"),
    "app-role-owns-table": ("ALTER TABLE warehouses OWNER TO {app}", "public.warehouses", "owns the table", "error"),
    "app-role-member-of-owner": ("GRANT dese_owner TO {app}", "public.users", "member of the owner role", "error"),
    "plpgsql-policy": (
        "CREATE FUNCTION org_guard(o uuid) RETURNS boolean LANGUAGE plpgsql STABLE AS $$ BEGIN "
        "RETURN o = current_setting('app.current_organization_id')::uuid; EXCEPTION WHEN others THEN RETURN false; "
        "END $$; DROP POLICY tenant_isolation ON ledgers; CREATE POLICY guarded ON ledgers TO {app} "
        "USING (org_guard(organization_id))", "public.ledgers policy guarded", "cannot inline", "warning"),
}


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_audit_finds_each_injected_fault(pg_cluster, enforced, rls_params, app_role, fault):
    sql, obj, problem, severity = FAULTS[fault]
    pg_cluster.execute(sql.format(app=app_role), enforced)
    result = postgresql_rls.run(dict(rls_params, state="audit", fail_on_findings=False))
    matches = [f for f in result["findings"] if f["object"] == obj.format(app=app_role) and problem in f["problem"]]
    assert len(matches) == 1, result["findings"]
    assert matches[0]["severity"] == severity and matches[0]["fix"]
    if severity == "error":
        with pytest.raises(PostgresError, match="audit found"):
            postgresql_rls.run(dict(rls_params, state="audit"))  # fail_on_findings defaults to true for audit
    else:
        postgresql_rls.run(dict(rls_params, state="audit"))  # warnings alone never fail


def test_audit_expected_count_and_enforce_repairs(pg_cluster, enforced, rls_params):
    pg_cluster.execute("ALTER TABLE stock_levels DISABLE ROW LEVEL SECURITY; DROP POLICY tenant_isolation ON "
                       "stock_levels; DROP INDEX stock_levels_organization_id_rls_idx", enforced)
    audit = postgresql_rls.run(dict(rls_params, state="audit", fail_on_findings=False, expected_count=20))
    assert audit["rls_table_count"] == 19
    assert any(f["object"] == "schema public" and "expected at least 20" in f["problem"] for f in audit["findings"])
    repaired = postgresql_rls.run(dict(rls_params, state="enforced", expected_count=20))
    assert repaired["changed"] is True and len(repaired["actions"]) == 3
    assert all("stock_levels" in action for action in repaired["actions"])
    assert postgresql_rls.run(dict(rls_params, state="audit", expected_count=20))["rls_table_count"] == 20


def test_explicit_table_list_and_missing_tables(pg_cluster, migrated, rls_params):
    with pytest.raises(PostgresError, match=r"public\.nonexistent \(no such table\)"):
        postgresql_rls.run(dict(rls_params, state="enforced", tenant_tables=["devices", "nonexistent"]))
    assert pg_cluster.execute("SELECT relrowsecurity FROM pg_class WHERE oid = 'devices'::regclass",
                              migrated) == [(False,)], "a failed enforce must change nothing"
    result = postgresql_rls.run(dict(rls_params, state="enforced", tenant_tables=["devices", "organizations"]))
    assert sorted(t["name"] for t in result["tables"]) == ["devices", "organizations"]
    audit = postgresql_rls.run(dict(rls_params, state="audit", tenant_tables=["devices", "nonexistent"],
                                    fail_on_findings=False))
    assert any(f["object"] == "public.nonexistent" for f in audit["findings"])


def test_enforce_without_the_owner_role_fails_clearly(migrated, rls_params, app_role):
    not_owner = dict(rls_params, state="enforced", session_role=None, login_user=app_role)
    with pytest.raises(PostgresError, match="SQLSTATE 42501: must be owner of table"):
        postgresql_rls.run(not_owner)
    with pytest.raises(PostgresError, match="app_role nobody_here does not exist"):
        postgresql_rls.run(dict(rls_params, state="enforced", app_role="nobody_here"))


def test_module_entry_point_audit_fails_and_enforce_reports(enforced, rls_params, pg_cluster, capsys):
    pg_cluster.execute("ALTER TABLE devices NO FORCE ROW LEVEL SECURITY", enforced)
    with patch_module_args(dict(rls_params, state="audit")), pytest.raises(SystemExit) as exited:
        postgresql_rls.main()
    raw = capsys.readouterr().out
    output = json.loads(raw)
    assert exited.value.code == 1 and output["failed"] is True and "public.devices" in output["msg"]
    assert rls_params["login_password"] not in raw
    with patch_module_args(dict(rls_params, state="enforced", _ansible_check_mode=True)), \
            pytest.raises(SystemExit) as exited:
        postgresql_rls.main()
    output = json.loads(capsys.readouterr().out)
    assert exited.value.code == 0 and output["changed"] is True
    assert output["actions"] == ['ALTER TABLE "public"."devices" FORCE ROW LEVEL SECURITY']


def test_check_mode_on_a_fresh_host_does_not_fail(pg_cluster, database, migrator_params):
    fresh = dict(migrator_params, app_role="not_created_yet", state="enforced", tenant_tables=["devices"])
    result = postgresql_rls.run(fresh, check_mode=True)
    assert result["changed"] is True
    assert any("app_role not_created_yet" in w for w in result["warnings"])
    assert any("public.devices (no such table)" in w for w in result["warnings"])
    no_database = postgresql_rls.run(dict(fresh, database="not_created_yet"), check_mode=True)
    assert no_database["changed"] is True and "does not exist" in no_database["warnings"][0]
    with pytest.raises(PostgresError, match="app_role not_created_yet does not exist"):
        postgresql_rls.run(fresh)
    with pytest.raises(PostgresError, match="password authentication failed"):
        postgresql_rls.run(dict(fresh, login_password="wrong"), check_mode=True)


def test_audit_accepts_security_invoker_views_and_flags_materialized_ones(pg_cluster, enforced, rls_params):
    pg_cluster.execute("CREATE VIEW safe_devices WITH (security_invoker = true) AS SELECT name FROM devices; "
                       "CREATE MATERIALIZED VIEW deal_totals AS SELECT organization_id, sum(value) FROM deals "
                       "GROUP BY organization_id", enforced)
    findings = postgresql_rls.run(dict(rls_params, state="audit", fail_on_findings=False))["findings"]
    assert [f for f in findings if f["object"] == "public.safe_devices"] == []
    assert [f["severity"] for f in findings if f["object"] == "public.deal_totals"] == ["error"]


def test_enforce_moves_its_own_policies_to_a_new_app_role(pg_cluster, enforced, rls_params):
    pg_cluster.execute("DO $$ BEGIN CREATE ROLE dese_app_v2 LOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$")
    moved = postgresql_rls.run(dict(rls_params, app_role="dese_app_v2", state="enforced"))
    assert len(moved["actions"]) == 17 and all(a.startswith('ALTER POLICY "tenant_isolation"') for a in moved["actions"])
    assert pg_cluster.execute("SELECT DISTINCT pg_get_userbyid(r) FROM pg_policy, unnest(polroles) r "
                              "WHERE polname = 'tenant_isolation'", enforced) == [("dese_app_v2",)]
    assert postgresql_rls.run(dict(rls_params, app_role="dese_app_v2", state="enforced"))["changed"] is False
