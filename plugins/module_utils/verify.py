# -*- coding: utf-8 -*-
# Copyright: (c) 2026, DESE EA PLAN maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure helpers behind dese.ea_plan.verify_report: normalise check results and render them.

A check result is a dict ``{name, group, status, value, threshold, detail}`` with ``status`` one of
``pass``, ``fail`` or ``skip``. Everything here is free of Ansible imports so unit tests can call it directly.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
from xml.etree import ElementTree

STATUSES = ("pass", "fail", "skip")


def _text(value):
    """Render a measured value or threshold as short, stable text."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return "%.4g" % value
    if isinstance(value, (list, dict)):
        return json.dumps(value, sort_keys=True)
    return str(value)


def normalize_check(raw):
    """Return a clean check dict; an unknown or missing status counts as a failure (a check never passes by accident)."""
    if not isinstance(raw, dict):
        raise ValueError("each check must be a dict, got %r" % (raw,))
    name = str(raw.get("name") or "").strip()
    if not name:
        raise ValueError("a check has no name: %r" % (raw,))
    status = str(raw.get("status") or "").strip().lower()
    detail = _text(raw.get("detail"))
    if status not in STATUSES:
        detail = ("invalid status %r; " % (raw.get("status"),)) + detail
        status = "fail"
    return {
        "name": name,
        "group": str(raw.get("group") or name.split("_", 1)[0]),
        "status": status,
        "value": _text(raw.get("value")),
        "threshold": _text(raw.get("threshold")),
        "detail": detail,
    }


def normalize_checks(raws):
    """Normalise a list of checks and reject duplicate names (two results for one check hide one of them)."""
    checks = [normalize_check(raw) for raw in raws or []]
    seen = set()
    for check in checks:
        if check["name"] in seen:
            raise ValueError("duplicate check name %r" % check["name"])
        seen.add(check["name"])
    return checks


def summarize(checks):
    """Count checks per status."""
    counts = dict((status, 0) for status in STATUSES)
    for check in checks:
        counts[check["status"]] += 1
    counts["total"] = len(checks)
    return counts


def failure_lines(checks):
    """One line per failing check: name, measured value and threshold."""
    return [
        "%s: value=%s threshold=%s%s" % (c["name"], c["value"] or "-", c["threshold"] or "-",
                                         (" (%s)" % c["detail"]) if c["detail"] else "")
        for c in checks if c["status"] == "fail"
    ]


def _cut(text, width):
    return text if len(text) <= width else text[:width - 3] + "..."


def render_table(checks, width=60):
    """A plain console table: status, check, value, threshold, detail; long cells are cut (report.json has them whole)."""
    header = ("STATUS", "CHECK", "VALUE", "THRESHOLD", "DETAIL")
    rows = [(c["status"].upper(), c["name"], _cut(c["value"], 48), _cut(c["threshold"], 36), _cut(c["detail"], width))
            for c in checks]
    widths = [max([len(header[i])] + [len(r[i]) for r in rows]) for i in range(len(header) - 1)]
    lines = []
    for row in [header] + rows:
        cells = [row[i].ljust(widths[i]) for i in range(len(widths))] + [row[-1]]
        lines.append("  ".join(cells).rstrip())
    counts = summarize(checks)
    lines.append("%d checks: %d passed, %d failed, %d skipped" % (counts["total"], counts["pass"], counts["fail"],
                                                                 counts["skip"]))
    return lines


def junit_xml(checks, suite_name="dese.ea_plan.verify", timestamp=None):
    """JUnit XML: one testcase per check, classname = group; fail -> <failure>, skip -> <skipped>."""
    counts = summarize(checks)
    suite = ElementTree.Element("testsuite", {
        "name": suite_name,
        "tests": str(counts["total"]),
        "failures": str(counts["fail"]),
        "errors": "0",
        "skipped": str(counts["skip"]),
    })
    if timestamp:
        suite.set("timestamp", timestamp)
    for check in checks:
        case = ElementTree.SubElement(suite, "testcase", {"classname": check["group"], "name": check["name"]})
        message = "value=%s threshold=%s" % (check["value"] or "-", check["threshold"] or "-")
        if check["status"] == "fail":
            node = ElementTree.SubElement(case, "failure", {"message": message})
            node.text = check["detail"]
        elif check["status"] == "skip":
            ElementTree.SubElement(case, "skipped", {"message": check["detail"] or message})
        else:
            out = ElementTree.SubElement(case, "system-out")
            out.text = message + ((" " + check["detail"]) if check["detail"] else "")
    suites = ElementTree.Element("testsuites")
    suites.append(suite)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ElementTree.tostring(suites, encoding="unicode") + "\n"


def report_document(checks, meta):
    """The JSON report: metadata, counts, overall result (fail, incomplete when a check skipped, else pass), checks."""
    counts = summarize(checks)
    if counts["fail"]:
        result = "fail"
    elif counts["skip"] or not counts["total"]:
        result = "incomplete"
    else:
        result = "pass"
    return {
        "meta": dict(meta or {}),
        "summary": counts,
        "result": result,
        "checks": checks,
    }
