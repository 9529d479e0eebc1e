"""Who is primary, who replicates from whom, and what pg_hba and the drop-in say, as the postgresql role derives it.

Real Ansible templating of the role's own defaults, vars and templates for a few inventories (connection local, no
host is touched): the role's topology comes from the inventory alone, so these cases pin it down without containers.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import yaml

from ansible_env import ansible_env

ROOT = Path(__file__).resolve().parents[3]
ROLE = ROOT / "roles" / "postgresql"
BIN = ROOT / ".venv" / "bin"
TEMPLATES = ROLE / "templates" / "etc" / "postgresql" / "version" / "main"

# A stand-in role with the real role's defaults and vars (symlinked, so inventory variables win over the defaults as
# they do for the real role) whose only task writes, per host, the derived values and the two configuration files.
TASKS = f"""
- name: Write what the role derives for this host
  ansible.builtin.copy:
    dest: "{{{{ out }}}}/{{{{ inventory_hostname }}}}.json"
    content: "{{{{ result | to_json }}}}"
    mode: "0644"
  delegate_to: localhost
  vars:
    ansible_facts: {{memtotal_mb: 1024, processor_vcpus: 2}}
    result:
      replica: "{{{{ __postgresql_is_replica | bool }}}}"
      enabled: "{{{{ __postgresql_replication_enabled | bool }}}}"
      primary: "{{{{ postgresql_replication_primary }}}}"
      replicas: "{{{{ postgresql_replication_replicas }}}}"
      slots: "{{{{ __postgresql_replica_slot_list }}}}"
      networks: "{{{{ __postgresql_replication_networks }}}}"
      conninfo: "{{{{ __postgresql_replication_conninfo }}}}"
      standby: "{{{{ __postgresql_standby_settings }}}}"
      hba: "{{{{ lookup('ansible.builtin.template', '{TEMPLATES}/pg_hba.conf.j2') }}}}"
      dropin: "{{{{ lookup('ansible.builtin.template', '{TEMPLATES}/conf.d/50-dese.conf.j2') }}}}"
"""
PLAYBOOK = """
- name: Derive the replication topology
  hosts: all
  gather_facts: false
  connection: local
  roles: [topology]
