"""Run promtool on every shipped Prometheus rule file and every rule unit test.

``promtool check rules`` validates each ``roles/prometheus/files/rules/*.yml`` (syntax, PromQL, templates);
``promtool test rules`` runs each ``tests/promtool/*_test.yml``. Both globs are open: rule files and tests added
later by other components are picked up without touching this file. The checks below also hold every alert to the
project's conventions (``for``, ``severity``, summary/description/runbook_url) and require a unit test per alert.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
RULES_DIR = ROOT / "roles" / "prometheus" / "files" / "rules"
TESTS_DIR = ROOT / "tests" / "promtool"
PROMTOOL = shutil.which("promtool") or "/usr/bin/promtool"
RUNBOOK_PREFIX = "https://runbooks.dese-ea-plan.example/alerts/"
SEVERITIES = {"critical", "warning", "info"}

RULE_FILES = sorted(RULES_DIR.glob("*.yml"))
TEST_FILES = sorted(TESTS_DIR.glob("*_test.yml"))

pytestmark = pytest.mark.skipif(not Path(PROMTOOL).is_file(), reason="promtool is not installed")


def _alerts(path: Path) -> list[dict]:
    doc = yaml.safe_load(path.read_text())
    return [rule for group in doc.get("groups", []) for rule in group.get("rules", []) if "alert" in rule]


def _tested_alerts() -> set[str]:
    tested: set[str] = set()
    for test_file in TEST_FILES:
        doc = yaml.safe_load(test_file.read_text())
        for case in doc.get("tests", []):
            for check in case.get("alert_rule_test", []):
                if check.get("exp_alerts"):
                    tested.add(check["alertname"])
    return tested


def test_rule_files_exist():
    assert RULE_FILES, f"no rule files in {RULES_DIR}"
    assert TEST_FILES, f"no promtool tests in {TESTS_DIR}"


@pytest.mark.parametrize("rule_file", RULE_FILES, ids=lambda p: p.name)
def test_promtool_check_rules(rule_file: Path):
    result = subprocess.run([PROMTOOL, "check", "rules", str(rule_file)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("test_file", TEST_FILES, ids=lambda p: p.name)
def test_promtool_test_rules(test_file: Path):
    result = subprocess.run([PROMTOOL, "test", "rules", test_file.name], cwd=test_file.parent,
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("rule_file", RULE_FILES, ids=lambda p: p.name)
def test_alert_conventions(rule_file: Path):
    problems = []
    for rule in _alerts(rule_file):
        name = rule["alert"]
        if not rule.get("for"):
            problems.append(f"{name}: no 'for:'")
        if rule.get("labels", {}).get("severity") not in SEVERITIES:
            problems.append(f"{name}: severity label missing or not one of {sorted(SEVERITIES)}")
        annotations = rule.get("annotations", {})
        for key in ("summary", "description", "runbook_url"):
            if not annotations.get(key):
                problems.append(f"{name}: annotation {key} missing")
        if not str(annotations.get("runbook_url", "")).startswith(("https://", "http://")):
            problems.append(f"{name}: runbook_url must be an absolute URL (ship {RUNBOOK_PREFIX}<Alert>)")
    assert not problems, "\n".join(problems)


def test_every_alert_has_a_firing_unit_test():
    shipped = {rule["alert"] for path in RULE_FILES for rule in _alerts(path)}
    untested = sorted(shipped - _tested_alerts())
    assert not untested, f"alerts without a promtool test that expects them to fire: {untested}"


def test_alert_names_unique():
    names = [rule["alert"] for path in RULE_FILES for rule in _alerts(path)]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    assert not duplicates, f"alert names defined twice: {duplicates}"
