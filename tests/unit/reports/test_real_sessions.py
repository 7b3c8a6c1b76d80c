"""Real pytest sessions as CI meets them (tests/data/real/README.md): reruns, `-x`, `pytest.exit`,
interrupts, crashed xdist workers, collection errors, `--lf`, subtests, in each format the session wrote
(pytest-json-report, JUnit XML, pytest-reportlog, CTRF).

Each report must give pytest's own counts (its terminal line: an xfail is a skip, an xpass a pass, a
rerun is not a test) and a verdict that fails exactly when pytest failed or a test did. Where our
count differs from pytest's line, KNOWN says why (two quirks of pytest's own counting we do not copy,
and what pytest-json-ctrf does not write); the marks are strict, so a change that makes them agree
shows, and the entry must go.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from provenance.config import Settings
from provenance.context import RunContext
from provenance.errors import InputError
from provenance.pipeline import Inputs, decide
from provenance.reports import load_report
from provenance.schemas import Conclusion, Outcome, TestCounts, TestResult
from tests.support.project import ROOT

REAL = ROOT / "tests" / "data" / "real"
CASES = sorted(p.name for p in REAL.iterdir() if (p / "expected.json").is_file())
TEARDOWN_RERUN = "pytest counts the passed call of each attempt rerun for its teardown error; we count the test once"
SUBTEST_SKIP = "pytest -q counts failing and skipped subtests that are not counted here"
# What pytest-json-ctrf 0.6.1 does not write, so a CTRF report cannot count it (docs/records.md).
CTRF_COLLECTION = "pytest-json-ctrf writes no collection errors: it sees only the test items' reports"
CTRF_TEARDOWN = "pytest-json-ctrf keeps a test's first outcome: a teardown error after a failure or a skip is lost"
CTRF_NO_EXIT = "CTRF records no exit status; pytest-json-ctrf wrote its report whole before pytest-json-report failed"
# pytest's JUnit XML writer and pytest-json-ctrf write the test as skipped; pytest counts it passed.
SUBTEST_SKIPPED = "a unittest test one of whose subtests skipped is written as skipped"
TEARDOWN_XFAIL = "pytest counts an xfail at teardown beside the test's own outcome; we count the test once"
CTRF_COLLECTION_SKIP = "pytest-json-ctrf writes no module skipped at collection: it sees only the test items' reports"
KNOWN: dict[tuple[str, str], str] = {
    ("cachetools-subtests-quiet", "report.json"): SUBTEST_SKIP,
    ("cachetools-subtests-quiet", "report.jsonl"): SUBTEST_SKIP,
    ("cachetools-subtests-quiet", "report.xml"): SUBTEST_SKIP,
    ("cachetools-subtests-quiet", "report.ctrf.json"): SUBTEST_SKIP,
    ("packaging-reruns-setup-errors", "report.json"): TEARDOWN_RERUN,
    ("packaging-reruns-setup-errors", "report.jsonl"): TEARDOWN_RERUN,
    ("packaging-reruns-setup-errors", "report.xml"): TEARDOWN_RERUN,
    ("packaging-reruns-setup-errors", "report.ctrf.json"): TEARDOWN_RERUN,
    ("iniconfig-syntax-error", "report.ctrf.json"): CTRF_COLLECTION,
    ("iniconfig-syntax-error-continue", "report.ctrf.json"): CTRF_COLLECTION,
    ("six-syntax-error", "report.ctrf.json"): CTRF_COLLECTION,
    ("toolz-syntax-error-continue", "report.ctrf.json"): CTRF_COLLECTION,
    ("toolz-teardown-errors", "report.ctrf.json"): CTRF_TEARDOWN,
    ("toolz-skip-then-teardown", "report.ctrf.json"): CTRF_TEARDOWN,
    ("packaging-json-report-crash", "report.ctrf.json"): CTRF_NO_EXIT,
    **{
        ("toolz-xfail-then-teardown", report): TEARDOWN_XFAIL
        for report in ("report.json", "report.xml", "report.jsonl", "report.ctrf.json")
    },
    ("cachetools-unittest-subtest-skip", "report.xml"): SUBTEST_SKIPPED,
    ("cachetools-unittest-subtest-skip", "report.ctrf.json"): SUBTEST_SKIPPED,
    ("six-module-skip", "report.ctrf.json"): CTRF_COLLECTION_SKIP,
}


def _formats(case: str) -> list[str]:
    return json.loads((REAL / case / "expected.json").read_text())["reports"]


PAIRS = [(case, report) for case in CASES for report in _formats(case)]


def expected(case: str) -> tuple[dict[str, int], Conclusion]:
    golden = json.loads((REAL / case / "expected.json").read_text())
    counts = golden["counts"]
    # A test with a failing subtest is failed, as pytest counts it with its subtests fixture; with
    # unittest's subTest pytest counts the test passed beside the SUBFAILED row (`subtest_parents_passed`).
    parents = golden.get("subtest_parents_passed", 0)
    want = {
        "failed": counts.get("failed", 0) - golden["subtests_failed"] + parents,
        "errors": counts.get("errors", 0),
        "skipped": counts.get("skipped", 0) + counts.get("xfailed", 0),
        "passed": counts.get("passed", 0) + counts.get("xpassed", 0) - parents,
    }
    failed = golden["exit_status"] != 0 or want["failed"] > 0 or want["errors"] > 0
    return want, Conclusion.FAILURE if failed else Conclusion.SUCCESS


def test_the_corpus_covers_every_situation() -> None:
    situations = {json.loads((REAL / c / "expected.json").read_text())["situation"] for c in CASES}
    projects = {json.loads((REAL / c / "expected.json").read_text())["project"].split("==")[0] for c in CASES}
    assert len(projects) >= 5
    for needed in ("green", "reruns", "exitfirst", "pytest-exit", "keyboard-interrupt", "xdist-crash",
                   "collection-error", "last-failed"):  # fmt: skip
        assert any(needed in s for s in situations), needed


@pytest.mark.parametrize(
    ("case", "report"),
    [pytest.param(c, r, marks=pytest.mark.xfail(strict=True, reason=KNOWN[(c, r)])) if (c, r) in KNOWN else (c, r)
     for c, r in PAIRS],
)  # fmt: skip
def test_counts_and_verdict_are_pytests_own(case: str, report: str, tmp_path: Path) -> None:
    want, conclusion = expected(case)
    try:
        loaded = load_report(REAL / case / report, REAL / case)
    except InputError as exc:
        pytest.fail(f"refused: {exc.diagnosis()}")
    assert loaded is not None
    counts = TestCounts.of(loaded.parsed.tests)
    if json.loads((REAL / case / "expected.json").read_text())["pytest_summary"]:  # a killed pytest counts nothing
        assert {k: getattr(counts, k) for k in want} == want
    inputs = Inputs(Settings(workspace=tmp_path), RunContext(run_id="1"), None, [loaded], [], [])  # type: ignore[arg-type]
    assert decide(inputs, loaded.parsed.tests).conclusion is conclusion


@pytest.mark.parametrize("report", ["report.json", "report.xml", "report.jsonl"])
@pytest.mark.parametrize(("case", "where"), [
    ("iniconfig-syntax-error", ("testing/test_zz_syntax.py", 7)),
    ("toolz-syntax-error-continue", ("toolz/tests/test_zz_syntax.py", 7)),
    ("six-syntax-error", ("test_zz_syntax.py", 7)),
])  # fmt: skip
def test_a_syntax_error_is_annotated_on_its_own_line(case: str, where: tuple[str, int], report: str) -> None:
    loaded = load_report(REAL / case / report, REAL / case)
    assert loaded is not None
    errors = [(t.file, t.line) for t in loaded.parsed.tests if t.phase == "collect" and t.result.failed]
    assert errors == [where]


@pytest.mark.parametrize("report", ["report.json", "report.xml", "report.jsonl"])
def test_a_failure_inside_the_standard_library_is_annotated_in_the_project(report: str) -> None:
    loaded = load_report(REAL / "attrs-exitfirst" / report, REAL / "attrs-exitfirst")
    assert loaded is not None
    for test in loaded.parsed.tests:
        if test.result.failed:
            assert test.file is not None and not test.file.startswith("/") and "importlib" not in test.file


@pytest.mark.parametrize("case", ["attrs-reruns", "boltons-reruns", "iniconfig-reruns-xdist"])
def test_every_format_finds_the_same_flaky_test(case: str) -> None:
    flaky = set()
    for report in ("report.json", "report.xml", "report.jsonl", "report.ctrf.json"):
        loaded = load_report(REAL / case / report, REAL / case)
        assert loaded is not None
        flaky.add(tuple(t.nodeid for t in loaded.parsed.tests if t.outcome is Outcome.FLAKY))
    assert len(flaky) == 1
    (names,) = flaky
    assert len(names) == 1 and names[0].endswith("test_flaky_passes_on_rerun")


@pytest.mark.parametrize("report", ["report.json", "report.xml", "report.jsonl", "report.ctrf.json"])
def test_the_flaky_plugins_hidden_attempt_shows_where_the_format_keeps_every_attempt(report: str) -> None:
    """flaky writes no report of a failed call it runs again, only that attempt's setup and teardown.

    pytest's JUnit XML writes a `<testcase>` for each attempt, the report log a setup for each, pytest-json-ctrf
    a retry for each; pytest-json-report keeps the last attempt's phases alone, so the test is passed there.
    """
    case = "boltons-flaky-plugin"
    loaded = load_report(REAL / case / report, REAL / case)
    assert loaded is not None
    added = {t.nodeid.rsplit("::", 1)[1]: t.outcome for t in loaded.parsed.tests if "test_zz_" in t.nodeid}
    second_run = Outcome.PASSED if report == "report.json" else Outcome.FLAKY
    assert added == {"test_passes_on_second_run": second_run, "test_never_passes": Outcome.FAILED,
                     "test_not_flaky": Outcome.PASSED}  # fmt: skip


@pytest.mark.parametrize("case", ["iniconfig-hostile-ids", "toolz-doctest-modules", "idna-repeat",
                                  "cachetools-class-setup-errors", "attrs-runxfail"])  # fmt: skip
def test_every_format_names_the_same_tests_with_the_same_outcomes(case: str) -> None:
    """Escaped unicode, `::` and brackets inside a parametrize id, doctest items, pytest-repeat's suffixes."""
    seen = []
    for report in _formats(case):
        loaded = load_report(REAL / case / report, REAL / case)
        assert loaded is not None
        seen.append(sorted((t.nodeid, t.outcome.value) for t in loaded.parsed.tests))
    assert seen[0] and all(tests == seen[0] for tests in seen[1:])


