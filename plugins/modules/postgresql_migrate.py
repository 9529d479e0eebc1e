#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: DESE EA PLAN platform team
# Apache License 2.0 (see galaxy.yml)
"""Apply a Drizzle Kit migration directory to PostgreSQL, one transaction per file, under an advisory lock."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: postgresql_migrate
short_description: Apply a Drizzle Kit SQL migration directory to PostgreSQL
version_added: 1.0.0
description:
  - Applies the SQL files of a Drizzle Kit migration directory (C(NNNN_<tag>.sql) files next to C(meta/_journal.json))
    and records them in C(drizzle.__drizzle_migrations) exactly as Drizzle's own migrator does (C(hash) = hex SHA-256
    of the whole file text, C(created_at) = the journal's C(when)), so the application's migrator sees them as applied.
  - Unlike Drizzle's migrator, whether a file is applied is decided by its hash, not by comparing C(when) values, so
    entries that are out of order are never skipped silently.
  - Each file runs in its own transaction together with its bookkeeping row; statements are split on the literal
    C(--> statement-breakpoint). A failing statement rolls its whole file back and the module fails naming the file,
    the statement number, the line, the SQLSTATE and the server's message. Files applied before it stay applied.
  - Runs hold a session-level advisory lock, so concurrent runs (two hosts, two plays) apply each file exactly once;
    the wait is bounded by O(lock_timeout).
  - Refuses to run when an applied file's content changed (hash drift) or when a recorded hash has no file.
  - Runs on the database host (or any host that reaches the server); requires psycopg2 there.
author:
  - DESE EA PLAN platform team
requirements:
  - psycopg2 (Debian package C(python3-psycopg2)) on the target host
options:
  migrations_dir:
    description:
      - Path on the target of the Drizzle directory, the one holding the C(.sql) files and C(meta/_journal.json).
    type: path
    required: true
  journal_mismatch:
    description:
      - What to do when the journal and the directory disagree (a C(.sql) file missing from the journal, a journal
        entry without a file, C(when) values not strictly increasing).
      - C(fail) refuses to touch the database and names every fault.
      - C(warn) reports each fault in RV(warnings), applies the files that exist in file-name order and ignores journal
        entries without a file.
    type: str
    choices: [fail, warn]
    default: fail
  lock_timeout:
    description:
      - Seconds to wait for the advisory lock held by a concurrent run before failing with a clear error.
    type: int
    default: 60
  session_role:
    description:
      - Role to C(SET ROLE) to after connecting (for example the NOLOGIN owner role), so every object the migrations
        create, including the C(drizzle) schema and its table, is owned by that role.
    type: str
  database:
    description: Database to migrate.
    type: str
    required: true
    aliases: [db, login_db]
  login_host:
    description:
      - Host name or address of the server. Empty (and no O(login_unix_socket)) means libpq's default unix socket.
    type: str
    default: ""
  login_port:
    description: Server port.
    type: int
    default: 5432
  login_user:
    description:
      - Role to log in as. Unset means libpq's default, the OS user of the task; with C(become_user=postgres) and the
        default socket that is peer authentication as C(postgres).
    type: str
  login_password:
    description: Password of O(login_user) (scram). Not needed for peer authentication.
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
  - Supports check mode; it lists the pending files without executing anything and still refuses on hash drift.
    When the server or the database does not exist yet (a fresh host in check mode), check mode reports every file
    as pending with a warning instead of failing; wrong credentials still fail.
  - Files without a journal entry (only applied with O(journal_mismatch=warn)) are recorded with the largest C(when)
    of the journal entries before them, so Drizzle's own migrator, which compares C(when) values, neither re-applies
    nor skips anything because of them.
  - Once M(dese.ea_plan.postgresql_rls) has forced row-level security, the owner role is subject to the tenant
    policies too, so a later migration that writes tenant rows fails with SQLSTATE 42501. Give the NOLOGIN owner role
    C(BYPASSRLS) (it is only reachable through O(session_role)), or run such migrations as a superuser.
  - Statements run inside a transaction, as with Drizzle's migrator; C(CREATE INDEX CONCURRENTLY) and similar
    statements therefore cannot be used in a migration file.
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
"""

