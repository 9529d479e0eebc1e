"""Check the Grafana dashboards shipped by roles/grafana: schema, unique uids, datasource refs, parsable queries.

``promtool query`` needs a live server, so each panel query is wrapped as a recording rule in a generated rule file
and parsed offline with ``promtool check rules`` (Grafana's ``$__rate_interval``-style macros and ``$var`` template
variables substituted first).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from jsonschema import Draft202012Validator

ROOT = Path(__file__).resolve().parents[2]
DASHBOARDS = sorted((ROOT / "roles" / "grafana" / "files" / "dashboards").glob("*.json"))
SCHEMA = json.loads((Path(__file__).parent / "grafana_dashboard.schema.json").read_text())
DEFAULTS = yaml.safe_load((ROOT / "roles" / "grafana" / "defaults" / "main.yml").read_text())
PROMTOOL = shutil.which("promtool") or "/usr/bin/promtool"
MACROS = {"$__rate_interval": "5m", "$__interval": "1m", "$__range": "1h", "$__range_s": "3600", "$__range_ms": "3600000",
          "$__interval_ms": "60000"}


def _load(path: Path) -> dict:
    return json.loads(path.read_text())


def _targets(dashboard: dict):
    for panel in dashboard["panels"]:
        for target in panel.get("targets", []):
            yield panel, target


def _substitute(expr: str) -> str:
    for macro in sorted(MACROS, key=len, reverse=True):
        expr = expr.replace(macro, MACROS[macro])
    expr = re.sub(r"\$\{(\w+)(:\w+)?\}", "placeholder", expr)
    return re.sub(r"\$(\w+)", "placeholder", expr)


def test_dashboards_exist():
    assert len(DASHBOARDS) >= 7, [p.name for p in DASHBOARDS]


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.name)
def test_dashboard_matches_schema(path: Path):
    errors = sorted(Draft202012Validator(SCHEMA).iter_errors(_load(path)), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors)


def test_uids_unique_and_match_file_names():
    uids = [_load(p)["uid"] for p in DASHBOARDS]
    assert len(uids) == len(set(uids)), uids
    assert [p.stem for p in DASHBOARDS] == uids


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.name)
def test_datasource_refs_use_the_provisioned_uid(path: Path):
    dashboard = _load(path)
    uid = DEFAULTS["grafana_datasource_uid"]
    refs = [panel["datasource"]["uid"] for panel in dashboard["panels"]]
    refs += [target["datasource"]["uid"] for _panel, target in _targets(dashboard)]
    refs += [v["datasource"]["uid"] for v in dashboard["templating"]["list"] if "datasource" in v]
    assert set(refs) == {uid}, f"datasource uids {sorted(set(refs))}, provisioned uid is {uid}"


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.name)
def test_panel_ids_unique(path: Path):
    ids = [panel["id"] for panel in _load(path)["panels"]]
    assert len(ids) == len(set(ids))


def test_substitution_of_grafana_macros():
    assert _substitute('rate(x{i=~"$instance"}[$__rate_interval])') == 'rate(x{i=~"placeholder"}[5m])'
    assert _substitute("increase(x[$__range])") == "increase(x[1h])"


@pytest.mark.skipif(not Path(PROMTOOL).is_file(), reason="promtool is not installed")
@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.name)
def test_panel_queries_parse_with_promtool(path: Path, tmp_path: Path):
    rules = []
    for panel, target in _targets(_load(path)):
        rules.append({"record": f"dashboard:panel{panel['id']}_{target['refId']}", "expr": _substitute(target["expr"])})
    rule_file = tmp_path / "queries.yml"
    rule_file.write_text(yaml.safe_dump({"groups": [{"name": path.stem, "rules": rules}]}))
    result = subprocess.run([PROMTOOL, "check", "rules", str(rule_file)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