STOPPED_INSIDE_A_TEST = {"cachetools-pytest-exit", "iniconfig-pytest-exit-zero", "toolz-keyboard-interrupt",
                         "more-itertools-sigint"}  # fmt: skip


# Where pytest-json-ctrf writes a test otherwise than pytest-json-report: why.
CTRF_DIFFERS = {"cachetools-unittest-subtest-skip": SUBTEST_SKIPPED,
                "toolz-xfail-then-teardown": "pytest-json-ctrf writes a lenient unexpected pass with an xfail at "
                                             "teardown as one xfail",
                "boltons-flaky-plugin": "the flaky plugin's hidden failed attempt is a retry in CTRF; "
                                        "pytest-json-report keeps the last attempt alone"}  # fmt: skip


@pytest.mark.parametrize(
    "case",
    [pytest.param(c, marks=pytest.mark.xfail(strict=True, reason=CTRF_DIFFERS[c])) if c in CTRF_DIFFERS else c
     for c in CASES if "report.ctrf.json" in _formats(c) and "report.json" in _formats(c)],
)  # fmt: skip
def test_ctrf_agrees_with_the_json_report_test_by_test(case: str) -> None:
    """Where pytest-json-ctrf records a test, it is the same test with the same outcome as in the JSON report.

    pytest-json-ctrf does not mark an unexpected pass (an xpass is a pass to it, as it is to the counts).
    """
    json_report = load_report(REAL / case / "report.json", REAL / case)
    ctrf = load_report(REAL / case / "report.ctrf.json", REAL / case)
    assert json_report is not None and ctrf is not None

    def outcomes(tests: list[TestResult]) -> dict[tuple[str, bool], Outcome]:
        return {(t.nodeid, t.phase == "teardown"): Outcome.PASSED if t.outcome is Outcome.XPASSED else t.outcome
                for t in tests if t.phase != "collect"}  # fmt: skip

    theirs, ours = outcomes(json_report.parsed.tests), outcomes(ctrf.parsed.tests)
    assert ours.items() <= theirs.items()
    lost = set(theirs) - set(ours)
    assert not lost or (case, "report.ctrf.json") in KNOWN, lost
    assert ctrf.parsed.unfinished == (case in STOPPED_INSIDE_A_TEST)


