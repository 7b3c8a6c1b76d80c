"""A check run on the pull request's head commit, carrying every failing test as an annotation.

GitHub takes at most 50 annotations per request, so the first 50 go with the check run and the
rest in further updates: every failure is annotated, however many. The job's own check run is
updated when one of the same name is found in progress on the commit (a new one would often be
listed under the wrong workflow).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from provenance.github import summary
from provenance.github.api import ApiError, GitHubApi
from provenance.pipeline import RunOutcome
from provenance.schemas import Result, TestResult
from provenance.text import plural

ANNOTATIONS_PER_REQUEST = 50
SUMMARY_LIMIT = 65535
_MESSAGE_LIMIT = 64 * 1024


@dataclass
class CheckOutcome:
    """What reached GitHub, and what the user should be told."""

    check_run_id: int | None = None
    html_url: str | None = None
    annotations: int = 0
    warnings: list[str] = field(default_factory=list)


def annotation(test: TestResult, fallback_path: str) -> dict[str, Any]:
    """One failing test as a check-run annotation on its file and line."""
    kind = "error" if test.result is Result.ERROR else "failed"
    body = test.message or kind
    item: dict[str, Any] = {
        "path": test.file or fallback_path,
        "start_line": test.line or 1,
        "end_line": test.line or 1,
        "annotation_level": "failure",
        "title": f"{test.nodeid} {kind}"[:255],
        "message": body[:_MESSAGE_LIMIT],
    }
    if test.longrepr:
        item["raw_details"] = test.longrepr[-_MESSAGE_LIMIT:]
    return item


def publish_check(api: GitHubApi, repo: str, head_sha: str, name: str, outcome: RunOutcome) -> CheckOutcome:
    """Create (or update) the check run, then add the remaining annotations 50 at a time."""
    result = CheckOutcome()
    record = outcome.provenance
    failures = record.run.failures
    fallback = record.reports[0].path if record.reports else "."
    annotations = [annotation(t, fallback) for t in failures]
    batches = [
        annotations[i : i + ANNOTATIONS_PER_REQUEST] for i in range(0, len(annotations), ANNOTATIONS_PER_REQUEST)
    ]
    counts = record.run.counts
    title = (
        f"{counts.failed} failed, {plural(counts.errors, 'error')}, {counts.passed} passed, {counts.skipped} skipped"
    )
    text = summary.render(outcome, limit_bytes=SUMMARY_LIMIT - 200)
    output: dict[str, Any] = {"title": title, "summary": text, "annotations": batches[0] if batches else []}
    body: dict[str, Any] = {"status": "completed", "conclusion": outcome.verdict.conclusion.value, "output": output}
    try:
        existing = _own_check_run(api, repo, head_sha, name)
        if existing is not None:
            run = api.request("PATCH", f"/repos/{repo}/check-runs/{existing}", json=body).json()
        else:
            run = api.request(
                "POST", f"/repos/{repo}/check-runs", json={"name": name, "head_sha": head_sha, **body}
            ).json()
    except ApiError as exc:
        if exc.status in (403, 404):
            result.warnings.append(
                f"no check run was created ({exc.status}): the token cannot write checks. Give the job "
                "`permissions: checks: write`; a pull request from a fork gets a read-only token (see the "
                "workflow_run recipe in the README)"
            )
            return result
        raise
    result.check_run_id = int(run["id"])
    result.html_url = run.get("html_url")
    result.annotations = len(batches[0]) if batches else 0
    for number, batch in enumerate(batches[1:], start=2):
        update = {"output": {"title": title, "summary": text, "annotations": batch}}
        try:
            api.request("PATCH", f"/repos/{repo}/check-runs/{result.check_run_id}", json=update)
            result.annotations += len(batch)
        except ApiError as exc:
            if exc.status != 422:
                raise
            result.warnings.append(f"GitHub refused annotation batch {number} of {len(batches)}: {exc.message}")
    return result


def _own_check_run(api: GitHubApi, repo: str, head_sha: str, name: str) -> int | None:
    """The id of an in-progress check run of this name on the commit, if there is one."""
    found = api.get_json(f"/repos/{repo}/commits/{head_sha}/check-runs", {"check_name": name, "status": "in_progress"})
    for run in found.get("check_runs") or []:
        if run.get("name") == name and run.get("status") == "in_progress":
            return int(run["id"])
    return None
