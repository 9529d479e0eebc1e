"""Bad-input table of the preflight scenario: every bad value stops playbooks/preflight.yml, the output names the
variable and the fix (never the secret), and the hosts are unchanged (package list and /etc checksum).

Runs against the scenario's containers (PREFLIGHT_DB_HOST / PREFLIGHT_APP_HOST, default preflight-db / preflight-app)
with a temporary production inventory whose secrets sit in a vault-encrypted file, as in a real production inventory.
Each case is one cheap ansible-playbook run (only the preflight play, at -vvv); cases run four at a time
(a run is mostly waiting on docker exec, ~3 s of CPU).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from ansible_env import ansible_env
import yaml

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
DB_HOST = os.environ.get("PREFLIGHT_DB_HOST", "preflight-db")
APP_HOST = os.environ.get("PREFLIGHT_APP_HOST", "preflight-app")
PLAYBOOK = ROOT / "playbooks" / "preflight.yml"

# Good values (fixed, CSPRNG-looking) in the vault; each case overrides one or two with extra vars.
GOOD_VAULT = {
    "vault_jwt_secret": "kR7vQ2nX9pL4wZ8tY3mB6cF1hJ5dG0sA2eU7iO4qW9rT6yP3xN8vM1bK5zC0lH2g",
    "vault_cookie_key": "Tz4Wq8Lm2Xn6Rb0Vc5Yh9Jd3Kf7Gs1Pa8Eu2Io6Ow4Qe0Rt3Yp7Zm5Xn9Lc1Vb4D",
    "vault_postgresql_app_password": "Hq7Lw2Rk9ZpT4xNc8VbM3sJf",
    "vault_postgresql_migration_password": "Bn5Xe8Qw1Ry4Ut7Io0Pa3Sd6F",
    "vault_postgresql_monitoring_password": "Mj2Kh5Ng8Vb1Cx4Za7Sw0Qe3R",
    "vault_redis_app_password": "Wd6Fg9Hj2Kl5Zx8Cv1Bn4Mq7P",
    "vault_redis_monitoring_password": "Lp3Ok6Ij9Uh2Yg5Tf8Rd1Es4W",
}
MAIN_VARS = {
    "dese_environment": "production",
    "preflight_require_time_sync": False,  # containers do not own their clock: a warning here
    "app_jwt_secret": "{{ vault_jwt_secret }}",
    "app_cookie_key": "{{ vault_cookie_key }}",
    "postgresql_app_password": "{{ vault_postgresql_app_password }}",
    "postgresql_migration_password": "{{ vault_postgresql_migration_password }}",
    "postgresql_monitoring_password": "{{ vault_postgresql_monitoring_password }}",
    "redis_app_password": "{{ vault_redis_app_password }}",
    "redis_monitoring_password": "{{ vault_redis_monitoring_password }}",
    "app_database_password": "{{ vault_postgresql_app_password }}",
    "app_redis_password": "{{ vault_redis_app_password }}",
    "app_cors_origin": "https://ea-plan.example.com",
}
# 64 characters from two letters: no runs of 5, no sequences, not periodic, but ~64 bits of estimated entropy.
LOW_ENTROPY = ("kQkkQQkQkQQkkQkkQQQkQkkQ" * 3)[:64]
PLAINTEXT_COOKIE = "Pz8Xc1Vb4Nm7Lk0Jh3Gf6Ds9Aq2Ws5Ed8Rf1Tg4Yh7Uj0Ik3Ol6Pz9Xc2Vb5Nm8L"


def _unused_address() -> str:
    """An address in the scenario's own network that no container holds (a typo'd database address)."""
    out = subprocess.run(
        ["docker", "inspect", "-f", "{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}", DB_HOST],
        capture_output=True, text=True, check=True).stdout.split()[0]
    return ".".join(out.split(".")[:3] + ["250"])


# name, extra vars, plaintext file content (or None), fragments the output must contain, values it must not contain.
# Cases about inventory values skip the host probes (tag preflight_install) to stay cheap; host cases run everything.
HOST_CASES = {"good_input", "unreachable_db_host"}
CASES = [
    ("short_jwt", {"vault_jwt_secret": "Hq7Lw2Rk9ZpT4xNcYbM3"}, None,
     ["app_jwt_secret (set from vault_jwt_secret)", "shorter than 32", "Fix: store a random value"], ["Hq7Lw2Rk9ZpT4xNcYbM3"]),
    ("placeholder_jwt", {"vault_jwt_secret": "your-secret-key-change-in-production-Zq8Lm2Xn6Rb0Vc5Yh9Jd3Kf7Gs1P"}, None,
     ["app_jwt_secret", "placeholder word", "Fix:"], ["your-secret-key-change-in-production"]),
    ("low_entropy_jwt", {"vault_jwt_secret": LOW_ENTROPY}, None,
     ["app_jwt_secret", "low estimated entropy", "Fix:"], [LOW_ENTROPY]),
    ("weak_db_password", {"vault_postgresql_app_password": "Dese2024db"}, None,
     ["postgresql_app_password (set from vault_postgresql_app_password)", "below the minimum of 20", "Fix:"],
     ["Dese2024db"]),
    ("weak_replication_password", {"postgresql_replication_password": "Repl2024pg"}, None,
     ["postgresql_replication_password (set from vault_postgresql_replication_password)", "below the minimum of 20",
      "Fix:"], ["Repl2024pg"]),
    ("url_unsafe_password", {"vault_redis_app_password": "Wd6Fg9Hj2Kl5@Zx8/Cv1Bn4:Mq7P"}, None,
     ["redis_app_password", "app_redis_password", "other than A-Z, a-z and 0-9", "Fix:"], ["Wd6Fg9Hj2Kl5@Zx8/Cv1Bn4:Mq7P"]),
    ("http_cors_in_production", {"app_cors_origin": "http://ea-plan.example.com"}, None,
     ["app_cors_origin", "uses http; production requires https", "Fix: set app_cors_origin"], []),
    ("localhost_cors_in_production", {"app_cors_origin": "https://localhost:3002"}, None,
     ["app_cors_origin", "points at localhost", "Fix:"], []),
    ("invalid_node_env", {"app_node_env": "prod"}, None,
     ["app_node_env", "crashes at start", "Fix: set app_node_env to production"], []),
    ("plaintext_secret_in_production_vars", {}, {"app_cookie_key": PLAINTEXT_COOKIE},
     ["group_vars/all/app_override.yml: app_cookie_key holds a plaintext secret", "Fix: move the value into the vault"],
     [PLAINTEXT_COOKIE]),
    ("unreachable_db_host", {"app_database_host": "@UNUSED@"}, None,
     ["cannot reach app_database_host @UNUSED@:5432", "Fix: correct the address"], []),
    ("several_problems_reported_together",
     {"vault_cookie_key": "Tz4Wq8Lm2Xn6Rb0Vc5", "app_cors_origin": "https://ea-plan.example.com/app"}, None,
     ["found 3 problem(s)", "app_cookie_key", "app_cors_origin", "has a path"], ["Tz4Wq8Lm2Xn6Rb0Vc5"]),
]


def fingerprint(container: str) -> str:
    """Installed packages and every /etc file's checksum, mode and owner."""
    script = ("dpkg-query -W -f='${Package} ${Version} ${Status}\\n' | sort | sha256sum; "
              "find /etc -xdev \\( -type f -o -type l \\) -printf '%p %m %u %g %s\\n' | sort | sha256sum; "
              "find /etc -xdev -type f -print0 | sort -z | xargs -0 sha256sum | sha256sum")
    return subprocess.run(["docker", "exec", container, "sh", "-c", script], capture_output=True, text=True,
                          check=True).stdout


