"""A check run on the pull request's head commit, carrying every failing test as an annotation.

GitHub takes at most 50 annotations a request, so the first 50 go with the new check run
(`Repository.create_check_run`) and the rest in further updates (`CheckRun.edit`): every failure
is annotated, however many. A check run's `output.summary` and `output.text` hold at most 65,535
characters each; what does not fit is cut with a line naming the provenance file.

Why a new check run, not the job's own: since March 2025 GitHub refuses to let a workflow's token
change the status or conclusion of a check run that GitHub Actions created (a job's), and a run
found by name on the commit may belong to another job or workflow. So the named check run is
created, and its summary links the job's own check run (`check-run-id`, default
`${{ job.check_run_id }}`); the job's check run already carries the step's workflow-command
annotations.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from provenance.github import summary
from provenance.github.client import ApiError, Client
from provenance.github.commands import repository_path
from provenance.github.markdown import code, inline
from provenance.pipeline import RunOutcome
from provenance.schemas import Result, TestResult
from provenance.text import plural

ANNOTATIONS_PER_REQUEST = 50
OUTPUT_LIMIT = 65535  # characters, for output.summary and output.text alike
_MESSAGE_LIMIT = 64 * 1024


@dataclass
class CheckOutcome:
    """What reached GitHub, and what the user should be told."""

    check_run_id: int | None = None
    html_url: str | None = None
    annotations: int = 0
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class JobCheckRun:
    """The check run GitHub Actions made for the job that ran the tests (`job.check_run_id`)."""

    id: int
    url: str


def annotation(test: TestResult, fallback_path: str) -> dict[str, Any]:
    """One failing test as a check-run annotation on its file and line."""
    kind = "error" if test.result is Result.ERROR else "failed"
    body = test.message or kind
    file = repository_path(test.file)
    line = (test.line if file else None) or 1
    item: dict[str, Any] = {
        "path": file or fallback_path,
        "start_line": line,
        "end_line": line,
        "annotation_level": "failure",
        "title": f"{test.nodeid} {kind}"[:255],
        "message": body[:_MESSAGE_LIMIT],
    }
    if test.longrepr:
        item["raw_details"] = test.longrepr[-_MESSAGE_LIMIT:]
    return item


def batches(items: list[dict[str, Any]], size: int = ANNOTATIONS_PER_REQUEST) -> list[list[dict[str, Any]]]:
    """The annotations in requests of at most `size` (GitHub refuses more than 50 in one)."""
    return [items[i : i + size] for i in range(0, len(items), size)]


def fit(text: str, whole_at: str, limit: int = OUTPUT_LIMIT) -> str:
    """`text` if it holds at most `limit` characters; else its start and a line saying where the whole is."""
    if len(text) <= limit:
        return text
    note = f"\n\n… cut here: a check run shows at most {limit:,} characters; the whole is in {whole_at}.\n"
    return text[: limit - len(note)] + note


def failures_text(outcome: RunOutcome) -> str:
    """`output.text`: every failing test on one line (node id, file and line, message), as many as fit."""
    lines = []
    for test in outcome.provenance.run.failures:
        where = f" ({inline(test.file, 300)}:{test.line})" if test.file and test.line else ""
        message = inline(" ".join((test.message or "").split())[:300])
        lines.append(f"- {code(test.nodeid, 300)}{where}: {message}" if message else f"- {code(test.nodeid, 300)}")
    return "\n".join(lines)


def check_output(outcome: RunOutcome, job: JobCheckRun | None) -> dict[str, Any]:
    """The check run's `output` (title, summary, text), each within GitHub's limits."""
    counts = outcome.provenance.run.counts
    title = (
        f"{counts.failed} failed, {plural(counts.errors, 'error')}, {counts.passed} passed, {counts.skipped} skipped"
    )
    link = f"Tests of the job whose check run is [{job.id}]({job.url}).\n\n" if job else ""
    whole = f"the provenance file {outcome.provenance_path}"
    # The summary renderer counts UTF-8 bytes, never fewer than characters: within the limit either way.
    text = summary.render(outcome, limit_bytes=OUTPUT_LIMIT - len(link.encode()) - 200)
    output: dict[str, Any] = {"title": title[:255], "summary": fit(link + text, whole)}
    if outcome.provenance.run.failures:
        output["text"] = fit(failures_text(outcome), whole)
    return output


def publish_check(
    client: Client, repo: str, head_sha: str, name: str, outcome: RunOutcome, job: JobCheckRun | None = None
) -> CheckOutcome:
    """Create the check run with the first 50 annotations, then add the rest 50 at a time."""
    result = CheckOutcome()
    record = outcome.provenance
    fallback = record.reports[0].path if record.reports else "."
    groups = batches([annotation(t, fallback) for t in record.run.failures])
    output = check_output(outcome, job)
    repository = client.github.get_repo(repo)  # lazy: no request
    try:
        run = client.call(
            f"POST /repos/{repo}/check-runs",
            lambda: repository.create_check_run(
                name=name, head_sha=head_sha, status="completed", conclusion=outcome.verdict.conclusion.value,
                output={**output, "annotations": groups[0] if groups else []},
            ),
        )  # fmt: skip
    except ApiError as exc:
        if exc.status in (403, 404):
            result.warnings.append(
                f"no check run was created ({exc.status}): the token cannot write checks. Give the job "
                "`permissions: checks: write`; a pull request from a fork gets a read-only token (see the "
                "workflow_run recipe in the README)"
            )
            return result
        raise
    result.check_run_id, result.html_url = run.id, run.html_url
    result.annotations = len(groups[0]) if groups else 0
    path = f"/repos/{repo}/check-runs/{run.id}"
    if len(groups) > 1:
        client.expect_url(run.url, path)  # PyGithub sends the updates to this URL, with the token
    for number, group in enumerate(groups[1:], start=2):
        update = {**output, "annotations": group}
        try:
            client.call(f"PATCH {path}", lambda update=update: run.edit(output=update))  # type: ignore[misc]
            result.annotations += len(group)
        except ApiError as exc:
            if exc.status != 422:
                raise
            result.warnings.append(f"GitHub refused annotation batch {number} of {len(groups)}: {exc.message}")
    return result