"""


def derive(tmp_path, inventory):
    role = tmp_path / "roles" / "topology"
    for part in ("defaults", "vars", "tasks"):
        (role / part).mkdir(parents=True)
    (role / "defaults" / "main.yml").symlink_to(ROLE / "defaults" / "main.yml")
    (role / "vars" / "main.yml").symlink_to(ROLE / "vars" / "main.yml")
    (role / "tasks" / "main.yml").write_text(TASKS)
    (tmp_path / "inventory.yml").write_text(yaml.safe_dump(inventory))
    (tmp_path / "playbook.yml").write_text(PLAYBOOK)
    out = tmp_path / "out"
    out.mkdir()
    env = ansible_env(without_molecule=True)
    env["ANSIBLE_ROLES_PATH"] = str(tmp_path / "roles")
    cmd = [str(BIN / "ansible-playbook"), "-i", str(tmp_path / "inventory.yml"), str(tmp_path / "playbook.yml"),
           "-e", json.dumps({"out": str(out)})]
    proc = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return {path.stem: json.loads(path.read_text()) for path in out.glob("*.json")}


def replication_lines(hba):
    return [line.split() for line in hba.splitlines() if line.startswith("hostssl") and " replication " in line]


def settings(dropin):
    pairs = (line.split(" = ", 1) for line in dropin.splitlines() if " = " in line and not line.startswith("#"))
    return {name: value for name, value in pairs}


def group(hosts, **group_vars):
    return {"all": {"children": {"postgres": {"hosts": hosts, "vars": group_vars}}}}


@pytest.fixture(scope="module")
def three_hosts(tmp_path_factory):
    hosts = {"db-1": {"dese_private_address": "10.0.0.1"},
             "db-2": {"dese_private_address": "10.0.0.2"},
             "db-3": {"dese_private_address": "fd00::3", "postgresql_replication_slot_name": "third"}}
    return derive(tmp_path_factory.mktemp("three"), group(hosts))


def test_first_host_is_the_primary_and_keeps_a_slot_per_replica(three_hosts):
    primary = three_hosts["db-1"]
    assert not primary["replica"] and primary["enabled"]
    assert primary["replicas"] == ["db-2", "db-3"]
    assert primary["slots"] == ["db_2", "third"]
    assert primary["standby"] == {}
    assert "primary_conninfo" not in settings(primary["dropin"])


def test_replicas_stream_from_the_primary_over_verified_tls_with_a_passfile(three_hosts):
    for host, slot in (("db-2", "db_2"), ("db-3", "third")):
        replica = three_hosts[host]
        assert replica["replica"] and replica["primary"] == "db-1"
        conninfo = dict(option.split("=", 1) for option in replica["conninfo"].split())
        assert conninfo == {
            "host": "10.0.0.1", "port": "5432", "user": "dese_replicator",
            "passfile": "/etc/postgresql/15/main/replication.pgpass", "sslmode": "verify-full",
            "sslrootcert": "/etc/postgresql/15/main/replication-ca.crt", "application_name": slot,
            "connect_timeout": "10"}
        dropin = settings(replica["dropin"])
        assert dropin["primary_conninfo"] == "'%s'" % replica["conninfo"]
        assert dropin["primary_slot_name"] == "'%s'" % slot
        assert dropin["hot_standby"] == "on" and dropin["wal_level"] == "'replica'"
        assert "password" not in replica["conninfo"]


def test_every_member_admits_the_replication_role_from_the_others_only(three_hosts):
    expected = {"db-1": ["10.0.0.2/32", "fd00::3/128"],
                "db-2": ["10.0.0.1/32", "fd00::3/128"],
                "db-3": ["10.0.0.1/32", "10.0.0.2/32"]}
    for host, networks in expected.items():
        lines = replication_lines(three_hosts[host]["hba"])
        assert lines == [["hostssl", "replication", "dese_replicator", network, "scram-sha-256"] for network in networks]


def test_an_explicit_primary_turns_the_first_host_into_a_replica(tmp_path):
    hosts = {"db-1": {"dese_private_address": "10.0.0.1"}, "db-2": {"dese_private_address": "10.0.0.2"}}
    result = derive(tmp_path, group(hosts, postgresql_replication_primary="db-2",
                                    postgresql_replication_sslmode="require"))
    assert result["db-1"]["replica"] and not result["db-2"]["replica"]
    assert result["db-2"]["slots"] == ["db_1"]
    assert "host=10.0.0.2 " in result["db-1"]["conninfo"]
    assert "sslrootcert" not in result["db-1"]["conninfo"] and "sslmode=require" in result["db-1"]["conninfo"]


def test_replication_networks_replace_the_member_addresses(tmp_path):
    hosts = {"db-1": {"dese_private_address": "10.0.0.1"}, "db-2": {"dese_private_address": "10.0.0.2"}}
    result = derive(tmp_path, group(hosts, postgresql_replication_networks=["10.0.0.0/24"]))
    assert [line[3] for line in replication_lines(result["db-1"]["hba"])] == ["10.0.0.0/24"]


def test_a_single_database_host_has_no_replication(tmp_path):
    result = derive(tmp_path, group({"db-1": {"dese_private_address": "10.0.0.1"}}))
    assert not result["db-1"]["enabled"] and result["db-1"]["slots"] == []
    assert replication_lines(result["db-1"]["hba"]) == []


def test_a_host_outside_group_postgres_is_its_own_primary(tmp_path):
    inventory = {"all": {"children": {"postgres": {"hosts": {"db-1": {}}},
                                      "other": {"hosts": {"solo": {"dese_private_address": "10.0.0.9"}}}}}}
    result = derive(tmp_path, inventory)
    assert not result["solo"]["replica"] and not result["solo"]["enabled"]
