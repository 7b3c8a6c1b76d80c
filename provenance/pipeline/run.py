"""The `run` pipeline, stage by stage: read the inputs, then write the records.

`gather` reads (environment, git, report files, datasets); `decide` is pure; `execute` writes the
contracts audit trail, the provenance file and the ledger entry (on the ledger branch when one is
configured). Publishing (outputs, summary, annotations) is the `github` package's.
"""

from __future__ import annotations

import json
import random
import tempfile
import time
from datetime import datetime
from pathlib import Path

from provenance.datasets.contracts import audit_records
from provenance.errors import ExternalServiceError
from provenance.gitmeta import GitUnavailable
from provenance.learning.state import model_path
from provenance.ledger.branch import LedgerBranch
from provenance.ledger.checkpoint import checkpoint_path
from provenance.pipeline.inputs import Inputs, gather
from provenance.pipeline.outcome import RunOutcome
from provenance.pipeline.record import record
from provenance.schemas import utc_now
from provenance.workspace import append_lines, atomic_write

__all__ = ["execute", "gather", "record"]


def execute(inputs: Inputs, now: datetime | None = None) -> RunOutcome:
    """The writing half of `run`: the contracts audit trail, then the records.

    The records go to the ledger branch when one is configured, else to the workspace ledger.
    """
    now = now or utc_now()
    audit_contracts(inputs, now)
    if inputs.settings.ledger_branch:
        return record_on_branch(inputs, now)
    return record(inputs, now)


def audit_contracts(inputs: Inputs, now: datetime) -> None:
    """One audit line per dataset validated in this run (written once, whatever happens after)."""
    if inputs.contracts is None:
        return
    settings = inputs.settings
    audit = audit_records(
        inputs.contracts, "validate", actor=inputs.context.actor, commit=inputs.git.commit,
        run_id=inputs.context.run_id, at=now.isoformat().replace("+00:00", "Z"),
    )  # fmt: skip
    append_lines(settings.workspace / settings.contracts_audit_log, [json.dumps(r).encode() for r in audit])


LEDGER_PUSH_ATTEMPTS = 8


def record_on_branch(inputs: Inputs, now: datetime) -> RunOutcome:
    """Append to the ledger kept on a git branch.

    Fetch, append on top, push; on a rejected push (another job got there first) fetch again and
    append on the new tip. A pull request from a fork, or one by Dependabot, gets a read-only token: nothing is pushed,
    the entry goes to the workspace ledger only, and the run says so.
    """
    settings, context = inputs.settings, inputs.context
    assert settings.ledger_branch is not None
    if context.read_only_token:
        outcome = record(inputs, now)
        outcome.warnings.append(
            f"the ledger branch {settings.ledger_branch} was not updated: a pull request from a fork or by "
            "Dependabot gets a read-only token; this entry is in the workspace ledger only"
        )
        return outcome
    branch = LedgerBranch(settings.workspace, settings.ledger_branch)
    files = [
        settings.ledger,
        checkpoint_path(Path(settings.ledger)).as_posix(),
        model_path(Path(settings.ledger)).as_posix(),
    ]
    for attempt in range(LEDGER_PUSH_ATTEMPTS):
        with tempfile.TemporaryDirectory() as temp:
            root = Path(temp)
            try:
                tip = branch.fetch()
                branch.materialize(tip, files, root)
                outcome = record(inputs, now, ledger_root=root)
                message = f"ledger: run {context.run_id} (seq {outcome.entry.seq})"
                commit = branch.commit(tip, files, root, message)
                pushed = branch.push(commit)
            except GitUnavailable as exc:
                raise ExternalServiceError(f"cannot update the ledger branch {settings.ledger_branch}: {exc}") from None
            if pushed:
                for name in files:  # later steps (uploads, commits) find the ledger where it always is
                    if (root / name).is_file():
                        atomic_write(settings.workspace / name, (root / name).read_bytes())
                outcome.ledger_commit = commit
                return outcome
        time.sleep(min(8.0, 0.25 * 2**attempt) * random.uniform(0.5, 1.0))
    raise ExternalServiceError(
        f"the ledger branch {settings.ledger_branch} kept moving: {LEDGER_PUSH_ATTEMPTS} pushes were rejected"
    )
