#!/usr/bin/python3
"""Redis snapshot copies for DESE EA PLAN (installed by the dese.ea_plan.redis_backup role, run by a systemd timer).

BGSAVE, wait (bounded) until LASTSAVE moves, copy the RDB file into a new timestamped directory with its SHA-256,
keep backups by count and age, and publish dese_redis_snapshot_last_success_timestamp_seconds (and _last_status)
for node_exporter's textfile collector. Talks RESP over the local Unix socket as the admin ACL user; the password is
read from a root-only file and never appears on a command line.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import shutil
import socket
import sys
import time
from pathlib import Path


class SnapshotError(Exception):
    """A failure with an operator-readable message."""


class Resp:
    """The few RESP2 commands this script needs, over a Unix socket."""

    def __init__(self, path: str, timeout: float = 10.0):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(path)
        self.buffer = b""

    def _line(self) -> bytes:
        while b"\r\n" not in self.buffer:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise SnapshotError("Redis closed the connection")
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\r\n", 1)
        return line

    def _reply(self):
        line = self._line()
        kind, rest = line[:1], line[1:]
        if kind == b"+":
            return rest.decode()
        if kind == b"-":
            raise SnapshotError(f"Redis error: {rest.decode()}")
        if kind == b":":
            return int(rest)
        if kind == b"$":
            size = int(rest)
            if size < 0:
                return None
            while len(self.buffer) < size + 2:
                self.buffer += self.sock.recv(65536)
            data, self.buffer = self.buffer[:size], self.buffer[size + 2:]
            return data.decode()
        if kind == b"*":
            return [self._reply() for _ in range(int(rest))]
        raise SnapshotError(f"unexpected reply {line!r}")

    def call(self, *args: str):
        payload = f"*{len(args)}\r\n".encode() + b"".join(
            f"${len(a.encode())}\r\n".encode() + a.encode() + b"\r\n" for a in args)
        self.sock.sendall(payload)
        return self._reply()


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def snapshot(args) -> dict:
    started = time.time()
    redis = Resp(args.socket)
    redis.call("AUTH", args.user, Path(args.password_file).read_text().strip())
    before = redis.call("LASTSAVE")
    try:
        redis.call("BGSAVE")
    except SnapshotError as exc:
        if "already in progress" not in str(exc):
            raise
    deadline = time.monotonic() + args.wait_seconds
    while redis.call("LASTSAVE") == before:
        if time.monotonic() > deadline:
            raise SnapshotError(f"BGSAVE did not finish within {args.wait_seconds}s (LASTSAVE unchanged)")
        time.sleep(0.2)
    info = redis.call("INFO", "persistence")
    if "rdb_last_bgsave_status:ok" not in info:
        raise SnapshotError("BGSAVE finished but rdb_last_bgsave_status is not ok")
    data_dir = redis.call("CONFIG", "GET", "dir")[1]
    rdb_name = redis.call("CONFIG", "GET", "dbfilename")[1]
    source = Path(data_dir) / rdb_name
    stamp = dt.datetime.fromtimestamp(started, dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    target_dir = Path(args.backup_dir) / stamp
    target_dir.mkdir(parents=True, mode=0o700)
    target = target_dir / rdb_name
    shutil.copy2(source, target)
    (target_dir / "SHA256SUMS").write_text(f"{sha256(target)}  {rdb_name}\n")
    removed = retention(Path(args.backup_dir), args.retention_count, args.retention_days)
    return {"path": str(target), "size_bytes": target.stat().st_size, "removed": removed,
            "message": f"redis snapshot {stamp} copied ({target.stat().st_size} bytes)"}


def retention(backup_dir: Path, keep_count: int, keep_days: int) -> list[str]:
    runs = sorted((p for p in backup_dir.iterdir() if p.is_dir() and (p / "SHA256SUMS").is_file()), reverse=True)
    cutoff = time.time() - keep_days * 86400
    removed = []
    for index, run in enumerate(runs[1:], start=1):  # the newest is always kept
        if index >= keep_count or run.stat().st_mtime < cutoff:
            shutil.rmtree(run)
            removed.append(run.name)
    return removed


def publish(state: dict, textfile_dir: Path) -> None:
    metric = "dese_redis_snapshot"
    lines = [
        f"# HELP {metric}_last_success_timestamp_seconds Unix time of the last successful Redis snapshot copy.",
        f"# TYPE {metric}_last_success_timestamp_seconds gauge",
        f"{metric}_last_success_timestamp_seconds {state.get('last_success_timestamp', 0):.0f}",
        f"# HELP {metric}_last_status 1 when the last Redis snapshot copy succeeded, 0 when it failed.",
        f"# TYPE {metric}_last_status gauge",
        f"{metric}_last_status {1 if state.get('status') == 'ok' else 0}",
    ]
    textfile_dir.mkdir(parents=True, exist_ok=True)
    tmp = textfile_dir / ".dese_redis_snapshot.prom.tmp"
    tmp.write_text("\n".join(lines) + "\n")
    tmp.chmod(0o644)
    tmp.replace(textfile_dir / "dese_redis_snapshot.prom")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--socket", default="/run/redis/redis-server.sock")
    parser.add_argument("--user", default="dese_admin")
    parser.add_argument("--password-file", default="/etc/redis/admin.secret")
    parser.add_argument("--backup-dir", default="/var/backups/redis")
    parser.add_argument("--state-dir", default="/var/lib/dese/backup")
    parser.add_argument("--textfile-dir", default="/var/lib/prometheus/node-exporter")
    parser.add_argument("--retention-count", type=int, default=7)
    parser.add_argument("--retention-days", type=int, default=14)
    parser.add_argument("--wait-seconds", type=float, default=120)
    args = parser.parse_args()
    state_path = Path(args.state_dir) / "redis-snapshot.json"
    previous = json.loads(state_path.read_text()) if state_path.is_file() else {}
    try:
        outcome = {"status": "ok", **snapshot(args)}
    except (SnapshotError, OSError) as exc:
        outcome = {"status": "failed", "message": f"redis snapshot failed: {exc}"}
    now = time.time()
    state = {**outcome, "last_attempt_timestamp": now,
             "last_success_timestamp": now if outcome["status"] == "ok" else previous.get("last_success_timestamp", 0)}
    state_path.parent.mkdir(parents=True, exist_ok=True)
    state_path.write_text(json.dumps(state, indent=2, sort_keys=True))
    publish(state, Path(args.textfile_dir))
    print(outcome["message"], file=sys.stdout if outcome["status"] == "ok" else sys.stderr)
    return 0 if outcome["status"] == "ok" else 1


if __name__ == "__main__":
    sys.exit(main())
