#!/usr/bin/env python3
"""The one-command local lab: ``lab.py up`` deploys the whole stack onto four local systemd containers and verifies it.

``up``:  creates (or reuses) ``dese-lab-db``, ``dese-lab-cache``, ``dese-lab-app`` and ``dese-lab-mon`` on the Docker
         network ``dese-lab`` (systemd containers from ``dese-debian-services:bookworm`` with the capability set of
         docs/test-environment.md), makes sure the stand-in image archives exist, runs
         ``ansible-playbook -i inventories/lab playbooks/site.yml`` and then ``playbooks/verify.yml``, and prints the
         verify report and the URLs that answer from this machine (ports are published on 127.0.0.1 only).
``down``: removes the containers (with their anonymous volumes) and the network.
``status``: lists the lab containers and the URLs.

One line per phase (``lab: hosts up (3 s)``); Ansible's own output streams through. Idempotent: a second ``up``
reuses the running hosts and the converge reports no change. Exit status: that of the first failing phase.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from ansible_env import ansible_env  # harness/ (the script's own directory is on sys.path)

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = ROOT / ".venv" / "bin"
IMAGE = os.environ.get("DESE_LAB_IMAGE", "dese-debian-services:bookworm")
NETWORK = "dese-lab"
LABEL = "dese.lab=1"
INVENTORY = ROOT / "inventories" / "lab"
REPORT_DIR = ROOT / "reports" / "verify"
STANDIN_ARCHIVE = ROOT / ".cache" / "images" / "dese-standin-1.tar"
# name -> (published ports host->container on 127.0.0.1, runs Docker inside)
HOSTS = {
    "dese-lab-db": ((), False),
    "dese-lab-cache": ((), False),
    "dese-lab-app": (((3000, 3000), (3002, 3002), (443, 443), (80, 80)), True),
    "dese-lab-mon": (((9090, 9090), (9093, 9093)), True),
}
BOOT_TIMEOUT = 120  # seconds a lab host's systemd may take to reach running
OPTIONAL_PORTS = {80, 443}  # the edge: published only when free on this machine
# (label, published host port, URL)
URLS = (
    ("backend", 3000, "http://127.0.0.1:3000/health"),
    ("frontend", 3002, "http://127.0.0.1:3002/"),
    ("Prometheus", 9090, "http://127.0.0.1:9090/"),
    ("Alertmanager", 9093, "http://127.0.0.1:9093/"),
    ("edge", 443, "https://127.0.0.1/"),
)


def say(message: str) -> None:
    print(f"lab: {message}", flush=True)


def docker(*args: str, check: bool = True, capture: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(["docker", *args], check=check, text=True,
                          stdout=subprocess.PIPE if capture else None, stderr=subprocess.PIPE if capture else None)


def container_state(name: str) -> str | None:
    result = docker("inspect", "-f", "{{.State.Status}}", name, check=False)
    return result.stdout.strip() if result.returncode == 0 else None


def port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def ensure_network() -> None:
    if docker("network", "inspect", NETWORK, check=False).returncode != 0:
        docker("network", "create", "--label", LABEL, NETWORK)


def run_args(name: str, ports: tuple, runs_docker: bool) -> list[str]:
    args = ["run", "--detach", "--name", name, "--hostname", name, "--network", NETWORK, "--label", LABEL,
            "--cap-add", "SYS_ADMIN", "--cap-add", "NET_ADMIN", "--cap-add", "SYS_PTRACE",
            "--security-opt", "seccomp=unconfined", "--cgroupns", "host",
            "--volume", "/sys/fs/cgroup:/sys/fs/cgroup:rw", "--tmpfs", "/run", "--tmpfs", "/run/lock",
            "--stop-signal", "SIGRTMIN+3"]
    if runs_docker:
        args += ["--volume", "/var/lib/docker"]  # anonymous: overlay2 for the inner engine, removed with the host
    for host_port, container_port in ports:
        if host_port in OPTIONAL_PORTS and not port_free(host_port):
            say(f"127.0.0.1:{host_port} is taken on this machine: {name} does not publish it")
            continue
        args += ["--publish", f"127.0.0.1:{host_port}:{container_port}"]
    return args + [IMAGE, "/lib/systemd/systemd"]


def prepare_host(name: str, fresh: bool) -> str | None:
    """Wait for systemd; on a fresh host also fetch the apt lists. Returns a problem or None."""
    # systemd reaches running in ~3 s; degraded still serves (a unit some package ships may fail in a container).
    # Right after `docker run` its bus may not exist yet ("Failed to connect to bus"): ask again until the deadline.
    deadline = time.monotonic() + BOOT_TIMEOUT
    while True:
        result = docker("exec", name, "systemctl", "is-system-running", "--wait", check=False)
        state = result.stdout.strip()
        if state in ("running", "degraded"):
            break
        if time.monotonic() > deadline:
            return f"{name} did not boot within {BOOT_TIMEOUT} s: systemd is {state or result.stderr.strip()}"
        time.sleep(1)
    # The images ship without apt lists (apt's cache_valid_time would trust the empty directory). Judged on the host,
    # not on "created now": a host created by an interrupted run still needs them.
    lists = docker("exec", name, "find", "/var/lib/apt/lists", "-maxdepth", "1", "-name", "*_Packages", check=False)
    if fresh or not lists.stdout.strip():
        result = docker("exec", name, "apt-get", "update", "-qq", check=False)
        if result.returncode != 0:
            return f"apt-get update failed on {name}: {result.stderr.strip()[-300:]}"
    return None


def hosts_up() -> list[str]:
    """Create missing hosts, start stopped ones; return the names created now (they need apt lists)."""
    if docker("image", "inspect", IMAGE, check=False).returncode != 0:
        sys.exit(f"lab: image {IMAGE} is missing: run `make setup` (harness/bootstrap.py) first")
    ensure_network()
    created = []
    for name, (ports, runs_docker) in HOSTS.items():
        state = container_state(name)
        if state is None:
            docker(*run_args(name, ports, runs_docker))
            created.append(name)
        elif state != "running":
            docker("start", name)
    # boot wait and apt lists run on all hosts at once (each is mostly waiting)
    with ThreadPoolExecutor(max_workers=len(HOSTS)) as pool:
        problems = [p for p in pool.map(lambda n: prepare_host(n, n in created), HOSTS) if p]
    if problems:
        sys.exit("lab: " + "; ".join(problems))
    return created


def ensure_images() -> None:
    """Build the stand-in images and archives when the lab inventory deploys them from an archive."""
    if STANDIN_ARCHIVE.is_file():
        return
    build = ROOT / "tests" / "standin" / "build.py"
    if build.is_file():
        subprocess.run([str(VENV_BIN / "python"), str(build)], cwd=ROOT, check=True)


def vault_args() -> list[str]:
    for candidate in (INVENTORY / ".vault-password", INVENTORY / "vault-password.txt", INVENTORY / ".vault_pass"):
        if candidate.is_file():
            return ["--vault-password-file", str(candidate)]
    return []


def playbook(name: str) -> int:
    cmd = [str(VENV_BIN / "ansible-playbook"), "-i", str(INVENTORY), *vault_args(), str(ROOT / "playbooks" / name)]
    print(f"lab: $ {' '.join(os.path.relpath(c, ROOT) if c.startswith(str(ROOT)) else c for c in cmd)}",
          flush=True)
    return subprocess.run(cmd, cwd=ROOT, env=ansible_env(), check=False).returncode


def print_report() -> None:
    latest = REPORT_DIR / "latest"
    report = latest / "report.json"
    if not report.is_file():
        say("no verify report was written")
        return
    document = json.loads(report.read_text())
    summary = document["summary"]
    say(f"verify {document['result']}: {summary['pass']} passed, {summary['fail']} failed, "
        f"{summary['skip']} skipped")
    for check in document["checks"]:
        if check["status"] != "pass":
            print(f"  {check['status'].upper():4}  {check['name']}: value={check['value'] or '-'} "
                  f"threshold={check['threshold'] or '-'} {check['detail']}")
    say(f"sign-off: {os.path.relpath(latest.resolve() / 'signoff.md', ROOT)} (also report.json, junit.xml)")


def published() -> set[int]:
    ports = set()
    for name in HOSTS:
        result = docker("port", name, check=False)
        for line in result.stdout.splitlines():
            ports.add(int(line.rsplit(":", 1)[-1]))
    return ports


def print_urls() -> None:
    ports = published()
    for label, port, url in URLS:
        if port in ports:
            print(f"  {label:<13} {url}")


def up(args: argparse.Namespace) -> int:
    started = time.monotonic()
    phase = time.monotonic()
    created = hosts_up()
    say(f"hosts up ({time.monotonic() - phase:.0f} s; {len(created)} created, {len(HOSTS) - len(created)} reused)")
    phase = time.monotonic()
    ensure_images()
    say(f"images ready ({time.monotonic() - phase:.0f} s)")
    if not (INVENTORY / "hosts.yml").is_file():
        say(f"{os.path.relpath(INVENTORY / 'hosts.yml', ROOT)} is missing: nothing to deploy")
        return 1
    if not args.verify_only:
        phase = time.monotonic()
        code = playbook("site.yml")
        say(f"site.yml {'converged' if code == 0 else 'FAILED'} ({time.monotonic() - phase:.0f} s)")
        if code != 0:
            return code
    phase = time.monotonic()
    code = playbook("verify.yml")
    say(f"verify.yml {'passed' if code == 0 else 'FAILED'} ({time.monotonic() - phase:.0f} s)")
    print_report()
    say("URLs (this machine only):")
    print_urls()
    say(f"done in {time.monotonic() - started:.0f} s; `make lab-down` removes the lab")
    return code


def down(_args: argparse.Namespace) -> int:
    phase = time.monotonic()
    present = [name for name in HOSTS if container_state(name) is not None]
    if present:
        docker("rm", "--force", "--volumes", *present)
    if docker("network", "inspect", NETWORK, check=False).returncode == 0:
        docker("network", "rm", NETWORK)
    say(f"removed {len(present)} host(s) and the network ({time.monotonic() - phase:.0f} s)")
    return 0


def status(_args: argparse.Namespace) -> int:
    for name in HOSTS:
        say(f"{name}: {container_state(name) or 'absent'}")
    print_urls()
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    up_parser = sub.add_parser("up", help="create or reuse the lab hosts, deploy site.yml, run verify.yml")
    up_parser.add_argument("--verify-only", action="store_true", help="skip site.yml, only run verify.yml")
    up_parser.set_defaults(func=up)
    sub.add_parser("down", help="remove the lab hosts and network").set_defaults(func=down)
    sub.add_parser("status", help="show the lab hosts and URLs").set_defaults(func=status)
    args = parser.parse_args()
    try:
        return args.func(args)
    except subprocess.CalledProcessError as exc:
        detail = (exc.stderr or "").strip() if isinstance(exc.stderr, str) else ""
        print(f"lab: command failed: {' '.join(exc.cmd)}\n{detail}", file=sys.stderr)
        return exc.returncode or 1


if __name__ == "__main__":
    sys.exit(main())
