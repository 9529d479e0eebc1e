"""Secret hygiene: deploy with canary values for every secret at -vvv; no canary may appear in the output, and every
file on the hosts that holds one must not be world-readable.

Runs against a live lab or stack (it converges it, with the canaries as the secrets):

    DESE_HYGIENE_INVENTORY=inventories/lab pytest -q tests/integration/test_secret_hygiene.py

Environment:
  DESE_HYGIENE_INVENTORY   inventory to deploy (required; the test is skipped without it)
  DESE_HYGIENE_PLAYBOOK    playbook to run (default playbooks/site.yml)
  DESE_HYGIENE_ARGS        extra ansible-playbook arguments, e.g. "--vault-id lab@prompt" (split like a shell)
  DESE_HYGIENE_REQUIRED    when set (the stack scenario sets it), a lab that cannot be tested fails instead of skipping
Hosts must use the community.docker.docker connection (lab, Molecule): the file scan runs through `docker exec`.
A later `make lab` puts the lab's own generated secrets back.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from ansible_env import ansible_env

from ansible_collections.dese.ea_plan.plugins.filter import secrets as secret_filters

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
# Every vault variable of docs/interfaces.md that holds a secret (the optional ones too, where a value is harmless).
SECRET_NAMES = (
    "vault_jwt_secret", "vault_cookie_key", "vault_postgresql_app_password", "vault_postgresql_migration_password",
    "vault_postgresql_monitoring_password", "vault_redis_app_password", "vault_redis_monitoring_password",
    "vault_super_admin_password", "vault_grafana_admin_password", "vault_registry_password",
    "vault_alertmanager_smtp_password",
)
# Where deployed secrets can land; /var/lib/docker only for container configs (its image layers are huge).
SCAN_PATHS = ("/etc", "/opt", "/srv", "/root", "/home", "/usr/local", "/var/lib", "/var/log", "/var/backups",
              "/var/lib/docker/containers", "/run")
SCAN_EXCLUDES = ("docker", "containerd")  # directory names under the scan paths (inner Docker engine data)


def canary(name: str) -> str:
    """A deterministic, strong, [A-Za-z0-9] value unique to `name` that passes preflight in any environment."""
    for salt in range(100):
        digest = hashlib.sha512(f"dese-canary:{name}:{salt}".encode()).digest()
        value = "Cnry" + base64.b64encode(digest).decode().translate(str.maketrans("", "", "+/="))[:60]
        if not secret_filters.placeholder_reasons(value) and secret_filters.entropy_bits(value) > 256:
            return value
    raise AssertionError(f"no canary for {name}")


CANARIES = {name: canary(name) for name in SECRET_NAMES}


def _unavailable(reason: str):
    """Skip in a plain `pytest` run; fail where the caller said a lab is there to test."""
    if os.environ.get("DESE_HYGIENE_REQUIRED"):
        pytest.fail(reason)
    pytest.skip(reason)


def _inventory() -> Path:
    value = os.environ.get("DESE_HYGIENE_INVENTORY")
    if not value:
        _unavailable("no lab to test: set DESE_HYGIENE_INVENTORY=inventories/lab after `make lab` "
                    "(or the stack scenario's inventory) to run the secret hygiene test")
    path = Path(value)
    return path if path.is_absolute() else ROOT / path


def _hosts(inventory: Path) -> dict[str, dict]:
    listing = subprocess.run([str(BIN / "ansible-inventory"), "-i", str(inventory), "--list",
                              *shlex.split(os.environ.get("DESE_HYGIENE_ARGS", ""))],
                             env=ansible_env(), capture_output=True, text=True, check=True)
    hostvars = json.loads(listing.stdout).get("_meta", {}).get("hostvars", {})
    return {host: hv for host, hv in hostvars.items()}


@pytest.fixture(scope="module")
def deployment(tmp_path_factory):
    inventory = _inventory()
    hosts = _hosts(inventory)
    if not hosts:
        _unavailable(f"inventory {inventory} has no hosts")
    containers = {}
    for host, hostvars in hosts.items():
        if hostvars.get("ansible_connection") not in ("community.docker.docker", "docker"):
            _unavailable(f"{host} is not a Docker container host: the file scan needs `docker exec`")
        name = hostvars.get("ansible_host", host)
        state = subprocess.run(["docker", "inspect", "-f", "{{.State.Running}}", name], capture_output=True,
                               text=True, check=False).stdout.strip()
        if state != "true":
            _unavailable(f"lab host {name} is not running: start the lab first (`make lab` / harness/lab.py up)")
        containers[host] = name
    work = tmp_path_factory.mktemp("hygiene")
    extra = work / "canaries.json"
    extra.write_text(json.dumps(CANARIES))
    extra.chmod(0o600)
    playbook = ROOT / os.environ.get("DESE_HYGIENE_PLAYBOOK", "playbooks/site.yml")
    cmd = [str(BIN / "ansible-playbook"), "-vvv", "-i", str(inventory), str(playbook), "-e", f"@{extra}",
           *shlex.split(os.environ.get("DESE_HYGIENE_ARGS", ""))]
    proc = subprocess.run(cmd, cwd=ROOT, env=ansible_env(), capture_output=True, text=True, timeout=3600, check=False)
    (work / "output.log").write_text(proc.stdout + proc.stderr)
    return {"proc": proc, "containers": containers, "log": work / "output.log"}


def test_deployment_with_canaries_succeeds(deployment):
    proc = deployment["proc"]
    tail = "\n".join((proc.stdout + proc.stderr).splitlines()[-60:])
    assert proc.returncode == 0, f"the deployment with canary secrets failed (log {deployment['log']}):\n{tail}"


@pytest.mark.parametrize("name", SECRET_NAMES)
def test_canary_never_in_output(deployment, name):
    output = deployment["proc"].stdout + deployment["proc"].stderr
    value = CANARIES[name]
    # The whole value, and a 24-character slice (a truncated or wrapped line still leaks).
    assert value not in output, f"{name} appears in the -vvv output ({deployment['log']})"
    assert value[4:28] not in output, f"part of {name} appears in the -vvv output ({deployment['log']})"


def files_holding(container: str, values) -> list[tuple[str, str, str]]:
    """(mode, owner, path) of every file under SCAN_PATHS in the container that contains one of the values."""
    excludes = " ".join(f"--exclude-dir={d}" for d in SCAN_EXCLUDES)
    script = (
        "umask 077; cat > /tmp/.canaries; "
        f"for p in {' '.join(SCAN_PATHS)}; do [ -d \"$p\" ] && grep -rlsF {excludes} -f /tmp/.canaries \"$p\"; done "
        "| sort -u | while read -r f; do stat -c '%a %U:%G %n' \"$f\"; done; rm -f /tmp/.canaries"
    )
    out = subprocess.run(["docker", "exec", "-i", container, "sh", "-c", script], input="\n".join(values) + "\n",
                         capture_output=True, text=True, check=False).stdout
    return [tuple(line.split(" ", 2)) for line in out.splitlines() if line.strip()]


def test_files_holding_secrets_are_not_world_readable(deployment):
    exposed, found = [], []
    for host, container in deployment["containers"].items():
        for mode, owner, path in files_holding(container, CANARIES.values()):
            found.append(f"{host}:{path}")
            if int(mode[-1]) & 4:
                exposed.append(f"{host}:{path} (mode {mode}, {owner})")
    assert found, "no file on any host holds a secret: the canaries did not reach the deployment"
    assert not exposed, "world-readable files hold secrets:\n" + "\n".join(exposed)
