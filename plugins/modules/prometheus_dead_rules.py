#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, DESE EA PLAN maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: prometheus_dead_rules
short_description: Find alerting and recording rules whose metrics no scraped target exports
version_added: "1.0.0"
description:
  - Reads the rules a live Prometheus has loaded (C(/api/v1/rules)), extracts the series selectors of each
    expression, and asks the server (label names and values seen over the last O(lookback_seconds)) whether each
    selector can ever match.
  - "A rule is dead when a selector names a metric no target exports (a C(_total) suffix the exporter version does
    not add, an exporter that is not scraped), a label the metric never carries (C(status) for C(status_code)), or an
    equality-matched value no series has (C(job=\"postgress\")). Such a rule can never fire, whatever happens in
    production."
  - Regex and negative matchers are not judged on their values, so a rule over C(status_code=~\"5..\") is alive on
    a healthy stack that serves no 5xx.
  - Read-only; supports check mode.
options:
  url:
    description: Base URL of the Prometheus server, e.g. C(http://10.0.0.9:9090).
    type: str
    required: true
  lookback_seconds:
    description: How far back a series may have been seen to count as existing.
    type: int
    default: 3600
  ignore:
    description: Rule names (alert or record names) not to report.
    type: list
    elements: str
    default: []
  fail_on_dead:
    description: Fail when a dead rule is found.
    type: bool
    default: false
  timeout:
    description: HTTP timeout in seconds.
    type: int
    default: 10
author:
  - DESE EA PLAN maintainers
"""

EXAMPLES = r"""
- name: List rules whose metrics nothing exports
  dese.ea_plan.prometheus_dead_rules:
    url: "http://{{ prometheus_listen_address }}:9090"
    ignore: [PostgresBackupTooOld]
  register: dead

- name: Fail the verification on dead rules
  dese.ea_plan.prometheus_dead_rules:
    url: http://127.0.0.1:9090
    fail_on_dead: true
"""

RETURN = r"""
dead_rules:
  description: Rules with at least one selector that can never match (C(missing_metrics) lists them, C(reasons) says why).
  returned: always
  type: list
  elements: dict
  sample: [{name: ModuleHighErrorRate, type: alerting, group: dese-module-alerts, file: /etc/prometheus/rules/module-alerts.yml,
            missing_metrics: ['http_requests_total{status="500"}'],
            reasons: ["http_requests_total has no label 'status' (it has: instance, job, method, route, status_code)"]}]
rules_total:
  description: Number of rules loaded by the server.
  returned: always
  type: int
missing_metrics:
  description: Every selector used by some rule that can never match.
  returned: always
  type: list
  elements: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.dese.ea_plan.plugins.module_utils.prometheus import SeriesCatalog, api_get, selectors


def find_dead_rules(rules_data, selector_problems, ignore=()):
    """Return (dead_rules, missing_metrics, rules_total) from /api/v1/rules data.

    ``selector_problems(selector)`` returns ``[(kind, detail)]``, empty when the selector can match
    (``SeriesCatalog.problems`` against a live server).
    """
    cache = {}
    dead, missing, total = [], set(), 0
    for group in rules_data.get("groups", []):
        for rule in group.get("rules", []):
            total += 1
            name = rule.get("name", "")
            if name in ignore:
                continue
            absent, reasons = [], []
            for selector in selectors(rule.get("query", "")):
                if selector not in cache:
                    cache[selector] = selector_problems(selector)
                if cache[selector]:
                    absent.append(selector)
                    reasons.extend(detail for _kind, detail in cache[selector])
            if absent:
                missing.update(absent)
                dead.append({"name": name, "type": rule.get("type", ""), "group": group.get("name", ""),
                             "file": group.get("file", ""), "missing_metrics": absent, "reasons": reasons})
    return dead, sorted(missing), total


def main():
    module = AnsibleModule(
        argument_spec=dict(
            url=dict(type="str", required=True),
            lookback_seconds=dict(type="int", default=3600),
            ignore=dict(type="list", elements="str", default=[]),
            fail_on_dead=dict(type="bool", default=False),
            timeout=dict(type="int", default=10),
        ),
        supports_check_mode=True,
    )
    url, timeout = module.params["url"], module.params["timeout"]
    catalog = SeriesCatalog(url, timeout, module.params["lookback_seconds"])
    try:
        rules_data = api_get(url, "/api/v1/rules", {}, timeout)
        catalog.load_recording_rules(rules_data)
        dead, missing, total = find_dead_rules(rules_data, catalog.problems, set(module.params["ignore"]))
    except Exception as exc:  # pylint: disable=broad-except
        module.fail_json(msg="cannot query Prometheus at %s: %s" % (url, exc))
    result = dict(changed=False, dead_rules=dead, missing_metrics=missing, rules_total=total)
    if dead and module.params["fail_on_dead"]:
        module.fail_json(msg="%d rule(s) select metrics nothing exports: %s" % (
            len(dead), "; ".join("%s (%s)" % (d["name"], "; ".join(d["reasons"])) for d in dead)), **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
