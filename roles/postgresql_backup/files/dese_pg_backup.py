#!/usr/bin/python3
"""PostgreSQL backups for DESE EA PLAN, and a restore test that proves them.

Subcommands (installed by the dese.ea_plan.postgresql_backup role, run by systemd timers):
  backup        pg_dump -Fc of each database + pg_dumpall --globals-only into a new timestamped directory, with a
                SHA256SUMS file and a manifest (row count per table and the newest applied migration hash) taken from
                the very snapshot pg_dump uses; then retention by count and age.
  restore-test  restore the newest backup into scratch databases, check the checksums, compare row counts with the
                manifest, audit row-level security on the restored copy, drop the scratch databases, record the result.
  restore       restore one database of a chosen backup (newest by default) into the LIVE database, after checking
                its checksums: pg_restore --clean --if-exists in a single transaction (all or nothing).
  publish       (as root, after either) turn the recorded results into node_exporter textfile metrics.
Run as the postgres OS user (peer authentication through the local socket) except ``publish``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg2

MANIFEST = "manifest.json"
CHECKSUMS = "SHA256SUMS"
SCRATCH_SUFFIX = "__restore_test"


class BackupError(Exception):
    """A failure with an operator-readable message."""


def now() -> float:
    return time.time()


def connect(database: str):
    return psycopg2.connect(dbname=database)  # local socket, peer authentication as postgres


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def table_row_counts(cursor) -> dict[str, int]:
    cursor.execute("""
        SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname)
          FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
           AND n.nspname NOT LIKE 'pg_toast%'
         ORDER BY 1""")
    counts = {}
    for (table,) in cursor.fetchall():
        cursor.execute(f"SELECT count(*) FROM {table}")  # names come quoted from the catalog
        counts[table] = cursor.fetchone()[0]
    return counts


def latest_migration_hash(cursor) -> str | None:
    cursor.execute("SELECT to_regclass('drizzle.__drizzle_migrations')")
    if cursor.fetchone()[0] is None:
        return None
    cursor.execute("SELECT hash FROM drizzle.__drizzle_migrations ORDER BY id DESC LIMIT 1")
    row = cursor.fetchone()
    return row[0] if row else None


def dump_database(database: str, target: Path, bin_dir: Path) -> dict:
    """Dump one database from an exported snapshot, counting rows inside that same snapshot."""
    conn = connect(database)
    try:
        conn.set_session(isolation_level="REPEATABLE READ", readonly=True)
        with conn.cursor() as cursor:
            cursor.execute("SELECT pg_export_snapshot()")
            snapshot = cursor.fetchone()[0]
            counts = table_row_counts(cursor)
            migration = latest_migration_hash(cursor)
            result = subprocess.run([str(bin_dir / "pg_dump"), "-Fc", f"--snapshot={snapshot}", "-f", str(target),
                                     database], capture_output=True, text=True, check=False)
            if result.returncode != 0:
                raise BackupError(f"pg_dump of {database} failed: {result.stderr.strip()}")
    finally:
        conn.close()
    return {"file": target.name, "tables": counts, "latest_migration_hash": migration}


def apply_retention(backup_dir: Path, keep_count: int, keep_days: int) -> list[str]:
    runs = sorted((p for p in backup_dir.iterdir() if p.is_dir() and (p / MANIFEST).is_file()), reverse=True)
    cutoff = now() - keep_days * 86400
    removed = []
    for index, run in enumerate(runs):
        if index == 0:
            continue  # never remove the newest backup
        if index >= keep_count or run.stat().st_mtime < cutoff:
            shutil.rmtree(run)
            removed.append(run.name)
    return removed


def cmd_backup(args) -> dict:
    started = now()
    backup_dir = Path(args.backup_dir)
    stamp = dt.datetime.fromtimestamp(started, dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    work = Path(tempfile.mkdtemp(prefix=f".{stamp}-", dir=backup_dir))
    try:
        databases = {db: dump_database(db, work / f"{db}.dump", Path(args.bin_dir)) for db in args.databases}
        globals_sql = work / "globals.sql"
        result = subprocess.run([str(Path(args.bin_dir) / "pg_dumpall"), "--globals-only", "-f", str(globals_sql)],
                                capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise BackupError(f"pg_dumpall --globals-only failed: {result.stderr.strip()}")
        manifest = {"created_at": started, "created": stamp, "databases": databases, "globals": globals_sql.name}
        (work / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True))
        sums = [f"{sha256(p)}  {p.name}" for p in sorted(work.iterdir()) if p.name != CHECKSUMS]
        (work / CHECKSUMS).write_text("\n".join(sums) + "\n")
        final = backup_dir / stamp
        work.rename(final)  # a backup directory only appears once complete
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    removed = apply_retention(backup_dir, args.retention_count, args.retention_days)
    size = sum(p.stat().st_size for p in final.iterdir())
    return {"path": str(final), "size_bytes": size, "duration_seconds": round(now() - started, 3),
            "removed": removed, "message": f"backup {final.name} written ({size} bytes)"}


def verify_checksums(run: Path) -> None:
    sums_file = run / CHECKSUMS
    if not sums_file.is_file():
        raise BackupError(f"{run}: no {CHECKSUMS}; the backup is incomplete")
    for line in sums_file.read_text().splitlines():
        expected, name = line.split(maxsplit=1)
        if sha256(run / name) != expected:
            raise BackupError(f"{run / name}: checksum mismatch (the dump is corrupted or was modified)")


def audit_rls(cursor, app_role: str, tenant_column: str) -> list[str]:
    """The tenant-isolation facts a restored copy must keep: RLS enabled and forced, a policy, app role not owner."""
    cursor.execute("""
        SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity,
               EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = c.oid),
               pg_get_userbyid(c.relowner)
          FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE c.relkind IN ('r', 'p') AND n.nspname = 'public'
           AND (c.relname = 'organizations' OR EXISTS (
                SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = %s AND NOT a.attisdropped))
         ORDER BY 1""", (tenant_column,))
    findings = []
    for table, enabled, forced, has_policy, owner in cursor.fetchall():
        if not enabled:
            findings.append(f"{table}: row level security not enabled")
        if not forced:
            findings.append(f"{table}: row level security not forced")
        if not has_policy:
            findings.append(f"{table}: no policy")
        if owner == app_role:
            findings.append(f"{table}: owned by the app role {app_role}")
    cursor.execute("SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = %s", (app_role,))
    row = cursor.fetchone()
    if row and row[0]:
        findings.append(f"role {app_role}: SUPERUSER or BYPASSRLS")
    return findings


def drop_database(name: str) -> None:
    conn = connect("postgres")
    conn.autocommit = True
    try:
        with conn.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        conn.close()


def cmd_restore_test(args) -> dict:
    started = now()
    run = find_backup(Path(args.backup_dir), "latest")
    verify_checksums(run)
    manifest = json.loads((run / MANIFEST).read_text())
    checked = {}
    for database, meta in manifest["databases"].items():
        scratch = f"{database}{SCRATCH_SUFFIX}"
        drop_database(scratch)
        conn = connect("postgres")
        conn.autocommit = True
        with conn.cursor() as cursor:
            cursor.execute(f'CREATE DATABASE "{scratch}"')
        conn.close()
        try:
            result = subprocess.run([str(Path(args.bin_dir) / "pg_restore"), "--exit-on-error", "-d", scratch,
                                     str(run / meta["file"])], capture_output=True, text=True, check=False)
            if result.returncode != 0:
                raise BackupError(f"pg_restore of {run.name}/{meta['file']} failed: {result.stderr.strip()[:500]}")
            conn = connect(scratch)
            try:
                with conn.cursor() as cursor:
                    counts = table_row_counts(cursor)
                    findings = audit_rls(cursor, args.app_role, args.tenant_column)
            finally:
                conn.close()
        finally:
            drop_database(scratch)
        mismatches = [f"{table}: {meta['tables'].get(table)} in manifest, {counts.get(table)} restored"
                      for table in sorted(set(meta["tables"]) | set(counts))
                      if meta["tables"].get(table) != counts.get(table)]
        if mismatches:
            raise BackupError(f"{database}: row counts differ after restore: {'; '.join(mismatches[:10])}")
        if findings:
            raise BackupError(f"{database}: RLS audit of the restored copy failed: {'; '.join(findings[:10])}")
        checked[database] = {"tables": len(counts), "rows": sum(counts.values())}
    return {"path": str(run), "databases": checked, "duration_seconds": round(now() - started, 3),
            "message": f"restore test of {run.name} passed: {json.dumps(checked, sort_keys=True)}"}


def find_backup(backup_dir: Path, name: str) -> Path:
    runs = sorted((p for p in backup_dir.iterdir() if p.is_dir() and (p / MANIFEST).is_file()), reverse=True)
    if not runs:
        raise BackupError(f"no backup found in {backup_dir}")
    if name == "latest":
        return runs[0]
    for run in runs:
        if run.name == name:
            return run
    raise BackupError(f"backup {name!r} not found in {backup_dir}; present: {', '.join(r.name for r in runs)}")


def cmd_restore(args) -> dict:
    started = now()
    if len(args.databases) != 1:
        raise BackupError("restore takes exactly one database (--databases NAME)")
    database = args.databases[0]
    run = find_backup(Path(args.backup_dir), args.source)
    verify_checksums(run)
    meta = json.loads((run / MANIFEST).read_text())["databases"].get(database)
    if meta is None:
        raise BackupError(f"backup {run.name} holds no dump of {database}")
    result = subprocess.run([str(Path(args.bin_dir) / "pg_restore"), "--clean", "--if-exists", "--single-transaction",
                             "--exit-on-error", "-d", database, str(run / meta["file"])],
                            capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise BackupError(f"pg_restore of {run.name}/{meta['file']} into {database} failed and was rolled back: "
                          f"{result.stderr.strip()[:500]}")
    return {"path": str(run), "database": database, "duration_seconds": round(now() - started, 3),
            "message": f"restored {database} from {run.name}"}


def record(state_dir: Path, kind: str, outcome: dict) -> None:
    path = state_dir / f"{kind}.json"
    previous = json.loads(path.read_text()) if path.is_file() else {}
    state = {"last_attempt_timestamp": now(), **outcome}
    state["last_success_timestamp"] = state["last_attempt_timestamp"] if outcome["status"] == "ok" \
        else previous.get("last_success_timestamp", 0)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(state, indent=2, sort_keys=True))
    tmp.replace(path)


def cmd_publish(args) -> None:
    """Write the textfile metrics atomically; node_exporter must never read a half-written file."""
    state_dir = Path(args.state_dir)
    lines = []
    for kind, metric in (("backup", "dese_postgresql_backup"), ("restore-test", "dese_postgresql_restore_test")):
        path = state_dir / f"{kind}.json"
        state = json.loads(path.read_text()) if path.is_file() else {}
        lines += [
            f"# HELP {metric}_last_success_timestamp_seconds Unix time of the last successful {kind}.",
            f"# TYPE {metric}_last_success_timestamp_seconds gauge",
            f"{metric}_last_success_timestamp_seconds {state.get('last_success_timestamp', 0):.0f}",
            f"# HELP {metric}_last_status 1 when the last {kind} succeeded, 0 when it failed.",
            f"# TYPE {metric}_last_status gauge",
            f"{metric}_last_status {1 if state.get('status') == 'ok' else 0}",
        ]
        if kind == "backup" and "size_bytes" in state:
            lines += [f"# HELP {metric}_last_size_bytes Size of the last successful backup.",
                      f"# TYPE {metric}_last_size_bytes gauge", f"{metric}_last_size_bytes {state['size_bytes']}"]
    textfile_dir = Path(args.textfile_dir)
    textfile_dir.mkdir(parents=True, exist_ok=True)
    target = textfile_dir / "dese_postgresql_backup.prom"
    tmp = textfile_dir / ".dese_postgresql_backup.prom.tmp"
    tmp.write_text("\n".join(lines) + "\n")
    tmp.chmod(0o644)
    tmp.replace(target)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=("backup", "restore-test", "restore", "publish"))
    parser.add_argument("--from", dest="source", default="latest", help="restore: backup directory name or latest")
    parser.add_argument("--databases", nargs="+", default=[])
    parser.add_argument("--backup-dir", default="/var/backups/postgresql")
    parser.add_argument("--state-dir", default="/var/lib/dese/backup")
    parser.add_argument("--textfile-dir", default="/var/lib/prometheus/node-exporter")
    parser.add_argument("--bin-dir", default="/usr/lib/postgresql/15/bin")
    parser.add_argument("--retention-count", type=int, default=7)
    parser.add_argument("--retention-days", type=int, default=14)
    parser.add_argument("--app-role", default="dese_app")
    parser.add_argument("--tenant-column", default="organization_id")
    args = parser.parse_args()
    if args.command == "publish":
        cmd_publish(args)
        return 0
    kind = args.command
    try:
        handler = {"backup": cmd_backup, "restore-test": cmd_restore_test, "restore": cmd_restore}[kind]
        outcome = {"status": "ok", **handler(args)}
    except (BackupError, psycopg2.Error, OSError) as exc:
        outcome = {"status": "failed", "message": f"{kind} failed: {str(exc).strip()}"}
    record(Path(args.state_dir), kind, outcome)
    print(outcome["message"], file=sys.stdout if outcome["status"] == "ok" else sys.stderr)
    return 0 if outcome["status"] == "ok" else 1


if __name__ == "__main__":
    os.umask(0o077)
    sys.exit(main())
