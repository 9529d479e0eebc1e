# -*- coding: utf-8 -*-
"""Unit tests for the Redis preflight filters (plugins/filter/redis_acl.py)."""

from __future__ import annotations

import pytest

from ansible_collections.dese.ea_plan.plugins.filter.redis_acl import (
    EVICTION_POLICIES,
    FilterModule,
    redis_acl_rule_problems,
    redis_acl_user_problems,
    redis_eviction_policy_problems,
    redis_key_pattern_problems,
    redis_password_problems,
)

GOOD_PASSWORD = "Zq8vN3kW7tLm2RxB9cYd4HsJ"


@pytest.mark.parametrize("rules", [["+@all", "-@dangerous"], ["-@all", "+ping", "+info", "+config|get",
                                                              "+client|setname", "+slowlog", "+latency"],
                                   ["allcommands"], ["nocommands", "+GET"], []])
def test_valid_command_rules(rules):
    assert redis_acl_rule_problems(rules, "redis_app_commands") == []


@pytest.mark.parametrize(
    ("rules", "fragment"),
    [
        (["+@all", "bogus"], "redis_app_commands[1] ('bogus') is not a valid ACL command rule"),
        (["+@nosuchcategory"], "unknown ACL category"),
        (["+get key"], "contains whitespace"),
        (["~dese:*"], "is not a command rule"),
        ([">password"], "is not a command rule"),
        (["on"], "is not a command rule"),
        ([""], "is empty"),
        ([None], "is empty"),
        (["+config|"], "is not a valid ACL command rule"),
        ("+@all -@dangerous", "must be a list"),
    ],
)
def test_malformed_command_rules_are_named(rules, fragment):
    problems = redis_acl_rule_problems(rules, "redis_app_commands")
    assert problems, rules
    assert any(fragment in p for p in problems), problems
    assert all(p.startswith("redis_app_commands") for p in problems)


def test_every_bad_rule_is_reported():
    problems = redis_acl_rule_problems(["+@all", "bogus", "+@nope", "-@dangerous", "x y"], "r")
    assert len(problems) == 3


def test_key_patterns():
    assert redis_key_pattern_problems(["dese:*", "session:{*}"], "k") == []
    assert redis_key_pattern_problems([], "k") == []
    assert "is empty" in redis_key_pattern_problems([], "k", allow_empty=False)[0]
    assert "contains whitespace" in redis_key_pattern_problems(["dese:* other"], "k")[0]
    assert "starts with '~'" in redis_key_pattern_problems(["~dese:*"], "k")[0]
    assert "must be a list" in redis_key_pattern_problems("dese:*", "k")[0]
    assert "is empty" in redis_key_pattern_problems([""], "k")[0]


def test_good_password_passes():
    assert redis_password_problems(GOOD_PASSWORD, "redis_app_password", 16) == []


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("", "is empty"),
        (None, "is empty"),
        ("Zq8vN3kW7t", "10 characters long, below redis_password_min_length (16)"),
        ("changeme-changeme-Zq8v", "looks like a placeholder"),
        ("MyRedisPassword2024xyzQ", "looks like a placeholder"),
        ("abababababababababab", "looks like a placeholder"),
        ("Zq8vN3kW7t123456LmRxB", "looks like a placeholder"),
        ("Zq8vN3kW7t LmRxB9cYd4", "whitespace"),
    ],
)
def test_weak_passwords_are_named_but_not_quoted(value, fragment):
    problems = redis_password_problems(value, "redis_app_password", 16)
    assert any(fragment in p for p in problems), problems
    assert all(p.startswith("redis_app_password ") for p in problems)
    if value:
        assert all(value not in p for p in problems)


def test_eviction_policies():
    for policy in EVICTION_POLICIES:
        assert redis_eviction_policy_problems(policy, "p") == []
    problem = redis_eviction_policy_problems("lru", "redis_maxmemory_policy")
    assert problem and problem[0].startswith("redis_maxmemory_policy is 'lru'")
    assert "allkeys-lru" in problem[0]
    assert redis_eviction_policy_problems(None, "p")


def test_user_names():
    assert redis_acl_user_problems("dese_app", "u") == []
    assert redis_acl_user_problems("default", "u")
    assert redis_acl_user_problems("a b", "u")
    assert redis_acl_user_problems("", "u")


def test_filters_are_registered():
    assert set(FilterModule().filters()) == {
        "redis_acl_rule_problems", "redis_key_pattern_problems", "redis_password_problems",
        "redis_eviction_policy_problems", "redis_acl_user_problems"}
