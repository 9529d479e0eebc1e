"""prometheus_dashboard_queries against a real Prometheus (the `prometheus` fixture of conftest.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.dese.ea_plan.plugins.module_utils.prometheus import SeriesCatalog
from ansible_collections.dese.ea_plan.plugins.modules import prometheus_dashboard_queries as module

SHIPPED = Path(__file__).resolve().parents[2] / "roles" / "grafana" / "files" / "dashboards"


def _dashboard(tmp_path: Path, uid: str, panels: list[tuple[str, list[str]]]) -> Path:
    document = {"uid": uid, "title": uid, "panels": [
        {"id": index, "title": title, "targets": [{"refId": chr(65 + n), "expr": expr} for n, expr in enumerate(exprs)]}
        for index, (title, exprs) in enumerate(panels, start=1)]}
    path = tmp_path / f"{uid}.json"
    path.write_text(json.dumps(document))
    return path


def _run(prometheus: str, paths: list[Path], **options) -> dict:
    catalog = SeriesCatalog(prometheus, 5, 3600)
    macros = dict(module.DEFAULT_MACROS, **options.get("macros", {}))
    return module.check_dashboards(module.read_dashboards([str(p) for p in paths]), catalog, macros,
                                   options.get("variables", {}), options.get("allow_empty", []))


def _problems(report: dict) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for problem in report["problems"]:
        found.setdefault(problem["panel"], set()).add(problem["problem"])
    return found


def test_substitution_follows_grafana():
    macros = module.DEFAULT_MACROS
    assert module.substitute('rate(x{i=~"$instance"}[$__rate_interval])', macros, {}) == 'rate(x{i=~".*"}[5m])'
    # an equality matcher on an "All" variable becomes a regex, as Grafana sends it
    assert module.substitute('x{job="$job", i="${instance:regex}"}', macros, {}) == 'x{job=~".*", i=~".*"}'
    assert module.substitute('x{job="$job"}', macros, {"job": "app"}) == 'x{job="app"}'
    assert module.substitute("increase(x[$__range]) / $__range_s", macros, {}) == "increase(x[1h]) / 3600"
    assert module.substitute('x{a="[[v]]"}', macros, {"v": "1"}) == 'x{a="1"}'


def test_each_kind_of_broken_query_is_named(prometheus, tmp_path):
    path = _dashboard(tmp_path, "probe", [
        ("works", ['up{job="self"}', 'sum(rate(prometheus_http_requests_total{handler=~"$handler"}[$__rate_interval]))']),
        ("typo in the metric", ["prometheus_http_request_total"]),
        ("wrong label name", ['sum(rate(prometheus_http_requests_total{status="200"}[5m]))']),
        ("syntax error", ["sum(up"]),
        ("selects nothing", ['up{job="nosuchjob"}']),
    ])
    report = _run(prometheus, [path])
    assert report["dashboards"] == 1 and report["queries_total"] == 6 and report["queries_with_data"] == 2
    problems = _problems(report)
    assert "works" not in problems
    assert problems["typo in the metric"] == {"missing_metric", "empty"}
    assert problems["wrong label name"] == {"unknown_label", "empty"}
    assert problems["syntax error"] == {"error"}
    assert problems["selects nothing"] == {"unknown_value", "empty"}
    label = next(p for p in report["problems"] if p["problem"] == "unknown_label")
    assert "'status'" in label["detail"] and "code" in label["detail"]  # names the label it has instead


def test_allowed_empty_panels_excuse_no_data_but_not_mistakes(prometheus, tmp_path):
    path = _dashboard(tmp_path, "alerts", [
        ("Firing alerts", ['sum by (severity) (ALERTS{alertstate="firing"})']),
        ("Firing alerts, mistyped", ['up{jobb="self"}']),
    ])
    allow = [{"dashboard": "alerts", "panel": "Firing alerts", "reason": "no alert firing is healthy"},
             {"dashboard": "alerts", "panel": "Firing alerts, mistyped", "reason": "same"}]
    report = _run(prometheus, [path], allow_empty=allow)
    assert [p["panel"] for p in report["allowed_empty"]] == ["Firing alerts"]
    assert report["allowed_empty"][0]["reason"] == "no alert firing is healthy"
    assert _problems(report) == {"Firing alerts, mistyped": {"unknown_label"}}


def test_allow_empty_by_ref_covers_only_that_target(prometheus, tmp_path):
    path = _dashboard(tmp_path, "ref", [("baseline", ['up{job="self"}', 'up{job="self"} offset 1d'])])
    only_a = _run(prometheus, [path], allow_empty=[{"dashboard": "ref", "panel": "baseline", "ref": "A"}])
    assert _problems(only_a) == {"baseline": {"empty"}}
    only_b = _run(prometheus, [path], allow_empty=[{"dashboard": "ref", "panel": "baseline", "ref": "B"}])
    assert _problems(only_b) == {} and len(only_b["allowed_empty"]) == 1


def test_shipped_dashboards_have_no_query_errors(prometheus):
    """The shipped queries are valid PromQL for a live server (their metrics are not exported by this one)."""
    report = _run(prometheus, [SHIPPED])
    assert report["dashboards"] >= 7 and report["queries_total"] >= 40
    assert [p for p in report["problems"] if p["problem"] in ("error", "unknown_label")] == []


def test_module_entry_point_fails_on_problems(prometheus, tmp_path, capsys):
    path = _dashboard(tmp_path, "entry", [("typo", ["upp"])])
    args = {"url": prometheus, "paths": [str(path)], "fail_on_problems": True}
    with patch_module_args(args), pytest.raises(SystemExit) as exited:
        module.main()
    output = json.loads(capsys.readouterr().out)
    assert exited.value.code == 1 and output["failed"] is True
    assert "entry / typo [A]: no target exports upp" in output["msg"]

    with patch_module_args(dict(args, fail_on_problems=False, _ansible_check_mode=True)), \
            pytest.raises(SystemExit) as exited:
        module.main()
    output = json.loads(capsys.readouterr().out)
    assert exited.value.code == 0 and output["changed"] is False and len(output["problems"]) == 2


def test_missing_path_and_bad_json_are_named(tmp_path):
    with pytest.raises(ValueError, match="no such dashboard"):
        module.read_dashboards([str(tmp_path / "absent.json")])
    (tmp_path / "bad.json").write_text("{")
    with pytest.raises(ValueError, match="bad.json: not valid JSON"):
        module.read_dashboards([str(tmp_path)])
