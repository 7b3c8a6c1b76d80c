from __future__ import annotations

from pathlib import Path

from provenance.github.commands import MAX_ANNOTATIONS_PER_STEP
from provenance.github.publish import workflow_commands
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
