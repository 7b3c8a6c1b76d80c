"""The run's context: the GitHub Actions variables and event payload, read once at the edge."""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict

from provenance import reading
from provenance.errors import InputError
from provenance.schemas import utc_now

_NULL_SHA = "0" * 40
_SHA_RE = re.compile(r"^(?:[0-9a-f]{40}|[0-9a-f]{64})$")


class RunContext(BaseModel):
    """Where the run happened. Every field is optional: outside GitHub most are unknown."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    in_github: bool = False
    run_id: str
    run_attempt: int = 1
    repository: str | None = None
    workflow: str | None = None
    workflow_ref: str | None = None
    job: str | None = None
    event_name: str | None = None
    actor: str | None = None
    ref: str | None = None
    ref_name: str | None = None
    head_ref: str | None = None
    base_ref: str | None = None
    sha: str | None = None
    server_url: str = "https://github.com"
    pr_number: int | None = None
    pr_base_sha: str | None = None
    pr_head_sha: str | None = None
    pr_head_repo: str | None = None
    push_before: str | None = None
    runner_os: str | None = None
    runner_arch: str | None = None

    @property
    def run_url(self) -> str | None:
        """Link to the workflow run, when it ran on GitHub."""
        if not (self.in_github and self.repository and self.run_id.isdigit()):
            return None
        url = f"{self.server_url}/{self.repository}/actions/runs/{self.run_id}"
        return url + (f"/attempts/{self.run_attempt}" if self.run_attempt > 1 else "")

    @property
    def branch(self) -> str | None:
        """The branch as a person names it: the PR's head branch, else the ref's short name."""
        if self.head_ref:
            return self.head_ref
        if self.ref and self.ref.startswith("refs/heads/"):
            return self.ref_name or self.ref.removeprefix("refs/heads/")
        return None

    @property
    def read_only_token(self) -> bool:
        """A pull request from a fork, or opened by Dependabot, runs with a read-only token."""
        from_fork = (
            self.pr_head_repo is not None and self.repository is not None and self.pr_head_repo != self.repository
        )
        return from_fork or (self.actor or "").startswith("dependabot")

    @property
    def compare_base(self) -> str | None:
        """The commit to diff against: the PR base, else the commit before a push."""
        if self.pr_base_sha:
            return self.pr_base_sha
        if self.push_before and self.push_before != _NULL_SHA:
            return self.push_before
        return None


def read_context(env: Mapping[str, str], run_id: str | None = None) -> RunContext:
    """Build the context from the environment; a broken event payload is bad input (exit 2)."""
    in_github = env.get("GITHUB_ACTIONS") == "true"
    event_path = env.get("GITHUB_EVENT_PATH") or "event payload"
    event = _load_event(env.get("GITHUB_EVENT_PATH"))
    pr = event.get("pull_request") if isinstance(event.get("pull_request"), dict) else None

    def get(name: str) -> str | None:
        return env.get(name) or None

    return RunContext(
        in_github=in_github,
        run_id=run_id or get("GITHUB_RUN_ID") or local_run_id(),
        run_attempt=_int(get("GITHUB_RUN_ATTEMPT"), "GITHUB_RUN_ATTEMPT") or 1,
        repository=get("GITHUB_REPOSITORY"),
        workflow=get("GITHUB_WORKFLOW"),
        workflow_ref=get("GITHUB_WORKFLOW_REF"),
        job=get("GITHUB_JOB"),
        event_name=get("GITHUB_EVENT_NAME"),
        actor=get("GITHUB_ACTOR"),
        ref=get("GITHUB_REF"),
        ref_name=get("GITHUB_REF_NAME"),
        head_ref=get("GITHUB_HEAD_REF"),
        base_ref=get("GITHUB_BASE_REF"),
        sha=_sha(get("GITHUB_SHA"), "environment", "GITHUB_SHA"),
        server_url=get("GITHUB_SERVER_URL") or "https://github.com",
        pr_number=_nested_int(pr, "number"),
        pr_base_sha=_sha(_nested_str(pr, "base", "sha"), event_path, "pull_request.base.sha"),
        # On `workflow_run` (the fork recipe) the commit under test is the triggering run's head.
        pr_head_sha=_sha(
            _nested_str(pr, "head", "sha") or _nested_str(event, "workflow_run", "head_sha"), event_path, "head_sha"
        ),
        pr_head_repo=_nested_str(pr, "head", "repo", "full_name"),
        push_before=_sha(_nested_str(event, "before"), event_path, "before"),
        runner_os=get("RUNNER_OS"),
        runner_arch=get("RUNNER_ARCH"),
    )


def local_run_id() -> str:
    """A run id for runs outside GitHub: sortable by time, unique enough for one workspace."""
    return "local-" + utc_now().strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(3)


def _load_event(path: str | None) -> dict[str, Any]:
    if not path:
        return {}
    try:
        event = reading.loads(
            reading.read_input(path, field="GITHUB_EVENT_PATH"), source=path, field="GITHUB_EVENT_PATH"
        )
    except reading.MissingInput:
        return {}
    if not isinstance(event, dict):
        raise InputError("expected a JSON object", source=path, field="GITHUB_EVENT_PATH")
    return event


def _sha(value: str | None, source: str, field: str) -> str | None:
    if value is not None and not _SHA_RE.match(value):
        raise InputError(
            f"expected a 40- or 64-digit lowercase hex git SHA (got {value!r})", source=source, field=field
        )
    return value


def _int(value: str | None, name: str) -> int | None:
    if value is None:
        return None
    if not (value.isascii() and value.isdigit() and len(value) <= 18):  # a run id or attempt fits in 64 bits
        raise InputError(f"expected a positive integer of at most 18 digits (got {value[:40]!r})",
                         source="environment", field=name)  # fmt: skip
    return int(value)


def _nested_str(data: Mapping[str, Any] | None, *keys: str) -> str | None:
    node: Any = data
    for key in keys:
        if not isinstance(node, Mapping):
            return None
        node = node.get(key)
    return node if isinstance(node, str) and node else None


def _nested_int(data: Mapping[str, Any] | None, key: str) -> int | None:
    value = data.get(key) if data else None
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None
