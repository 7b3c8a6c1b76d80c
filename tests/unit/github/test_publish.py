from __future__ import annotations

import io
from pathlib import Path

import pytest

from provenance.config import Settings
from provenance.errors import InputError
from provenance.github.commands import MAX_ANNOTATIONS_PER_STEP
from provenance.github.publish import OUTPUT_LIMIT_BYTES, annotation_for, fit_outputs, publish, workflow_commands
from provenance.github.summary import SUMMARY_LIMIT_BYTES
from provenance.reports.common import make_result
from provenance.schemas import Outcome
from tests.support.outcomes import failing, outcome_for
from tests.support.runner import parse_commands


def test_first_ten_failures_are_annotated_and_the_rest_counted(tmp_path: Path) -> None:
    outcome = outcome_for(tmp_path, failing(13, size=50))
    commands = parse_commands("\n".join(workflow_commands(outcome, annotate=True)))
    errors = [c for c in commands if c.name == "error"]
    notices = [c for c in commands if c.name == "notice"]
    assert len(errors) == MAX_ANNOTATIONS_PER_STEP == 10
    assert errors[0].properties == {
        "file": "tests/test_big.py",
        "line": "1",
        "title": "tests/test_big.py::test_0[<b>|x|</b>] failed",
    }
    assert errors[0].data.startswith("AssertionError: **bold** `code` <img src=x>\n\nE   xxx")
    assert len(notices) == 1
    assert notices[0].data.startswith("3 more failing tests are not annotated")


def test_annotations_can_be_turned_off(tmp_path: Path) -> None:
    outcome = outcome_for(tmp_path, failing(3, size=5))
    names = [c.name for c in parse_commands("\n".join(workflow_commands(outcome, annotate=False)))]
    assert names == ["warning"]  # git metadata unknown: warnings are not annotations of tests


def test_ten_warnings_at_most_the_rest_in_the_summary(tmp_path: Path) -> None:
    for count, shown in ((10, 10), (11, 10)):
        outcome = outcome_for(tmp_path / str(count), failing(0))
        outcome.warnings[:] = [f"warning {i}" for i in range(count)]
        commands = parse_commands("\n".join(workflow_commands(outcome, annotate=True)))
        assert [c.name for c in commands].count("warning") == shown
        notices = [c.data for c in commands if c.name == "notice"]
        assert notices == ([] if count == 10 else ["1 more warning is in the job summary (GitHub shows 10 a step)."])


def test_ten_error_annotations_at_the_limit_and_one_past(tmp_path: Path) -> None:
    for count, notices in ((10, 0), (11, 1)):
        outcome = outcome_for(tmp_path / str(count), failing(count, size=5))
        names = [c.name for c in parse_commands("\n".join(workflow_commands(outcome, annotate=True)))]
        assert (names.count("error"), names.count("notice")) == (10, notices)


def test_outputs_at_the_limit_and_one_past() -> None:
    # 500,000 ASCII characters are 1,000,000 bytes as UTF-16, GitHub's measure; the name counts too.
    at_limit = {"x": "a" * (OUTPUT_LIMIT_BYTES // 2 - 1)}
    assert fit_outputs(at_limit) == (at_limit, [])
    kept, warnings = fit_outputs({"x": "a" * (OUTPUT_LIMIT_BYTES // 2)})
    assert kept == {"x": ""} and warnings[0].startswith("output x left empty: 1,000,000 bytes")
    # Each within the limit, but not all together: the largest goes first.
    many = {"a": "a" * 300_000, "b": "b" * 200_000, "c": "c" * 10}
    kept, warnings = fit_outputs(many)
    assert kept == {"a": "", "b": many["b"], "c": many["c"]} and len(warnings) == 1


def test_the_summary_counts_what_the_step_summary_already_holds(tmp_path: Path) -> None:
    outcome = outcome_for(tmp_path, failing(400, size=4000))
    summary_file = tmp_path / "summary.md"
    summary_file.write_text("x" * 900_000)  # an earlier step of this job wrote its own summary here
    env = {"GITHUB_STEP_SUMMARY": str(summary_file), "GITHUB_OUTPUT": str(tmp_path / "out")}
    publish(outcome, Settings(workspace=tmp_path), env, True, stdout=io.StringIO(), stderr=io.StringIO())
    assert summary_file.stat().st_size <= SUMMARY_LIMIT_BYTES
    assert summary_file.stat().st_size > SUMMARY_LIMIT_BYTES - 10_000  # filled, not skipped


def test_the_summary_links_the_history_page_when_site_url_is_set(tmp_path: Path) -> None:
    outcome = outcome_for(tmp_path, failing(2))
    url = "https://acme.github.io/app/history/"
    settings = Settings.from_inputs({"INPUT_SITE-URL": url}).model_copy(update={"workspace": tmp_path})
    env = {"GITHUB_STEP_SUMMARY": str(tmp_path / "with.md"), "GITHUB_OUTPUT": str(tmp_path / "out")}
    publish(outcome, settings, env, True, stdout=io.StringIO(), stderr=io.StringIO())
    text = (tmp_path / "with.md").read_text()
    assert f"[Test history]({url}): every run, flaky tests, calibration." in text
    assert text.index("[Test history]") < text.index("### Failing tests")  # beside the verdict
    env["GITHUB_STEP_SUMMARY"] = str(tmp_path / "without.md")
    publish(outcome, Settings(workspace=tmp_path), env, True, stdout=io.StringIO(), stderr=io.StringIO())
    assert "Test history" not in (tmp_path / "without.md").read_text()


@pytest.mark.parametrize(
    "url",
    ["http://acme.github.io/app/", "javascript:alert(1)", "https://acme.github.io/a) [x](https://evil.example",
     "https://acme.github.io/<img>", "https://acme.github.io/a b", "https://"],
)  # fmt: skip
def test_a_site_url_that_is_no_plain_https_address_is_bad_input(url: str) -> None:
    with pytest.raises(InputError) as caught:
        Settings.from_inputs({"INPUT_SITE-URL": url})
    assert caught.value.field == "site-url"
    assert caught.value.diagnosis().startswith(
        "action inputs: site-url: expected an https:// address with no spaces, quotes, brackets or parentheses"
    )


@pytest.mark.parametrize("file", ["/etc/passwd", "../outside.py", "tests/../../x.py"])
def test_a_failure_placed_outside_the_repository_is_annotated_on_no_file(file: str) -> None:
    test = make_result(nodeid="t.py::a", outcome=Outcome.FAILED, duration=0.1, file=file, line=3, phase="call",
                       message="boom", longrepr=None)  # fmt: skip
    annotation = annotation_for(test)
    assert (annotation.file, annotation.line) == (None, None)
    assert annotation_for(make_result(nodeid="t.py::a", outcome=Outcome.FAILED, duration=0.1, file="t.py", line=3,
                                      phase="call", message="boom", longrepr=None)).file == "t.py"  # fmt: skip
