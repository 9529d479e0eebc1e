# -*- coding: utf-8 -*-
# Copyright: DESE EA PLAN platform team
# Apache License 2.0 (see galaxy.yml)
"""HS256 JSON Web Tokens with the standard library only: mint a bearer token for verify checks, read one back in tests.

Documentation: jwt_encode.yml and jwt_decode.yml next to this file (one per filter, as ansible-core's own filters do).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Mapping

from ansible.errors import AnsibleFilterError

HEADER = {"alg": "HS256", "typ": "JWT"}


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64url_decode(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def _secret_bytes(secret, filter_name: str) -> bytes:
    if secret is None or isinstance(secret, (bool, int, float, Mapping, list)):
        raise AnsibleFilterError(f"{filter_name}: the secret must be a non-empty string")
    text = str(secret)  # also unwraps vaulted strings
    if not text:
        raise AnsibleFilterError(f"{filter_name}: the secret must be a non-empty string")
    return text.encode("utf-8")


def _sign(signing_input: str, key: bytes) -> str:
    return _b64url(hmac.new(key, signing_input.encode("ascii"), hashlib.sha256).digest())


def _plain(value):
    """Turn Ansible's string/dict/list wrappers into plain JSON-serialisable values."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, str):
        return str(value)
    if value is None or isinstance(value, (bool, int, float)):
        return value
    raise AnsibleFilterError(f"jwt_encode: claim value {value!r} of type {type(value).__name__} is not JSON")


def jwt_encode(claims, secret, ttl=None, now=None):
    """Compact HS256 JWS of ``claims``; with ``ttl`` (seconds) sets ``iat`` = now and ``exp`` = now + ttl."""
    if not isinstance(claims, Mapping):
        raise AnsibleFilterError(f"jwt_encode: the input must be a dict of claims, got {type(claims).__name__}")
    key = _secret_bytes(secret, "jwt_encode")
    payload = _plain(claims)
    if ttl is not None:
        if isinstance(ttl, bool):
            raise AnsibleFilterError("jwt_encode: ttl must be a positive number of seconds")
        try:
            ttl = int(ttl)
        except (TypeError, ValueError) as exc:
            raise AnsibleFilterError(f"jwt_encode: ttl must be a positive number of seconds, got {ttl!r}") from exc
        if ttl <= 0:
            raise AnsibleFilterError(f"jwt_encode: ttl must be a positive number of seconds, got {ttl}")
        issued = int(time.time() if now is None else now)
        payload["iat"] = issued
        payload["exp"] = issued + ttl
    header = _b64url(json.dumps(HEADER, separators=(",", ":")).encode())
    body = _b64url(json.dumps(payload, separators=(",", ":"), sort_keys=True).encode())
    signing_input = f"{header}.{body}"
    return f"{signing_input}.{_sign(signing_input, key)}"


def jwt_decode(token, secret, verify_exp=True, now=None):
    """Claims of an HS256 token after checking its signature (and ``exp``); raises AnsibleFilterError otherwise."""
    key = _secret_bytes(secret, "jwt_decode")
    parts = str(token).strip().split(".")
    if len(parts) != 3:
        raise AnsibleFilterError("jwt_decode: not a compact JWS (expected three dot-separated parts)")
    try:
        header = json.loads(_b64url_decode(parts[0]))
        claims = json.loads(_b64url_decode(parts[1]))
    except (ValueError, TypeError) as exc:
        raise AnsibleFilterError("jwt_decode: the header or the payload is not base64url JSON") from exc
    if not isinstance(header, dict) or header.get("alg") != "HS256":
        raise AnsibleFilterError("jwt_decode: only HS256 tokens are accepted")
    if not hmac.compare_digest(_sign(f"{parts[0]}.{parts[1]}", key), parts[2]):
        raise AnsibleFilterError("jwt_decode: invalid signature")
    if not isinstance(claims, dict):
        raise AnsibleFilterError("jwt_decode: the payload is not a JSON object")
    if verify_exp and "exp" in claims:
        current = time.time() if now is None else now
        if not isinstance(claims["exp"], (int, float)) or current >= claims["exp"]:
            raise AnsibleFilterError("jwt_decode: the token has expired")
    return claims


class FilterModule:
    """JWT filters."""

    def filters(self):
        return {
            "jwt_encode": jwt_encode,
            "jwt_decode": jwt_decode,
        }
