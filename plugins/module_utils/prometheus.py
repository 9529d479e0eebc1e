# -*- coding: utf-8 -*-
# Copyright: DESE EA PLAN platform team
# Apache License 2.0 (see galaxy.yml)
"""Helpers shared by the Prometheus plugins: metric names referenced by a PromQL expression, and the HTTP API."""

from __future__ import annotations

import json
import re

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
