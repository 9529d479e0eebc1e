#!/usr/bin/env python3
"""Keep every role's defaults and its meta/argument_specs.yml from drifting apart.

For each role with a ``main`` entry point:
* every variable in ``defaults/main.yml`` is documented in the argument spec, and every spec option either has a
  default in ``defaults/main.yml`` or is ``required: true``;
* every public variable carries the role-name prefix (internal ones start with ``__``);
* every option has a ``description`` and a ``type`` (``elements`` too for lists);
* options whose names say they hold a secret are ``no_log: true``.
Prints one line per problem and exits 1 when there is any.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
SECRET_NAME = re.compile(r"(password|secret|token|private_key|cookie_key|webhook_url)$")


def load_yaml(path: Path) -> dict:
    if not path.is_file():
        return {}
    return yaml.safe_load(path.read_text()) or {}


def check_options(role: str, options: dict, where: str, problems: list[str]) -> None:
    for name, spec in options.items():
        spec = spec or {}
        if not spec.get("description"):
            problems.append(f"{where}.{name}: no description")
        if "type" not in spec:
            problems.append(f"{where}.{name}: no type")
        if spec.get("type") == "list" and "elements" not in spec:
            problems.append(f"{where}.{name}: list without elements")
        if SECRET_NAME.search(name) and spec.get("type", "str") == "str" and not spec.get("no_log"):
            problems.append(f"{where}.{name}: looks like a secret but is not no_log: true")
        if isinstance(spec.get("options"), dict):
            check_options(role, spec["options"], f"{where}.{name}", problems)


def check_role(role_dir: Path) -> list[str]:
    role = role_dir.name
    problems: list[str] = []
    specs = load_yaml(role_dir / "meta" / "argument_specs.yml").get("argument_specs", {})
    if "main" not in specs:
        return [f"{role}: meta/argument_specs.yml has no 'main' entry point"]
    options = specs["main"].get("options", {}) or {}
    defaults = load_yaml(role_dir / "defaults" / "main.yml")
    for name in defaults:
        if not name.startswith((f"{role}_", "__")):
            problems.append(f"{role}: default '{name}' is not prefixed with '{role}_'")
        if not name.startswith("__") and name not in options:
            problems.append(f"{role}: default '{name}' is not in meta/argument_specs.yml")
    for name, spec in options.items():
        if not name.startswith(f"{role}_"):
            problems.append(f"{role}: option '{name}' is not prefixed with '{role}_'")
        if name not in defaults and not (spec or {}).get("required"):
            problems.append(f"{role}: option '{name}' has no default in defaults/main.yml and is not required")
    check_options(role, options, role, problems)
    return problems


def main() -> int:
    problems: list[str] = []
    roles = sorted(p for p in (ROOT / "roles").iterdir() if p.is_dir()) if (ROOT / "roles").is_dir() else []
    for role_dir in roles:
        problems.extend(check_role(role_dir))
    for problem in problems:
        print(problem)
    print(f"argument specs: {len(roles)} roles checked, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
