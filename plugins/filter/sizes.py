# -*- coding: utf-8 -*-
# Copyright: DESE EA PLAN platform team
# Apache License 2.0 (see galaxy.yml)
"""Parse memory sizes the way Redis does ("512mb", "1g", 1048576) plus a share of RAM ("25%")."""

from __future__ import annotations

import re

from ansible.errors import AnsibleFilterError

DOCUMENTATION = r"""
name: size_to_bytes
short_description: Turn a memory size ("512mb", "1gb", "25%", 1048576) into a number of bytes
description:
  - Units follow Redis's own config parser, case-insensitive; C(k), C(m), C(g) are powers of 1000 and C(kb), C(mb),
    C(gb) powers of 1024. C(b) or no unit means bytes. Fractions are accepted and rounded down to a whole byte.
  - A percentage (C(25%)) is a share of O(total), which is then required (for example the host's RAM in bytes).
  - C(size_problems) returns a list of messages (empty when the value parses), for preflight checks that collect
    every problem before failing.
options:
  _input:
    description: The size, as an integer number of bytes or a string.
    type: raw
    required: true
  total:
    description: What a percentage is a share of, in bytes.
    type: int
author: DESE EA PLAN platform team
"""

EXAMPLES = r"""
- name: Memory limit for Redis, in bytes
  ansible.builtin.set_fact:
    redis_limit: "{{ '25%' | dese.ea_plan.size_to_bytes(ansible_memtotal_mb * 1024 * 1024) }}"
"""

RETURN = r"""
_value:
  description: The size in bytes.
  type: int
"""

# Redis's memtoll(): k/m/g are decimal, kb/mb/gb binary.
UNITS = {
    "": 1, "b": 1,
    "k": 1000, "kb": 1024,
    "m": 1000 ** 2, "mb": 1024 ** 2,
    "g": 1000 ** 3, "gb": 1024 ** 3,
}
SIZE = re.compile(r"^\s*(?P<number>\d+(?:\.\d+)?)\s*(?P<unit>[a-z]*)\s*$", re.IGNORECASE)
PERCENT = re.compile(r"^\s*(?P<number>\d+(?:\.\d+)?)\s*%\s*$")
EXPECTED = 'a number of bytes (1048576), a size with a unit (512mb, 2gb, 500m; k/m/g = 1000, kb/mb/gb = 1024) or a share of RAM ("25%")'


def _parse(value, total=None):
    """Return (bytes, None) or (None, problem)."""
    if isinstance(value, bool) or value is None:
        return None, f"is {value!r}; expected {EXPECTED}"
    if isinstance(value, int):
        if value < 0:
            return None, f"is negative ({value}); expected {EXPECTED}"
        return value, None
    if isinstance(value, float):
        if value < 0:
            return None, f"is negative ({value}); expected {EXPECTED}"
        return int(value), None
    text = str(value)
    match = PERCENT.match(text)
    if match:
        share = float(match.group("number"))
        if not 0 < share <= 100:
            return None, f"is {text!r}: a share of RAM must be above 0% and at most 100%"
        if total is None:
            return None, f"is {text!r}, a share of RAM, but the total to take it from is unknown"
        return int(int(total) * share / 100), None
    match = SIZE.match(text)
    if not match:
        return None, f"is {text!r}, which is not a size; expected {EXPECTED}"
    unit = match.group("unit").lower()
    if unit not in UNITS:
        return None, f"is {text!r}: unknown unit {match.group('unit')!r}; expected {EXPECTED}"
    return int(float(match.group("number")) * UNITS[unit]), None


def size_to_bytes(value, total=None):
    """The size in bytes; raises AnsibleFilterError with the reason when the value does not parse."""
    result, problem = _parse(value, total)
    if problem:
        raise AnsibleFilterError(f"size_to_bytes: the value {problem}")
    return result


def size_problems(value, name="value", total=None):
    """A list with one message naming ``name`` when the value does not parse; empty otherwise."""
    _, problem = _parse(value, total)
    return [f"{name} {problem}"] if problem else []


class FilterModule:
    """Size filters."""

    def filters(self):
        return {
            "size_to_bytes": size_to_bytes,
            "size_problems": size_problems,
        }