@pytest.fixture(scope="module")
def inventory(tmp_path_factory):
    """A production inventory for the two scenario hosts, its vault encrypted with a throwaway password."""
    for host in (DB_HOST, APP_HOST):
        if subprocess.run(["docker", "inspect", host], capture_output=True, check=False).returncode != 0:
            pytest.skip(f"container {host} is not running: run `molecule converge -s preflight` first")
    base = tmp_path_factory.mktemp("preflight-inventory")
    hosts = {"all": {"vars": {"ansible_connection": "community.docker.docker"},
                     "children": {"postgres": {"hosts": {DB_HOST: {}}}, "redis": {"hosts": {DB_HOST: {}}},
                                  "app": {"hosts": {APP_HOST: {}}}, "edge": {"hosts": {APP_HOST: {}}}}}}
    (base / "hosts.yml").write_text(yaml.safe_dump(hosts))
    all_vars = base / "group_vars" / "all"
    all_vars.mkdir(parents=True)
    (all_vars / "main.yml").write_text(yaml.safe_dump(MAIN_VARS))
    (all_vars / "vault.yml").write_text(yaml.safe_dump(GOOD_VAULT))
    password_file = tmp_path_factory.mktemp("vault-pass") / "pass"
    password_file.write_text("throwaway-test-vault-password\n")
    password_file.chmod(0o600)
    subprocess.run([str(BIN / "ansible-vault"), "encrypt", "--vault-password-file", str(password_file),
                    str(all_vars / "vault.yml")],
                   env=ansible_env(without_molecule=True), check=True, capture_output=True)
    assert (all_vars / "vault.yml").read_text().startswith("$ANSIBLE_VAULT")
    return base, password_file