EXAMPLES = r"""
- name: Apply pending SQL migrations as the owner role
  dese.ea_plan.postgresql_migrate:
    migrations_dir: /var/lib/dese/migrations/drizzle
    database: dese_ea_plan
    session_role: dese_owner
  become: true
  become_user: postgres

- name: Apply an imperfect migration set, reporting its journal faults
  dese.ea_plan.postgresql_migrate:
    migrations_dir: /srv/app/drizzle
    database: dese_ea_plan
    login_host: 127.0.0.1
    login_user: dese_migrator
    login_password: "{{ postgresql_migration_password }}"
    session_role: dese_owner
    journal_mismatch: warn
    lock_timeout: 120
  no_log: true
"""

RETURN = r"""
applied:
  description: Files applied by this run, in order (empty in check mode).
  returned: always
  type: list
  elements: str
  sample: [0004_app_rls_policies.sql, 0005_demo_seed.sql]
pending:
  description: Files that were not yet applied when the run started (in check mode, the files a real run would apply).
  returned: always
  type: list
  elements: str
  sample: [0004_app_rls_policies.sql, 0005_demo_seed.sql]
skipped:
  description: Files already recorded in C(drizzle.__drizzle_migrations) with the same hash, left alone.
  returned: always
  type: list
  elements: str
  sample: [0000_core.sql, 0001_finance.sql]
warnings:
  description:
    - Journal faults tolerated because of O(journal_mismatch=warn). Emitted as Ansible warnings, so Ansible adds the
      key only when there is one (read it through the default filter, defaulting to an empty list).
  returned: when O(journal_mismatch=warn) tolerated a fault
  type: list
  elements: str
  sample: ["0006_hotfix.sql is not in meta/_journal.json"]
failed_statement:
  description: Where the failing statement is, when a statement failed.
  returned: failure
  type: dict
  sample: {file: 0003_bad.sql, statement: 2, line: 14, sqlstate: "42P01", message: 'relation "nope" does not exist'}
"""

import hashlib
import json
import os
import time

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible_collections.dese.ea_plan.plugins.module_utils.postgres_common import (
    HAS_PSYCOPG2,
    PSYCOPG2_IMPORT_ERROR,
    PostgresError,
    connect,
    connection_argument_spec,
    error_text,
    sqlstate_of,
)

try:
    import psycopg2
except ImportError:  # pragma: no cover - reported through missing_required_lib
    psycopg2 = None

BREAKPOINT = "--> statement-breakpoint"
MIGRATIONS_TABLE = "drizzle.__drizzle_migrations"
# Fixed 64-bit advisory lock key: first 8 bytes of sha256("dese.ea_plan.postgresql_migrate"), signed.
LOCK_KEY = int.from_bytes(hashlib.sha256(b"dese.ea_plan.postgresql_migrate").digest()[:8], "big", signed=True)


class Migration:
    """One SQL file of the set."""

    def __init__(self, name, path, when):
        self.name = name
        self.tag = name[:-4]
        self.path = path
        self.when = when
        with open(path, "rb") as handle:
            raw = handle.read()
        self.hash = hashlib.sha256(raw).hexdigest()
        try:
            self.text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise PostgresError("migration %s is not valid UTF-8 (%s); Drizzle reads migrations as UTF-8" % (
                name, exc)) from None
        self.created_at = when

    def statements(self):
        """Yield (number, first_line, offset, sql) per chunk between breakpoints, numbered from 1, blanks skipped."""
        offset = 0
        for number, chunk in enumerate(self.text.split(BREAKPOINT), start=1):
            start = offset
            offset += len(chunk) + len(BREAKPOINT)
            if not chunk.strip():
                continue
            first = start + (len(chunk) - len(chunk.lstrip()))
            yield number, self.text.count("\n", 0, first) + 1, start, chunk


