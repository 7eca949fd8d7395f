"""The self-test's step runner: one line per step, a failing step named, the rest still run, the exit status."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tcm_desktop.self_test import FAIL, PASS, SKIP, SelfTestContext, SkipStep, Step, run_steps, summary


def _ok(context: SelfTestContext) -> str:
    context.found["thing"] = 42
    return "made a thing"


def _broken(context: SelfTestContext) -> str:
    raise ValueError("the database is on fire")


def _uses_thing(context: SelfTestContext) -> str:
    return f"used {context.need('thing', 'make')}"


def _not_here(context: SelfTestContext) -> str:
    raise SkipStep("no training component")


def run(steps: list[Step], tmp_path: Path) -> tuple[list[str], list]:
    lines: list[str] = []
    results = run_steps(steps, SelfTestContext(tmp_path, tmp_path / "bundle"), lines.append)
    return lines, results


def test_every_step_passing_exits_zero(tmp_path: Path) -> None:
    lines, results = run([Step("make", _ok), Step("use", _uses_thing)], tmp_path)
    assert [r.status for r in results] == [PASS, PASS]
    assert lines[0].startswith("PASS make (") and lines[0].endswith("): made a thing")
    assert lines[1].endswith("used 42")
    line, status = summary(results, 1.0)
    assert status == 0 and line.startswith("self-test PASSED") and "2 pass, 0 fail, 0 skip" in line


def test_a_failing_step_is_named_and_the_others_still_run(tmp_path: Path) -> None:
    steps = [Step("database", _broken), Step("make", _ok), Step("retrain", _not_here)]
    lines, results = run(steps, tmp_path)
    assert [r.status for r in results] == [FAIL, PASS, SKIP]
    assert lines[0].startswith("FAIL database (") and "ValueError: the database is on fire" in lines[0]
    assert lines[2].startswith("SKIP retrain (") and "no training component" in lines[2]
    line, status = summary(results, 2.0)
    assert status == 1 and "failing step(s): database" in line


def test_a_step_whose_prerequisite_failed_fails_naming_it(tmp_path: Path) -> None:
    lines, results = run([Step("make", _broken), Step("use", _uses_thing)], tmp_path)
    assert [r.status for r in results] == [FAIL, FAIL]
    assert "needs the 'make' step" in lines[1]
    assert summary(results, 0.5) == (summary(results, 0.5)[0], 1)
    assert "failing step(s): make, use" in summary(results, 0.5)[0]


def test_a_skipped_step_alone_does_not_fail_the_self_test(tmp_path: Path) -> None:
    _, results = run([Step("make", _ok), Step("retrain", _not_here)], tmp_path)
    line, status = summary(results, 0.1)
    assert status == 0 and "1 pass, 0 fail, 1 skip" in line


def test_the_self_test_of_an_installation_without_its_model_fails_naming_the_step(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from tcm_desktop.self_test import run_self_test

    monkeypatch.setenv("TCM_DATA_DIR", str(tmp_path / "real-user-data"))
    log = tmp_path / "self-test.log"
    status = run_self_test(log=log, bundle_dir=tmp_path / "no-such-bundle", retraining=False)
    assert status == 1
    written = log.read_text(encoding="utf-8").splitlines()
    assert written == capsys.readouterr().out.splitlines()  # the log holds what was printed
    assert written[1].startswith("FAIL bundle (") and "no model bundle at" in written[1]
    assert "failing step(s): bundle, structure, database" in written[-1]
    assert os.environ["TCM_DATA_DIR"] == str(tmp_path / "real-user-data")  # restored after the run
    assert not (tmp_path / "real-user-data").exists()  # the user's folder was never touched
