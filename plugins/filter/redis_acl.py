# -*- coding: utf-8 -*-
# Copyright: DESE EA PLAN platform team
# Apache License 2.0 (see galaxy.yml)
"""Checks for Redis ACL rules, key patterns, passwords and settings, used by the redis role's preflight.

Each filter returns a list of messages (empty when all is well). A message names the variable and what is
expected, and never quotes a password: the role prints these messages in a failure that is not no_log.
"""

from __future__ import annotations

import re

DOCUMENTATION = r"""
name: redis_acl
short_description: Preflight checks for Redis ACL rules, key patterns, passwords and eviction policies
description:
  - C(redis_acl_rule_problems(rules, name)) checks command rules (C(+@all), C(-@dangerous), C(+config|get),
    C(allcommands), ...) against the syntax and the ACL categories of Redis 7.0.
  - C(redis_key_pattern_problems(patterns, name)) checks key (or channel) glob patterns.
  - C(redis_password_problems(value, name, min_length)) checks a password's length and placeholder-likeness.
  - C(redis_eviction_policy_problems(value, name)) checks a maxmemory policy against Redis 7.0's list.
  - C(redis_acl_user_problems(name, var)) checks an ACL user name.
author: DESE EA PLAN platform team
"""

# `ACL CAT` on Redis 7.0.
ACL_CATEGORIES = (
    "keyspace", "read", "write", "set", "sortedset", "list", "hash", "string", "bitmap", "hyperloglog", "geo",
    "stream", "pubsub", "admin", "fast", "slow", "blocking", "dangerous", "connection", "transaction", "scripting",
)
# maxmemory-policy values accepted by Redis 7.0 (src/config.c, maxmemory_policy_enum).
EVICTION_POLICIES = (
    "volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl",
    "allkeys-lru", "allkeys-lfu", "allkeys-random", "noeviction",
)
# Command rules the role's variables may hold. Key, channel, password and user state rules have their own variables.
COMMAND_KEYWORDS = ("allcommands", "nocommands")
COMMAND_RULE = re.compile(r"^[+-](?P<cmd>[a-z][a-z0-9_-]*)(?:\|(?P<sub>[a-z][a-z0-9_-]*))?$")
CATEGORY_RULE = re.compile(r"^[+-]@(?P<cat>[a-z]+)$")
# A user name: no whitespace, no control characters; keep it to what shells and URLs take unquoted.
USER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
# Words found in published defaults and examples; a password containing one is a placeholder, not a secret.
PLACEHOLDER_WORDS = (
    "changeme", "change-me", "change_me", "changeit", "password", "passwd", "secret", "example", "placeholder",
    "default", "xxx", "replaceme", "dummy", "qwerty", "letmein", "redis", "foobar", "todo",
)
RULES_EXPECTED = ("a list of command rules such as +@all, -@dangerous, +info, -flushall, +config|get, "
                  "allcommands or nocommands")


def _as_list(value):
    if value is None:
        return None
    if isinstance(value, (list, tuple)):
        return list(value)
    return None


def redis_acl_rule_problems(rules, name="rules"):
    """Problems with a list of ACL command rules."""
    items = _as_list(rules)
    if items is None:
        return [f"{name} must be {RULES_EXPECTED}; got a {type(rules).__name__}"]
    problems = []
    for index, rule in enumerate(items):
        where = f"{name}[{index}]"
        if not isinstance(rule, str) or not rule.strip():
            problems.append(f"{where} is empty or not a string; expected {RULES_EXPECTED}")
            continue
        if rule != rule.strip() or any(ch.isspace() for ch in rule):
            problems.append(f"{where} ({rule.strip()!r}) contains whitespace; put one rule per list item")
            continue
        lowered = rule.lower()
        if lowered in COMMAND_KEYWORDS:
            continue
        category = CATEGORY_RULE.match(lowered)
        if category:
            if category.group("cat") != "all" and category.group("cat") not in ACL_CATEGORIES:
                problems.append(f"{where} ({rule!r}) names an unknown ACL category; Redis 7.0 has "
                                f"{', '.join('@' + c for c in ACL_CATEGORIES)}")
            continue
        if COMMAND_RULE.match(lowered):
            continue
        if rule[0] in "~%&><#!" or lowered in ("on", "off", "nopass", "resetpass", "reset", "allkeys",
                                               "resetkeys", "allchannels", "resetchannels"):
            problems.append(f"{where} ({rule!r}) is not a command rule; key patterns, channels, passwords and "
                            f"the user's state have their own variables; expected {RULES_EXPECTED}")
            continue
        problems.append(f"{where} ({rule!r}) is not a valid ACL command rule; expected {RULES_EXPECTED}")
    return problems