def load_migration_set(migrations_dir, journal_mismatch="fail"):
    """Read the journal and the directory; return (ordered migrations, warnings) or raise PostgresError."""
    journal_path = os.path.join(migrations_dir, "meta", "_journal.json")
    if not os.path.isdir(migrations_dir):
        raise PostgresError("migrations_dir %s is not a directory on the target" % migrations_dir)
    try:
        with open(journal_path, encoding="utf-8") as handle:
            journal = json.load(handle)
    except OSError as exc:
        raise PostgresError("cannot read the Drizzle journal %s: %s" % (journal_path, exc.strerror)) from None
    except ValueError as exc:
        raise PostgresError("the Drizzle journal %s is not valid JSON: %s" % (journal_path, exc)) from None
    entries = journal.get("entries") if isinstance(journal, dict) else None
    if not isinstance(entries, list):
        raise PostgresError("the Drizzle journal %s has no 'entries' list" % journal_path)
    for position, entry in enumerate(entries):
        valid = isinstance(entry, dict) and isinstance(entry.get("tag"), str) and isinstance(entry.get("when"), int)
        if not valid:
            raise PostgresError("entry #%d of %s needs a string 'tag' and an integer 'when': %r" % (
                position, journal_path, entry))
    entries = sorted(entries, key=lambda e: e.get("idx", 0)) if all("idx" in e for e in entries) else entries

    files = sorted(f for f in os.listdir(migrations_dir)
                   if f.endswith(".sql") and os.path.isfile(os.path.join(migrations_dir, f)))
    by_tag = {}
    faults = []
    previous = None
    for entry in entries:
        tag = entry["tag"]
        if tag in by_tag:
            faults.append("journal entry %s appears more than once" % tag)
            continue
        by_tag[tag] = entry
        if tag + ".sql" not in files:
            faults.append("journal entry %s (idx %s) has no file %s.sql" % (tag, entry.get("idx", "?"), tag))
        if previous is not None and entry["when"] <= previous["when"]:
            faults.append("journal entry %s has when=%d, not after %s (when=%d)" % (
                tag, entry["when"], previous["tag"], previous["when"]))
        previous = entry
    for name in files:
        if name[:-4] not in by_tag:
            faults.append("%s is not in meta/_journal.json" % name)

    if faults and journal_mismatch == "fail":
        raise PostgresError(
            "the migration set in %s and its journal disagree: %s. Fix the journal (drizzle-kit generate) or set "
            "journal_mismatch=warn to apply the files in file-name order" % (migrations_dir, "; ".join(faults)),
            faults=faults)

    if faults:
        order = files
    else:
        order = [entry["tag"] + ".sql" for entry in entries]
    migrations = []
    watermark = 0
    for name in order:
        entry = by_tag.get(name[:-4])
        migration = Migration(name, os.path.join(migrations_dir, name), entry["when"] if entry else None)
        # Files outside the journal get the newest `when` seen so far, never NULL: Drizzle sorts NULL first.
        migration.created_at = migration.when if migration.when is not None else watermark
        watermark = max(watermark, migration.created_at)
        migrations.append(migration)
    journal_tags = {entry["when"]: entry["tag"] for entry in entries}
    return migrations, faults, journal_tags


def _fetch_recorded(cur):
    cur.execute("SELECT to_regclass(%s) IS NOT NULL", (MIGRATIONS_TABLE,))
    if not cur.fetchone()[0]:
        return None
    cur.execute("SELECT hash, created_at FROM drizzle.__drizzle_migrations ORDER BY id")
    return [(row[0], row[1]) for row in cur.fetchall()]


