"""The test runner's command line: `make test` calls it with no stage at all, CI with none either."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

RUNNER = Path(__file__).resolve().parents[2] / "harness" / "run_tests.py"


@pytest.fixture(scope="module")
def runner():
    spec = importlib.util.spec_from_file_location("dese_run_tests", RUNNER)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_no_stage_means_every_stage(runner):
    assert runner.parse_args([]).stages == ["lint", "unit", "molecule"]


def test_named_stages_and_scenarios_are_kept(runner):
    args = runner.parse_args(["molecule", "--scenario", "redis", "--scenario", "app"])
    assert args.stages == ["molecule"]
    assert args.scenario == ["redis", "app"]


def test_unknown_stage_is_refused(runner, capsys):
    with pytest.raises(SystemExit) as stop:
        runner.parse_args(["lnt"])
    assert stop.value.code == 2
    assert "unknown stage(s): lnt" in capsys.readouterr().err


def test_scenario_logs_carry_elapsed_seconds(runner, tmp_path):
    log = tmp_path / "scenario.log"
    code = runner.run_logged([sys.executable, "-c", "print('one'); import sys; sys.exit(3)"], {}, log)
    assert code == 3
    stamp, text = log.read_text().split(maxsplit=1)
    assert float(stamp) >= 0 and text == "one\n"
