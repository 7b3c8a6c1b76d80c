from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from random import Random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from provenance.cli import main
from provenance.selection.budget import Budget, Reason, _fill, select

TESTS = ["a.py::likely", "a.py::cheap", "b.py::slow_sure", "b.py::unsure", "c.py::brand_new"]
P = np.array([0.6, 0.01, 0.001, 0.3, 0.05])
SECONDS = np.array([2.0, 0.5, 50.0, 5.0, 1.0])
NEW = np.array([False, False, False, False, True])


def test_budget_goes_to_likely_failures_then_uncertainty() -> None:
    chosen = select(TESTS, P, SECONDS, Budget(fraction=0.15), new=NEW, exploration=0.2)
    assert chosen.selected_tests == ["a.py::likely", "a.py::cheap", "b.py::unsure", "c.py::brand_new"]
    reasons = dict(zip(chosen.tests, chosen.reasons, strict=True))
    assert reasons["c.py::brand_new"] is Reason.NEW
    assert reasons["a.py::likely"] is Reason.RANKED
    assert reasons["b.py::unsure"] is Reason.EXPLORATION
    assert reasons["b.py::slow_sure"] is None  # skipped: explain.py says why
    assert chosen.expected_seconds == pytest.approx(8.5)
    assert chosen.confidence == pytest.approx(1 - 0.001)


@settings(max_examples=500)
@given(
    st.lists(st.sampled_from([0.0, 0.1, 0.2, 0.3, 0.7, 1.0, 2.5]) | st.floats(0, 10), min_size=1, max_size=40),
    st.randoms(use_true_random=False),
    st.floats(0, 1.2),
)
def test_the_budget_walk_takes_what_a_test_by_test_walk_takes(costs: list[float], rng: Random, share: float) -> None:
    # `_fill` takes tests a block at a time; this is the walk it must equal, float for float
    # (zero costs, ties and totals that land exactly on the limit included).
    seconds = np.array(costs)
    order = np.array(rng.sample(range(len(costs)), len(costs)))
    already = np.array([rng.random() < 0.2 for _ in costs])
    start, limit = float(seconds[already].sum()), share * float(seconds.sum())
    taken, used = already.tolist(), start
    for i in order.tolist():
        if not taken[i] and used + costs[i] <= limit + 1e-12:
            taken[i], used = True, used + costs[i]
    chosen, reasons = already.copy(), [None] * len(costs)
    assert _fill(chosen, reasons, order, seconds, start, limit, Reason.RANKED) == used
    assert chosen.tolist() == taken
    assert reasons == [Reason.RANKED if t and not a else None for t, a in zip(taken, already.tolist(), strict=True)]


def test_changed_files_always_run() -> None:
    chosen = select(TESTS, P, SECONDS, Budget(seconds=0.0), new=NEW, changed_files=["b.py"])
    assert set(chosen.selected_tests) == {"b.py::slow_sure", "b.py::unsure", "c.py::brand_new"}
    assert chosen.reasons[chosen.tests.index("b.py::slow_sure")] is Reason.FILE_CHANGED


def test_a_test_that_failed_its_last_run_always_runs() -> None:
    failed_last = np.array([False, False, True, False, False])  # the slow, sure test failed last time
    chosen = select(TESTS, P, SECONDS, Budget(fraction=0.15), new=NEW, failed_last=failed_last)
    assert "b.py::slow_sure" in chosen.selected_tests
    assert chosen.reasons[chosen.tests.index("b.py::slow_sure")] is Reason.FAILED_LAST_RUN
    assert "b.py::slow_sure" not in select(TESTS, P, SECONDS, Budget(fraction=0.15), new=NEW).selected_tests


def test_confidence_target() -> None:
    chosen = select(TESTS, P, SECONDS, Budget(confidence=0.9), new=np.zeros(5, dtype=bool))
    skipped = ~chosen.selected
    assert np.prod(1 - P[skipped]) >= 0.9
    assert chosen.confidence >= 0.9
    assert "a.py::likely" in chosen.selected_tests


def test_full_run_selects_everything() -> None:
    chosen = select(TESTS, P, SECONDS, Budget(fraction=0.1), new=NEW, full_run=True)
    assert chosen.selected.all() and chosen.full_run and chosen.confidence == 1.0