def redis_key_pattern_problems(patterns, name="patterns", allow_empty=True):
    """Problems with a list of key (or channel) glob patterns, given without their ~ / & prefix."""
    items = _as_list(patterns)
    if items is None:
        return [f"{name} must be a list of glob patterns such as 'dese:*'; got a {type(patterns).__name__}"]
    problems = []
    if not items and not allow_empty:
        problems.append(f"{name} is empty; give at least one key pattern such as 'dese:*'")
    for index, pattern in enumerate(items):
        where = f"{name}[{index}]"
        if not isinstance(pattern, str) or not pattern:
            problems.append(f"{where} is empty or not a string; expected a glob pattern such as 'dese:*'")
        elif any(ch.isspace() or ord(ch) < 32 for ch in pattern):
            problems.append(f"{where} ({pattern.strip()!r}) contains whitespace; one pattern per list item")
        elif pattern[0] in "~&%":
            problems.append(f"{where} ({pattern!r}) starts with {pattern[0]!r}; give the bare pattern "
                            "('dese:*'), the role adds the ACL prefix")
    return problems


def redis_password_problems(value, name="password", min_length=16):
    """Problems with a password: unset, too short, whitespace, placeholder-like. Never quotes the value."""
    text = "" if value is None else str(value)
    min_length = int(min_length)
    fix = (f"expected a random string of at least {min_length} characters from the vault, e.g. "
           "`openssl rand -base64 48 | tr -dc A-Za-z0-9 | head -c 32`")
    if not text:
        return [f"{name} is empty; {fix}"]
    problems = []
    if len(text) < min_length:
        problems.append(f"{name} is {len(text)} characters long, below redis_password_min_length ({min_length}); {fix}")
    if any(ch.isspace() or ord(ch) < 32 for ch in text):
        problems.append(f"{name} contains whitespace or control characters; {fix}")
    lowered = text.lower()
    if any(word in lowered for word in PLACEHOLDER_WORDS) or len(set(lowered)) <= 3 or _has_run(lowered):
        problems.append(f"{name} looks like a placeholder (a well-known word, few distinct characters or a run "
                        f"like 'aaaaa' / '123456'); {fix}")
    return problems


def _has_run(text, length=6):
    """A run of `length` identical or consecutive characters ("aaaaaa", "123456", "fedcba")."""
    for step in (0, 1, -1):
        run = 1
        for prev, cur in zip(text, text[1:]):
            run = run + 1 if ord(cur) - ord(prev) == step else 1
            if run >= length:
                return True
    return False


def redis_eviction_policy_problems(value, name="maxmemory_policy"):
    """Problems with a maxmemory policy."""
    if isinstance(value, str) and value in EVICTION_POLICIES:
        return []
    return [f"{name} is {value!r}, not a Redis eviction policy; expected one of {', '.join(EVICTION_POLICIES)}"]


def redis_acl_user_problems(user, name="user"):
    """Problems with an ACL user name."""
    if isinstance(user, str) and USER_NAME.match(user) and user != "default":
        return []
    return [f"{name} is {user!r}; expected a user name of letters, digits, '_', '.' or '-' (at most 64, not "
            "'default', which the role keeps disabled)"]


class FilterModule:
    """Redis preflight filters."""

    def filters(self):
        return {
            "redis_acl_rule_problems": redis_acl_rule_problems,
            "redis_key_pattern_problems": redis_key_pattern_problems,
            "redis_password_problems": redis_password_problems,
            "redis_eviction_policy_problems": redis_eviction_policy_problems,
            "redis_acl_user_problems": redis_acl_user_problems,
        }
