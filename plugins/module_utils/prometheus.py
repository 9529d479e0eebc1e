# -*- coding: utf-8 -*-
# Copyright: DESE EA PLAN platform team
# Apache License 2.0 (see galaxy.yml)
"""Helpers shared by the Prometheus plugins: metric names referenced by a PromQL expression, and the HTTP API."""

from __future__ import annotations

import json
import re
import time

from ansible.module_utils.six.moves.urllib.parse import urlencode
from ansible.module_utils.urls import open_url

# Words of PromQL that look like identifiers but are not metric names.
_KEYWORDS = frozenset({
    "and", "or", "unless", "by", "without", "on", "ignoring", "group_left", "group_right", "bool", "offset",
    "inf", "nan", "atan2", "start", "end",
})
_STRING = re.compile(r'"(?:\\.|[^"\\])*"|\'(?:\\.|[^\'\\])*\'|`[^`]*`')
_NAME_MATCHER = re.compile(r'__name__\s*=\s*"([a-zA-Z_:][a-zA-Z0-9_:]*)"')
_LABEL_LIST = re.compile(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")
_BRACES = re.compile(r"\{[^}]*\}")
_BRACKETS = re.compile(r"\[[^\]]*\]")
_NUMBER = re.compile(r"(?<![a-zA-Z_:])\d[\w.]*")
_IDENT = re.compile(r"(?<![\w:])([a-zA-Z_:][a-zA-Z0-9_:]*)(\s*\()?")


def metric_names(expr):
    """Return the sorted metric names an expression selects (functions, keywords and labels excluded)."""
    names = set(_NAME_MATCHER.findall(expr))
    text = _BRACES.sub(" ", expr)          # label matchers (their strings included)
    text = _STRING.sub(" ", text)          # string arguments (label_replace, ...)
    text = _LABEL_LIST.sub(" ", text)      # by (...), on (...), group_left (...)
    text = _BRACKETS.sub(" ", text)        # range and subquery durations
    text = _NUMBER.sub(" ", text)          # numbers and durations (5m, 1e9, 0x10)
    for name, call in _IDENT.findall(text):
        if call or name.lower() in _KEYWORDS:
            continue
        names.add(name)
    return sorted(names)


_SELECTOR = re.compile(r"(?<![\w:])([a-zA-Z_:][a-zA-Z0-9_:]*)?\s*(\{[^}]*\})")


def selectors(expr):
    """Return the sorted series selectors (name plus label matchers) an expression uses.

    ``rate(x{status="500"}[5m])`` yields ``x{status="500"}``: asking the server for that selector catches wrong label
    names (status instead of status_code), not only wrong metric names. Bare names are returned as they are.
    """
    found = set()
    text = _blank_outer_strings(expr)
    for name, braces in _SELECTOR.findall(text):
        if name and name.lower() in _KEYWORDS:
            name = ""
        found.add(name + braces)
    # Names used without matchers: what is left once every selector with braces is removed.
    found.update(metric_names(_SELECTOR.sub(" ", text)))
    return sorted(found)


def _blank_outer_strings(expr):
    """Blank string literals that are not inside label matchers (label_replace arguments may contain braces)."""
    out, depth, index = [], 0, 0
    while index < len(expr):
        char = expr[index]
        if char == "{":
            depth += 1
        elif char == "}":
            depth = max(0, depth - 1)
        elif char in "\"'`" and depth == 0:
            match = _STRING.match(expr, index)
            if match:
                out.append(" " * len(match.group(0)))
                index = match.end()
                continue
        out.append(char)
        index += 1
    return "".join(out)


def api_get(base_url, path, params=None, timeout=10):
    """GET a Prometheus API path and return its ``data``; raise ValueError when the server reports an error.

    A query the server refuses (HTTP 400 bad_data) raises ValueError with the server's own message.
    """
    url = base_url.rstrip("/") + path
    if params:
        url += "?" + urlencode(params, doseq=True)
    try:
        response = open_url(url, timeout=timeout, method="GET")
        payload = json.loads(response.read())
    except Exception as exc:  # pylint: disable=broad-except
        body = getattr(exc, "read", None)
        if body is None:
            raise
        try:
            payload = json.loads(body())
        except ValueError:
            raise exc
    if payload.get("status") != "success":
        raise ValueError("%s: %s" % (path, payload.get("error", payload)))
    return payload["data"]


_MATCHER = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"')
_SELECTOR_NAME = re.compile(r"^\s*([a-zA-Z_:][a-zA-Z0-9_:]*)")


def parse_selector(selector):
    """Split ``name{a="1", b=~"x"}`` into ``("name", [("a", "=", "1"), ("b", "=~", "x")])``.

    A ``__name__="x"`` matcher gives the name; a selector without one returns ``None`` as the name.
    """
    match = _SELECTOR_NAME.match(selector)
    name = match.group(1) if match else None
    matchers = []
    if "{" in selector:
        for label, op, value in _MATCHER.findall(selector[selector.index("{"):]):
            value = value.replace('\\"', '"').replace("\\\\", "\\")
            if label == "__name__" and op == "=":
                name = name or value
                continue
            matchers.append((label, op, value))
    return name, matchers


class SeriesCatalog(object):
    """What a live Prometheus knows of each metric: its label names and each label's values (answers cached).

    ``problems(selector)`` tells a selector that can never match from one that matches nothing *now*: a metric no
    target exports (``missing_metric``), a matcher on a label the metric never carries (``unknown_label``: status
    instead of status_code), or an equality matcher on a value no series has (``unknown_value``: job="postgress").
    Regex and negative matchers are not judged on their values: ``status_code=~"5.."`` matching nothing is the
    healthy state, not a mistake.
    """

    def __init__(self, url, timeout=10, lookback_seconds=3600, now=None):
        self.url, self.timeout = url, timeout
        self.start = "%.3f" % ((now if now is not None else time.time()) - lookback_seconds)
        self._labels, self._values, self._series = {}, {}, {}
        self._recorded, self._judging = {}, set()

    def load_recording_rules(self, rules_data):
        """Learn the recording rules (``/api/v1/rules`` data): a recorded name is judged by its rule's selectors.

        A recording rule over ``status_code=~"5.."`` records nothing while no request fails; an alert on that
        recorded name is alive as long as the recording rule is.
        """
        for group in rules_data.get("groups", []):
            for rule in group.get("rules", []):
                if rule.get("type") == "recording" and rule.get("name"):
                    self._recorded.setdefault(rule["name"], []).append(rule.get("query", ""))

    def _get(self, path, params):
        return api_get(self.url, path, dict(params, start=self.start), self.timeout)

    def query(self, expr):
        """Instant query: the result vector (raises ValueError with the server's message on a bad query)."""
        return api_get(self.url, "/api/v1/query", {"query": expr}, self.timeout)["result"]

    def label_names(self, metric):
        if metric not in self._labels:
            self._labels[metric] = set(self._get("/api/v1/labels", {"match[]": '{__name__="%s"}' % metric}))
        return self._labels[metric]

    def label_values(self, metric, label):
        key = (metric, label)
        if key not in self._values:
            self._values[key] = set(self._get("/api/v1/label/%s/values" % label,
                                              {"match[]": '{__name__="%s"}' % metric}))
        return self._values[key]

    def has_series(self, selector):
        if selector not in self._series:
            self._series[selector] = bool(self._get("/api/v1/series", {"match[]": selector}))
        return self._series[selector]

    def problems(self, selector):
        """Return ``[(kind, detail)]`` for one selector; empty when it can match."""
        name, matchers = parse_selector(selector)
        if name is None:
            return [] if self.has_series(selector) else [("missing_metric", "no series matches %s" % selector)]
        labels = self.label_names(name)
        if not labels and name in self._recorded:
            return self._recorded_problems(name)
        if not labels:
            return [("missing_metric", "no target exports %s" % name)]
        unknown = sorted(set(label for label, _op, _value in matchers if label not in labels))
        if unknown:
            return [("unknown_label", "%s has no label %s (it has: %s)" % (
                name, ", ".join("'%s'" % label for label in unknown), ", ".join(sorted(labels - {"__name__"}))))]
        found = []
        for label, op, value in matchers:
            if op == "=" and value:
                values = self.label_values(name, label)
                if value not in values:
                    found.append(("unknown_value", '%s has no series with %s="%s" (values: %s)' % (
                        name, label, value, ", ".join(sorted(values)[:10]))))
        return found

    def _recorded_problems(self, name):
        """Problems of a recorded name that has no series now: those of its recording rule's own selectors."""
        if name in self._judging:  # a rule recorded from itself: nothing more to learn
            return []
        self._judging.add(name)
        try:
            found = []
            for query in self._recorded[name]:
                for selector in selectors(query):
                    found.extend((kind, "%s is recorded from a selector that can never match: %s" % (name, detail))
                                 for kind, detail in self.problems(selector))
            return found
        finally:
            self._judging.discard(name)
