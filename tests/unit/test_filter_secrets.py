"""Unit tests for the preflight secret filters (plugins/filter/secrets.py)."""

from __future__ import annotations

import random
import string

import pytest

from ansible_collections.dese.ea_plan.plugins.filter import secrets as flt

RNG = random.Random(20261125)  # deterministic "random" values: tests never depend on luck
ALNUM = string.ascii_letters + string.digits


def strong(length=64):
    while True:
        value = "".join(RNG.choice(ALNUM) for _ in range(length))
        if not flt.placeholder_reasons(value):
            return value


def two_letter_noise(length=64):
    """Low entropy but no long runs, no sequences, not periodic."""
    pattern = "kQkkQQkQkQQkkQkkQQQkQkkQ"
    return (pattern * 3)[:length]


def test_entropy_of_uniform_and_constant_strings():
    assert flt.shannon_entropy("") == 0.0
    assert flt.shannon_entropy("aaaa") == 0.0
    assert flt.shannon_entropy("abcd") == pytest.approx(2.0)
    assert flt.entropy_bits("abcd") == pytest.approx(8.0)


@pytest.mark.parametrize("value", [
    "your-secret-key-change-in-production", "ChangeMe2024", "my_password_1", "PLACEHOLDERvalue",
    "xxxxxxxx", "aaaaa1bc", "abcdefQ9", "Zz9876543", "ab12ab12ab12", "exampleToken", "default-jwt",
])
def test_placeholder_like_values_are_detected(value):
    assert flt.placeholder_reasons(value)


def test_random_values_are_not_placeholders():
    flagged = [v for v in ("".join(RNG.choice(ALNUM) for _ in range(64)) for _ in range(200))
               if flt.placeholder_reasons(v)]
    assert len(flagged) <= 2  # a CSPRNG value is almost never refused
    assert not flt.placeholder_reasons("Hq7Lw2Rk9ZpT4xNc8VbM3sJf6GdY1aUe")


def test_reasons_never_quote_the_value():
    value = "your-secret-key-change-in-production-uvwxyz"
    for reason in flt.placeholder_reasons(value):
        assert "your-secret" not in reason and "uvwxyz" not in reason


def test_strong_signing_secret_passes():
    assert flt.signing_secret_findings({"app_jwt_secret": strong(64)}, 64, 192) == []
    assert flt.signing_secret_findings({"app_cookie_key": strong(32)}, 32, 96) == []


@pytest.mark.parametrize("value, fragment", [
    (None, "is not set"),
    ("", "is not set"),
    ("Hq7Lw2Rk9ZpT4xNc", "silently replaces secrets shorter than 32"),
    ("your-secret-key-change-in-production-0123456789-please", "placeholder word"),
    (two_letter_noise(64), "low estimated entropy"),
])
def test_bad_signing_secrets_are_refused(value, fragment):
    findings = flt.signing_secret_findings({"app_jwt_secret": value}, 64, 192, {"app_jwt_secret": "vault_jwt_secret"})
    assert findings
    assert any(fragment in f for f in findings)
    for finding in findings:
        assert finding.startswith("app_jwt_secret (set from vault_jwt_secret): ")
        assert "Fix:" in finding
        if value:
            assert value not in finding


def test_configurable_minimum_length_is_never_below_the_app_minimum():
    value = strong(40)
    assert any("below preflight_secret_min_length (64)" in f for f in flt.signing_secret_findings({"s": value}, 64, 0))
    assert flt.signing_secret_findings({"s": value}, 32, 0) == []
    assert any("shorter than 32" in f for f in flt.signing_secret_findings({"s": strong(20)}, 8, 0))


def test_strong_password_passes():
    assert flt.password_findings({"postgresql_app_password": strong(24)}, 20, 64) == []


@pytest.mark.parametrize("value, fragment", [
    ("Tr0ub4dor", "below the minimum of 20"),
    ("Password1Password1Password1", "placeholder word"),
    (strong(30)[:-3] + "@/:", "other than A-Z"),
    (strong(30)[:-2] + "$(", "other than A-Z"),
])
def test_bad_passwords_are_refused(value, fragment):
    findings = flt.password_findings({"redis_app_password": value}, 20, 64)
    assert any(fragment in f for f in findings)
    assert all(value not in f for f in findings)