def classify(migrations, recorded, journal_tags=None):
    """Split migrations into (skipped, pending); raise PostgresError on hash drift or recorded hashes without a file.

    A recorded row whose hash matches no file is hash drift when a pending file carries the same journal `when`
    (that file changed after it was applied); otherwise the file it came from is missing from the set.
    """
    unused = list(recorded)
    matched = {}
    # exact (hash, created_at) pairs first, so identical files (drizzle-kit's empty custom stubs) keep their own rows
    for exact in (True, False):
        for migration in migrations:
            if migration.name in matched:
                continue
            for row in unused:
                if row[0] == migration.hash and (not exact or row[1] == migration.created_at):
                    matched[migration.name] = row
                    unused.remove(row)
                    break
    skipped = [m for m in migrations if m.name in matched]
    pending = [m for m in migrations if m.name not in matched]
    leftovers = unused
    if not leftovers:
        return skipped, pending
    drift, orphans = [], []
    for hash_, created_at in leftovers:
        changed = [m for m in pending if m.when is not None and m.when == created_at]
        if changed:
            drift.append("%s (recorded hash %s..., file now %s...)" % (
                changed[0].name, hash_[:12], changed[0].hash[:12]))
        else:
            tag = (journal_tags or {}).get(created_at)
            orphans.append("%shash %s... (created_at %s)" % (("%s.sql, " % tag) if tag else "", hash_[:12], created_at))
    problems = []
    if drift:
        problems.append("applied files changed since they were applied (hash drift): %s; restore their original "
                        "content and put the change in a new migration" % ", ".join(drift))
    if orphans:
        problems.append("drizzle.__drizzle_migrations records migrations with no file in the set: %s; restore the "
                        "missing files (never delete applied migrations)" % ", ".join(orphans))
    raise PostgresError("refusing to migrate: " + "; ".join(problems), drift=drift, orphans=orphans)


def _acquire_lock(conn, timeout):
    deadline = time.monotonic() + max(timeout, 0)
    with conn.cursor() as cur:
        while True:
            cur.execute("SELECT pg_try_advisory_lock(%s)", (LOCK_KEY,))
            got = cur.fetchone()[0]
            conn.commit()
            if got:
                return
            if time.monotonic() >= deadline:
                cur.execute(
                    "SELECT string_agg(a.pid::text || ' (' || coalesce(a.usename, '?') || '@' || "
                    "coalesce(a.client_addr::text, 'local') || ')', ', ') FROM pg_locks l "
                    "JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'advisory' AND l.granted "
                    "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
                    "AND l.classid::bigint = %s AND l.objid::bigint = %s",
                    ((LOCK_KEY >> 32) & 0xFFFFFFFF, LOCK_KEY & 0xFFFFFFFF))
                holders = cur.fetchone()[0]
                conn.rollback()
                raise PostgresError(
                    "timed out after %ss waiting for the migration advisory lock %d: another migration run holds it "
                    "(backend %s); wait for it or raise lock_timeout" % (timeout, LOCK_KEY, holders or "unknown"))
            time.sleep(0.2)


def _ensure_table(conn):
    with conn.cursor() as cur:
        cur.execute("CREATE SCHEMA IF NOT EXISTS drizzle")
        cur.execute("CREATE TABLE IF NOT EXISTS drizzle.__drizzle_migrations "
                    "(id SERIAL PRIMARY KEY, hash text NOT NULL, created_at bigint)")
    conn.commit()


