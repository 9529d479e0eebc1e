"""The environment every ansible-playbook / molecule call of the project runs in (harness scripts and tests alike).

The venv's ``bin/`` first on PATH (molecule runs ``ansible-config`` from it), the checkout as the collection
``dese.ea_plan`` (``.collections`` links it), the project's ansible.cfg, and no colours (logs are read by people and
by tests that search them).
"""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = ROOT / ".venv" / "bin"


def ansible_env(*, without_molecule: bool = False, base: dict[str, str] | None = None) -> dict[str, str]:
    """Return a copy of ``base`` (default: this process's environment) set up for Ansible.

    ``without_molecule`` drops Molecule's own variables, which would point a nested ansible-playbook at the
    scenario's inventory and plugin paths instead of the ones it is given.
    """
    env = dict(os.environ if base is None else base)
    env["PATH"] = f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}"
    env["ANSIBLE_COLLECTIONS_PATH"] = str(ROOT / ".collections")
    env["ANSIBLE_CONFIG"] = str(ROOT / "ansible.cfg")
    env["ANSIBLE_FORCE_COLOR"] = "0"
    env["ANSIBLE_NOCOLOR"] = "1"
    env.setdefault("PY_COLORS", "0")
    env.setdefault("NO_COLOR", "1")
    if without_molecule:
        for key in [k for k in env if k.startswith(("MOLECULE_", "ANSIBLE_INVENTORY"))]:
            env.pop(key)
    return env
