"""The check run's limits: 50 annotations a request, 65,535 characters of summary and of text."""

from __future__ import annotations

from pathlib import Path

from provenance.github.checks import OUTPUT_LIMIT, JobCheckRun, batches, check_output, fit
from tests.support.outcomes import failing, outcome_for


def test_fifty_annotations_a_request_at_the_limit_and_one_past() -> None:
    items = [{"n": i} for i in range(51)]
    assert [len(b) for b in batches(items[:50])] == [50]
    assert [len(b) for b in batches(items)] == [50, 1]
    assert batches([]) == []


def test_output_text_at_the_limit_and_one_past() -> None:
    assert fit("x" * OUTPUT_LIMIT, "evidence/p.json") == "x" * OUTPUT_LIMIT
    cut = fit("x" * (OUTPUT_LIMIT + 1), "evidence/p.json")
    assert len(cut) == OUTPUT_LIMIT and cut.endswith("the whole is in evidence/p.json.\n")


def test_a_huge_run_fits_summary_and_text_and_links_the_job(tmp_path: Path) -> None:
    outcome = outcome_for(tmp_path, failing(3000, size=4000))
    output = check_output(outcome, JobCheckRun(88, "https://github.com/acme/app/runs/88"))
    assert len(output["summary"]) <= OUTPUT_LIMIT and len(output["text"]) <= OUTPUT_LIMIT
    assert output["summary"].startswith("Tests of the job whose check run is [88](https://github.com/acme/app/runs/88)")
    assert output["text"].endswith(f"the whole is in the provenance file {outcome.provenance_path}.\n")


def test_the_text_of_failures_is_escaped(tmp_path: Path) -> None:
    outcome = outcome_for(tmp_path, failing(2, size=10))
    text = check_output(outcome, None)["text"]
    assert "<img" not in text and "**bold**" not in text and "`code`" not in text
    assert "&#60;img src=x&#62;" in text