@pytest.mark.parametrize("report", ["report.json", "report.xml", "report.jsonl", "report.ctrf.json"])
def test_an_xfail_at_teardown_leaves_an_unexpected_pass_what_its_call_was(report: str) -> None:
    """pytest-json-report writes such a test as xfailed (its teardown's outcome); the call decides.

    pytest's JUnit XML and pytest-json-ctrf write a lenient unexpected pass with an xfail at teardown
    as one xfail: that its call passed is not in those files.
    """
    case = "toolz-xfail-then-teardown"
    loaded = load_report(REAL / case / report, REAL / case)
    assert loaded is not None
    added = {t.nodeid.rsplit("::", 1)[1]: t.outcome for t in loaded.parsed.tests if "test_zz_" in t.nodeid}
    lenient = Outcome.XFAILED if report in ("report.xml", "report.ctrf.json") else Outcome.XPASSED
    assert added == {"test_expected_failure": Outcome.XFAILED, "test_unexpected_pass": Outcome.FAILED,
                     "test_strict_unexpected_pass": Outcome.FAILED, "test_lenient_unexpected_pass": lenient,
                     "test_runs": Outcome.PASSED}  # fmt: skip


STOPPED_IN = {
    "toolz-timeout": "toolz/tests/test_zz_timeout.py::test_hung",
    "idna-killed": "tests/test_zz_crash.py::test_kills_its_own_process",
    "toolz-keyboard-interrupt": "toolz/tests/test_zz_interrupt.py::test_raises_keyboard_interrupt",
    "more-itertools-sigint": "tests/test_zz_sigint.py::test_waits_for_sigint",
}


@pytest.mark.parametrize(
    ("case", "report"), [(c, r) for c in STOPPED_IN for r in _formats(c) if r != "report.xml"]
)  # fmt: skip
def test_the_verdict_names_the_test_a_session_stopped_inside(case: str, report: str, tmp_path: Path) -> None:
    """A timeout's `os._exit`, a SIGKILL, Ctrl-C: the test the session ended in is named (JUnit XML has no name)."""
    loaded = load_report(REAL / case / report, REAL / case)
    assert loaded is not None and loaded.parsed.stopped_in == [STOPPED_IN[case]]
    inputs = Inputs(Settings(workspace=tmp_path), RunContext(run_id="1"), None, [loaded], [], [])  # type: ignore[arg-type]
    verdict = decide(inputs, loaded.parsed.tests)
    assert verdict.conclusion is Conclusion.FAILURE
    assert any(reason.endswith(f", inside {STOPPED_IN[case]}") for reason in verdict.reasons), verdict.reasons
