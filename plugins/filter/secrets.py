# -*- coding: utf-8 -*-
# Copyright: DESE EA PLAN platform team
# Apache License 2.0 (see galaxy.yml)
"""Secret hygiene filters used by the preflight role.

Every finding these filters return names the variable and the problem, and never contains the secret or any part
of it: the preflight role prints them in its final (not no_log) failure message.
"""

from __future__ import annotations

import math
import os
import re
from collections import Counter
from urllib.parse import urlsplit

import yaml

DOCUMENTATION = r"""
name: secrets
short_description: Strength, entropy and placeholder checks for secrets (filters used by the preflight role)
description:
  - C(shannon_entropy) returns the Shannon entropy of a string in bits per character.
  - C(entropy_bits) returns bits per character multiplied by the length (a rough estimate of the total entropy).
  - C(placeholder_reasons) lists why a value looks like a placeholder (never quoting it).
  - C(signing_secret_findings) checks JWT/cookie signing secrets; C(password_findings) checks service passwords.
  - C(origin_findings) checks a CORS origin; C(plaintext_secret_findings) scans inventory variable files for
    secret-like keys that are neither vault-encrypted nor a reference to a C(vault_*) variable.
author: DESE EA PLAN platform team
"""

# Words found in published defaults and documentation examples ("your-secret-key-change-in-production", ...).
PLACEHOLDER_WORDS = (
    "your-secret", "your_secret", "yoursecret", "changeme", "change-me", "change_me", "changeit", "secret",
    "example", "password", "passwd", "placeholder", "default", "replaceme", "replace-me", "replace_me",
    "dummy", "qwerty", "letmein", "insecure",
)
# Matched case-sensitively: "xXx" occurs by chance in random mixed-case values, "xxx"/"XXX" are typed by hand.
PLACEHOLDER_MARKS = ("xxx", "XXX")
# A run of this many identical characters ("aaaaa") or consecutive code points ("abcdef", "654321") is not random.
MAX_REPEAT_RUN = 5
MAX_SEQUENCE_RUN = 6
# The app replaces JWT_SECRET / COOKIE_KEY shorter than this with its hard-coded public default.
APP_HARD_MIN_LENGTH = 32
URL_SAFE = re.compile(r"^[A-Za-z0-9]+$")
SECRET_KEY_NAME = re.compile(r"(password|passwd|secret|token|(^|_)key($|_)|private_key|webhook_url)", re.IGNORECASE)
# Keys that match SECRET_KEY_NAME but name something that is not itself a secret.
NOT_SECRET_SUFFIXES = (
    "_file", "_path", "_dir", "_directory", "_pattern", "_patterns", "_user", "_username", "_length", "_name",
    "_enabled", "_mode", "_owner", "_group", "_bits", "_algorithm", "_type", "_min_length", "_url_env",
)
VAULT_REFERENCE = re.compile(r"^\s*\{\{\s*vault_[A-Za-z0-9_]+\s*(\|[^{}]*)?\}\}\s*$")
# Any other pure Jinja reference to a variable ("{{ postgresql_app_password }}") without string literals.
VARIABLE_REFERENCE = re.compile(r"^\s*\{\{\s*[A-Za-z_][A-Za-z0-9_.\[\]]*\s*(\|\s*[A-Za-z_.]+(\([^'\"]*\))?\s*)*\}\}\s*$")
ORIGIN_LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1", "0.0.0.0")


def shannon_entropy(value):
    """Shannon entropy of the string in bits per character (0.0 for an empty string)."""
    text = "" if value is None else str(value)
    if not text:
        return 0.0
    counts = Counter(text)
    length = len(text)
    return -sum((n / length) * math.log2(n / length) for n in counts.values())


def entropy_bits(value):
    """Estimated total entropy: bits per character times the length."""
    text = "" if value is None else str(value)
    return shannon_entropy(text) * len(text)


def _longest_repeat_run(text):
    best = run = 1 if text else 0
    for prev, cur in zip(text, text[1:]):
        run = run + 1 if cur == prev else 1
        best = max(best, run)
    return best


def _longest_sequence_run(text):
    """Longest run of consecutive code points, ascending or descending, case-insensitive ("abcde", "98765")."""
    lowered = text.lower()
    best = 1 if lowered else 0
    for step in (1, -1):
        run = 1
        for prev, cur in zip(lowered, lowered[1:]):
            run = run + 1 if prev.isalnum() and cur.isalnum() and ord(cur) - ord(prev) == step else 1
            best = max(best, run)
    return best


