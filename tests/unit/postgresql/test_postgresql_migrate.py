"""postgresql_migrate against a real throwaway PostgreSQL 15 cluster (no mocks)."""

from __future__ import annotations

import hashlib
import json
import threading

import pytest

from ansible.module_utils.testing import patch_module_args
from ansible_collections.dese.ea_plan.plugins.module_utils.postgres_common import PostgresError
from ansible_collections.dese.ea_plan.plugins.modules import postgresql_migrate, postgresql_rls
from pg_throwaway import MIGRATION_SET

ALL_FILES = ["0000_core.sql", "0001_finance.sql", "0002_crm.sql", "0003_inventory_iot.sql",
             "0004_app_rls_policies.sql", "0005_demo_seed.sql"]


def migrate(params, migration_set, check_mode=False, **extra):
    return postgresql_migrate.run(dict(params, migrations_dir=str(migration_set), **extra), check_mode=check_mode)


def journal(migration_set):
    return json.loads((migration_set / "meta" / "_journal.json").read_text())


def write_journal(migration_set, data):
    (migration_set / "meta" / "_journal.json").write_text(json.dumps(data, indent=2))


def add_migration(migration_set, tag, sql, when=None):
    """Add a file and (unless when is None) its journal entry."""
    (migration_set / (tag + ".sql")).write_text(sql)
    if when is not None:
        data = journal(migration_set)
        data["entries"].append({"idx": len(data["entries"]), "version": "7", "when": when, "tag": tag,
                                "breakpoints": True})
        write_journal(migration_set, data)


def recorded(cluster, database):
    return cluster.execute("SELECT hash, created_at FROM drizzle.__drizzle_migrations ORDER BY id", database)


def relation_exists(cluster, database, name):
    return cluster.execute("SELECT to_regclass(%s) IS NOT NULL", database, (name,))[0][0]


def test_applies_the_set_like_drizzle_then_reruns_as_noop(pg_cluster, database, migrator_params, migration_set):
    result = migrate(migrator_params, migration_set)
    assert result["changed"] is True
    assert result["applied"] == ALL_FILES
    assert result["skipped"] == [] and result["warnings"] == []

    entries = journal(migration_set)["entries"]
    expected = [(hashlib.sha256((migration_set / (e["tag"] + ".sql")).read_bytes()).hexdigest(), e["when"])
                for e in entries]
    assert recorded(pg_cluster, database) == expected
    # session_role: everything the migrations created belongs to the owner role, not to the login user
    owners = pg_cluster.execute("SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname IN ('public', 'drizzle')",
                                database)
    assert owners == [("dese_owner",)]
    assert pg_cluster.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'", database) == [(20,)]
    assert pg_cluster.execute("SELECT slug, (SELECT count(*) FROM invoices i WHERE i.organization_id = o.id) "
                              "FROM organizations o ORDER BY slug", database) == [("acme", 12), ("globex", 5)]

    again = migrate(migrator_params, migration_set)
    assert again["changed"] is False
    assert again["applied"] == [] and again["pending"] == []
    assert again["skipped"] == ALL_FILES
    assert len(recorded(pg_cluster, database)) == 6


def test_check_mode_lists_pending_without_executing(pg_cluster, database, migrator_params, migration_set):
    fresh = migrate(migrator_params, migration_set, check_mode=True)
    assert fresh["changed"] is True and fresh["pending"] == ALL_FILES and fresh["applied"] == []
    assert not relation_exists(pg_cluster, database, "drizzle.__drizzle_migrations")
    assert not relation_exists(pg_cluster, database, "public.organizations")

    migrate(migrator_params, migration_set)
    add_migration(migration_set, "0006_notes", 'CREATE TABLE "notes" ("id" serial PRIMARY KEY);', when=1767744000000)
    later = migrate(migrator_params, migration_set, check_mode=True)
    assert later["pending"] == ["0006_notes.sql"] and later["skipped"] == ALL_FILES and later["changed"] is True
    assert not relation_exists(pg_cluster, database, "public.notes")
    assert migrate(migrator_params, migration_set, check_mode=True, journal_mismatch="fail")["applied"] == []
    assert migrate(migrator_params, migration_set)["applied"] == ["0006_notes.sql"]
    assert migrate(migrator_params, migration_set, check_mode=True)["changed"] is False


def _fault_file_not_in_journal(migration_set):
    add_migration(migration_set, "0006_hotfix", 'CREATE TABLE "hotfix" ("id" serial PRIMARY KEY);')
    return "0006_hotfix.sql is not in meta/_journal.json", ALL_FILES + ["0006_hotfix.sql"]


