"""Unit tests for the Prometheus plugins: the rule-file filter, the PromQL metric-name parser and dead-rule logic."""

from __future__ import annotations

import pytest

from ansible_collections.dese.ea_plan.plugins.filter.prometheus_rules import prometheus_rules
from ansible_collections.dese.ea_plan.plugins.module_utils.prometheus import metric_names, selectors
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


def test_find_dead_rules_reports_missing_metrics_once_per_name():
    rules = {"groups": [{"name": "g", "file": "/etc/prometheus/rules/a.yml", "rules": [
        {"name": "Good", "type": "alerting", "query": "up == 0"},
        {"name": "Typo", "type": "alerting", "query": 'rate(http_requests_total{status="500"}[5m]) / rate(up[5m])'},
        {"name": "Suffix", "type": "alerting", "query": "increase(pg_stat_database_deadlocks_total[5m]) > 0"},
        {"name": "Ignored", "type": "alerting", "query": "nothing_here > 0"},
    ]}]}
    calls = []

    present = {"up", 'http_requests_total{status_code="500"}'}

    def exists(selector):
        calls.append(selector)
        return selector in present

    dead, missing, total = find_dead_rules(rules, exists, {"Ignored"})
    assert total == 4
    assert [d["name"] for d in dead] == ["Typo", "Suffix"]
    assert dead[0]["missing_metrics"] == ['http_requests_total{status="500"}']
    assert missing == ['http_requests_total{status="500"}', "pg_stat_database_deadlocks_total"]
    assert sorted(calls) == sorted(set(calls))


@pytest.mark.parametrize("expr, expected", [
    ("up == 0", ["up"]),
    ('rate(http_requests_total{status_code=~"5.."}[5m]) / rate(http_requests_total[5m])',
     ["http_requests_total", 'http_requests_total{status_code=~"5.."}']),
    ('label_replace(rate(x{a="1"}[5m]), "m", "$1", "route", "/api/{v}/(.*)")', ['x{a="1"}']),
    ('{__name__="redis_up"} == 0', ['{__name__="redis_up"}']),
])
def test_selectors_keep_label_matchers(expr, expected):
    assert selectors(expr) == expected
