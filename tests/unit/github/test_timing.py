"""The summary's slowest tests (folded) and the tests slower than usual, from records the real stage wrote."""

from __future__ import annotations

from pathlib import Path

from provenance.github import summary, timing
from provenance.schemas import Outcome, SlowerTest, TestResult
from tests.support.outcomes import outcome_for


def passed(nodeid: str, seconds: float, outcome: Outcome = Outcome.PASSED) -> TestResult:
    return TestResult(nodeid=nodeid, result=outcome.result, outcome=outcome, duration_seconds=seconds)


def test_the_slowest_tests_are_folded_slowest_first(tmp_path: Path) -> None:
    tests = [passed(f"t.py::test_{i}", i / 10) for i in range(1, 16)] + [passed("t.py::skipped", 9.0, Outcome.SKIPPED)]
    text = summary.render(outcome_for(tmp_path, tests))
    section = text[text.index("<details><summary>Slowest tests") :]
    section = section[: section.index("</details>")]
    assert "the 10 slowest of 15" in section
    rows = [line for line in section.splitlines() if line.startswith("| <code>")]
    assert len(rows) == 10
    assert rows[0].startswith("| <code>t.py&#58;&#58;test&#95;15</code> | 1.5 s |")
    assert rows[-1].startswith("| <code>t.py&#58;&#58;test&#95;6</code> | 600 ms |")
    assert "skipped" not in section


def test_no_slowest_section_when_nothing_took_time(tmp_path: Path) -> None:
    assert timing.slowest(outcome_for(tmp_path, [passed("t.py::a", 0.0)])) == ""


def test_slower_rows_say_how_much_slower() -> None:
    rows = timing.slower_rows([SlowerTest(nodeid="t.py::a|b", seconds=3.0, median_seconds=1.2, runs=4)])
    assert rows[2] == "| <code>t.py&#58;&#58;a&#124;b</code> | 3.0 s | 1.2 s (4 runs) | 2.5x |"


def test_durations_read_as_a_person_reads_them() -> None:
    assert [timing.seconds(s) for s in (0.0042, 0.84, 3.25, 125.0)] == ["4 ms", "840 ms", "3.2 s", "2 min 5 s"]
