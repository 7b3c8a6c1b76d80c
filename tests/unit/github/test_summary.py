from __future__ import annotations

from pathlib import Path

from provenance.github import summary
from provenance.schemas import Outcome, TestResult
from tests.support.outcomes import failing, outcome_for


def test_summary_stays_under_the_limit_with_a_notice(tmp_path: Path) -> None:
    outcome = outcome_for(tmp_path, failing(400))
    text = summary.render(outcome, limit_bytes=200_000)
    assert len(text.encode()) <= 200_000
    shown = text.count("<details>")
    assert 0 < shown < 400
    assert f"{400 - shown} more failing tests are not shown here" in text
    assert text.rstrip().endswith("|")  # the provenance table survives the trimming


def test_summary_escapes_untrusted_text(tmp_path: Path) -> None:
    text = summary.render(outcome_for(tmp_path, failing(2, size=10)))
    assert "<img" not in text and "<b>" not in text and "**bold**" not in text
    assert text.count("<details>") == 2


def test_passing_run_says_so(tmp_path: Path) -> None:
    passed = [TestResult(nodeid="t.py::ok", result=Outcome.PASSED.result, outcome=Outcome.PASSED, duration_seconds=0.1)]
    text = summary.render(outcome_for(tmp_path, passed))
    assert text.startswith("## ✅ Tests passed\n")
    assert "1 test passed, none failed" in text
    assert "Failing tests" not in text
