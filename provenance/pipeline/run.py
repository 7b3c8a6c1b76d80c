"""The `run` pipeline, stage by stage: read the inputs, then write the records.

`gather` reads (environment, git, report files, datasets); `decide` is pure; `execute` writes the
contracts audit trail, the provenance file and the ledger entry (on the ledger branch when one is
configured). Publishing (outputs, summary, annotations) is the `github` package's.
"""

from __future__ import annotations

import functools
import json
import random
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

from provenance.config import Settings
from provenance.datasets.contracts import audit_records
from provenance.errors import ExternalServiceError, InputError, IntegrityError
from provenance.gitmeta import GitUnavailable
from provenance.learning.state import model_path
from provenance.ledger.branch import LedgerBranch, PushRefused
from provenance.ledger.checkpoint import checkpoint_path, load_checkpoint
from provenance.pipeline.destinations import export_destination
from provenance.pipeline.inputs import Inputs, gather
from provenance.pipeline.outcome import RunOutcome
from provenance.pipeline.record import record
from provenance.schemas import utc_now
from provenance.workspace import append_lines, atomic_write, share_with_workspace_owner, writable_path

__all__ = ["execute", "gather", "record"]


def execute(inputs: Inputs, now: datetime | None = None) -> RunOutcome:
    """The writing half of `run`: the contracts audit trail, then the records.

    The records go to the ledger branch when one is configured, else to the workspace ledger.
    """
    now = now or utc_now()
    # The ledger branch may record more than once (a lost race); the audit trail is written once.
    audit_once = functools.cache(functools.partial(audit_contracts, inputs, now))
    if inputs.settings.ledger_branch:
        outcome = record_on_branch(inputs, now, audit_once)
    else:
        outcome = record(inputs, now, before_writing=audit_once)
    export_rows(inputs.settings, outcome, now)
    return outcome


def export_rows(settings: Settings, outcome: RunOutcome, now: datetime) -> None:
    """With `export`, the run's rows as Parquet beside the evidence (from the line the run appended)."""
    relative = export_destination(settings)
    if relative is None:
        return
    from provenance.export.parquet import LOCK_FILE, export
    from provenance.export.state import STATE_FILE

    ledger = writable_path(settings.workspace, settings.ledger, "ledger")
    directory = writable_path(settings.workspace, relative, "evidence-dir")
    result = export([ledger], directory, now, workspace=settings.workspace, appended=outcome.entry_line)
    written = [directory / name for name in (*result.files, STATE_FILE, LOCK_FILE)]
    share_with_workspace_owner(written, settings.workspace)  # later steps run as the checkout's owner
    outcome.export_path = relative.as_posix()


def audit_contracts(inputs: Inputs, now: datetime) -> None:
    """One audit line per dataset validated in this run (written once, whatever happens after)."""
    if inputs.contracts is None:
        return
    settings = inputs.settings
    audit = audit_records(
        inputs.contracts, "validate", actor=inputs.context.actor, commit=inputs.git.commit,
        run_id=inputs.context.run_id, at=now.isoformat().replace("+00:00", "Z"),
    )  # fmt: skip
    audit_log = writable_path(settings.workspace, settings.contracts_audit_log, "contracts-audit-log")
    append_lines(audit_log, [json.dumps(r).encode() for r in audit])


# How long to keep fetching, appending again and pushing while other jobs' pushes keep getting there
# first: each round lets at least one job through, so a matrix of N jobs needs at most N rounds, and
# a round on a loaded runner can take seconds. A count of attempts ran out on a busy 2-core machine.
LEDGER_PUSH_SECONDS = 300.0


