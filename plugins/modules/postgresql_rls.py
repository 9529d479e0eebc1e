#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: DESE EA PLAN platform team
# Apache License 2.0 (see galaxy.yml)
"""Enforce or audit PostgreSQL row-level security on the tenant tables of DESE EA PLAN."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: postgresql_rls
short_description: Enforce or audit row-level security on multi-tenant PostgreSQL tables
version_added: 1.0.0
description:
  - With O(state=enforced), makes every tenant table ENABLE and FORCE row-level security, gives each table that has
    no policy at all a C(tenant_isolation) policy for O(app_role), and makes sure an index leads with the tenant
    column. Tables that already carry policies (the application's own) keep them. Idempotent; supports check mode.
  - >-
    The C(tenant_isolation) policy is one permissive policy C(FOR ALL TO <app_role>) whose C(USING) and C(WITH CHECK)
    are <tenant_column> = (SELECT NULLIF(current_setting('app.current_organization_id', true), '')::uuid)
    OR (SELECT current_setting('app.current_user_role', true)) = 'super_admin'.
    The sub-selects make PostgreSQL evaluate each setting once per query (an InitPlan) instead of once per row, and
    the tenant comparison stays usable by the index when the query itself filters by tenant.
  - >-
    One OR-ed policy was kept rather than a second permissive C(tenant_super_admin) policy. PostgreSQL ORs permissive
    policies into the same expression, and C(bench/rls_overhead.py) (1M rows, 100 organizations) measured the two
    within noise of each other, so the single policy is the simpler one to read and audit.
  - The NULLIF around the setting makes the policy fail closed, since current_setting with missing_ok returns an
    empty string, not NULL, after a transaction that set it has ended. Without tenant context a session sees no rows.
  - With O(state=audit) (read-only; usable from a verify playbook), reports every problem as a finding
    C({object, problem, fix, severity}) - a tenant table without RLS, without FORCE or without a policy, a policy
    that applies to PUBLIC, an app role that is SUPERUSER, BYPASSRLS, owns (or can become the owner of) a tenant
    table, a view over a tenant table without C(security_invoker), a policy calling a function PostgreSQL cannot
    inline (plpgsql, SECURITY DEFINER, SET clauses; warning), and fewer RLS tables than O(expected_count).
author:
  - DESE EA PLAN platform team
requirements:
  - psycopg2 (Debian package C(python3-psycopg2)) on the target host
options:
  state:
    description:
      - C(enforced) changes the database (ENABLE, FORCE, policy, index) and then audits the result.
      - C(audit) only reads the catalogs.
    type: str
    choices: [enforced, audit]
    default: enforced
  app_role:
    description:
      - The application's login role. It gets the C(tenant_isolation) policies and is checked for SUPERUSER,
        BYPASSRLS and table ownership.
    type: str
    required: true
  tenant_tables:
    description:
      - Tenant tables to protect. Empty means every table in O(schema) that has the column O(tenant_column), plus
        the tables of O(tenant_key_overrides) that exist.
    type: list
    elements: str
    default: []
  tenant_column:
    description: Column that holds the tenant (organization) id.
    type: str
    default: organization_id
  tenant_key_overrides:
    description:
      - Tables keyed by another column than O(tenant_column); the default covers C(organizations), whose own C(id)
        is the tenant.
    type: dict
    default: {organizations: id}
  schema:
    description: Schema of the tenant tables.
    type: str
    default: public
  tenant_setting:
    description: Session setting carrying the current organization id (set by the app per request).
    type: str
    default: app.current_organization_id
  super_admin_role_setting:
    description: Session setting carrying the current user's role; the value C(super_admin) sees every tenant.
    type: str
    default: app.current_user_role
  fail_on_findings:
    description:
      - Fail when the audit has a finding of severity C(error) (warnings never fail).
      - Defaults to V(true) for O(state=audit) and V(false) for O(state=enforced).
    type: bool
  expected_count:
    description: Minimum number of tables in O(schema) with RLS enabled; fewer is a finding.
    type: int
  session_role:
    description:
      - Role to C(SET ROLE) to after connecting. ENABLE/FORCE, policies and indexes need the table owner, so with
        O(state=enforced) this is usually the NOLOGIN owner role.
    type: str
  database:
    description: Database holding the tenant tables.
    type: str
    required: true
    aliases: [db, login_db]
  login_host:
    description: Host of the server; empty (and no O(login_unix_socket)) means libpq's default unix socket.
    type: str
    default: ""
  login_port:
    description: Server port.
    type: int
    default: 5432
  login_user:
    description: Role to log in as; unset means the OS user of the task (peer authentication as C(postgres)).
    type: str
  login_password:
    description: Password of O(login_user).
    type: str
    default: ""
  login_unix_socket:
    description: Directory of the server's unix socket; takes precedence over O(login_host).
    type: str
    default: ""
  connect_timeout:
    description: Seconds to wait for the connection.
    type: int
    default: 10
notes:
  - Supports check mode; with O(state=enforced) it returns the statements it would run in RV(actions). On a fresh
    host in check mode a missing server, database, app role or tenant table is reported as a warning (and
    C(changed)) instead of failing, since the tasks that create them did not really run; wrong credentials still
    fail.
  - All changes of one run happen in one transaction with C(lock_timeout = 30s), so a busy table makes the run fail
    instead of queueing the application behind an C(ACCESS EXCLUSIVE) lock.
  - An existing C(tenant_isolation) policy is kept; only its role list is corrected to O(app_role).
  - A missing tenant index is built with a plain C(CREATE INDEX), which blocks writes to that table while it builds;
    on a large production table create it C(CONCURRENTLY) in a migration first.
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
"""

