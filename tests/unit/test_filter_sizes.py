# -*- coding: utf-8 -*-
"""Unit tests for the size filters (plugins/filter/sizes.py)."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.dese.ea_plan.plugins.filter.sizes import FilterModule, size_problems, size_to_bytes

GIB = 1024 ** 3


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0, 0),
        (1048576, 1048576),
        ("1048576", 1048576),
        ("100b", 100),
        ("1k", 1000),
        ("1kb", 1024),
        ("512mb", 512 * 1024 ** 2),
        ("512MB", 512 * 1024 ** 2),
        ("500m", 500 * 1000 ** 2),
        ("2gb", 2 * GIB),
        ("2G", 2 * 1000 ** 3),
        (" 64mb ", 64 * 1024 ** 2),
        ("1.5gb", int(1.5 * GIB)),
        (12.9, 12),
    ],
)
def test_sizes_follow_redis_units(value, expected):
    assert size_to_bytes(value) == expected


@pytest.mark.parametrize(("value", "total", "expected"), [("25%", 8 * GIB, 2 * GIB), ("100%", 1000, 1000),
                                                          ("12.5%", 800, 100), (" 50 % ", 10, 5)])
def test_percentages_are_a_share_of_the_total(value, total, expected):
    assert size_to_bytes(value, total) == expected


@pytest.mark.parametrize("value", ["", "lots", "512 megabytes", "12tb", "-1", "1,5gb", "mb", None, True, -5,
                                   "0%", "101%", "25%%"])
def test_unparseable_sizes_raise_and_are_reported(value):
    with pytest.raises(AnsibleFilterError):
        size_to_bytes(value, 1000)
    problems = size_problems(value, "redis_maxmemory", 1000)
    assert len(problems) == 1
    assert problems[0].startswith("redis_maxmemory ")
    assert "expected" in problems[0] or "share of RAM" in problems[0]


def test_percentage_without_total_is_a_problem():
    assert size_problems("25%", "redis_maxmemory") == [
        "redis_maxmemory is '25%', a share of RAM, but the total to take it from is unknown"]
    with pytest.raises(AnsibleFilterError, match="total"):
        size_to_bytes("25%")


def test_valid_sizes_have_no_problems():
    assert size_problems("512mb", "x") == []
    assert size_problems("25%", "x", 4096) == []


def test_filters_are_registered():
    filters = FilterModule().filters()
    assert filters["size_to_bytes"] is size_to_bytes
    assert filters["size_problems"] is size_problems
