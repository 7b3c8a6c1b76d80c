from __future__ import annotations

from pathlib import Path

from provenance.github import summary
from provenance.github.summary import SUMMARY_LIMIT_BYTES, fit
from provenance.schemas import Outcome, TestResult
from tests.support.outcomes import failing, outcome_for


def test_summary_stays_under_the_limit_with_a_notice(tmp_path: Path) -> None:
    outcome = outcome_for(tmp_path, failing(400))
    text = summary.render(outcome, limit_bytes=200_000)
    assert len(text.encode()) <= 200_000
    shown = text.count("<details><summary>❌")
    assert 0 < shown < 400
    assert f"{400 - shown} more failing tests are not shown here" in text
    assert text.rstrip().endswith("|")  # the provenance table survives the trimming


def test_summary_escapes_untrusted_text(tmp_path: Path) -> None:
    text = summary.render(outcome_for(tmp_path, failing(2, size=10)))
    assert "<img" not in text and "<b>" not in text and "**bold**" not in text
    assert text.count("<details><summary>❌") == 2


def test_passing_run_says_so(tmp_path: Path) -> None:
    passed = [TestResult(nodeid="t.py::ok", result=Outcome.PASSED.result, outcome=Outcome.PASSED, duration_seconds=0.1)]
    text = summary.render(outcome_for(tmp_path, passed))
    assert text.startswith("## ✅ Tests passed\n")
    assert "1 test passed, none failed" in text
    assert "Failing tests" not in text


def test_a_failing_run_reads_like_a_verdict(tmp_path: Path) -> None:
    """The verdict, then the failing tests, then the counts and the rest; no empty rows; words agree."""
    errored = TestResult(nodeid="t.py::boom", result=Outcome.ERROR.result, outcome=Outcome.ERROR, duration_seconds=0.1,
                         phase="setup", message="fixture broke")  # fmt: skip
    text = summary.render(outcome_for(tmp_path, [*failing(1, size=10), errored]))
    assert text.startswith("## ❌ Tests failed\n")
    assert "1 test failed, 1 error" in text
    assert text.index("### Failing tests (2)") < text.index("| Result | Tests |") < text.index("### Provenance")
    assert "| | |" not in text and "| Record | Value |" in text
    assert "over 1 entry |" in text
    assert "1 errors" not in text and "1 entries" not in text


def test_fit_at_the_limit_and_one_past() -> None:
    text = "é" * 1000  # 2,000 bytes: the limit counts bytes, not characters
    assert fit(text, used=SUMMARY_LIMIT_BYTES - 2000, whole_at="evidence/p.json") == text
    cut = fit(text, used=SUMMARY_LIMIT_BYTES - 1999, whole_at="evidence/p.json")
    assert len(cut.encode()) <= 1999 and cut.startswith("é")
    assert cut.endswith("The whole is in <code>evidence/p.json</code>.\n")
    assert fit(text, used=SUMMARY_LIMIT_BYTES - 10, whole_at="evidence/p.json") == ""  # not even the note fits