def _fault_entry_without_file(migration_set):
    data = journal(migration_set)
    data["entries"].append({"idx": 6, "version": "7", "when": 1767744000000, "tag": "0006_ghost", "breakpoints": True})
    write_journal(migration_set, data)
    return "journal entry 0006_ghost (idx 6) has no file 0006_ghost.sql", ALL_FILES


def _fault_when_not_increasing(migration_set):
    data = journal(migration_set)
    data["entries"][3]["when"] = data["entries"][1]["when"] - 1  # 0003 is now older than 0001 and 0002
    write_journal(migration_set, data)
    return "journal entry 0003_inventory_iot has when=", ALL_FILES


@pytest.mark.parametrize("make_fault", [_fault_file_not_in_journal, _fault_entry_without_file,
                                        _fault_when_not_increasing], ids=["file-not-in-journal",
                                                                          "entry-without-file", "when-not-increasing"])
def test_journal_faults_fail_or_warn(pg_cluster, database, migrator_params, migration_set, make_fault):
    fault, warn_order = make_fault(migration_set)

    with pytest.raises(PostgresError) as failed:
        migrate(migrator_params, migration_set)  # journal_mismatch defaults to fail
    assert fault in failed.value.msg and "journal_mismatch=warn" in failed.value.msg
    assert not relation_exists(pg_cluster, database, "drizzle.__drizzle_migrations"), "fail mode touched the database"

    result = migrate(migrator_params, migration_set, journal_mismatch="warn")
    assert any(fault in warning for warning in result["warnings"])
    assert result["applied"] == warn_order  # warn mode applies in file-name order
    rows = recorded(pg_cluster, database)
    assert len(rows) == len(warn_order) and all(created_at is not None for _, created_at in rows)
    if make_fault is _fault_file_not_in_journal:
        # outside the journal: recorded with the newest `when` before it, so Drizzle's watermark does not move
        assert rows[-1][1] == journal(migration_set)["entries"][-1]["when"]
    assert migrate(migrator_params, migration_set, journal_mismatch="warn")["changed"] is False


def test_refuses_on_hash_drift(pg_cluster, database, migrator_params, migration_set):
    migrate(migrator_params, migration_set)
    crm = migration_set / "0002_crm.sql"
    crm.write_text(crm.read_text() + "\n--> statement-breakpoint\nALTER TABLE \"deals\" ADD COLUMN \"x\" int;\n")
    for check_mode in (True, False):
        with pytest.raises(PostgresError) as failed:
            migrate(migrator_params, migration_set, check_mode=check_mode)
        assert "hash drift" in failed.value.msg and "0002_crm.sql" in failed.value.msg
    assert pg_cluster.execute("SELECT count(*) FROM information_schema.columns WHERE table_name = 'deals' "
                              "AND column_name = 'x'", database) == [(0,)]


def test_refuses_when_a_recorded_hash_has_no_file(pg_cluster, database, migrator_params, migration_set):
    migrate(migrator_params, migration_set)
    seed_hash = hashlib.sha256((migration_set / "0005_demo_seed.sql").read_bytes()).hexdigest()
    (migration_set / "0005_demo_seed.sql").unlink()
    data = journal(migration_set)
    data["entries"] = data["entries"][:-1]
    write_journal(migration_set, data)
    with pytest.raises(PostgresError) as failed:
        migrate(migrator_params, migration_set)
    assert "no file" in failed.value.msg and seed_hash[:12] in failed.value.msg
    # the deleted file's journal entry is gone too; with it still there, the file name is given
    data["entries"].append({"idx": 5, "version": "7", "when": 1767657600000, "tag": "0005_demo_seed",
                            "breakpoints": True})
    write_journal(migration_set, data)
    with pytest.raises(PostgresError) as failed:
        migrate(migrator_params, migration_set, journal_mismatch="warn")
    assert "0005_demo_seed.sql, hash %s" % seed_hash[:12] in failed.value.msg


BROKEN = """CREATE TABLE "audit_log" ("id" serial PRIMARY KEY, "note" text);
--> statement-breakpoint
INSERT INTO "audit_log" ("note") VALUES ('first');
--> statement-breakpoint
INSERT INTO "audit_log" ("note")
  SELECT "title"
  FROM "no_such_table";
"""