def test_password_url_safety_can_be_relaxed():
    value = strong(30) + "-_"
    assert flt.password_findings({"grafana_admin_password": value}, 12, 40, url_safe=False) == []


@pytest.mark.parametrize("origin, env, fragment", [
    ("http://ea.example.com", "production", "uses http"),
    ("https://localhost:3002", "production", "localhost"),
    ("https://127.0.0.1", "production", "localhost"),
    ("https://ea.example.com/app", "production", "has a path"),
    ("https://ea.example.com/", "production", "trailing slash"),
    ("https://a.example.com,https://b.example.com", "production", "is a list"),
    ("ea.example.com", "production", "not an http(s) origin"),
    (None, "lab", "is not set"),
])
def test_bad_origins(origin, env, fragment):
    findings = flt.origin_findings(origin, "app_cors_origin", env)
    assert any(fragment in f for f in findings), findings
    assert all(f.startswith("app_cors_origin: ") for f in findings)


@pytest.mark.parametrize("origin, env", [
    ("https://ea.example.com", "production"),
    ("https://ea.example.com:8443", "production"),
    ("http://localhost:3002", "lab"),
])
def test_good_origins(origin, env):
    assert flt.origin_findings(origin, "app_cors_origin", env) == []


@pytest.mark.parametrize("key, secret", [
    ("vault_jwt_secret", True), ("app_cookie_key", True), ("redis_app_password", True), ("api_token", True),
    ("vault_edge_tls_private_key", True), ("redis_app_key_patterns", False), ("ansible_ssh_private_key_file", False),
    ("postgresql_app_user", False), ("monkey", False), ("preflight_secret_min_length", False),
])
def test_secret_names(key, secret):
    assert flt.is_secret_name(key) is secret


def test_plaintext_scan(tmp_path):
    gv = tmp_path / "group_vars" / "all"
    gv.mkdir(parents=True)
    (tmp_path / "host_vars").mkdir()
    (gv / "vault.yml").write_text("$ANSIBLE_VAULT;1.1;AES256\n6162636465\n")
    (gv / "main.yml").write_text(
        "dese_environment: production\n"
        "app_jwt_secret: \"{{ vault_jwt_secret }}\"\n"
        "app_database_password: \"{{ postgresql_app_password }}\"\n"
        "redis_app_key_patterns: ['dese:*']\n"
        "postgresql_port: 5432\n"
        "inline: !vault |\n  $ANSIBLE_VAULT;1.1;AES256\n  6162\n"
    )
    (tmp_path / "host_vars" / "db1.yml").write_text(
        "postgresql_app_password: Hq7Lw2Rk9ZpT4xNc8VbM3sJf\n"
        "nested:\n  api_token: abc\n"
    )
    findings = flt.plaintext_secret_findings([str(tmp_path)])
    assert len(findings) == 2, findings
    assert "host_vars/db1.yml: postgresql_app_password holds a plaintext secret" in findings[0]
    assert "nested.api_token" in findings[1]
    assert all("Hq7Lw2Rk9ZpT4xNc8VbM3sJf" not in f for f in findings)


def test_plaintext_scan_flags_literals_inside_templates(tmp_path):
    gv = tmp_path / "group_vars"
    gv.mkdir()
    (gv / "all.yml").write_text("app_jwt_secret: \"{{ 'Hq7Lw2Rk9ZpT4xNc8VbM3sJf' }}\"\n")
    assert len(flt.plaintext_secret_findings([str(tmp_path)])) == 1


def test_filter_module_exports():
    names = flt.FilterModule().filters()
    assert {"signing_secret_findings", "password_findings", "origin_findings", "plaintext_secret_findings"} <= set(names)


def test_plaintext_vault_file_is_told_to_be_encrypted(tmp_path):
    gv = tmp_path / "group_vars" / "all"
    gv.mkdir(parents=True)
    (gv / "vault.yml").write_text("vault_jwt_secret: Hq7Lw2Rk9ZpT4xNc8VbM3sJfHq7Lw2Rk9ZpT4xNc8VbM3sJf\n")
    findings = flt.plaintext_secret_findings([str(tmp_path)])
    assert len(findings) == 1
    assert "vault.yml: vault_jwt_secret holds a plaintext secret. Fix: encrypt the file: ansible-vault encrypt" in findings[0]
