"""History readers, the model and the backtest's figures, on hand-made histories with known answers."""

from __future__ import annotations

import json
from itertools import pairwise
from pathlib import Path
from random import Random

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from provenance.cli import main
from provenance.errors import InputError
from provenance.learning import experts
from provenance.learning.changes import CO_FAILURE_PRIOR_WEIGHT, MAX_CHANGED_FILES, MAX_CO_FAILURES_PER_RUN
from provenance.learning.history import Cycle, detect_format, read_atcs, read_ledger
from provenance.learning.model import HISTORY_PRIOR_WEIGHTS, Model
from provenance.selection.backtest import (
    BUDGET_GRID,
    ReferencePredictor,
    Scored,
    apfd,
    apfdc,
    detected_by_budget,
    evaluate,
    replay,
    run_backtest,
    select_within,
)

HEADER = "Id;Name;BuildId;Duration;CalcPrio;LastRun;Verdict;Cycle;LastResults\n"


def atcs(tmp_path: Path, rows: list[tuple[str, float, int, int]]) -> Path:
    path = tmp_path / "history.csv"
    lines = [
        f"{i};{name};1;{duration};0;2020-01-01 00:00:00;{verdict};{cycle};[]"
        for i, (name, duration, verdict, cycle) in enumerate(rows, start=1)
    ]
    path.write_text(HEADER + "\n".join(lines) + "\n")
    return path