def test_failing_statement_rolls_back_the_file_and_says_where(pg_cluster, database, migrator_params, migration_set):
    add_migration(migration_set, "0006_broken", BROKEN, when=1767744000000)
    add_migration(migration_set, "0007_after", 'CREATE TABLE "after_broken" ("id" int);', when=1767830400000)
    with pytest.raises(PostgresError) as failed:
        migrate(migrator_params, migration_set)
    err = failed.value
    assert err.result["failed_statement"] == {"file": "0006_broken.sql", "statement": 3, "line": 7,
                                              "sqlstate": "42P01",
                                              "message": 'relation "no_such_table" does not exist'}
    assert "0006_broken.sql" in err.msg and "statement 3 (line 7)" in err.msg and "42P01" in err.msg
    assert err.result["applied"] == ALL_FILES  # the files before it stay applied...
    assert not relation_exists(pg_cluster, database, "public.audit_log")  # ...nothing of the failing one...
    assert not relation_exists(pg_cluster, database, "public.after_broken")  # ...and nothing after it
    assert len(recorded(pg_cluster, database)) == 6


def test_fixed_file_applies_after_a_failure(pg_cluster, database, migrator_params, migration_set):
    add_migration(migration_set, "0006_broken", BROKEN, when=1767744000000)
    with pytest.raises(PostgresError):
        migrate(migrator_params, migration_set)
    (migration_set / "0006_broken.sql").write_text(BROKEN.replace('"title"', "'x'").replace('"no_such_table"',
                                                                                          '"audit_log"'))
    result = migrate(migrator_params, migration_set)
    assert result["applied"] == ["0006_broken.sql"] and result["skipped"] == ALL_FILES
    assert pg_cluster.execute('SELECT count(*) FROM "audit_log"', database) == [(2,)]


def test_module_entry_point_fails_on_error_and_reports_json(pg_cluster, database, migrator_params, migration_set,
                                                             capsys):
    add_migration(migration_set, "0006_broken", BROKEN, when=1767744000000)
    args = dict(migrator_params, migrations_dir=str(migration_set))
    with patch_module_args(args), pytest.raises(SystemExit) as exited:
        postgresql_migrate.main()
    raw = capsys.readouterr().out
    output = json.loads(raw)
    assert exited.value.code == 1 and output["failed"] is True
    assert output["failed_statement"]["sqlstate"] == "42P01" and output["applied"] == ALL_FILES
    assert args["login_password"] not in raw  # no_log on login_password

    (migration_set / "0006_broken.sql").unlink()
    data = journal(migration_set)
    data["entries"] = data["entries"][:-1]
    write_journal(migration_set, data)
    with patch_module_args(dict(args, _ansible_check_mode=True)), pytest.raises(SystemExit) as exited:
        postgresql_migrate.main()
    output = json.loads(capsys.readouterr().out)
    assert exited.value.code == 0 and output["changed"] is False and output["skipped"] == ALL_FILES


def test_concurrent_runs_apply_each_file_exactly_once(pg_cluster, database, migrator_params, migration_set):
    # a slow first file keeps the first run inside the lock while the second one arrives
    add_migration(migration_set, "0006_slow", "SELECT pg_sleep(0.5);", when=1767744000000)
    barrier = threading.Barrier(3)
    outcomes = []

    def worker():
        barrier.wait()
        try:
            outcomes.append(migrate(migrator_params, migration_set, lock_timeout=30))
        except Exception as exc:  # noqa: BLE001 - any failure must show up in the assertion below
            outcomes.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert all(isinstance(o, dict) for o in outcomes), outcomes
    applied = sorted(name for o in outcomes for name in o["applied"])
    assert applied == sorted(ALL_FILES + ["0006_slow.sql"])  # each file applied by exactly one run
    assert sum(o["changed"] for o in outcomes) == 1
    hashes = [h for h, _ in recorded(pg_cluster, database)]
    assert len(hashes) == 7 and len(set(hashes)) == 7


def test_lock_wait_is_bounded_and_names_the_holder(pg_cluster, database, migrator_params, migration_set):
    holder = pg_cluster.connect(database)
    try:
        with holder.cursor() as cur:
            cur.execute("SELECT pg_advisory_lock(%s), pg_backend_pid()", (postgresql_migrate.LOCK_KEY,))
            pid = cur.fetchone()[1]
        with pytest.raises(PostgresError) as failed:
            migrate(migrator_params, migration_set, lock_timeout=1)
        assert "timed out after 1s" in failed.value.msg and str(pid) in failed.value.msg
        assert not relation_exists(pg_cluster, database, "drizzle.__drizzle_migrations")
    finally:
        holder.close()
    assert migrate(migrator_params, migration_set, lock_timeout=1)["applied"] == ALL_FILES


