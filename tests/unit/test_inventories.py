"""The example staging and production inventories: every host resolves the secrets its roles need from the vault.

The committed vaults are encrypted with the documented throwaway password (README); this proves their names match
what group_vars references (a missing vault_* name only shows up as an undefined variable in the middle of a run)
and that preflight finds no plaintext secret in them.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from ansible_env import ansible_env

from ansible_collections.dese.ea_plan.plugins.filter.secrets import plaintext_secret_findings

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
EXAMPLE_VAULT_PASSWORD = "dese-example-only"  # README: rekey before the first real run
# Role secrets each group's hosts resolve (group -> variables).
SECRETS = {
    "postgres": ["postgresql_app_password", "postgresql_migration_password", "postgresql_monitoring_password",
                 "postgresql_super_admin_password", "postgresql_replication_password"],
    "redis": ["redis_app_password", "redis_monitoring_password", "redis_replication_password",
              "redis_failover_password", "redis_sentinel_password", "redis_sentinel_auth_password"],
    "app": ["app_jwt_secret", "app_cookie_key", "app_database_password", "app_redis_password"],
}


@pytest.fixture(scope="module")
def password_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("vault") / "password"
    path.write_text(EXAMPLE_VAULT_PASSWORD + "\n")
    path.chmod(0o600)
    return path


def _lengths(environment: str, password_file: Path) -> dict[str, dict[str, int]]:
    """Per host: the length of each secret it resolves (-1 when undefined), through a real ad-hoc run."""
    names = sorted({name for group in SECRETS.values() for name in group})
    expression = "{{ {" + ", ".join(f"'{n}': ({n} | default('') | length if {n} is defined else -1)" for n in names) + "} }}"
    env = ansible_env()
    env.update({"ANSIBLE_LOAD_CALLBACK_PLUGINS": "1", "ANSIBLE_STDOUT_CALLBACK": "ansible.builtin.json"})
    proc = subprocess.run(
        [str(BIN / "ansible"), "all", "-i", str(ROOT / "inventories" / environment),
         "--vault-id", f"{environment}@{password_file}", "-m", "ansible.builtin.debug", "-a", f"msg={expression}"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    results = json.loads(proc.stdout)["plays"][0]["tasks"][0]["hosts"]
    return {host: result["msg"] for host, result in results.items()}


def _groups(environment: str, password_file: Path) -> dict[str, list[str]]:
    proc = subprocess.run([str(BIN / "ansible-inventory"), "-i", str(ROOT / "inventories" / environment),
                           "--vault-id", f"{environment}@{password_file}", "--list"],
                          cwd=ROOT, env=ansible_env(), capture_output=True, text=True, check=True)
    listing = json.loads(proc.stdout)
    return {group: listing.get(group, {}).get("hosts", []) for group in SECRETS}


@pytest.mark.parametrize("environment", ["staging", "production"])
def test_every_host_resolves_its_secrets_from_the_vault(environment, password_file):
    lengths = _lengths(environment, password_file)
    groups = _groups(environment, password_file)
    missing = [f"{host}: {name}" for group, names in SECRETS.items() for host in groups[group] for name in names
               if lengths[host][name] < 20]
    assert not missing, f"secrets undefined or shorter than 20 characters in inventories/{environment}: {missing}"


def test_production_shows_the_ha_layout(password_file):
    groups = _groups("production", password_file)
    assert len(groups["postgres"]) >= 2 and len(groups["redis"]) >= 2 and len(groups["app"]) >= 2


@pytest.mark.parametrize("environment", ["staging", "production"])
def test_no_plaintext_secret_in_the_example_inventories(environment):
    assert plaintext_secret_findings([str(ROOT / "inventories" / environment)]) == []