def test_atcs_rows_collapse_per_cycle(tmp_path: Path) -> None:
    path = atcs(tmp_path, [("a", 1.0, 0, 2), ("a", 0.5, 1, 2), ("b", 2.0, 0, 2), ("a", 1.0, 0, 1)])
    cycles = read_atcs(path)
    assert [c.cycle for c in cycles] == [1, 2]
    assert cycles[1].tests == ["a", "b"]
    assert cycles[1].failed.tolist() == [True, False]  # failed if any build failed
    assert cycles[1].durations.tolist() == [1.5, 2.0]  # durations summed
    assert detect_format(path) == "atcs"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("Id;Name;Verdict\n1;a;0\n", "missing Cycle, Duration"),
        (HEADER + "1;a;1;x;0;;0;1;[]\n", "line 2: expected integer Cycle and Verdict"),
        (HEADER + "1;a;1;1.0;0;;2;1;[]\n", "line 2: expected Verdict 0 or 1"),
        (HEADER + "1;a;1;-1;0;;0;1;[]\n", "a Duration of 0 to 1,000,000 seconds"),
    ],
)
def test_bad_atcs(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "h.csv"
    path.write_text(content)
    with pytest.raises(InputError) as caught:
        read_atcs(path)
    assert message in caught.value.diagnosis()


def test_hand_checked_apfd_and_apfdc() -> None:
    order = np.array([2, 0, 1, 3])  # run test 2 first, then 0, 1, 3
    failed = np.array([False, True, False, True])
    # failing tests at positions 3 (test 1) and 4 (test 3): 1 - 7/(4*2) + 1/8
    assert apfd(order, failed) == pytest.approx(1 - 7 / 8 + 1 / 8)
    durations = np.array([1.0, 2.0, 3.0, 4.0])
    # in order the times are 3, 1, 2, 4 (total 10); failing at positions 3 and 4:
    # (2 + 4 - 2/2) + (4 - 4/2) = 5 + 2 = 7, over 10 * 2
    assert apfdc(order, failed, durations) == pytest.approx(7 / 20)
    assert apfd(order, np.zeros(4, dtype=bool)) is None


def test_budget_skips_what_no_longer_fits() -> None:
    order = np.array([0, 1, 2])
    chosen = select_within(order, np.array([3.0, 5.0, 1.0]), budget_seconds=4.5)
    assert chosen.tolist() == [True, False, True]


@given(
    st.lists(
        st.tuples(st.sampled_from([0.0, 0.5, 1.0, 2.0]) | st.floats(0, 10), st.booleans()), min_size=1, max_size=30
    ),
    st.randoms(use_true_random=False),
)
def test_detection_by_budget_is_what_a_test_by_test_walk_at_each_budget_finds(
    tests: list[tuple[float, bool]], rng: Random
) -> None:
    # The walks run a block at a time and stop after the ranking's last failing test; this is the
    # protocol's walk they must agree with at every budget of the grid.
    durations = np.array([d for d, _ in tests])
    failed = np.array([f for _, f in tests])
    order = np.array(rng.sample(range(len(tests)), len(tests)))
    cycle = Cycle(1, [f"t{i}" for i in range(len(tests))], failed, durations)
    expected = []
    for budget in BUDGET_GRID:
        used, found = 0.0, False
        for i in order.tolist():
            if used + durations[i] <= budget * float(durations.sum()) + 1e-12:
                used += durations[i]
                found = found or bool(failed[i])
        expected.append(found)
    none = np.zeros(len(tests), dtype=bool)
    scored = Scored(cycle, np.zeros(len(tests)), order, np.zeros(len(tests)), durations, none, none)
    assert detected_by_budget(scored).tolist() == expected


def test_model_mixes_shrunk_rates_and_round_trips(tmp_path: Path) -> None:
    model = Model()
    assert model.predict(["a"]).tolist() == pytest.approx([0.01])  # nothing seen: the prior
    # In the first run every expert says 0.01 for both tests, so none is yet preferred: after it the
    # mixture is the plain mean of the experts (golden figures changed with the experts, #21).
    model.update(["a", "b"], np.array([True, False]), np.array([1.0, 2.0]))
    assert (model.expert_loss[0] == model.expert_loss[0, 0]).all() and not model.expert_loss[1:].any()
    g = model.global_rate
    assert g == pytest.approx(1.01 / 3)
    p = model.predict(["a", "b", "new"])
    rows = experts.predictions(model._snapshot(model._indices(["a", "b", "new"])))
    assert p.tolist() == pytest.approx(rows.mean(axis=0).tolist())
    # Hand-checked rows: the rates with priors 0.5, 2, 8 (the reference among them), and the last outcome.
    rates = [[(1 + w * g) / (1 + w), w * g / (1 + w), g] for w in HISTORY_PRIOR_WEIGHTS]
    assert rows[:3].ravel().tolist() == pytest.approx(np.ravel(rates).tolist())
    again, fresh = g, (1 + g) / 3  # no run after a failure yet; 1 failure in 2 runs after a pass (or none)
    assert rows[experts.NAMES.index("last outcome")].tolist() == pytest.approx([again, fresh, fresh])
    assert model.expected_seconds(["a", "new"]).tolist() == [1.0, 1.5]  # a new test costs the median
    timed = Model()
    for seconds in (4.0, 0.0, 3.0):  # a 0 s record (a timer's resolution) moves the estimate halfway
        timed.update(["t"], np.array([False]), np.array([seconds]))
        assert timed.expected_seconds(["t"]).tolist() == [{4.0: 4.0, 0.0: 2.0, 3.0: 2.5}[seconds]]
    model.save(tmp_path / "model.npz")
    loaded = Model.load(tmp_path / "model.npz")
    assert loaded.digest == model.digest
    assert loaded.predict(["a", "b"]).tolist() == model.predict(["a", "b"]).tolist()
    (tmp_path / "bad.npz").write_bytes(b"not a model")
    with pytest.raises(InputError, match="not a model state"):
        Model.load(tmp_path / "bad.npz")


def _streaks(model: Model, length: int, cycles: int, tests: int = 20) -> list[str]:
    """Teach the model a history in which test k fails `length` runs in a row, one test after another."""
    names = [f"t{i}" for i in range(tests)]
    for k in range(cycles):
        model.update(names, np.arange(tests) == (k // length) % tests, np.ones(tests))
    return names


def test_the_model_learns_whether_failures_persist() -> None:
    persistent, flaky = Model(), Model()
    names = _streaks(persistent, length=3, cycles=181)  # t0 has just failed, the first of a streak of 3
    _streaks(flaky, length=1, cycles=181)  # t0 has just failed, the first of a streak of 1
    reference = (10 + 2 * persistent.global_rate) / (181 + 2)  # t0's rate (10 in 181), shrunk as the reference
    p = persistent.predict(names)
    assert p[0] > 0.5 > 5 * reference  # it failed 2 runs in 3 after a failure: expect it to fail again
    assert p[1:].max() < 0.1  # the others passed: they fail about 1 run in 60 after a pass
    q = flaky.predict(names)
    assert q[0] < 0.1  # a failure never lasted: it is as likely to fail as any other


def _cycles(pattern: list[list[int]]) -> list[Cycle]:
    names = [f"t{i}" for i in range(len(pattern[0]))]
    return [
        Cycle(k, list(names), np.array(row, dtype=bool), np.ones(len(names))) for k, row in enumerate(pattern, start=1)
    ]


def test_predictions_never_see_their_own_cycle() -> None:
    history = _cycles([[0, 1, 0], [0, 1, 0], [1, 0, 0], [0, 0, 0]])
    flipped = _cycles([[0, 1, 0], [0, 1, 0], [0, 0, 1], [0, 0, 0]])  # only cycle 3's outcomes differ
    a = list(replay(history, Model(), warmup=0))
    b = list(replay(flipped, Model(), warmup=0))
    for k in range(3):  # cycles 1-3 are predicted identically: nothing of cycle 3 leaks into its own
        assert a[k].p_fail.tolist() == b[k].p_fail.tolist()
    assert a[3].p_fail.tolist() != b[3].p_fail.tolist()


def test_a_recurring_failure_is_ranked_first_and_detected() -> None:
    history = _cycles([[0, 1, 0, 0]] * 12)
    figures, scored = run_backtest(history, Model, warmup=10, budgets=(0.25,))
    assert figures["cycles_scored"] == 2 and figures["failing_cycles"] == 2
    assert all(s.order[0] == 1 for s in scored)
    assert figures["budgets"][0]["failing_cycle_detection"] == 1.0
    assert figures["time_saved_at_detection"]["1"] == pytest.approx(0.75)
    assert figures["apfd"] == pytest.approx(1 - 1 / 4 + 1 / 8)


def test_select_budgets_apply_selects_own_rules() -> None:
    # Ten stable tests, one slow; then a new test fails, and the next cycle the same test fails again.
    stable = [Cycle(k, [f"t{i}" for i in range(10)], np.zeros(10, dtype=bool), np.array([9.0] + [1.0] * 9))
              for k in range(1, 13)]  # fmt: skip
    names = [*stable[0].tests, "new"]
    failing = np.array([False] * 10 + [True])
    history = [*stable, *(Cycle(k, names, failing, np.array([9.0] + [1.0] * 10)) for k in (13, 14))]
    figures, scored = run_backtest(history, ReferencePredictor, warmup=12, budgets=(0.05,))
    assert [s.new.tolist()[-1] for s in scored] == [True, False]
    assert [s.failed_last.tolist()[-1] for s in scored] == [False, True]
    assert figures["budgets"][0]["failing_cycle_detection"] == 0.0  # 5% fits no test in the ranking alone
    by_select = figures["select_budgets"][0]
    assert by_select["failing_cycle_detection"] == 1.0  # a new test, then one that failed last: always run
    assert by_select["tests_run"] == pytest.approx(1 / 11) and by_select["time_used"] == pytest.approx(1 / 19)


def test_transitions_are_tests_that_newly_fail() -> None:
    history = _cycles([[0, 0], [1, 0], [1, 1]])
    scored = list(replay(history, Model(), warmup=0))
    assert [s.transitions.tolist() for s in scored] == [[False, False], [True, False], [False, True]]


def test_cli_backtest_on_atcs_and_ledger(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = [(name, 1.0, int(name == "b" and cycle % 2 == 0), cycle) for cycle in range(1, 16) for name in "abc"]
    path = atcs(tmp_path, rows)
    out = tmp_path / "predictions.jsonl"
    assert main(["backtest", "--history", str(path), "--emit-predictions", str(out), "--budgets", "0.34,1"], {}) == 0
    figures = json.loads(capsys.readouterr().out)
    assert (figures["format"], figures["cycles"], figures["cycles_scored"]) == ("atcs", 15, 5)
    assert [b["budget"] for b in figures["budgets"]] == [0.34, 1.0]
    emitted = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(emitted) == 15
    assert {r["cycle"] for r in emitted} == {11, 12, 13, 14, 15}
    for cycle in {r["cycle"] for r in emitted}:
        assert sorted(r["rank"] for r in emitted if r["cycle"] == cycle) == [1, 2, 3]
    assert all(isinstance(r["test"], str) and 0 <= r["p_fail"] <= 1 for r in emitted)
    # Recompute one figure from the emitted rows alone: the share of failures ranked first.
    failing = [r for r in emitted if r["failed"]]
    assert failing and all(r["rank"] == 1 for r in failing)

    assert main(["backtest", "--history", str(path), "--budgets", "0,2"], {}) == 2


def test_predictions_are_never_written_over_the_history(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = atcs(tmp_path, [(name, 1.0, 0, cycle) for cycle in range(1, 16) for name in "abc"])
    (tmp_path / "link.csv").symlink_to(path)
    before = path.read_bytes()
    for emit in (path, tmp_path / "link.csv"):
        assert main(["backtest", "--history", str(path), "--emit-predictions", str(emit)], {}) == 2
        err = capsys.readouterr().err
        assert "--emit-predictions: is the history being read" in err and len(err.strip().splitlines()) == 1
    assert path.read_bytes() == before


def test_the_reference_predictor_is_the_baseline() -> None:
    reference = ReferencePredictor()
    reference.update(["a", "b"], np.array([True, False]), np.array([1.0, 2.0]))
    g = (1 + 0.01) / (2 + 1)
    assert reference.predict(["a", "b", "new"]).tolist() == pytest.approx([(1 + 2 * g) / 3, 2 * g / 3, g])
    assert reference.expected_seconds(["a", "b", "new"]).tolist() == [1.0, 2.0, 1.5]


def test_backtest_replays_the_reference_beside_the_model(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # "b" fails in streaks of three: the model learns that a failing test stays failing, the baseline cannot.
    rows = [(name, 1.0, int(name == "b" and cycle % 6 < 3), cycle) for cycle in range(1, 61) for name in "abc"]
    path = atcs(tmp_path, rows)
    assert main(["backtest", "--history", str(path), "--reference"], {}) == 0
    figures = json.loads(capsys.readouterr().out)
    reference = figures["reference"]
    assert reference["cycles_scored"] == figures["cycles_scored"] == 50
    assert figures["log_loss"] < reference["log_loss"] and figures["brier_score"] < reference["brier_score"]
    brier = figures["model_minus_reference"]["brier_score"]  # with how sure that is (see test_comparison)
    assert brier["difference"] == pytest.approx(figures["brier_score"] - reference["brier_score"])
    assert brier["interval"][0] <= brier["difference"] <= brier["interval"][1]
    learnt = figures["learnt"]  # what the model learnt: b failed again about 2 runs in 3 after a failure
    b = [verdict for name, _, verdict, _ in rows if name == "b"]
    again, after = sum(x and y for x, y in pairwise(b)), sum(b[:-1])
    g = (sum(b) + 0.01) / (len(rows) + 1)
    assert learnt["fails_again_rate"] == pytest.approx((again + g) / (after + 1))
    for weights in (learnt["weights_after_a_pass"], learnt["weights_after_a_failure"]):
        assert set(weights) <= set(experts.NAMES) and sum(weights.values()) == pytest.approx(1.0, abs=1e-3)
    assert main(["backtest", "--history", str(path)], {}) == 0
    alone = json.loads(capsys.readouterr().out)
    assert "reference" not in alone and "model_minus_reference" not in alone


def test_ledger_history(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "r.xml").write_text('<testsuite><testcase classname="t" name="ok" time="0.5"/></testsuite>')
    for _ in range(3):
        assert main(["run", "--workspace", str(tmp_path), "--report", "r.xml"], {}) == 0
    capsys.readouterr()
    ledger = tmp_path / "data" / "ci_runs.jsonl"
    assert [c.tests for c in read_ledger(ledger)] == [["t.py::ok"]] * 3
    assert main(["backtest", "--history", str(ledger), "--warmup", "1"], {}) == 0
    figures = json.loads(capsys.readouterr().out)
    assert (figures["format"], figures["cycles_scored"], figures["failing_cycles"]) == ("ledger", 2, 0)


def test_empty_scored_history_reports_nothing_rather_than_failing() -> None:
    figures = evaluate([])
    assert figures["brier_score"] is None and figures["apfd"] is None


def test_atcs_changed_files_column(tmp_path: Path) -> None:
    path = tmp_path / "history.csv"
    path.write_text(
        "Id;Name;Duration;Verdict;Cycle;ChangedFiles\n"
        "1;a;1.0;0;1;src/x.py tests/test_a.py\n2;b;1.0;0;1;src/y.py\n3;a;1.0;1;2;\n4;b;1.0;0;2;\n"
    )
    cycles = read_atcs(path)
    assert cycles[0].changed_files == ["src/x.py", "src/y.py", "tests/test_a.py"]  # the union of the rows
    assert cycles[1].changed_files == []  # the column is there: the cycle changed nothing
    assert read_atcs(atcs(tmp_path, [("a", 1.0, 0, 1)]))[0].changed_files is None  # no column: unknown


def test_a_test_that_failed_with_a_file_is_raised_when_that_file_changes(tmp_path: Path) -> None:
    model = Model()
    tests = ["tests/test_a.py::t"] + [f"tests/test_b.py::u{i}" for i in range(9)]
    for k in range(6):  # src/x.py changes in cycles 0, 2, 4; "t" fails in cycles 0 and 2
        changed = ["src/x.py"] if k % 2 == 0 else ["src/y.py"]
        model.update(tests, np.arange(10) == (0 if k in (0, 2) else -1), np.ones(10), changed)
    base = model.predict(tests)
    lifted = model.predict(tests, ["src/x.py", "README.md"])
    # 2 failures in the 3 runs that changed src/x.py, shrunk toward the test's own rate
    w = CO_FAILURE_PRIOR_WEIGHT
    assert lifted.tolist() == pytest.approx([(2 + w * base[0]) / (3 + w), *base[1:].tolist()])
    assert model.predict(tests, ["src/y.py"]).tolist() == pytest.approx(base.tolist())  # y never co-failed
    model.save(tmp_path / "model.npz")
    loaded = Model.load(tmp_path / "model.npz")
    assert loaded.digest == model.digest
    assert loaded.predict(tests, ["src/x.py"]).tolist() == lifted.tolist()


def test_a_sweeping_change_is_not_learnt_from() -> None:
    model = Model()
    sweeping = [f"src/m{i}.py" for i in range(MAX_CHANGED_FILES + 1)]
    model.update(["t"], np.array([True]), np.ones(1), sweeping)
    assert model.changes.files == [] and model.changes.co_failures == {}
    assert model.predict(["t"], ["src/m0.py"]).tolist() == model.predict(["t"]).tolist()


def test_changed_files_rank_a_test_first_the_history_alone_cannot() -> None:
    names = ["t0", "t1", "t2", "t3"] + [f"instant{i}" for i in range(16)]  # 16 tests that take no time
    history = []
    flaky = np.random.default_rng(7).random(81) < 0.5
    for k in range(1, 81):
        # t0 fails in a random half of the cycles; t3 only when src/x.py changes (every fourth cycle)
        breaks = k % 4 == 0
        changed = ["src/x.py"] if breaks else [f"src/other{k % 3}.py"]
        failed = np.array([flaky[k], False, False, breaks] + [False] * 16)
        history.append(Cycle(k, names, failed, np.array([3.0, 1.0, 1.0, 3.0] + [0.0] * 16), changed))
    scored = history[48:]
    failing = [c for c in scored if c.failed.any()]
    only_x = [c for c in failing if not c.failed[0]]  # failing cycles in which only t3 fails
    blind = [Cycle(c.cycle, c.tests, c.failed, c.durations, None) for c in history]
    # Scored from cycle 49, once src/x.py has broken t3 twelve times (the prior weighs 20 runs).
    seen, _ = run_backtest(history, Model, warmup=48, budgets=(0.5,))
    unseen, _ = run_backtest(blind, Model, warmup=48, budgets=(0.5,))
    # 4 s of 8: knowing the change, t3 runs first; blind, t0 (fails more often) runs first and t3 no longer fits
    assert seen["budgets"][0]["failing_cycle_detection"] == 1.0
    assert only_x and unseen["budgets"][0]["failing_cycle_detection"] == pytest.approx(1 - len(only_x) / len(failing))
    assert seen["apfdc"] > unseen["apfdc"]


def test_co_failures_are_learnt_from_tests_a_focused_failure_broke() -> None:
    model = Model()
    tests = [f"t{i}" for i in range(10)]
    model.update(tests, np.arange(10) < 2, np.ones(10), ["src/a.py"])  # 20% failed: not focused
    assert model.changes.co_failures == {} and model.changes.files == []
    model.update(tests, np.arange(10) == 9, np.ones(10), ["src/a.py"])  # 10%: learnt
    assert model.changes.co_failures == {0: {9: 1.0}} and model.changes.file_changes.tolist() == [1.0]
    model.update(tests, np.arange(10) == 9, np.ones(10), ["src/a.py"])  # still failing: not this change's doing
    assert model.changes.co_failures == {0: {9: 1.0}} and model.changes.file_changes.tolist() == [2.0]
    many = [f"t{i}" for i in range(200_000)]  # 10,010 newly failing of 200,000, one changed file: too many pairs
    model.update(many, np.arange(200_000) < MAX_CO_FAILURES_PER_RUN + 10, np.ones(200_000), ["src/b.py"])
    assert list(model.changes.co_failures) == [0]


def test_a_test_that_mentions_a_changed_file_can_fail_from_it_too(tmp_path: Path) -> None:
    model = Model()
    tests = ["tests/test_schema.py::test_dump", "tests/test_fields.py::test_email", "tests/test_fields.py::test_url"]
    tests += [f"tests/test_other.py::test_{i}" for i in range(7)]
    model.update(tests, np.arange(10) == 0, np.ones(10), ["src/pkg/schema.py"])
    model.update(tests, np.zeros(10, dtype=bool), np.ones(10), ["src/pkg/fields.py"])
    model.update(tests, np.arange(10) < 6, np.ones(10), ["src/pkg/fields.py"])  # a broken build: not learnt
    g = model.global_rate
    # test_dump mentioned schema (1 of 1 failed), test_email and test_url fields (0 of 2)
    assert model.mentioned_rate == pytest.approx((1 + 2 * g) / (3 + 2))
    base = model.predict(tests)
    p = model.predict(tests, ["src/pkg/fields.py"])
    r = model.mentioned_rate
    assert p.tolist() == pytest.approx([base[0], *(1 - (1 - base[1:3]) * (1 - r)), *base[3:]], rel=1e-12)
    model.save(tmp_path / "model.npz")
    assert Model.load(tmp_path / "model.npz").predict(tests, ["src/pkg/fields.py"]).tolist() == p.tolist()
    # test_dump failed in the broken build and fails again as schema.py changes: carried over, not counted
    counted = (model.changes.mentioned_runs, model.changes.mentioned_fails)
    model.update(tests, np.arange(10) == 0, np.ones(10), ["src/pkg/schema.py"])
    assert (model.changes.mentioned_runs, model.changes.mentioned_fails) == counted


def test_the_mention_keeps_the_history_s_order_and_raises_what_the_co_failures_give() -> None:
    model = Model()
    old, young, other = (
        "tests/test_schema.py::test_old",
        "tests/test_schema.py::test_young",
        "tests/test_other.py::test_x",
    )
    model.update([old, other], np.array([False, True]), np.ones(2), ["src/pkg/other.py"])  # test_x broke with other.py
    for _ in range(6):
        model.update([old, other], np.zeros(2, dtype=bool), np.ones(2), ["README.md"])
    model.update([old, young, other], np.zeros(3, dtype=bool), np.ones(3), ["README.md"])
    tests = [old, young, other]
    base = model.predict(tests)
    assert base[1] > base[0]  # one run against eight: the younger test is the likelier to fail
    p = model.predict(tests, ["src/pkg/schema.py", "src/pkg/other.py"])
    r = model.mentioned_rate
    co_failure = (1 + 20 * base[2]) / (1 + 20)  # broke in the one run that changed other.py, prior weight 20
    expected = [1 - (1 - base[0]) * (1 - r), 1 - (1 - base[1]) * (1 - r), 1 - (1 - max(base[2], co_failure)) * (1 - r)]
    assert p.tolist() == pytest.approx(expected, rel=1e-12)
    assert p[1] > p[0]  # the change raises both, and keeps their order
