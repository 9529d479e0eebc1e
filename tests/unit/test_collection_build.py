"""The Galaxy artifact: `ansible-galaxy collection build` gives a tarball that installs, ships the roles and plugins,
leaves test and lab material out, and whose roles resolve by FQCN from the installed copy."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[Path, Path]:
    out = tmp_path_factory.mktemp("build")
    subprocess.run([str(BIN / "ansible-galaxy"), "collection", "build", "--output-path", str(out), str(ROOT)],
                   check=True, capture_output=True)
    tarball = next(out.glob("dese-ea_plan-*.tar.gz"))
    install_root = tmp_path_factory.mktemp("installed")
    # Only the fresh directory may count as installed: the checkout's own link would make galaxy skip the install.
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(install_root))
    subprocess.run([str(BIN / "ansible-galaxy"), "collection", "install", "--offline", "-p", str(install_root),
                    str(tarball)], check=True, capture_output=True, env=env)
    assert (install_root / "ansible_collections" / "dese" / "ea_plan" / "MANIFEST.json").is_file()
    return tarball, install_root


def test_tarball_leaves_out_test_and_lab_material(built):
    tarball, _ = built
    with tarfile.open(tarball) as tar:
        names = tar.getnames()
    top_dirs = {name.split("/")[0] for name in names}
    assert {"MANIFEST.json", "FILES.json", "README.md", "meta"} <= top_dirs
    for excluded in ("molecule", "tests", "harness", ".venv", ".ci", "bench"):
        assert excluded not in top_dirs, f"{excluded}/ must not ship in the Galaxy artifact"
    assert not any(name.startswith("inventories/lab") for name in names)


def test_installed_collection_resolves_roles_by_fqcn(built, tmp_path):
    _, install_root = built
    roles = sorted(p.name for p in (ROOT / "roles").iterdir() if (p / "tasks").is_dir())
    if not roles:
        pytest.skip("no roles yet")
    playbook = tmp_path / "fqcn.yml"
    playbook.write_text(yaml.safe_dump([{"name": "Resolve every role by FQCN", "hosts": "localhost",
                                         "gather_facts": False,
                                         "roles": [f"dese.ea_plan.{role}" for role in roles]}]))
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(install_root), ANSIBLE_ROLES_PATH=str(tmp_path))
    env.pop("ANSIBLE_CONFIG", None)
    result = subprocess.run([str(BIN / "ansible-playbook"), "--syntax-check", str(playbook)], cwd=tmp_path, env=env,
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    docs = subprocess.run([str(BIN / "ansible-doc"), "-t", "role", "--json", *[f"dese.ea_plan.{r}" for r in roles]],
                          cwd=tmp_path, env=env, capture_output=True, text=True, check=False)
    assert docs.returncode == 0, docs.stderr
    documented = json.loads(docs.stdout)
    assert sorted(documented) == sorted(f"dese.ea_plan.{r}" for r in roles)
