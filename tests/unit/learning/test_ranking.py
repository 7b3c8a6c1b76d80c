"""Which order selection follows: the model's own, or the reference's where that has reached failures sooner."""

from __future__ import annotations

import lzma
from pathlib import Path

import numpy as np
import pytest

from provenance.learning.history import Cycle, read_atcs
from provenance.learning.model import Model
from provenance.learning.ranking import first_failure_share, reference_leads, scored
from provenance.selection.backtest import ReferencePredictor
from tests.support.project import ROOT


def _history(name: str, tmp_path: Path) -> list[Cycle]:
    """A real suite's history of the benchmark (bench/data/README.md)."""
    plain = tmp_path / f"{name}.csv"
    plain.write_bytes(lzma.decompress((ROOT / "bench" / "data" / f"{name}.csv.xz").read_bytes()))
    return read_atcs(plain)


def test_the_share_spent_up_to_the_first_failing_test_by_hand() -> None:
    p, seconds = np.array([0.1, 0.5, 0.2]), np.ones(3)
    failed, durations = np.array([True, False, True]), np.array([1.0, 2.0, 3.0])
    # Ranked 1, 2, 0: test 1 passes (2 s), test 2 fails (3 s), of 6 s in all.
    assert first_failure_share(p, seconds, failed, durations) == pytest.approx(5.0 / 6.0)


@pytest.mark.parametrize(
    ("differences", "reference"),
    [
        ([], True),  # before any failing run
        ([0.1], True),  # the model's own order has yet to lead
        ([-0.1], False),  # it has reached the first failing test sooner
        ([-0.1, 0.05], False),  # behind on the latest run, not beyond chance: it keeps the lead
        ([-0.1, 0.3, 0.3, 0.3], True),  # the reference's lead, 0.8, is beyond 1.5 · √0.28
        ([-0.1, 0.3, 0.3, 0.3, -0.5], True),  # back within chance, but the model is not ahead again
        ([-0.1, 0.3, 0.3, 0.3, -0.5, -0.4], False),  # it is ahead again
    ],
)
def test_the_reference_ranks_until_the_model_leads_and_again_once_it_falls_behind_beyond_chance(
    differences: list[float], reference: bool
) -> None:
    lead = np.zeros(3)
    for d in differences:
        lead = scored(lead, d)
    assert reference_leads(lead) is reference
    assert lead[:2].tolist() == pytest.approx([sum(differences), sum(d * d for d in differences)])


def _replayed(cycles: list[Cycle]) -> tuple[Model, ReferencePredictor]:
    model, baseline = Model(), ReferencePredictor()
    for c in cycles:
        for each in (model, baseline):
            each.update(c.tests, c.failed, c.durations, c.changed_files)
    return model, baseline


def test_where_the_reference_has_ranked_better_the_model_ranks_as_it_does(tmp_path: Path) -> None:
    # click's suite over its releases, as if the reference's order had reached the first failing test
    # sooner by a lead beyond chance (as it did with provenance-change-aware-5, docs/performance.md), after
    # the model's own had led.
    model, baseline = _replayed(_history("click-seeded", tmp_path))
    for d in (-0.1, 0.3, 0.3, 0.3):  # ahead on one run, then behind on three
        model.ranking_lead = scored(model.ranking_lead, d)
    tests = model.names
    p = model.predict(tests)
    assert model.ranks_as_reference and model.learnt()["ranked_by"] == "reference"
    p_rank, seconds = model.ranking(tests, p, model.expected_seconds(tests, p))
    assert p_rank.tolist() == pytest.approx(baseline.predict(tests).tolist(), rel=1e-12)
    assert seconds.tolist() == baseline.expected_seconds(tests).tolist()
    assert not np.allclose(p_rank, p)  # the probabilities it records stay its own
    again = Model.from_bytes(model.to_bytes())
    assert again.ranks_as_reference and again.ranking_lead.tolist() == model.ranking_lead.tolist()


def test_until_its_own_order_leads_the_model_ranks_as_the_reference(tmp_path: Path) -> None:
    cycles = _history("structlog-seeded", tmp_path)
    first_failing = next(k for k, c in enumerate(cycles) if c.failed.any())
    model, _ = _replayed(cycles[:first_failing])
    assert model.ranks_as_reference and model.learnt()["ranked_by"] == "reference"
    model, _ = _replayed(cycles)  # its own order has since reached the first failing tests sooner
    assert not model.ranks_as_reference


def test_where_the_model_has_ranked_better_it_keeps_its_own_order(tmp_path: Path) -> None:
    model, _ = _replayed(_history("structlog-seeded", tmp_path))
    tests = model.names
    p = model.predict(tests)
    seconds = model.expected_seconds(tests, p)
    assert not model.ranks_as_reference and model.learnt()["ranked_by"] == "model"
    assert model.ranking(tests, p, seconds) == (p, seconds)
    assert model.ranking_lead[0] < 0  # its own order reached the first failing test sooner


def test_a_state_rebuilt_from_the_history_is_the_one_learnt_run_by_run(tmp_path: Path) -> None:
    """A run learns from the predictions the run recorded; a rebuild works them out again: the same bytes."""
    from provenance.learning.state import rebuild

    cycles = _history("click-seeded", tmp_path)
    model = Model()
    for c in cycles:
        predicted = model.predict(c.tests, c.changed_files) if model.cycles else None
        model.update(c.tests, c.failed, c.durations, c.changed_files, predicted)
    assert model.ranking_lead[1] > 0  # the rankings were scored, and the scores are in the bytes compared
    assert model.to_bytes() == rebuild(cycles).to_bytes()
