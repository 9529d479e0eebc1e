#!/usr/bin/env python3
"""Run the whole test suite the README promises: lint, unit tests, then every Molecule scenario.

Each lint tool and each Molecule scenario counts as one test; pytest's own tests are counted from its JUnit report.
The last line is a plain ``N passed, N failed, N skipped`` summary so CI can read the outcome of a Molecule run.
Stages: ``lint``, ``unit``, ``molecule`` (all by default); ``--scenario`` narrows the Molecule stage.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import threading
import time
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from ansible_env import ansible_env  # harness/ (the script's own directory is on sys.path)

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = ROOT / ".venv" / "bin"
REPORTS = ROOT / "reports" / "tests"
# Order matters only for reading the log: cheap, single-role scenarios first, the full stack last.
SCENARIO_ORDER = ("preflight", "redis", "postgresql", "backup", "app", "edge", "monitoring", "stack")
# Side by side, the longest start first so the short ones fill the gaps.
STAGES = ("lint", "unit", "molecule")
LONGEST_FIRST = ("stack", "edge", "app", "preflight", "monitoring", "postgresql", "backup", "redis")


@dataclass
class Tally:
    passed: int = 0
    failed: int = 0
    skipped: int = 0
    lines: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, name: str, ok: bool, seconds: float) -> None:
        with self.lock:
            self._record(name, ok, seconds)

    def _record(self, name: str, ok: bool, seconds: float) -> None:
        if ok:
            self.passed += 1
        else:
            self.failed += 1
        self.lines.append(f"{'PASS' if ok else 'FAIL'}  {name:<32} {seconds:7.1f}s")


def run_logged(cmd: list[str], env: dict[str, str], log_path: Path) -> int:
    """Run ``cmd`` with its output in ``log_path``, each line prefixed with the seconds since the start.

    The prefix shows where a scenario spends its time (Molecule and Ansible print no timestamps of their own).
    """
    started = time.monotonic()
    with log_path.open("w") as log, subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                                                     stderr=subprocess.STDOUT, text=True, errors="replace") as proc:
        for line in proc.stdout:
            log.write(f"{time.monotonic() - started:7.1f} {line}")
            log.flush()
    return proc.returncode


def step(tally: Tally, name: str, cmd: list[str], env: dict[str, str], log_name: str | None = None) -> bool:
    print(f"\n=== {name}: {' '.join(cmd)}", flush=True)
    started = time.monotonic()
    if log_name:
        # Molecule output is long: keep it in a file and show its tail when it fails.
        log_path = REPORTS / log_name
        ok = run_logged(cmd, env, log_path) == 0
        if not ok:
            tail = log_path.read_text(errors="replace").splitlines()[-80:]
            print("\n".join(tail))
        print(f"    log: {log_path.relative_to(ROOT)}")
    else:
        ok = subprocess.run(cmd, cwd=ROOT, env=env, check=False).returncode == 0
    seconds = time.monotonic() - started
    tally.record(name, ok, seconds)
    print(f"=== {name}: {'passed' if ok else 'FAILED'} in {seconds:.0f}s", flush=True)
    return ok


def python_sources() -> list[str]:
    tracked = subprocess.run(["git", "ls-files", "*.py"], cwd=ROOT, capture_output=True, text=True, check=False)
    files = tracked.stdout.split() or [str(p.relative_to(ROOT)) for p in ROOT.glob("plugins/**/*.py")]
    return [f for f in files if (ROOT / f).is_file()]


def run_lint(tally: Tally, env: dict[str, str]) -> None:
    step(tally, "lint:yamllint", [str(VENV_BIN / "yamllint"), "-s", "."], env)
    step(tally, "lint:ansible-lint", [str(VENV_BIN / "ansible-lint"), "--offline", "-q"], env)
    step(tally, "lint:python-compile", [str(VENV_BIN / "python"), "-m", "py_compile", *python_sources()], env)
    sanity = ROOT / "tests" / "sanity" / "check_plugins.py"
    if sanity.is_file():
        step(tally, "lint:plugin-sanity", [str(VENV_BIN / "python"), str(sanity)], env)
    specs = ROOT / "tests" / "sanity" / "check_argument_specs.py"
    if specs.is_file():
        step(tally, "lint:argument-specs", [str(VENV_BIN / "python"), str(specs)], env)


def run_unit(tally: Tally, env: dict[str, str]) -> None:
    junit = REPORTS / "pytest.xml"
    print("\n=== unit: pytest tests/", flush=True)
    started = time.monotonic()
    code = subprocess.run([str(VENV_BIN / "pytest"), "-q", "tests", f"--junitxml={junit}", "-p", "no:cacheprovider"],
                          cwd=ROOT, env=env, check=False).returncode
    seconds = time.monotonic() - started
    if code == 5:  # no tests collected: nothing to count, not a failure of the suite
        print("=== unit: no tests collected")
        return
    if not junit.is_file():
        tally.record("unit:pytest", False, seconds)
        return
    for suite in ET.parse(junit).getroot().iter("testsuite"):
        total = int(suite.get("tests", 0))
        failed = int(suite.get("failures", 0)) + int(suite.get("errors", 0))
        skipped = int(suite.get("skipped", 0))
        tally.passed += total - failed - skipped
        tally.failed += failed
        tally.skipped += skipped
    tally.lines.append(f"{'PASS' if code == 0 else 'FAIL'}  {'unit:pytest':<32} {seconds:7.1f}s")
    if code != 0 and tally.failed == 0:
        tally.failed += 1  # pytest failed without a failing test (collection error): count it


def scenarios(selected: list[str] | None) -> list[str]:
    present = {p.parent.name for p in (ROOT / "molecule").glob("*/molecule.yml")}
    ordered = [s for s in SCENARIO_ORDER if s in present] + sorted(present - set(SCENARIO_ORDER))
    if selected:
        unknown = set(selected) - present
        if unknown:
            sys.exit(f"unknown scenario(s): {', '.join(sorted(unknown))}; present: {', '.join(ordered)}")
        ordered = [s for s in ordered if s in selected]
    return ordered


def quarantined(names: list[str], tally: Tally, selected: list[str] | None) -> list[str]:
    """A scenario with a QUARANTINED file is skipped (counted, with its reason) unless asked for by name."""
    runnable = []
    for scenario in names:
        marker = ROOT / "molecule" / scenario / "QUARANTINED"
        if marker.is_file() and not selected:
            reason = marker.read_text().strip().splitlines()[0]
            tally.skipped += 1
            tally.lines.append(f"SKIP  {'molecule:' + scenario:<32} quarantined: {reason}")
            print(f"=== molecule:{scenario}: SKIPPED (quarantined: {reason})", flush=True)
        else:
            runnable.append(scenario)
    return runnable


def run_molecule(tally: Tally, env: dict[str, str], selected: list[str] | None, jobs: int) -> None:
    """Scenarios use their own container names and networks, so they may run side by side (``--jobs``)."""
    names = quarantined(scenarios(selected), tally, selected)
    commands = {s: [str(VENV_BIN / "molecule"), "test", "-s", s] for s in names}
    if jobs <= 1:
        for scenario in names:
            step(tally, f"molecule:{scenario}", commands[scenario], env, log_name=f"molecule-{scenario}.log")
        return
    names.sort(key=lambda s: LONGEST_FIRST.index(s) if s in LONGEST_FIRST else len(LONGEST_FIRST))
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        for scenario in names:
            pool.submit(step, tally, f"molecule:{scenario}", commands[scenario], env, f"molecule-{scenario}.log")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    # No `choices` here: Python 3.11's argparse checks a list default of nargs="*" against the choices as one value
    # and refuses a bare `run_tests.py`; the stages are checked below instead.
    parser.add_argument("stages", nargs="*", metavar="{lint,unit,molecule}",
                        help="stages to run (default: all three)")
    parser.add_argument("--scenario", action="append", help="run only this Molecule scenario (repeatable)")
    parser.add_argument("--jobs", type=int, default=int(os.environ.get("DESE_TEST_JOBS", "1")),
                        help="Molecule scenarios run side by side (default: $DESE_TEST_JOBS or 1)")
    args = parser.parse_args(argv)
    unknown_stages = sorted(set(args.stages) - set(STAGES))
    if unknown_stages:
        parser.error(f"unknown stage(s): {', '.join(unknown_stages)}; choose from {', '.join(STAGES)}")
    args.stages = args.stages or list(STAGES)
    return args


def main() -> int:
    args = parse_args()
    REPORTS.mkdir(parents=True, exist_ok=True)
    env = ansible_env()
    tally = Tally()
    started = time.monotonic()
    if "lint" in args.stages:
        run_lint(tally, env)
    if "unit" in args.stages:
        run_unit(tally, env)
    if "molecule" in args.stages:
        run_molecule(tally, env, args.scenario, args.jobs)
    print("\n=== summary")
    print("\n".join(tally.lines))
    print(f"total time {time.monotonic() - started:.0f}s")
    print(f"{tally.passed} passed, {tally.failed} failed, {tally.skipped} skipped")
    return 0 if tally.failed == 0 and tally.passed > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