def _apply(conn, migration):
    """Run one file and record it in the same transaction; roll back and raise PostgresError on any error."""
    number = line = 0
    with conn.cursor() as cur:
        try:
            for number, line, _offset, chunk in migration.statements():
                try:
                    cur.execute(chunk)
                except psycopg2.ProgrammingError as exc:
                    # comments only (drizzle-kit's custom migration stub): the server would accept it, psycopg2
                    # refuses it client-side without touching the transaction
                    if exc.pgcode is not None or "empty query" not in str(exc):
                        raise
            number, line = 0, 0
            cur.execute("INSERT INTO drizzle.__drizzle_migrations (hash, created_at) VALUES (%s, %s)",
                        (migration.hash, migration.created_at))
            conn.commit()
        except psycopg2.Error as exc:
            conn.rollback()
            diag = getattr(exc, "diag", None)
            position = getattr(diag, "statement_position", None) if diag is not None else None
            if number and position:
                for num, _first, offset, chunk in migration.statements():
                    if num == number:  # the server's 1-based character position inside the failing chunk
                        line = migration.text.count("\n", 0, offset) + 1 + chunk[:int(position) - 1].count("\n")
            where = ("statement %d (line %d)" % (number, line)) if number else "recording it in %s" % MIGRATIONS_TABLE
            failed = dict(file=migration.name, statement=number, line=line, sqlstate=sqlstate_of(exc),
                          message=error_text(exc))
            raise PostgresError("migration %s failed at %s: SQLSTATE %s: %s; the file was rolled back, nothing of it "
                                "was applied" % (migration.name, where, failed["sqlstate"], failed["message"]),
                                failed_statement=failed) from None


def run(params, check_mode=False):
    """Apply (or, in check mode, list) pending migrations. Return the result dict or raise PostgresError."""
    migrations, faults, journal_tags = load_migration_set(params["migrations_dir"],
                                                          params.get("journal_mismatch") or "fail")
    result = dict(changed=False, applied=[], pending=[], skipped=[], warnings=list(faults))
    try:
        conn = connect(params, session_role=params.get("session_role"))
    except PostgresError as exc:
        if not (check_mode and exc.not_there_yet):
            raise
        # check mode on a fresh host: no server or database yet, so every file would be applied
        result["warnings"].append("check mode: %s; reporting every file as pending" % exc.msg)
        result.update(changed=bool(migrations), pending=[m.name for m in migrations])
        return result
    try:
        if not check_mode:
            _acquire_lock(conn, int(params.get("lock_timeout") if params.get("lock_timeout") is not None else 60))
        with conn.cursor() as cur:
            recorded = _fetch_recorded(cur)
        conn.commit()
        try:
            skipped, pending = classify(migrations, recorded or [], journal_tags)
        except PostgresError as exc:
            exc.result = dict(result, **exc.result)
            raise
        result["skipped"] = [m.name for m in skipped]
        result["pending"] = [m.name for m in pending]
        if check_mode or not pending:
            result["changed"] = bool(pending) and check_mode
            return result
        if recorded is None:
            _ensure_table(conn)
        for migration in pending:
            try:
                _apply(conn, migration)
            except PostgresError as exc:
                exc.result = dict(result, changed=bool(result["applied"]), **exc.result)
                raise
            result["applied"].append(migration.name)
            result["changed"] = True
        return result
    finally:
        conn.close()  # also releases the session-level advisory lock


def main():
    argument_spec = connection_argument_spec()
    argument_spec.update(
        migrations_dir=dict(type="path", required=True),
        journal_mismatch=dict(type="str", choices=["fail", "warn"], default="fail"),
        lock_timeout=dict(type="int", default=60),
        session_role=dict(type="str"),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    if not HAS_PSYCOPG2:
        module.fail_json(msg=missing_required_lib("psycopg2"), exception=PSYCOPG2_IMPORT_ERROR)
    try:
        result = run(module.params, check_mode=module.check_mode)
    except PostgresError as exc:
        base = dict(changed=False, applied=[], pending=[], skipped=[])
        base.update(exc.result)
        for warning in base.pop("warnings", []):
            module.warn(warning)
        module.fail_json(msg=exc.msg, **base)
    # Ansible itself returns module.warn() messages as `warnings` (passing the key to exit_json is deprecated)
    for warning in result.pop("warnings"):
        module.warn(warning)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