EXAMPLES = r"""
- name: Enable, force and index row-level security on every tenant table
  dese.ea_plan.postgresql_rls:
    state: enforced
    database: dese_ea_plan
    app_role: dese_app
    session_role: dese_owner
  become: true
  become_user: postgres

- name: Audit row-level security and fail on any error-level finding
  dese.ea_plan.postgresql_rls:
    state: audit
    database: dese_ea_plan
    app_role: dese_app
    expected_count: 20
  become: true
  become_user: postgres
  register: rls_audit
"""

RETURN = r"""
findings:
  description: Audit findings (after enforcement with O(state=enforced)).
  returned: always
  type: list
  elements: dict
  sample:
    - object: public.invoices
      problem: row-level security is not forced, so the table owner bypasses every policy
      fix: ALTER TABLE public.invoices FORCE ROW LEVEL SECURITY (or run state=enforced)
      severity: error
tables:
  description: The tenant tables and their RLS state.
  returned: always
  type: list
  elements: dict
  sample:
    - {name: invoices, tenant_column: organization_id, rls_enabled: true, rls_forced: true,
       policies: [invoices_org_isolation], tenant_index: true, owner: dese_owner}
rls_table_count:
  description: Number of tables in O(schema) with row-level security enabled.
  returned: always
  type: int
  sample: 20
actions:
  description: Statements run (or, in check mode, that would run) by O(state=enforced).
  returned: always
  type: list
  elements: str
  sample: ["ALTER TABLE \"public\".\"users\" FORCE ROW LEVEL SECURITY"]
"""

import json

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible_collections.dese.ea_plan.plugins.module_utils.postgres_common import (
    HAS_PSYCOPG2,
    PSYCOPG2_IMPORT_ERROR,
    PostgresError,
    connect,
    connection_argument_spec,
    error_text,
    sqlstate_of,
    pgsql,
)

try:
    import psycopg2
except ImportError:  # pragma: no cover - reported through missing_required_lib
    psycopg2 = None

POLICY_NAME = "tenant_isolation"
TRUE_OPTIONS = ("true", "on", "1", "yes")


def _qualified(schema, table):
    return pgsql.SQL("{}.{}").format(pgsql.Identifier(schema), pgsql.Identifier(table))


def _display(schema, table):
    return "%s.%s" % (schema, table)


