"""dese.ea_plan.jwt_encode / jwt_decode: RFC 7515 shape, HS256 signature, ttl, and a cross-check with the stand-in app."""

from __future__ import annotations

import base64
import hashlib
import hmac
import importlib.util
import json
import time
from pathlib import Path

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.dese.ea_plan.plugins.filter.jwt import FilterModule, jwt_decode, jwt_encode

SECRET = "unit-test-secret-0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKL"
CLAIMS = {"id": "11111111-1111-4111-8111-0000000000a1", "email": "admin@acme.example", "role": "admin",
          "organizationId": "11111111-1111-4111-8111-111111111111", "permissions": ["read", "write"]}
STANDIN = Path(__file__).resolve().parents[1] / "standin" / "app" / "standin.py"


def _standin():
    spec = importlib.util.spec_from_file_location("dese_standin_app", STANDIN)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _b64d(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def test_filters_are_registered():
    filters = FilterModule().filters()
    assert filters["jwt_encode"] is jwt_encode
    assert filters["jwt_decode"] is jwt_decode


def test_token_is_a_compact_hs256_jws_with_the_claims():
    token = jwt_encode(CLAIMS, SECRET)
    header, payload, signature = token.split(".")
    assert "=" not in token
    assert json.loads(_b64d(header)) == {"alg": "HS256", "typ": "JWT"}
    assert json.loads(_b64d(payload)) == CLAIMS
    expected = hmac.new(SECRET.encode(), f"{header}.{payload}".encode(), hashlib.sha256).digest()
    assert _b64d(signature) == expected


def test_known_vector_matches_an_independent_implementation():
    # Same bytes as PyJWT / jsonwebtoken give for compact JSON with sorted keys.
    token = jwt_encode({"sub": "1", "b": 2}, "k" * 32, now=0)
    header = base64.urlsafe_b64encode(b'{"alg":"HS256","typ":"JWT"}').rstrip(b"=").decode()
    payload = base64.urlsafe_b64encode(b'{"b":2,"sub":"1"}').rstrip(b"=").decode()
    sig = base64.urlsafe_b64encode(hmac.new(b"k" * 32, f"{header}.{payload}".encode(), hashlib.sha256).digest())
    assert token == f"{header}.{payload}.{sig.rstrip(b'=').decode()}"


def test_ttl_sets_iat_and_exp_and_overrides_input():
    claims = jwt_decode(jwt_encode(dict(CLAIMS, exp=1, iat=1), SECRET, ttl=300, now=1_800_000_000), SECRET,
                        now=1_800_000_100)
    assert claims["iat"] == 1_800_000_000
    assert claims["exp"] == 1_800_000_300


def test_without_ttl_the_claims_are_unchanged():
    claims = jwt_decode(jwt_encode(CLAIMS, SECRET), SECRET)
    assert "exp" not in claims and "iat" not in claims


def test_input_is_not_modified():
    claims = dict(CLAIMS)
    jwt_encode(claims, SECRET, ttl=60)
    assert claims == CLAIMS


@pytest.mark.parametrize("ttl", [0, -5, "soon", True])
def test_bad_ttl_is_refused(ttl):
    with pytest.raises(AnsibleFilterError, match="ttl"):
        jwt_encode(CLAIMS, SECRET, ttl=ttl)


@pytest.mark.parametrize("claims", ["a string", ["list"], None])
def test_claims_must_be_a_dict(claims):
    with pytest.raises(AnsibleFilterError, match="dict of claims"):
        jwt_encode(claims, SECRET)


@pytest.mark.parametrize("secret", ["", None, 42])
def test_secret_must_be_a_non_empty_string(secret):
    with pytest.raises(AnsibleFilterError, match="secret"):
        jwt_encode(CLAIMS, secret)


def test_non_json_claim_is_refused_with_its_type():
    with pytest.raises(AnsibleFilterError, match="object"):
        jwt_encode({"when": object()}, SECRET)


def test_decode_rejects_wrong_secret_tampering_expiry_and_other_algorithms():
    token = jwt_encode(CLAIMS, SECRET, ttl=60, now=1_800_000_000)
    with pytest.raises(AnsibleFilterError, match="signature"):
        jwt_decode(token, SECRET + "x", now=1_800_000_001)
    header, payload, signature = token.split(".")
    forged = base64.urlsafe_b64encode(json.dumps(dict(CLAIMS, role="super_admin")).encode()).rstrip(b"=").decode()
    with pytest.raises(AnsibleFilterError, match="signature"):
        jwt_decode(f"{header}.{forged}.{signature}", SECRET, now=1_800_000_001)
    with pytest.raises(AnsibleFilterError, match="expired"):
        jwt_decode(token, SECRET, now=1_800_000_060)
    assert jwt_decode(token, SECRET, verify_exp=False, now=1_900_000_000)["email"] == CLAIMS["email"]
    none_header = base64.urlsafe_b64encode(b'{"alg":"none","typ":"JWT"}').rstrip(b"=").decode()
    with pytest.raises(AnsibleFilterError, match="HS256"):
        jwt_decode(f"{none_header}.{payload}.", SECRET)
    with pytest.raises(AnsibleFilterError, match="three"):
        jwt_decode("not-a-token", SECRET)


def test_standin_accepts_the_filter_tokens_and_rejects_tampered_or_expired_ones():
    standin = _standin()
    token = jwt_encode(CLAIMS, SECRET, ttl=120)
    assert standin.jwt_verify(token, SECRET)["organizationId"] == CLAIMS["organizationId"]
    header, _payload, signature = token.split(".")
    forged = base64.urlsafe_b64encode(json.dumps(dict(CLAIMS, organizationId="2" * 8)).encode()).rstrip(b"=").decode()
    with pytest.raises(ValueError, match="signature"):
        standin.jwt_verify(f"{header}.{forged}.{signature}", SECRET)
    with pytest.raises(ValueError, match="signature"):
        standin.jwt_verify(token, "another-secret-of-sufficient-length-000000")
    expired = jwt_encode(CLAIMS, SECRET, ttl=10, now=time.time() - 60)
    with pytest.raises(ValueError, match="expired"):
        standin.jwt_verify(expired, SECRET)