def _is_periodic(text):
    """True when the text is a shorter unit repeated ("ab12ab12ab12")."""
    length = len(text)
    for period in range(1, length // 2 + 1):
        if all(text[i] == text[i % period] for i in range(length)):
            return True
    return False


def placeholder_reasons(value):
    """Why the value looks like a placeholder or a hand-typed value; empty list when it does not."""
    text = "" if value is None else str(value)
    reasons = []
    lowered = text.lower()
    if any(word in lowered for word in PLACEHOLDER_WORDS) or any(mark in text for mark in PLACEHOLDER_MARKS):
        reasons.append("contains a placeholder word (secret, password, changeme, example, default, xxx, ...)")
    if len(text) >= MAX_REPEAT_RUN and _longest_repeat_run(text) >= MAX_REPEAT_RUN:
        reasons.append(f"contains {MAX_REPEAT_RUN} or more identical characters in a row")
    if len(text) >= MAX_SEQUENCE_RUN and _longest_sequence_run(text) >= MAX_SEQUENCE_RUN:
        reasons.append(f"contains a sequence of {MAX_SEQUENCE_RUN} or more consecutive characters (like abcdef or 123456)")
    if len(text) >= 4 and _is_periodic(text):
        reasons.append("is a short pattern repeated")
    return reasons


def _hint(name, hints):
    source = (hints or {}).get(name)
    return f" (set from {source})" if source else ""


def _as_text(value):
    if value is None:
        return None
    return str(value)


def signing_secret_findings(secrets, min_length=64, min_entropy_bits=192, hints=None):
    """Check signing secrets (JWT_SECRET, COOKIE_KEY).

    ``secrets`` maps a variable name to its value. Returns one message per problem, each naming the variable,
    the problem and the fix, never the value.
    """
    findings = []
    min_length = max(int(min_length), APP_HARD_MIN_LENGTH)
    fix = (f"Fix: store a random value of at least {min_length} characters from a CSPRNG in the vault, e.g. "
           f"`openssl rand -base64 96 | tr -dc A-Za-z0-9 | head -c {max(min_length, 64)}`.")
    for name, raw in sorted((secrets or {}).items()):
        value = _as_text(raw)
        where = f"{name}{_hint(name, hints)}"
        if not value:
            findings.append(f"{where}: is not set. {fix}")
            continue
        problems = []
        if len(value) < APP_HARD_MIN_LENGTH:
            problems.append(f"is {len(value)} characters long; the app silently replaces secrets shorter than "
                            f"{APP_HARD_MIN_LENGTH} characters with its public default")
        elif len(value) < min_length:
            problems.append(f"is {len(value)} characters long, below preflight_secret_min_length ({min_length})")
        problems.extend(placeholder_reasons(value))
        bits = entropy_bits(value)
        if bits < float(min_entropy_bits):
            problems.append(f"has low estimated entropy ({bits:.0f} bits, {shannon_entropy(value):.2f} bits per "
                            f"character; preflight_secret_min_entropy_bits is {min_entropy_bits})")
        if any(ch.isspace() for ch in value):
            problems.append("contains whitespace")
        for problem in problems:
            findings.append(f"{where}: {problem}. {fix}")
    return findings


def password_findings(passwords, min_length=20, min_entropy_bits=64, url_safe=True, hints=None):
    """Check service passwords (PostgreSQL, Redis): length, entropy, placeholders, and [A-Za-z0-9] only.

    DATABASE_URL is spliced into a shell command by the app, so passwords must be URL-safe and shell-safe.
    """
    findings = []
    min_length = int(min_length)
    fix = (f"Fix: store a random [A-Za-z0-9] password of at least {min_length} characters in the vault, e.g. "
           f"`openssl rand -base64 64 | tr -dc A-Za-z0-9 | head -c 32`.")
    for name, raw in sorted((passwords or {}).items()):
        value = _as_text(raw)
        where = f"{name}{_hint(name, hints)}"
        if not value:
            findings.append(f"{where}: is not set. {fix}")
            continue
        problems = []
        if url_safe and not URL_SAFE.match(value):
            problems.append("contains characters other than A-Z, a-z and 0-9, which break DATABASE_URL/REDIS_URL "
                            "and the app's shell-spliced migration command")
        if len(value) < min_length:
            problems.append(f"is {len(value)} characters long, below the minimum of {min_length} "
                            "(preflight_password_min_length)")
        problems.extend(placeholder_reasons(value))
        bits = entropy_bits(value)
        if bits < float(min_entropy_bits):
            problems.append(f"has low estimated entropy ({bits:.0f} bits; preflight_password_min_entropy_bits is "
                            f"{min_entropy_bits})")
        for problem in problems:
            findings.append(f"{where}: {problem}. {fix}")
    return findings


def origin_findings(origin, name="app_cors_origin", environment="production"):
    """Check a CORS origin: exactly one origin (scheme://host[:port]), https and not local in production."""
    value = _as_text(origin)
    fix_target = "https://<public frontend host>" if environment == "production" else "http(s)://<frontend host>"
    fix = f"Fix: set {name} to the single public frontend origin, e.g. {fix_target} (no path, no list)."
    if not value:
        return [f"{name}: is not set. {fix}"]
    if any(sep in value for sep in (",", " ", ";")):
        return [f"{name}: is a list; the app accepts exactly one origin. {fix}"]
    parts = urlsplit(value)
    problems = []
    if parts.scheme not in ("http", "https") or not parts.netloc:
        problems.append("is not an http(s) origin of the form scheme://host[:port]")
    else:
        if parts.path or parts.query or parts.fragment or value.endswith("/"):
            problems.append("has a path, query or trailing slash; an origin is only scheme://host[:port]")
        if parts.username or parts.password:
            problems.append("contains credentials")
        if "*" in value:
            problems.append("is a wildcard")
        if environment == "production":
            if parts.scheme != "https":
                problems.append("uses http; production requires https (it is also the OAuth redirect base)")
            host = (parts.hostname or "").lower()
            if host in ORIGIN_LOCAL_HOSTS or host.endswith(".localhost") or host.startswith("127."):
                problems.append("points at localhost; production needs the public frontend host")
    return [f"{name}: {problem}. {fix}" for problem in problems]


class _InventoryLoader(yaml.SafeLoader):  # pylint: disable=too-many-ancestors
    """SafeLoader that understands Ansible's !vault and !unsafe tags."""


class _Vaulted(str):
    """Marks an inline !vault value."""


def _construct_vault(loader, node):
    return _Vaulted(loader.construct_scalar(node))


def _construct_unsafe(loader, node):
    return loader.construct_scalar(node)


_InventoryLoader.add_constructor("!vault", _construct_vault)
_InventoryLoader.add_constructor("!unsafe", _construct_unsafe)


def is_secret_name(key):
    """True for variable names that look like they hold a secret (password, secret, key, token, ...)."""
    lowered = str(key).lower()
    if lowered.endswith(NOT_SECRET_SUFFIXES):
        return False
    return bool(SECRET_KEY_NAME.search(lowered))


def _is_safe_value(value):
    if value is None or isinstance(value, (bool, int, float, _Vaulted)):
        return True
    if not isinstance(value, str):
        return True  # lists and mappings are not secrets themselves; their keys are scanned below
    if value == "":
        return True
    return bool(VAULT_REFERENCE.match(value) or VARIABLE_REFERENCE.match(value))


def _walk(data, prefix=""):
    if isinstance(data, dict):
        for key, value in data.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            if is_secret_name(key) and isinstance(value, (str, type(None), bool, int, float)):
                yield path, value
            elif isinstance(value, (dict, list)):
                yield from _walk(value, path)
    elif isinstance(data, list):
        for index, item in enumerate(data):
            yield from _walk(item, f"{prefix}[{index}]")


def _variable_files(directories):
    for directory in directories or []:
        for sub in ("group_vars", "host_vars"):
            root = os.path.join(str(directory), sub)
            if not os.path.isdir(root):
                continue
            for dirpath, dirnames, filenames in os.walk(root):
                dirnames.sort()
                for filename in sorted(filenames):
                    if filename.startswith(".") or filename.endswith((".md", ".txt", "~")):
                        continue
                    yield os.path.join(dirpath, filename)


def plaintext_secret_findings(directories):
    """Scan <dir>/group_vars and <dir>/host_vars for secret-like keys with a plaintext value.

    A file is fine when it is ansible-vault encrypted ($ANSIBLE_VAULT header); a value is fine when it is an inline
    !vault value, empty, a ``{{ vault_* }}`` reference or a plain reference to another variable.
    """
    findings = []
    seen = set()
    for path in _variable_files(directories):
        real = os.path.realpath(path)
        if real in seen:
            continue
        seen.add(real)
        try:
            with open(path, "rb") as handle:
                raw = handle.read()
        except OSError as exc:
            findings.append(f"{path}: cannot be read ({exc.strerror}). Fix: make it readable by the controller user.")
            continue
        if raw.lstrip().startswith(b"$ANSIBLE_VAULT"):
            continue
        try:
            data = yaml.load(raw.decode("utf-8", errors="replace"), Loader=_InventoryLoader)  # nosec B506
        except yaml.YAMLError:
            findings.append(f"{path}: is not valid YAML, so it cannot be checked for plaintext secrets. "
                            "Fix: correct the syntax or encrypt the file with ansible-vault.")
            continue
        for variable, value in _walk(data):
            if _is_safe_value(value):
                continue
            leaf = variable.split(".")[-1]
            if leaf.startswith("vault_"):
                fix = f"Fix: encrypt the file: ansible-vault encrypt --vault-id <environment>@prompt {path}"
            else:
                fix = (f"Fix: move the value into the vault-encrypted group_vars/all/vault.yml as vault_{leaf} and "
                       f"reference it as \"{{{{ vault_{leaf} }}}}\" (or encrypt this file with ansible-vault)")
            findings.append(f"{path}: {variable} holds a plaintext secret. {fix}.")
    return findings


class FilterModule:
    """Secret hygiene filters."""

    def filters(self):
        return {
            "shannon_entropy": shannon_entropy,
            "entropy_bits": entropy_bits,
            "placeholder_reasons": placeholder_reasons,
            "signing_secret_findings": signing_secret_findings,
            "password_findings": password_findings,
            "origin_findings": origin_findings,
            "plaintext_secret_findings": plaintext_secret_findings,
        }
