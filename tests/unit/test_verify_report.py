"""Unit tests for the verify report helpers and the verify_report module."""

from __future__ import annotations

import json
from pathlib import Path
from xml.etree import ElementTree

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.dese.ea_plan.plugins.module_utils import verify
from ansible_collections.dese.ea_plan.plugins.modules import verify_report

CHECKS = [
    {"name": "backend_health", "group": "app", "status": "pass", "value": 200, "threshold": 200, "detail": ""},
    {"name": "p95_latency_seconds", "group": "prometheus", "status": "fail", "value": 0.7123, "threshold": 0.5,
     "detail": "routes without /health and /metrics"},
    {"name": "grafana_health", "group": "grafana", "status": "skip", "value": None, "threshold": None,
     "detail": "Grafana does not run on dese-lab-mon"},
]


def test_normalize_rejects_unknown_status_as_failure():
    check = verify.normalize_check({"name": "x", "status": "ok"})
    assert check["status"] == "fail"
    assert "invalid status" in check["detail"]


def test_normalize_missing_status_is_failure():
    assert verify.normalize_check({"name": "x"})["status"] == "fail"


def test_normalize_requires_name():
    with pytest.raises(ValueError):
        verify.normalize_check({"status": "pass"})


def test_duplicate_names_rejected():
    with pytest.raises(ValueError, match="duplicate"):
        verify.normalize_checks([{"name": "a", "status": "pass"}, {"name": "a", "status": "fail"}])


def test_values_rendered_as_text():
    check = verify.normalize_check({"name": "x", "status": "pass", "value": 0.123456, "threshold": True})
    assert check["value"] == "0.1235"
    assert check["threshold"] == "true"
    assert verify.normalize_check({"name": "y", "status": "pass", "value": ["a"]})["value"] == '["a"]'


def test_summary_and_failures():
    checks = verify.normalize_checks(CHECKS)
    assert verify.summarize(checks) == {"pass": 1, "fail": 1, "skip": 1, "total": 3}
    lines = verify.failure_lines(checks)
    assert lines == ["p95_latency_seconds: value=0.7123 threshold=0.5 (routes without /health and /metrics)"]
    assert verify.report_document(checks, {})["result"] == "fail"
    assert verify.report_document(checks[:1], {})["result"] == "pass"
    assert verify.report_document(checks[2:], {})["result"] == "incomplete"
    assert verify.report_document([], {})["result"] == "incomplete"


def test_table_lists_every_check_and_counts():
    table = verify.render_table(verify.normalize_checks(CHECKS))
    assert table[0].split()[:4] == ["STATUS", "CHECK", "VALUE", "THRESHOLD"]
    assert any(line.startswith("FAIL") and "p95_latency_seconds" in line for line in table)
    assert table[-1] == "3 checks: 1 passed, 1 failed, 1 skipped"


def test_junit_structure():
    root = ElementTree.fromstring(verify.junit_xml(verify.normalize_checks(CHECKS)).split("\n", 1)[1])
    suite = root.find("testsuite")
    assert suite.get("tests") == "3" and suite.get("failures") == "1" and suite.get("skipped") == "1"
    cases = {case.get("name"): case for case in suite.iter("testcase")}
    assert cases["p95_latency_seconds"].find("failure").get("message") == "value=0.7123 threshold=0.5"
    assert cases["grafana_health"].find("skipped") is not None
    assert cases["backend_health"].find("failure") is None


def run_module(capsys, args, check_mode=False):
    payload = dict(args)
    if check_mode:
        payload["_ansible_check_mode"] = True
    with patch_module_args(payload), pytest.raises(SystemExit):
        verify_report.main()
    return json.loads(capsys.readouterr().out)


def test_module_writes_reports_and_latest(tmp_path, capsys):
    result = run_module(capsys, {"checks": CHECKS, "dest": str(tmp_path), "run_id": "20260101T000000Z",
                                              "meta": {"date": "2026-01-01T00:00:00Z"}})
    assert result["changed"] is True and result["result"] == "fail"
    run = tmp_path / "20260101T000000Z"
    document = json.loads((run / "report.json").read_text())
    assert document["summary"]["fail"] == 1 and len(document["checks"]) == 3
    assert (run / "junit.xml").read_text().startswith("<?xml")
    assert (tmp_path / "latest").resolve() == run.resolve()
    second = run_module(capsys, {"checks": CHECKS[:1], "dest": str(tmp_path), "run_id": "run2"})
    assert second["result"] == "pass" and second["failures"] == []
    assert Path(tmp_path / "latest").resolve() == (tmp_path / "run2").resolve()


def test_module_check_mode_writes_nothing(tmp_path, capsys):
    result = run_module(capsys, {"checks": CHECKS, "dest": str(tmp_path), "run_id": "r1"},
                        check_mode=True)
    assert result["changed"] is False and result["summary"]["total"] == 3
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("run_id", ["../x", "latest", "a/b"])
def test_module_rejects_bad_run_id(tmp_path, capsys, run_id):
    result = run_module(capsys, {"checks": CHECKS, "dest": str(tmp_path), "run_id": run_id})
    assert result["failed"] is True and "run_id" in result["msg"]


def test_table_cuts_long_cells_but_json_keeps_them():
    check = verify.normalize_check({"name": "x", "status": "fail", "value": "v" * 200, "detail": "d" * 200})
    line = verify.render_table([check])[1]
    assert "v" * 45 + "..." in line and "v" * 49 not in line
    assert verify.report_document([check], {})["checks"][0]["value"] == "v" * 200
