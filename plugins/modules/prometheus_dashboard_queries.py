#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, DESE EA PLAN maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: prometheus_dashboard_queries
short_description: Prove that the panel queries of Grafana dashboards return data from a live Prometheus
version_added: "1.0.0"
description:
  - Reads Grafana dashboard JSON files (the provisioned ones, on the host where the module runs), substitutes
    Grafana's C($__...) macros and the template variables, and runs every panel query as an instant query against a
    live Prometheus.
  - "A query has a problem when Prometheus refuses it (C(error)), when it selects a metric no target exports
    (C(missing_metric)), when a label matcher names a label the metric never carries (C(unknown_label), e.g.
    C(status) instead of C(status_code)), when an equality matcher names a value no series has (C(unknown_value),
    e.g. C(job=\"postgress\")), or when it returns no data (C(empty))."
  - "Panels listed in O(allow_empty) may return no data (no alert firing, no 5xx response, a baseline that needs
    more history): their emptiness and missing series are reported in RV(allowed_empty), but a query error or an
    unknown label still counts."
  - Read-only; supports check mode. Works without Grafana itself, which is what makes it useful where Grafana's
    server is not installed.
options:
  url:
    description: Base URL of the Prometheus server, e.g. C(http://127.0.0.1:9090).
    type: str
    required: true
  paths:
    description: Dashboard JSON files, or directories whose C(*.json) files are read.
    type: list
    elements: path
    required: true
  macros:
    description:
      - Values of Grafana's macros, merged over the defaults (C($__rate_interval=5m), C($__interval=1m),
        C($__range=1h) and their C(_s)/C(_ms) forms).
    type: dict
    default: {}
  variables:
    description:
      - Values of dashboard template variables (name without C($)). A variable with no value here matches every
        value (C(.*)), and an equality matcher on it becomes a regex matcher, as Grafana's "All" does.
    type: dict
    default: {}
  allow_empty:
    description:
      - Panels whose queries may return no data. C(dashboard) is the dashboard uid, C(panel) the panel title,
        C(ref) an optional target refId (all targets of the panel when omitted), C(reason) why no data is healthy.
    type: list
    elements: dict
    default: []
  lookback_seconds:
    description: How far back a series may have been seen to count as existing.
    type: int
    default: 3600
  fail_on_problems:
    description: Fail when any query has a problem.
    type: bool
    default: false
  timeout:
    description: HTTP timeout in seconds of one API request.
    type: int
    default: 10
author:
  - DESE EA PLAN maintainers
"""

EXAMPLES = r"""
- name: Run every provisioned panel query against Prometheus
  dese.ea_plan.prometheus_dashboard_queries:
    url: http://127.0.0.1:9090
    paths: [/var/lib/grafana/dashboards]
    allow_empty:
      - {dashboard: dese-aiops-health, panel: Firing alerts by severity, reason: no alert firing is healthy}
  register: dashboard_queries

- name: Fail the run on a dashboard query that cannot show anything
  dese.ea_plan.prometheus_dashboard_queries:
    url: http://127.0.0.1:9090
    paths: [/var/lib/grafana/dashboards/dese-redis.json]
    variables: {instance: "stack-cache:9121"}
    fail_on_problems: true
"""

RETURN = r"""
dashboards:
  description: Number of dashboards read.
  returned: always
  type: int
queries_total:
  description: Number of panel queries run.
  returned: always
  type: int
queries_with_data:
  description: Number of panel queries that returned at least one series.
  returned: always
  type: int
problems:
  description: One entry per query with a problem; C(problem) is C(error), C(missing_metric), C(unknown_label),
    C(unknown_value) or C(empty).
  returned: always
  type: list
  elements: dict
  sample: [{dashboard: dese-redis, panel: Hit rate, ref: A, problem: unknown_label,
            detail: "redis_keyspace_hits_total has no label 'db_name'", expr: "..."}]
allowed_empty:
  description: Queries that returned no data where O(allow_empty) says that is healthy, with the reason.
  returned: always
  type: list
  elements: dict
messages:
  description: "One line per problem: C(<dashboard> / <panel> [<refId>]: <detail>)."
  returned: always
  type: list
  elements: str
"""

import glob
import json
import os
import re

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.dese.ea_plan.plugins.module_utils.prometheus import SeriesCatalog, api_get, selectors

DEFAULT_MACROS = {
    "$__rate_interval": "5m", "$__interval": "1m", "$__interval_ms": "60000",
    "$__range": "1h", "$__range_s": "3600", "$__range_ms": "3600000",
}
# Problems that only mean "no data": excused on allow_empty panels (errors and unknown labels never are).
NO_DATA = ("empty", "missing_metric", "unknown_value")
# $var, ${var}, ${var:format} and the deprecated [[var]]
_VARIABLE = re.compile(r"\$\{(\w+)(?::\w+)?\}|\[\[(\w+)\]\]|\$(\w+)")
_MATCHER_WITH_VARIABLE = re.compile(r'([a-zA-Z_]\w*)\s*(!=|=~|!~|=)\s*"((?:[^"\\]|\\.)*)"')


def substitute(expr, macros, variables):
    """Return ``expr`` with Grafana macros and template variables replaced the way Grafana sends it."""
    for macro in sorted(macros, key=len, reverse=True):
        expr = expr.replace(macro, str(macros[macro]))

    def matcher(match):
        label, op, value = match.groups()
        if not _VARIABLE.search(value):
            return match.group(0)
        names = [a or b or c for a, b, c in _VARIABLE.findall(value)]
        if op in ("=", "!=") and any(name not in variables for name in names):
            op = "=~" if op == "=" else "!~"  # "All" is a regex over every value
        return '%s%s"%s"' % (label, op, _VARIABLE.sub(lambda m: _value(m, variables), value))

    expr = _MATCHER_WITH_VARIABLE.sub(matcher, expr)
    return _VARIABLE.sub(lambda m: _value(m, variables), expr)


def _value(match, variables):
    name = match.group(1) or match.group(2) or match.group(3)
    return str(variables.get(name, ".*"))


def panels(dashboard):
    """Yield every panel, rows' nested panels included."""
    for panel in dashboard.get("panels", []):
        yield panel
        for nested in panel.get("panels", []):
            yield nested


def dashboard_targets(dashboard):
    """Yield (panel title, refId, expr) of every PromQL target of a dashboard."""
    for panel in panels(dashboard):
        for target in panel.get("targets", []):
            expr = target.get("expr")
            if expr:
                yield panel.get("title", ""), target.get("refId", ""), expr


def read_dashboards(paths):
    """Return [(path, dashboard)] for the given files and directories, sorted by path; raise ValueError on bad JSON."""
    files = []
    for path in paths:
        if os.path.isdir(path):
            files.extend(glob.glob(os.path.join(path, "*.json")))
        elif os.path.isfile(path):
            files.append(path)
        else:
            raise ValueError("%s: no such dashboard file or directory" % path)
    found = []
    for path in sorted(set(files)):
        try:
            with open(path) as handle:
                found.append((path, json.load(handle)))
        except ValueError as exc:
            raise ValueError("%s: not valid JSON: %s" % (path, exc))
    return found


def _allowed(allow_empty, uid, title, ref):
    for entry in allow_empty:
        if entry.get("dashboard") == uid and entry.get("panel") == title and entry.get("ref") in (None, "", ref):
            return entry.get("reason") or "allowed to be empty"
    return None



def check_query(catalog, expr):
    """Return (series returned, [(problem, detail)]) for one substituted expression."""
    try:
        result = catalog.query(expr)
    except ValueError as exc:
        return 0, [("error", str(exc))]
    problems = []
    for selector in selectors(expr):
        problems.extend(catalog.problems(selector))
    if not result:
        problems.append(("empty", "the query returns no data"))
    return len(result), problems


def check_dashboards(dashboards, catalog, macros, variables, allow_empty):
    """Run every panel query of ``dashboards`` ([(path, dashboard)]) and sort the outcomes."""
    report = dict(dashboards=len(dashboards), queries_total=0, queries_with_data=0, problems=[], allowed_empty=[])
    for path, dashboard in dashboards:
        uid = dashboard.get("uid") or os.path.splitext(os.path.basename(path))[0]
        for title, ref, raw in dashboard_targets(dashboard):
            expr = substitute(raw, macros, variables)
            report["queries_total"] += 1
            series, problems = check_query(catalog, expr)
            if series:
                report["queries_with_data"] += 1
            where = dict(dashboard=uid, panel=title, ref=ref, expr=expr)
            reason = _allowed(allow_empty, uid, title, ref)
            if reason:
                # no data is healthy here, but a query Prometheus refuses or a mistyped label never is
                excused = [p for p in problems if p[0] in NO_DATA]
                problems = [p for p in problems if p[0] not in NO_DATA]
                if excused and not series and not problems:
                    report["allowed_empty"].append(dict(where, reason=reason,
                                                        detail="; ".join(d for _p, d in excused)))
            for problem, detail in problems:
                report["problems"].append(dict(where, problem=problem, detail=detail))
    report["messages"] = ["%s / %s [%s]: %s" % (p["dashboard"], p["panel"], p["ref"], p["detail"])
                          for p in report["problems"]]
    return report


def main():
    module = AnsibleModule(
        argument_spec=dict(
            url=dict(type="str", required=True),
            paths=dict(type="list", elements="path", required=True),
            macros=dict(type="dict", default={}),
            variables=dict(type="dict", default={}),
            allow_empty=dict(type="list", elements="dict", default=[]),
            lookback_seconds=dict(type="int", default=3600),
            fail_on_problems=dict(type="bool", default=False),
            timeout=dict(type="int", default=10),
        ),
        supports_check_mode=True,
    )
    params = module.params
    macros = dict(DEFAULT_MACROS)
    macros.update(params["macros"])
    try:
        dashboards = read_dashboards(params["paths"])
    except ValueError as exc:
        module.fail_json(msg=str(exc))
    if not dashboards:
        module.fail_json(msg="no dashboard JSON file in %s" % ", ".join(params["paths"]))
    catalog = SeriesCatalog(params["url"], params["timeout"], params["lookback_seconds"])
    try:
        catalog.load_recording_rules(api_get(params["url"], "/api/v1/rules", {}, params["timeout"]))
        report = check_dashboards(dashboards, catalog, macros, params["variables"], params["allow_empty"])
    except Exception as exc:  # pylint: disable=broad-except
        module.fail_json(msg="cannot query Prometheus at %s: %s" % (params["url"], exc))
    if report["problems"] and params["fail_on_problems"]:
        module.fail_json(msg="%d dashboard quer(ies) with a problem: %s" % (
            len(report["problems"]), "; ".join(report["messages"])), changed=False, **report)
    module.exit_json(changed=False, **report)


if __name__ == "__main__":
    main()
