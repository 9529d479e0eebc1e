"""Unit tests for the Prometheus plugins: the rule-file filter, the PromQL metric-name parser and dead-rule logic."""

from __future__ import annotations

import json

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.dese.ea_plan.plugins.filter.prometheus_rules import prometheus_rules
from ansible_collections.dese.ea_plan.plugins.module_utils.prometheus import metric_names, parse_selector, selectors
from ansible_collections.dese.ea_plan.plugins.modules import prometheus_dead_rules
from ansible_collections.dese.ea_plan.plugins.modules.prometheus_dead_rules import find_dead_rules

PLAIN = """
groups:
  - name: g
    rules:
      - alert: A
        expr: up == 0
"""

OPERATOR = """
apiVersion: monitoring.coreos.com/v1
kind: PrometheusRule
metadata: {name: team-rules, namespace: monitoring}
spec:
  groups:
    - name: k
      rules:
        - alert: B
          expr: up == 0
---
apiVersion: monitoring.coreos.com/v1
kind: PrometheusRule
metadata: {name: more}
spec:
  groups:
    - name: k2
      rules: []
"""


def test_plain_rule_file_passes_through():
    assert prometheus_rules(PLAIN, "plain.yml") == {"groups": [{"name": "g", "rules": [{"alert": "A", "expr": "up == 0"}]}]}


def test_prometheus_rule_documents_are_unwrapped_and_merged():
    result = prometheus_rules(OPERATOR, "operator.yml")
    assert [g["name"] for g in result["groups"]] == ["k", "k2"]


@pytest.mark.parametrize("text, fragment", [
    ("groups: [\n", "not valid YAML"),
    ("foo: bar\n", "neither 'groups'"),
    ("kind: PrometheusRule\nmetadata: {name: x}\nspec: {}\n", "no spec.groups"),
    ("", "no rule groups"),
    ("groups: {}\n", "not a list"),
])
def test_bad_files_name_the_source(text, fragment):
    with pytest.raises(Exception) as err:
        prometheus_rules(text, "/srv/rules/bad.yml")
    assert "/srv/rules/bad.yml" in str(err.value)
    assert fragment in str(err.value)


@pytest.mark.parametrize("expr, names", [
    ("up == 0", ["up"]),
    ('sum by (job, instance) (rate(http_requests_total{status_code=~"5.."}[5m]))', ["http_requests_total"]),
    ('node_load1 / on (instance) group_left () count by (instance) (node_cpu_seconds_total{mode="idle"}) > 2',
     ["node_cpu_seconds_total", "node_load1"]),
    ('label_replace(rate(x_total[5m]), "module", "$1", "route", "/api/v1/([^/]+).*")', ["x_total"]),
    ("predict_linear(sum by (job) (pg_stat_activity_count)[1h:1m], 4 * 3600) > 1e9", ["pg_stat_activity_count"]),
    ("avg_over_time(job:rate5m[1h] offset 15m) > 0x10", ["job:rate5m"]),
    ('{__name__="redis_up"} == 0', ["redis_up"]),
    ("redis_aof_last_write_status == 0 and on (job, instance) redis_aof_enabled == 1",
     ["redis_aof_enabled", "redis_aof_last_write_status"]),
    ("vector(1)", []),
])
def test_metric_names(expr, names):
    assert metric_names(expr) == names


def test_find_dead_rules_asks_once_per_selector_and_keeps_the_reasons():
    rules = {"groups": [{"name": "g", "file": "/etc/prometheus/rules/a.yml", "rules": [
        {"name": "Good", "type": "alerting", "query": "up == 0"},
        {"name": "Typo", "type": "alerting", "query": 'rate(http_requests_total{status="500"}[5m]) / rate(up[5m])'},
        {"name": "Suffix", "type": "alerting", "query": "increase(pg_stat_database_deadlocks_total[5m]) > 0"},
        {"name": "Ignored", "type": "alerting", "query": "nothing_here > 0"},
        {"name": "AlsoGood", "type": "recording", "query": "sum(up)"},
    ]}]}
    calls = []
    known = {"up": [], 'http_requests_total{status="500"}': [("unknown_label", "no label 'status'")],
             "pg_stat_database_deadlocks_total": [("missing_metric", "no target exports it")]}

    def problems(selector):
        calls.append(selector)
        return known[selector]

    dead, missing, total = find_dead_rules(rules, problems, {"Ignored"})
    assert total == 5
    assert [d["name"] for d in dead] == ["Typo", "Suffix"]
    assert dead[0]["missing_metrics"] == ['http_requests_total{status="500"}']
    assert dead[0]["reasons"] == ["no label 'status'"]
    assert missing == ['http_requests_total{status="500"}', "pg_stat_database_deadlocks_total"]
    assert sorted(calls) == sorted(set(calls)), "each selector is asked once"


@pytest.mark.parametrize("selector, expected", [
    ("up", ("up", [])),
    ('http_requests_total{status_code=~"5..", route!="/metrics"}',
     ("http_requests_total", [("status_code", "=~", "5.."), ("route", "!=", "/metrics")])),
    ('{__name__="redis_up", job="redis"}', ("redis_up", [("job", "=", "redis")])),
    ('{job="redis"}', (None, [("job", "=", "redis")])),
    ('x{path="a\\"b"}', ("x", [("path", "=", 'a"b')])),
])
def test_parse_selector(selector, expected):
    assert parse_selector(selector) == expected


@pytest.mark.parametrize("expr, expected", [
    ("up == 0", ["up"]),
    ('rate(http_requests_total{status_code=~"5.."}[5m]) / rate(http_requests_total[5m])',
     ["http_requests_total", 'http_requests_total{status_code=~"5.."}']),
    ('label_replace(rate(x{a="1"}[5m]), "m", "$1", "route", "/api/{v}/(.*)")', ['x{a="1"}']),
    ('{__name__="redis_up"} == 0', ['{__name__="redis_up"}']),
])
def test_selectors_keep_label_matchers(expr, expected):
    assert selectors(expr) == expected


def test_dead_rules_against_a_live_prometheus(prometheus, capsys):
    """The conftest server loads PROBE_RULES: a regex that matches nothing on a healthy server is not dead."""
    with patch_module_args({"url": prometheus, "lookback_seconds": 600}), pytest.raises(SystemExit) as exited:
        prometheus_dead_rules.main()
    output = json.loads(capsys.readouterr().out)
    assert exited.value.code == 0 and output["changed"] is False and output["rules_total"] == 10
    reasons = {d["name"]: d["reasons"] for d in output["dead_rules"]}
    assert set(reasons) == {"DeadSuffix", "DeadLabel", "DeadValue", "job:typo:rate5m", "DeadOnRecordedTypo"}
    assert reasons["DeadOnRecordedTypo"] == [
        "job:typo:rate5m is recorded from a selector that can never match: no target exports prometheus_http_request_total"]
    assert reasons["DeadSuffix"] == ["no target exports prometheus_http_requests"]
    assert "prometheus_http_requests_total has no label 'status'" in reasons["DeadLabel"][0]
    assert reasons["DeadValue"][0].startswith('up has no series with job="selff" (values: self)')

    ignore = ["DeadLabel", "DeadValue", "job:typo:rate5m", "DeadOnRecordedTypo"]
    with patch_module_args({"url": prometheus, "fail_on_dead": True, "ignore": ignore}), \
            pytest.raises(SystemExit) as exited:
        prometheus_dead_rules.main()
    output = json.loads(capsys.readouterr().out)
    assert exited.value.code == 1 and "1 rule(s)" in output["msg"] and "DeadSuffix" in output["msg"]
