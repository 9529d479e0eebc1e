#!/usr/bin/env python3
"""Offline stand-in for ``ansible-test sanity --test validate-modules`` (whose venv bootstrap needs the internet).

For every module in plugins/modules:
* DOCUMENTATION, EXAMPLES and RETURN exist and parse as YAML; ``module:`` matches the file name; the usual keys
  (short_description, description, author, options with description and type) are there;
* EXAMPLES use the module by its FQCN;
* the argument_spec the module really builds (captured by running ``main()`` against a recording AnsibleModule)
  matches the documented options: names, types, required, defaults, choices, elements; secrets are no_log.
For every filter plugin: the file imports, ``FilterModule().filters()`` returns callables, and any DOCUMENTATION,
EXAMPLES or RETURN it carries parses as YAML (ansible-doc and ansible-lint read them).
Prints one line per problem and exits 1 when there is any.
"""

from __future__ import annotations

import ast
import importlib
import re
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
COLLECTION = "dese.ea_plan"
PACKAGE = "ansible_collections.dese.ea_plan"
SECRET_OPTION = re.compile(r"(password|secret|token|private_key)$")


class _Captured(Exception):
    def __init__(self, spec: dict):
        super().__init__("argument_spec captured")
        self.spec = spec


class _RecordingModule:
    """Replaces AnsibleModule: records the argument_spec and stops the module before it does anything."""

    def __init__(self, argument_spec=None, **_kwargs):
        raise _Captured(argument_spec or {})


def doc_strings(path: Path) -> dict[str, str]:
    found = {}
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant):
            for target in node.targets:
                if isinstance(target, ast.Name) and target.id in ("DOCUMENTATION", "EXAMPLES", "RETURN"):
                    found[target.id] = node.value.value
    return found


def capture_spec(name: str) -> dict | None:
    module = importlib.import_module(f"{PACKAGE}.plugins.modules.{name}")
    if not hasattr(module, "main"):
        return None
    module.AnsibleModule = _RecordingModule
    try:
        module.main()
    except _Captured as captured:
        return captured.spec
    except SystemExit:
        return None
    return None


def compare(where: str, documented: dict, actual: dict, problems: list[str]) -> None:
    for option in sorted(set(documented) | set(actual)):
        doc = documented.get(option) or {}
        spec = actual.get(option)
        if spec is None:
            problems.append(f"{where}: option '{option}' is documented but not in argument_spec")
            continue
        if option not in documented:
            problems.append(f"{where}: option '{option}' is in argument_spec but not documented")
            continue
        if not doc.get("description"):
            problems.append(f"{where}: option '{option}' has no description")
        if doc.get("type", "str") != spec.get("type", "str"):
            problems.append(f"{where}: option '{option}' type {doc.get('type', 'str')} (doc) != "
                            f"{spec.get('type', 'str')} (spec)")
        for key in ("required", "default", "choices", "elements"):
            doc_value, spec_value = doc.get(key), spec.get(key)
            if key == "required":
                doc_value, spec_value = bool(doc_value), bool(spec_value)
            if doc_value != spec_value:
                problems.append(f"{where}: option '{option}' {key} {doc_value!r} (doc) != {spec_value!r} (spec)")
        if SECRET_OPTION.search(option) and not spec.get("no_log"):
            problems.append(f"{where}: option '{option}' looks secret but is not no_log=True")
        if isinstance(doc.get("suboptions"), dict) and isinstance(spec.get("options"), dict):
            compare(f"{where}.{option}", doc["suboptions"], spec["options"], problems)


def check_module(path: Path) -> list[str]:
    name = path.stem
    where = f"modules/{name}"
    problems: list[str] = []
    docs = doc_strings(path)
    for required in ("DOCUMENTATION", "EXAMPLES", "RETURN"):
        if required not in docs:
            problems.append(f"{where}: no {required}")
    if problems:
        return problems
    try:
        documentation = yaml.safe_load(docs["DOCUMENTATION"]) or {}
        examples = yaml.safe_load(docs["EXAMPLES"]) or []
        yaml.safe_load(docs["RETURN"])
    except yaml.YAMLError as exc:
        return [f"{where}: documentation does not parse: {exc}"]
    if documentation.get("module") != name:
        problems.append(f"{where}: DOCUMENTATION.module is {documentation.get('module')!r}, expected {name!r}")
    for key in ("short_description", "description", "author"):
        if not documentation.get(key):
            problems.append(f"{where}: DOCUMENTATION has no {key}")
    fqcn = f"{COLLECTION}.{name}"
    if not any(isinstance(task, dict) and fqcn in task for task in examples):
        problems.append(f"{where}: EXAMPLES never use {fqcn}")
    spec = capture_spec(name)
    if spec is None:
        problems.append(f"{where}: could not capture argument_spec from main()")
    else:
        compare(where, documentation.get("options") or {}, spec, problems)
    return problems


def check_filter(path: Path) -> list[str]:
    where = f"filter/{path.stem}"
    problems = []
    for key, text in doc_strings(path).items():
        try:
            yaml.safe_load(text)
        except yaml.YAMLError as exc:
            problems.append(f"{where}: {key} does not parse: {' '.join(str(exc).split())}")
    module = importlib.import_module(f"{PACKAGE}.plugins.filter.{path.stem}")
    if not hasattr(module, "FilterModule"):
        return problems + [f"{where}: no FilterModule class"]
    filters = module.FilterModule().filters()
    return problems + [f"{where}: '{name}' is not callable" for name, func in filters.items() if not callable(func)]


def main() -> int:
    sys.path.insert(0, str(ROOT / ".collections"))
    problems: list[str] = []
    modules = sorted(p for p in (ROOT / "plugins" / "modules").glob("*.py") if p.name != "__init__.py")
    filters = sorted(p for p in (ROOT / "plugins" / "filter").glob("*.py") if p.name != "__init__.py")
    for path in modules:
        problems.extend(check_module(path))
    for path in filters:
        problems.extend(check_filter(path))
    for problem in problems:
        print(problem)
    print(f"plugin sanity: {len(modules)} modules, {len(filters)} filter files, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