def record_on_branch(inputs: Inputs, now: datetime, before_writing: Callable[[], None]) -> RunOutcome:
    """Append to the ledger kept on a git branch.

    Fetch, append on top, push; on a rejected push (another job got there first) fetch again and
    append on the new tip. A pull request from a fork, or one by Dependabot, gets a read-only token: nothing is pushed,
    the entry goes to the workspace ledger only, and the run says so. The branch must descend from
    the commit the last run here built on (the workspace's checkpoint names it), and its ledger
    must still hold what that checkpoint saw: a history rewritten shorter stops the run (exit 1).
    """
    settings, context = inputs.settings, inputs.context
    assert settings.ledger_branch is not None
    if context.read_only_token:
        outcome = record(inputs, now, before_writing=before_writing)
        outcome.warnings.append(
            f"the ledger branch {settings.ledger_branch} was not updated: a pull request from a fork or by "
            "Dependabot gets a read-only token; this entry is in the workspace ledger only"
        )
        return outcome
    branch = LedgerBranch(settings.workspace, settings.ledger_branch)
    seen = last_seen(settings)
    files = [
        settings.ledger,
        checkpoint_path(Path(settings.ledger)).as_posix(),
        model_path(Path(settings.ledger)).as_posix(),
    ]
    deadline, attempt = time.monotonic() + LEDGER_PUSH_SECONDS, 0
    while True:
        with tempfile.TemporaryDirectory() as temp:
            root = Path(temp)
            try:
                tip = branch.fetch()
                require_descent(branch, seen, tip)
                branch.materialize(tip, files, root)
                outcome = record(replace(inputs, branch_tip=tip), now, ledger_root=root,
                                 before_writing=before_writing, last_seen=seen)  # fmt: skip
                message = f"ledger: run {context.run_id} (seq {outcome.entry.seq})"
                commit = branch.commit(tip, files, root, message)
                pushed = branch.push(commit)
            except PushRefused as exc:
                raise InputError(
                    f"the remote refused the push, and retrying cannot help: {exc}; let the workflow's token "
                    "push to this branch (a hook or branch protection may forbid it)",
                    field=f"ledger-branch {settings.ledger_branch}",
                ) from None
            except GitUnavailable as exc:
                raise ExternalServiceError(f"cannot update the ledger branch {settings.ledger_branch}: {exc}") from None
            if pushed:
                for name in files:  # later steps (uploads, commits) find the ledger where it always is
                    if (root / name).is_file():
                        atomic_write(writable_path(settings.workspace, name, "ledger"), (root / name).read_bytes())
                outcome.ledger_commit = commit
                return outcome
        attempt += 1
        if time.monotonic() >= deadline:
            raise ExternalServiceError(
                f"the ledger branch {settings.ledger_branch} kept moving: {attempt} pushes were rejected "
                f"in {LEDGER_PUSH_SECONDS:g} s"
            )
        backoff = min(0.25 * 2 ** min(attempt, 5), max(0.0, deadline - time.monotonic()))  # 8 s at most
        time.sleep(backoff * random.uniform(0.5, 1.0))


def last_seen(settings: Settings) -> dict[str, Any] | None:
    """The checkpoint the last run on the ledger branch left in this workspace (kept by a cache or the runner).

    Only one written on the branch (it names the commit it built on) vouches for the branch: a
    checkpoint of a ledger kept in the workspace before the branch was used says nothing of it.
    """
    beside = checkpoint_path(writable_path(settings.workspace, settings.ledger, "ledger"))
    if not beside.is_file():
        return None
    try:
        checkpoint = load_checkpoint(beside)
    except InputError:
        return None  # a damaged checkpoint is rebuilt after the append; it vouches for nothing
    return checkpoint if "branch_tip" in checkpoint else None


def require_descent(branch: LedgerBranch, seen: dict[str, Any] | None, tip: str | None) -> None:
    """The branch's new tip descends from the commit the last run here built on, or the history was rewritten."""
    if seen is None:
        return
    built_on = seen["branch_tip"]
    if tip is None or not branch.descends(tip, built_on):
        raise IntegrityError(
            f"the ledger branch {branch.branch} was rewritten: its tip {tip or '(deleted)'} does not descend from "
            f"{built_on}, the commit the last recorded run built on; nothing was recorded: restore the branch",
            source=branch.branch,
        )
