"""roles/docker/files/docker_daemon_check.py: what dockerd 20.10 refuses at start is refused before install."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

CHECKER = Path(__file__).resolve().parents[2] / "roles" / "docker" / "files" / "docker_daemon_check.py"


@pytest.fixture(scope="module")
def checker():
    spec = importlib.util.spec_from_file_location("docker_daemon_check", CHECKER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture()
def options(checker):
    return {checker.PLURAL.get(k, k): v for k, v in checker.FLAGS_20_10.items()} | checker.FILE_ONLY


def test_role_defaults_pass(checker, options):
    config = {"log-driver": "json-file", "log-opts": {"max-size": "10m", "max-file": "3"}, "live-restore": True}
    assert checker.check(config, options, {"hosts", "containerd"}) == []


def test_common_production_options_pass(checker, options):
    config = {"default-address-pools": [{"base": "10.210.0.0/16", "size": 24}], "registry-mirrors": ["https://m"],
              "insecure-registries": ["app-db:5000"], "mtu": 1450, "userland-proxy": False, "features": {"buildkit": True},
              "default-ulimits": {"nofile": {"Name": "nofile", "Hard": 65536, "Soft": 65536}}}
    assert checker.check(config, options, set()) == []


@pytest.mark.parametrize(("config", "fragment"), [
    ({"log-opts": {"max-file": 3}}, "values must be strings"),
    ({"live-restore": "true"}, "must be a JSON bool"),
    ({"mtu": "1500"}, "must be an integer"),
    ({"mtu": True}, "must be an integer"),
    ({"log-opt": {"max-size": "1m"}}, "unknown option 'log-opt'"),  # the flag name, not the file key
    ({"config-file": "/x"}, "unknown option"),
    ({"dns": "1.1.1.1"}, "must be a JSON list"),
    ({"dns": [1]}, "list of strings"),
])
def test_what_dockerd_refuses_is_refused(checker, options, config, fragment):
    problems = checker.check(config, options, set())
    assert len(problems) == 1 and fragment in problems[0], problems


def test_options_that_the_unit_passes_as_flags_conflict(checker, options):
    problems = checker.check({"hosts": ["unix:///run/docker.sock"], "containerd": "/run/c.sock"}, options,
                             {"hosts", "containerd"})
    assert len(problems) == 2 and all("docker.service" in p for p in problems)


def test_main_reports_invalid_json_and_non_objects(checker, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(checker, "native_validate", lambda path: None)  # as on dockerd 20.10 (no --validate)
    bad = tmp_path / "daemon.json"
    bad.write_text("{not json")
    assert checker.main(["check", str(bad)]) == 1
    bad.write_text(json.dumps(["a"]))
    assert checker.main(["check", str(bad)]) == 1
    assert "JSON object" in capsys.readouterr().out