REPORT = """<testsuite>
<testcase classname="tests.test_a" name="test_flaky" time="{flaky}">{failure}</testcase>
<testcase classname="tests.test_a" name="test_stable" time="3.0"/>
<testcase classname="tests.test_b" name="test_slow" time="20.0"/>
</testsuite>"""


def history(tmp_path: Path, runs: int = 4) -> Path:
    for i in range(runs):
        failure = '<failure message="boom">E boom</failure>' if i % 2 == 0 else ""
        (tmp_path / "r.xml").write_text(REPORT.format(flaky=1.0, failure=failure))
        main(["run", "--workspace", str(tmp_path), "--report", "r.xml", "--fail-on", "none"], {})
    return tmp_path / "data" / "ci_runs.jsonl"


def test_select_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    history(tmp_path)
    (tmp_path / "all.txt").write_text(
        "tests/test_a.py::test_flaky\ntests/test_a.py::test_stable\ntests/test_b.py::test_slow\n"
        "tests/test_c.py::test_new\n\n4 tests collected in 0.01s\n"
    )
    capsys.readouterr()
    code = main(["select", "--workspace", str(tmp_path), "--tests", "all.txt", "--budget", "0.3",
                 "--changed-files", "/dev/null", "--out", "chosen.txt"], {})  # fmt: skip
    assert code == 0
    outputs = json.loads(capsys.readouterr().out)
    chosen = (tmp_path / "chosen.txt").read_text().splitlines()
    assert "tests/test_a.py::test_flaky" in chosen and "tests/test_c.py::test_new" in chosen
    assert "tests/test_b.py::test_slow" not in chosen
    assert outputs["selected_count"] == str(len(chosen)) and outputs["full_run"] == "false"
    audit = json.loads((tmp_path / "chosen.txt.audit.json").read_text())
    skipped = [t for t in audit["tests"] if not t["runs"]]
    assert [t["test"] for t in skipped] == ["tests/test_b.py::test_slow"]
    assert audit["model_hash"] and audit["ledger_size"] == 4 and audit["skipped"] == 1
    assert float(outputs["confidence"]) == pytest.approx(1 - skipped[0]["p_fail"])


def test_select_runs_the_test_that_failed_last_time(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ledger = history(tmp_path)
    slow_failed = REPORT.format(flaky=1.0, failure="").replace(
        '"test_slow" time="20.0"/>', '"test_slow" time="20.0"><failure message="boom">E boom</failure></testcase>'
    )
    (tmp_path / "r.xml").write_text(slow_failed)
    main(["run", "--workspace", str(tmp_path), "--report", "r.xml", "--fail-on", "none"], {})
    capsys.readouterr()
    assert main(["select", "--workspace", str(tmp_path), "--ledger", str(ledger), "--budget", "0.1",
                 "--out", "chosen.txt"], {}) == 0  # fmt: skip
    assert "tests/test_b.py::test_slow" in (tmp_path / "chosen.txt").read_text().splitlines()
    audit = json.loads((tmp_path / "chosen.txt.audit.json").read_text())
    assert {t["test"]: t["reason"] for t in audit["tests"]}["tests/test_b.py::test_slow"] == "failed-last-run"


def test_first_run_and_periodic_full_runs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "all.txt").write_text("t.py::a\nt.py::b\n")
    assert main(["select", "--workspace", str(tmp_path), "--tests", "all.txt", "--budget", "0.1"], {}) == 0
    assert json.loads(capsys.readouterr().out)["full_run"] == "true"  # no history yet
    history(tmp_path, runs=4)
    capsys.readouterr()
    assert main(["select", "--workspace", str(tmp_path), "--budget", "0.1", "--full-run-every", "5"], {}) == 0
    assert json.loads(capsys.readouterr().out)["full_run"] == "true"  # the 5th run


def test_one_budget_only(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["select", "--workspace", str(tmp_path), "--budget", "0.3", "--confidence", "0.9"], {}) == 2
    assert "give one budget, not --budget and --confidence" in capsys.readouterr().err


def test_selected_file_runs_with_pytest(tmp_path: Path) -> None:
    """The output is usable as `pytest @FILE`."""
    (tmp_path / "test_x.py").write_text("def test_one():\n    pass\n\ndef test_two():\n    pass\n")
    (tmp_path / "chosen.txt").write_text("test_x.py::test_two\n")
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "@chosen.txt"],
                          cwd=tmp_path, capture_output=True, text=True)  # fmt: skip
    assert done.returncode == 0 and "1 passed" in done.stdout