def run_preflight(inventory_dir: Path, password_file: Path, extra: dict, work: Path,
                  host_checks: bool) -> subprocess.CompletedProcess:
    extra_file = work / "extra.json"
    extra_file.write_text(json.dumps(extra))
    cmd = [str(BIN / "ansible-playbook"), "-vvv", "-i", str(inventory_dir), str(PLAYBOOK),
           "--vault-password-file", str(password_file), "-e", f"@{extra_file}"]
    if not host_checks:
        cmd += ["--skip-tags", "preflight_install"]
    return subprocess.run(cmd, cwd=ROOT, env=ansible_env(without_molecule=True), capture_output=True, text=True,
                          timeout=900, check=False)


@pytest.fixture(scope="module")
def results(inventory, tmp_path_factory):
    """Run the good input and every bad case (four at a time); fingerprint the hosts before and after."""
    base, password_file = inventory
    unused = _unused_address()
    before = {host: fingerprint(host) for host in (DB_HOST, APP_HOST)}

    def one(case):
        name, extra, plaintext, _, _ = case
        work = tmp_path_factory.mktemp(name)
        inv = base
        if plaintext is not None:
            inv = work / "inventory"
            shutil.copytree(base, inv)
            (inv / "group_vars" / "all" / "app_override.yml").write_text(yaml.safe_dump(plaintext))
        extra = {k: (v.replace("@UNUSED@", unused) if isinstance(v, str) else v) for k, v in extra.items()}
        proc = run_preflight(inv, password_file, extra, work, name in HOST_CASES)
        return name, proc

    cases = [("good_input", {}, None, [], [])] + CASES
    with ThreadPoolExecutor(max_workers=4) as pool:
        done = dict(pool.map(one, cases))
    after = {host: fingerprint(host) for host in (DB_HOST, APP_HOST)}
    return {"runs": done, "before": before, "after": after, "unused": unused}


def test_good_input_passes(results):
    proc = results["runs"]["good_input"]
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert "Stop before any change" in proc.stdout  # the report task ran (and was skipped: nothing to report)
    # The DATABASE_URL / REDIS_URL targets run here, so the reachability probes must have run and passed.
    assert "Connect to the database and cache ports from the app hosts" in proc.stdout
    assert f"ok: [{APP_HOST}] => (item=" in proc.stdout


@pytest.mark.parametrize("name", sorted(GOOD_VAULT))
def test_no_secret_in_verbose_output(results, name):
    """Every run is at -vvv: the vaulted values (and the plaintext one) must appear in none of them."""
    value = GOOD_VAULT[name]
    for case, proc in results["runs"].items():
        assert value not in proc.stdout + proc.stderr, f"{name} leaked into the -vvv output of {case}"
    for case, proc in results["runs"].items():
        assert PLAINTEXT_COOKIE not in proc.stdout + proc.stderr, f"the plaintext cookie key leaked in {case}"


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_bad_input_fails_naming_variable_and_fix(results, case):
    name, _, _, fragments, secrets = case
    proc = results["runs"][name]
    output = proc.stdout + proc.stderr
    assert proc.returncode != 0, f"{name}: preflight passed a bad input\n{proc.stdout[-3000:]}"
    # Exactly one failing task, the report at the end: findings are collected, not raised one at a time.
    assert output.count("FAILED!") == 1, output[-4000:]
    assert "Stop before any change when a pre-deployment check failed" in output
    assert "nothing was changed" in output
    for fragment in fragments:
        fragment = fragment.replace("@UNUSED@", results["unused"])
        assert fragment in output, f"{name}: {fragment!r} missing from the output\n{output[-4000:]}"
    for secret in secrets:
        assert secret not in output, f"{name}: the secret value leaked into the output"


def test_hosts_unchanged_by_every_run(results):
    assert results["after"] == results["before"], "a preflight run changed packages or files under /etc"