def test_clear_errors_for_bad_input(pg_cluster, database, migrator_params, migration_set, tmp_path):
    with pytest.raises(PostgresError, match="is not a directory"):
        migrate(migrator_params, tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(PostgresError, match="cannot read the Drizzle journal"):
        migrate(migrator_params, tmp_path / "empty")
    with pytest.raises(PostgresError, match="cannot SET ROLE no_such_role"):
        migrate(dict(migrator_params, session_role="no_such_role"), migration_set)
    with pytest.raises(PostgresError, match="cannot connect"):
        migrate(dict(migrator_params, login_password="wrong"), migration_set)


def test_statement_numbers_and_lines(tmp_path):
    path = tmp_path / "0000_x.sql"
    path.write_text("-- header\nSELECT 1;\n--> statement-breakpoint\n\n\nSELECT 2;\n--> statement-breakpoint\n   \n")
    migration = postgresql_migrate.Migration("0000_x.sql", str(path), 1)
    assert [(n, line) for n, line, _, _ in migration.statements()] == [(1, 1), (2, 6)]
    assert migration.hash == hashlib.sha256(path.read_bytes()).hexdigest()


def test_peer_authentication_through_the_socket_as_postgres(pg_cluster, database):
    """The role's usual call: become postgres, no login_user/password, default-style unix socket."""
    params = {"login_unix_socket": pg_cluster.socket_dir, "login_port": pg_cluster.port, "database": database,
              "session_role": "dese_owner", "migrations_dir": MIGRATION_SET}
    result = pg_cluster.run_as_postgres(postgresql_migrate.run, params)
    assert result["applied"] == ALL_FILES
    assert pg_cluster.execute("SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname = 'public'",
                              database) == [("dese_owner",)]
    with pytest.raises(PostgresError, match="cannot connect"):  # root is not a database role: peer refuses it
        postgresql_migrate.run(params)


def test_check_mode_on_a_fresh_host_does_not_fail(pg_cluster, migrator_params, migration_set):
    missing = dict(migrator_params, database="not_created_yet")
    result = migrate(missing, migration_set, check_mode=True)
    assert result["changed"] is True and result["pending"] == ALL_FILES
    assert any("does not exist" in warning for warning in result["warnings"])
    no_server = dict(migrator_params, login_port=1)  # nothing listens there
    assert migrate(no_server, migration_set, check_mode=True)["pending"] == ALL_FILES
    with pytest.raises(PostgresError, match="does not exist"):
        migrate(missing, migration_set)  # a real run fails
    with pytest.raises(PostgresError, match="password authentication failed"):
        migrate(dict(migrator_params, login_password="wrong"), migration_set, check_mode=True)


def test_identical_comment_only_files_are_each_applied_once(pg_cluster, database, migrator_params, migration_set):
    stub = "-- Custom SQL migration file, put your code below! --\n"  # what drizzle-kit generate --custom writes
    add_migration(migration_set, "0006_custom_a", stub, when=1767744000000)
    add_migration(migration_set, "0007_custom_b", stub, when=1767830400000)
    assert migrate(migrator_params, migration_set)["applied"] == ALL_FILES + ["0006_custom_a.sql", "0007_custom_b.sql"]
    assert len(recorded(pg_cluster, database)) == 8
    again = migrate(migrator_params, migration_set)
    assert again["changed"] is False and again["skipped"][-2:] == ["0006_custom_a.sql", "0007_custom_b.sql"]
    (migration_set / "0007_custom_b.sql").write_text(stub + "SELECT 1;\n")  # one of the twins changed: drift
    with pytest.raises(PostgresError, match=r"hash drift\): 0007_custom_b\.sql"):
        migrate(migrator_params, migration_set)


def test_data_migrations_after_forced_rls_need_an_owner_with_bypassrls(pg_cluster, database, migrator_params,
                                                                     migration_set):
    postgresql_migrate.run(dict(migrator_params, migrations_dir=str(migration_set)))
    postgresql_rls.run(dict(migrator_params, app_role="dese_app", state="enforced"))
    late = "INSERT INTO devices (organization_id, name) VALUES ('11111111-1111-4111-8111-111111111111', 'late');"
    add_migration(migration_set, "0006_late_device", late, when=1767744000000)
    with pytest.raises(PostgresError, match="SQLSTATE 42501: new row violates row-level security"):
        migrate(migrator_params, migration_set)
    pg_cluster.execute("ALTER ROLE dese_owner BYPASSRLS")
    try:
        assert migrate(migrator_params, migration_set)["applied"] == ["0006_late_device.sql"]
    finally:
        pg_cluster.execute("ALTER ROLE dese_owner NOBYPASSRLS")