def resolve_tables(cur, cfg):
    """Return [(table, tenant_column)] for the configured or discovered tenant tables (existing or not)."""
    overrides = cfg.get("tenant_key_overrides")
    overrides = {"organizations": "id"} if overrides is None else dict(overrides)
    column = cfg.get("tenant_column") or "organization_id"
    if cfg.get("tenant_tables"):
        return [(name, overrides.get(name, column)) for name in cfg["tenant_tables"]]
    cur.execute(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = %s AND c.relkind IN ('r', 'p') AND NOT c.relispartition AND EXISTS ("
        "  SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND NOT a.attisdropped AND a.attnum > 0"
        "  AND a.attname = CASE WHEN c.relname = ANY(%s) THEN (%s::jsonb ->> c.relname) ELSE %s END) "
        "ORDER BY c.relname",
        (cfg.get("schema") or "public", list(overrides), json.dumps(overrides), column))
    return [(row[0], overrides.get(row[0], column)) for row in cur.fetchall()]


def inspect_table(cur, schema, table, column):
    """Catalog facts about one table, or None when it does not exist."""
    cur.execute(
        "SELECT c.oid, c.relrowsecurity, c.relforcerowsecurity, pg_get_userbyid(c.relowner), c.relowner, "
        "  (SELECT a.attnum FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = %s AND NOT a.attisdropped) "
        "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = %s AND c.relname = %s AND c.relkind IN ('r', 'p')", (column, schema, table))
    row = cur.fetchone()
    if row is None:
        return None
    oid, enabled, forced, owner, owner_oid, attnum = row
    cur.execute(
        "SELECT p.polname, p.polpermissive, p.polroles, "
        "  ARRAY(SELECT CASE WHEN r = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(r) END FROM unnest(p.polroles) r), "
        "  coalesce(pg_get_expr(p.polqual, p.polrelid), ''), coalesce(pg_get_expr(p.polwithcheck, p.polrelid), '') "
        "FROM pg_policy p WHERE p.polrelid = %s ORDER BY p.polname", (oid,))
    policies = [dict(name=r[0], permissive=r[1], role_oids=list(r[2]), roles=list(r[3]), using=r[4], check=r[5])
                for r in cur.fetchall()]
    tenant_index = False
    if attnum is not None:
        cur.execute("SELECT EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = %s AND i.indkey[0] = %s "
                    "AND i.indisvalid AND i.indpred IS NULL)", (oid, attnum))
        tenant_index = cur.fetchone()[0]
    return dict(oid=oid, name=table, schema=schema, tenant_column=column, column_exists=attnum is not None,
                rls_enabled=enabled, rls_forced=forced, owner=owner, owner_oid=owner_oid, policies=policies,
                tenant_index=tenant_index)


def policy_expression(column, cfg):
    """The tenant_isolation expression: InitPlan sub-selects, fail-closed NULLIF, super-admin escape."""
    return pgsql.SQL(
        "{col} = (SELECT NULLIF(current_setting({org}, true), '')::uuid) "
        "OR (SELECT current_setting({role}, true)) = 'super_admin'").format(
        col=pgsql.Identifier(column),
        org=pgsql.Literal(cfg.get("tenant_setting") or "app.current_organization_id"),
        role=pgsql.Literal(cfg.get("super_admin_role_setting") or "app.current_user_role"))


def _index_name(table, column):
    return ("%s_%s_rls_idx" % (table, column))[:63]


def plan_enforcement(cur, cfg, tables, check_mode=False):
    """Return (psycopg2.sql statements that bring the tables to the enforced state, check-mode notes).

    In check mode a missing app role or table is a note, not an error: on a fresh host the tasks before this one
    (role creation, migrations) have not really run.
    """
    schema = cfg.get("schema") or "public"
    app_role = cfg["app_role"]
    notes = []
    cur.execute("SELECT oid FROM pg_roles WHERE rolname = %s", (app_role,))
    row = cur.fetchone()
    if row is None and not check_mode:
        raise PostgresError("app_role %s does not exist; create the application's login role first" % app_role)
    if row is None:
        notes.append("check mode: app_role %s does not exist yet" % app_role)
    app_oid = row[0] if row else None
    statements = []
    missing = []
    for table, column in tables:
        info = inspect_table(cur, schema, table, column)
        if info is None or not info["column_exists"]:
            missing.append("%s (%s)" % (_display(schema, table),
                                        "no such table" if info is None else "no column %s" % column))
            continue
        target = _qualified(schema, table)
        if not info["rls_enabled"]:
            statements.append(pgsql.SQL("ALTER TABLE {} ENABLE ROW LEVEL SECURITY").format(target))
        if not info["rls_forced"]:
            statements.append(pgsql.SQL("ALTER TABLE {} FORCE ROW LEVEL SECURITY").format(target))
        if not info["policies"]:
            expression = policy_expression(column, cfg)
            statements.append(pgsql.SQL(
                "CREATE POLICY {name} ON {table} AS PERMISSIVE FOR ALL TO {role} USING ({expr}) "
                "WITH CHECK ({expr})").format(name=pgsql.Identifier(POLICY_NAME), table=target,
                                              role=pgsql.Identifier(app_role), expr=expression))
        else:
            ours = [p for p in info["policies"] if p["name"] == POLICY_NAME]
            if ours and ours[0]["role_oids"] != [app_oid]:
                statements.append(pgsql.SQL("ALTER POLICY {name} ON {table} TO {role}").format(
                    name=pgsql.Identifier(POLICY_NAME), table=target, role=pgsql.Identifier(app_role)))
        if not info["tenant_index"]:
            statements.append(pgsql.SQL("CREATE INDEX {name} ON {table} ({col})").format(
                name=pgsql.Identifier(_index_name(table, column)), table=target, col=pgsql.Identifier(column)))
    if missing and check_mode:
        notes.append("check mode: tenant tables missing or without their tenant column (not migrated yet?): %s"
                     % ", ".join(missing))
    elif missing:
        raise PostgresError("tenant tables missing or without their tenant column: %s; fix tenant_tables / "
                            "tenant_column / tenant_key_overrides or run the migrations first" % ", ".join(missing))
    return statements, notes


def _finding(obj, problem, fix, severity="error"):
    return dict(object=obj, problem=problem, fix=fix, severity=severity)


def audit(cur, cfg, tables):
    """Read-only audit; return (findings, table_reports, rls_table_count)."""
    schema = cfg.get("schema") or "public"
    app_role = cfg["app_role"]
    findings = []
    reports = []
    infos = []
    for table, column in tables:
        name = _display(schema, table)
        info = inspect_table(cur, schema, table, column)
        if info is None:
            findings.append(_finding(name, "tenant table does not exist",
                                     "run the migrations, or correct tenant_tables"))
            continue
        infos.append(info)
        reports.append(dict(name=table, tenant_column=column, rls_enabled=info["rls_enabled"],
                            rls_forced=info["rls_forced"], policies=[p["name"] for p in info["policies"]],
                            tenant_index=info["tenant_index"], owner=info["owner"]))
        if not info["column_exists"]:
            findings.append(_finding(name, "tenant column %s does not exist" % column,
                                     "correct tenant_column / tenant_key_overrides"))
        if not info["rls_enabled"]:
            findings.append(_finding(name, "row-level security is not enabled: every role with a grant sees every "
                                     "tenant's rows", "ALTER TABLE %s ENABLE ROW LEVEL SECURITY (or run "
                                     "state=enforced)" % name))
        if not info["rls_forced"]:
            findings.append(_finding(name, "row-level security is not forced, so the table owner bypasses every "
                                     "policy",
                                     "ALTER TABLE %s FORCE ROW LEVEL SECURITY (or run state=enforced)" % name))
        if not info["policies"]:
            findings.append(_finding(name, "no row-level security policy: the application sees no rows (or every "
                                     "row once RLS is disabled)", "run state=enforced to add the %s policy"
                                     % POLICY_NAME))
        for policy in info["policies"]:
            if 0 in policy["role_oids"]:
                scoped = column in policy["using"] and (not policy["check"] or column in policy["check"])
                findings.append(_finding(
                    "%s policy %s" % (name, policy["name"]),
                    "policy applies to PUBLIC (every role)%s" % (
                        "" if scoped else " and does not filter on %s: it opens the table to every role" % column),
                    "ALTER POLICY %s ON %s TO %s" % (policy["name"], name, app_role),
                    "warning" if scoped else "error"))

    cur.execute("SELECT oid, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = %s", (app_role,))
    role = cur.fetchone()
    if role is None:
        findings.append(_finding("role %s" % app_role, "app role does not exist", "create the application's login "
                                 "role (NOSUPERUSER NOBYPASSRLS)"))
    else:
        app_oid, is_super, bypass = role
        if is_super:
            findings.append(_finding("role %s" % app_role, "app role is SUPERUSER: it bypasses row-level security",
                                     "ALTER ROLE %s NOSUPERUSER" % app_role))
        if bypass:
            findings.append(_finding("role %s" % app_role, "app role has BYPASSRLS: it sees every tenant's rows",
                                     "ALTER ROLE %s NOBYPASSRLS" % app_role))
        for info in infos:
            name = _display(schema, info["name"])
            if info["owner_oid"] == app_oid:
                findings.append(_finding(name, "app role %s owns the table and can disable its row-level security"
                                         % app_role, "ALTER TABLE %s OWNER TO <owner role>" % name))
            else:
                cur.execute("SELECT pg_has_role(%s, %s, 'MEMBER')", (app_oid, info["owner_oid"]))
                if cur.fetchone()[0]:
                    findings.append(_finding(name, "app role %s is a member of the owner role %s and can disable "
                                             "row-level security" % (app_role, info["owner"]),
                                             "REVOKE %s FROM %s" % (info["owner"], app_role)))
            if info["policies"]:
                cur.execute("SELECT bool_or(r = 0 OR pg_has_role(%s, r, 'USAGE')) FROM unnest(%s::oid[]) r",
                            (app_oid, sorted({o for p in info["policies"] if p["permissive"]
                                              for o in p["role_oids"]}) or [None]))
                if not cur.fetchone()[0]:
                    findings.append(_finding(name, "no permissive policy applies to %s: the application sees no rows"
                                             % app_role, "run state=enforced or grant a policy TO %s" % app_role))

    oids = [info["oid"] for info in infos]
    if oids:
        cur.execute(
            "SELECT DISTINCT vn.nspname, v.relname, v.relkind, coalesce(v.reloptions, '{}'), t.relname "
            "FROM pg_rewrite r JOIN pg_class v ON v.oid = r.ev_class JOIN pg_namespace vn ON vn.oid = v.relnamespace "
            "JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = r.oid "
            "  AND d.refclassid = 'pg_class'::regclass "
            "JOIN pg_class t ON t.oid = d.refobjid "
            "WHERE v.relkind IN ('v', 'm') AND t.oid = ANY(%s::oid[]) AND v.oid <> t.oid ORDER BY 1, 2, 5", (oids,))
        for view_schema, view, kind, options, table in cur.fetchall():
            view_name = _display(view_schema, view)
            if kind == "m":
                findings.append(_finding(view_name, "materialized view copies rows of tenant table %s without "
                                         "row-level security" % table, "drop it or restrict its grants to "
                                         "non-application roles"))
                continue
            invoker = any(opt.split("=", 1)[0] == "security_invoker" and opt.split("=", 1)[1].lower() in TRUE_OPTIONS
                          for opt in options if "=" in opt)
            if not invoker:
                findings.append(_finding(view_name, "view over tenant table %s runs with its owner's rights "
                                         "(no security_invoker): its owner's RLS bypass applies to every reader"
                                         % table, "ALTER VIEW %s SET (security_invoker = true)" % view_name))
        cur.execute(
            "SELECT DISTINCT c.relname, pol.polname, pn.nspname || '.' || p.proname, l.lanname, p.prosecdef, "
            "  p.proconfig IS NOT NULL, p.prosrc ~* '\\mexception\\M' "
            "FROM pg_policy pol JOIN pg_class c ON c.oid = pol.polrelid "
            "JOIN pg_depend d ON d.classid = 'pg_policy'::regclass AND d.objid = pol.oid "
            "  AND d.refclassid = 'pg_proc'::regclass "
            "JOIN pg_proc p ON p.oid = d.refobjid JOIN pg_namespace pn ON pn.oid = p.pronamespace "
            "JOIN pg_language l ON l.oid = p.prolang "
            "WHERE pol.polrelid = ANY(%s::oid[]) ORDER BY 1, 2, 3", (oids,))
        for table, policy, function, language, secdef, has_config, has_exception in cur.fetchall():
            reasons = []
            if language not in ("sql", "internal"):
                reasons.append("is LANGUAGE %s" % language)
            if secdef:
                reasons.append("is SECURITY DEFINER")
            if has_config:
                reasons.append("has a SET clause")
            if has_exception and language != "sql":
                reasons.append("opens a subtransaction per call (EXCEPTION block)")
            if reasons:
                findings.append(_finding(
                    "%s policy %s" % (_display(schema, table), policy),
                    "policy calls %s, which %s: PostgreSQL cannot inline it, runs it for every row and cannot use "
                    "the tenant index (up to x850 slower seen)" % (function, ", ".join(reasons)),
                    "rewrite the policy as <tenant_column> = (SELECT NULLIF(current_setting('%s', true), '')::uuid) "
                    "or make %s a LANGUAGE sql STABLE function" % (
                        cfg.get("tenant_setting") or "app.current_organization_id", function), "warning"))

    cur.execute("SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = %s AND c.relkind IN ('r', 'p') AND c.relrowsecurity", (schema,))
    rls_count = cur.fetchone()[0]
    expected = cfg.get("expected_count")
    if expected is not None and rls_count < expected:
        findings.append(_finding("schema %s" % schema, "only %d tables have row-level security enabled, expected at "
                                 "least %d" % (rls_count, expected), "run state=enforced with the full tenant_tables "
                                 "list, or run the missing migrations"))
    return findings, reports, rls_count


def run(params, check_mode=False):
    """Enforce or audit; return the result dict or raise PostgresError."""
    state = params.get("state") or "enforced"
    fail_on_findings = params.get("fail_on_findings")
    if fail_on_findings is None:
        fail_on_findings = state == "audit"
    result = dict(changed=False, actions=[], findings=[], tables=[], rls_table_count=0, warnings=[])
    try:
        conn = connect(params, session_role=params.get("session_role"))
    except PostgresError as exc:
        if not (check_mode and exc.not_there_yet):
            raise
        result["warnings"].append("check mode: %s; nothing to inspect yet" % exc.msg)
        result["changed"] = state == "enforced"
        return result
    try:
        with conn.cursor() as cur:
            tables = resolve_tables(cur, params)
            if state == "enforced":
                statements, notes = plan_enforcement(cur, params, tables, check_mode)
                result["actions"] = [s.as_string(conn) for s in statements]
                result["warnings"].extend(notes)
                result["changed"] = bool(statements or notes)
                if statements and not check_mode:
                    cur.execute("SET LOCAL lock_timeout = '30s'")
                    for statement in statements:
                        try:
                            cur.execute(statement)
                        except psycopg2.Error as exc:
                            conn.rollback()
                            raise PostgresError("enforcing row-level security failed at %r: SQLSTATE %s: %s; "
                                                "nothing was changed" % (statement.as_string(conn), sqlstate_of(exc),
                                                                         error_text(exc)),
                                                changed=False, actions=result["actions"]) from None
                    conn.commit()
            findings, reports, count = audit(cur, params, tables)
        conn.rollback()
        result.update(findings=findings, tables=reports, rls_table_count=count)
        errors = [f for f in findings if f["severity"] == "error"]
        if fail_on_findings and errors:
            raise PostgresError("row-level security audit found %d problem(s): %s" % (
                len(errors), "; ".join("%s: %s" % (f["object"], f["problem"]) for f in errors)), **result)
        return result
    finally:
        conn.close()


def main():
    argument_spec = connection_argument_spec()
    argument_spec.update(
        state=dict(type="str", choices=["enforced", "audit"], default="enforced"),
        app_role=dict(type="str", required=True),
        tenant_tables=dict(type="list", elements="str", default=[]),
        tenant_column=dict(type="str", default="organization_id"),
        tenant_key_overrides=dict(type="dict", default={"organizations": "id"}),
        schema=dict(type="str", default="public"),
        tenant_setting=dict(type="str", default="app.current_organization_id"),
        super_admin_role_setting=dict(type="str", default="app.current_user_role"),
        fail_on_findings=dict(type="bool"),
        expected_count=dict(type="int"),
        session_role=dict(type="str"),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    if not HAS_PSYCOPG2:
        module.fail_json(msg=missing_required_lib("psycopg2"), exception=PSYCOPG2_IMPORT_ERROR)
    try:
        result = run(module.params, check_mode=module.check_mode)
    except PostgresError as exc:
        base = dict(changed=False, actions=[], findings=[], tables=[], rls_table_count=0)
        base.update(exc.result)
        base.pop("warnings", None)
        module.fail_json(msg=exc.msg, **base)
    for warning in result.pop("warnings"):
        module.warn(warning)
    for finding in result["findings"]:
        if finding["severity"] == "warning":
            module.warn("%s: %s" % (finding["object"], finding["problem"]))
    module.exit_json(**result)


if __name__ == "__main__":
    main()
