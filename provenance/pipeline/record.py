"""The writing half of `run`: the provenance file, the ledger entry, the checkpoint and the attestations.

The provenance file names the ledger position it will occupy (`seq`, `prev`), and the ledger entry
carries the provenance file's digest, so each vouches for the other.
"""

from __future__ import annotations

import contextlib
import hashlib
import math
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from provenance import __version__
from provenance.choices import FailOn
from provenance.config import Settings
from provenance.datasets.contracts import Validation
from provenance.errors import InputError, IntegrityError
from provenance.learning.calibration import BinTotals
from provenance.learning.history import Cycle, PreviousRun, collapse, last_run_on
from provenance.learning.model import MODEL_VERSION, Model
from provenance.learning.state import load_model, model_path
from provenance.ledger.attestation import (
    LINEAGE_PREDICATE,
    TEST_RESULT_PREDICATE,
    Subject,
    lineage_predicate,
    statement,
    subject_checksums,
    subjects_of,
    test_result_predicate,
)
from provenance.ledger.chain import Appender, Head, open_for_append
from provenance.ledger.checkpoint import checkpoint_path, load_checkpoint
from provenance.ledger.links import check_links
from provenance.pipeline.badge import write_badge
from provenance.pipeline.changes import read_before_append
from provenance.pipeline.ctrf import write_ctrf
from provenance.pipeline.destinations import Destinations, destinations
from provenance.pipeline.inputs import Inputs
from provenance.pipeline.outcome import RunOutcome
from provenance.pipeline.scoring import calibrate_run, past_scores, run_scores
from provenance.pipeline.verdict import decide, warnings_for
from provenance.schemas import (
    FAILED_RESULTS,
    CIProvenance,
    CIRun,
    DatasetLineage,
    LedgerPointer,
    LedgerTest,
    ModelProvenance,
    Retention,
    TestCounts,
    utc_now,
)
from provenance.selection.hindsight import selection_hindsight
from provenance.workspace import atomic_write, pretty_json, share_with_workspace_owner, writable_path


def check_run_url(server_url: str, repository: str | None, check_run_id: int | None) -> str | None:
    """The page of the job's check run (`{server}/{owner}/{repo}/runs/{id}`), when both are known."""
    if check_run_id is None or not repository:
        return None
    return f"{server_url.rstrip('/')}/{repository}/runs/{check_run_id}"


def build_run(inputs: Inputs, now: datetime) -> CIRun:
    """The seed's `CIRun`, from the context, git and the merged reports (pure)."""
    context = inputs.context
    tests = [test for loaded in inputs.reports for test in loaded.parsed.tests]
    walltimes = [r.source.walltime_seconds for r in inputs.reports if r.source.walltime_seconds is not None]
    starts = [r.parsed.started_at for r in inputs.reports if r.parsed.started_at is not None]
    walltime = math.fsum(walltimes) if walltimes else math.fsum(t.duration_seconds for t in tests)
    return CIRun(
        run_id=context.run_id,
        run_attempt=context.run_attempt,
        repository=context.repository,
        workflow=context.workflow,
        job=context.job,
        event_name=context.event_name,
        actor=context.actor,
        ref=context.ref,
        sha=context.sha or inputs.git.commit,
        pr_number=context.pr_number,
        pr_base_sha=context.pr_base_sha,
        pr_head_sha=context.pr_head_sha,
        run_url=context.run_url,
        check_run_id=inputs.settings.check_run_id,
        check_run_url=check_run_url(context.server_url, context.repository, inputs.settings.check_run_id),
        runner_os=context.runner_os,
        runner_arch=context.runner_arch,
        git=inputs.git,
        started_at=min(starts) if starts else None,
        recorded_at=now,
        walltime_seconds=walltime,
        counts=TestCounts.of(tests),
        tests=tests,
    )


def write_provenance(path: Path, provenance: CIProvenance) -> str:
    """Write the provenance file and return its sha256; its bytes are let go at once (they can be large).

    pydantic dumps all but the tests, and orjson writes those from the `TestResult` dataclasses
    directly: pydantic would read each enum's value through Python, a third of a 100,000-test run.
    """
    document = provenance.model_dump(mode="json", exclude={"run": {"tests"}})
    document["run"]["tests"] = provenance.run.tests
    data = pretty_json(document)
    atomic_write(path, data)
    return hashlib.sha256(data).hexdigest()


def record(
    inputs: Inputs,
    now: datetime | None = None,
    ledger_root: Path | None = None,
    before_writing: Callable[[], None] | None = None,
    last_seen: dict[str, Any] | None = None,
) -> RunOutcome:
    """Decide, then write the provenance file and append the ledger entry under the ledger's lock.

    Every precondition (the ledger verifies, the destinations, `--supersedes`, what the model and
    the calibration read from the ledger) is checked before the first byte is written;
    `before_writing` then runs (the contracts audit trail).
    """
    now = now or utc_now()
    settings = inputs.settings
    run = build_run(inputs, now)
    where = destinations(settings, inputs.context)
    ledger_path = writable_path(ledger_root, settings.ledger, "ledger") if ledger_root else where.ledger
    evidence_rel = where.evidence["provenance"]
    with open_for_append(ledger_path) as ledger:
        require_intact(ledger_path, last_seen)
        correction = _correction(settings, ledger.head.next_seq, ledger_path)
        model, cycle, p_fail, predictions = predict_run(inputs, run, ledger_path, ledger.head)
        scores = run_scores(cycle, predictions)
        calibration = calibrate_run(scores, past_scores(model, ledger_path, settings.calibration_window - 1))
        slower, changes = read_before_append(settings, inputs.context.base_ref, run.tests, ledger_path)
        provenance = CIProvenance(
            tool="provenance",
            tool_version=__version__,
            run=run,
            verdict=decide(inputs, run.tests, calibration, compared_run(inputs, ledger_path), slower),
            reports=[loaded.source for loaded in inputs.reports],
            contracts_manifest=inputs.contracts.manifest_path if inputs.contracts else None,
            datasets=dataset_lineage(inputs.contracts),
            model=ModelProvenance(model_hash=model.digest, model_version=MODEL_VERSION),
            calibration=calibration,
            selection_hindsight=selection_hindsight(model, cycle, p_fail, settings) if p_fail is not None else None,
            retention=Retention(retention_years=settings.retention_years,
                                retain_until=_add_years(now, settings.retention_years)),
            ledger=LedgerPointer(path=settings.ledger, seq=ledger.head.next_seq, prev=ledger.head.prev),
        )  # fmt: skip
        if before_writing is not None:  # everything read from the ledger has been read
            before_writing()
        provenance_sha256 = write_provenance(where.resolved("provenance"), provenance)
        entry = ledger.append(entry_fields(provenance, predictions, evidence_rel, provenance_sha256) | correction)
        checkpoint, checkpoint_bytes, checkpoint_rel = write_checkpoints(ledger, inputs, where, now)
        learn(model, cycle, p_fail, scores, entry.entry_hash, ledger_path, keep=settings.calibration_window)
    attestations = write_attestations(inputs, where, provenance, provenance_sha256, entry.entry_hash, checkpoint,
                                      checkpoint_bytes)  # fmt: skip
    if where.badge is not None:
        write_badge(where.badge, provenance.verdict, run.counts)
    ctrf_path = write_ctrf(where.ctrf, inputs, provenance, predictions, evidence_rel.as_posix(), provenance_sha256)
    share_written(inputs, where, ledger_path)
    warnings = warnings_for(inputs) + _torn_write(ledger.quarantined)
    return RunOutcome(checkpoint_path=checkpoint_rel.as_posix(), provenance_path=evidence_rel.as_posix(), entry=entry,
                      badge_path=settings.badge_path or "", server_url=inputs.context.server_url, provenance=provenance,
                      provenance_sha256=provenance_sha256, ledger_path=settings.ledger, attestations=attestations,
                      checkpoint=checkpoint, ctrf_path=ctrf_path, warnings=warnings, changes=changes,
                      entry_line=ledger.last_line)  # fmt: skip


def _torn_write(quarantined: Path | None) -> list[str]:
    """The warning for a torn last write the appender moved aside, so the user knows where its bytes went."""
    if quarantined is None:
        return []
    return [f"the ledger ended with a torn write; its bytes were moved to {quarantined.name} "
            "and the ledger cut back to its last whole entry"]  # fmt: skip


def predict_run(
    inputs: Inputs, run: CIRun, ledger_path: Path, head: Head
) -> tuple[Model, Cycle, npt.NDArray[np.float64] | None, dict[str, float]]:
    """The model learnt from every entry before this one, this run as its cycle, and the predictions.

    The predictions are the user's when given, else the model's; they are scored and recorded,
    then the model learns from the outcome.
    """
    model = load_model(ledger_path, head.prev)
    rows = [(t.nodeid, t.result in FAILED_RESULTS, t.duration_seconds) for t in run.tests]
    changed = [f.path for f in run.git.changed_files] if run.git.changed_files is not None else None
    cycle = collapse(head.next_seq, rows, changed)
    # Nothing learnt yet (no history): a prior is not a prediction worth scoring or selecting by.
    p_fail = model.predict(cycle.tests, cycle.changed_files) if model.cycles else None
    predictions = inputs.predictions or (dict(zip(cycle.tests, p_fail.tolist(), strict=True))
                                         if p_fail is not None else {})  # fmt: skip
    return model, cycle, p_fail, predictions


def compared_run(inputs: Inputs, ledger_path: Path) -> PreviousRun | None:
    """For `fail-on: regression`: the last recorded run of this branch, else of the pull request's base."""
    if inputs.settings.fail_on is not FailOn.REGRESSION:
        return None
    branches = tuple(b for b in dict.fromkeys((inputs.git.branch, inputs.context.base_ref)) if b)
    return last_run_on(ledger_path, branches) if branches else None


def share_written(inputs: Inputs, where: Destinations, ledger_path: Path) -> None:
    """Hand what this run wrote in the workspace to the workspace's owner (the container runs as root)."""
    workspace = inputs.settings.workspace
    written = [ledger_path, checkpoint_path(ledger_path), model_path(ledger_path),
               *(where.resolved(key) for key in where.evidence)]  # fmt: skip
    if inputs.contracts is not None:
        written.append(where.contracts_audit_log)
    written += [path for path in (where.badge, where.ctrf) if path is not None]
    share_with_workspace_owner([p for p in written if workspace.resolve() in p.resolve().parents], workspace)


def require_intact(ledger_path: Path, last_seen: dict[str, Any] | None = None) -> None:
    """The gate stands on the ledger it extends: the whole chain must verify before one byte is added.

    Against the checkpoint beside it too, when that loads, and against `last_seen` (the checkpoint
    the last run on a ledger branch left in the workspace), so a ledger cut shorter than a run saw
    it is found. A ledger that does not verify is an integrity failure (exit 1), naming its line.
    """
    checkpoints = [last_seen] if last_seen is not None else []
    if not ledger_path.is_file() or ledger_path.stat().st_size == 0:
        if last_seen is not None and last_seen["size"] > 0:
            raise IntegrityError(f"the ledger is gone but the last run here saw {last_seen['size']} entries; "
                                 "nothing was recorded", source=str(ledger_path))  # fmt: skip
        return
    if checkpoint_path(ledger_path).is_file():
        with contextlib.suppress(InputError):  # a damaged checkpoint is rebuilt from the ledger after the append
            checkpoints.append(load_checkpoint(checkpoint_path(ledger_path)))
    found = check_links(ledger_path, *checkpoints)
    if found.problem is not None:
        where = f"line {found.line}: " if found.line else ""
        raise IntegrityError(f"{where}{found.problem}; nothing was recorded: run `provenance verify` and restore "
                             "the ledger from its last good copy", source=str(ledger_path))  # fmt: skip


def learn(model: Model, cycle: Cycle, predicted: npt.NDArray[np.float64] | None, scores: BinTotals, head: str,
          ledger_path: Path, keep: int) -> None:  # fmt: skip
    """The model learns the run's outcome (`predicted`: its predictions for the run) and is saved at the new head."""
    model.update(cycle.tests, cycle.failed, cycle.durations, cycle.changed_files, predicted)
    model.remember_scores(scores.to_row(), keep=keep)
    model.ledger_head = head
    model.save(model_path(ledger_path))


def write_checkpoints(
    ledger: Appender, inputs: Inputs, where: Destinations, now: datetime
) -> tuple[dict[str, Any], bytes, Path]:
    """The checkpoint after this run's entry: beside the ledger, and a copy with the evidence.

    The next run extends the one beside the ledger (its Merkle frontier); the copy travels with the
    evidence, so a later truncation or rewrite of the ledger shows.
    """
    checkpoint = ledger.checkpoint(now, inputs.context.run_id, inputs.branch_tip)
    data = pretty_json(checkpoint)
    atomic_write(checkpoint_path(ledger.path), data)
    atomic_write(where.resolved("checkpoint"), data)
    return checkpoint, data, where.evidence["checkpoint"]


def entry_fields(
    provenance: CIProvenance, predictions: dict[str, float], evidence_rel: Path, provenance_sha256: str
) -> dict[str, Any]:
    """The ledger entry of a run, but for its chain fields (seq, prev, entry_hash) and a correction."""
    run, calibration, model = provenance.run, provenance.calibration, provenance.model
    assert model is not None  # every run records the model that predicted it
    return {
        "recorded_at": run.recorded_at,
        "run_id": run.run_id,
        "run_attempt": run.run_attempt,
        "repository": run.repository,
        "commit": run.sha,
        "branch": run.git.branch,
        "conclusion": provenance.verdict.conclusion,
        "counts": run.counts,
        "walltime_seconds": run.walltime_seconds,
        "tests": [LedgerTest(t.nodeid, t.result, t.duration_seconds, predictions.get(t.nodeid)) for t in run.tests],
        "changed_files": [f.path for f in run.git.changed_files] if run.git.changed_files is not None else None,
        "reports": [source.sha256 for source in provenance.reports],
        "provenance_path": evidence_rel.as_posix(),
        "provenance_sha256": provenance_sha256,
        "retention_until": provenance.retention.retain_until,
        "model_hash": model.model_hash,
        "model_version": model.model_version,
        "dataset_id": [d.dataset_id for d in provenance.datasets],
        "dataset_checksum": [d.dataset_checksum for d in provenance.datasets],
        **(
            {"brier_score": calibration.run.brier_score, "ece": calibration.run.ece, "mce": calibration.run.mce}
            if calibration is not None and calibration.run is not None
            else {}
        ),
    }


def write_attestations(
    inputs: Inputs,
    where: Destinations,
    record: CIProvenance,
    provenance_sha256: str,
    entry_hash: str,
    checkpoint: dict[str, Any],
    checkpoint_bytes: bytes,
) -> dict[str, str]:
    """The in-toto statements, the bare predicate and the subject checksums `actions/attest` takes."""
    checkpoint_name = where.evidence["checkpoint"].as_posix()
    checkpoint_subject = Subject(checkpoint_name, "sha256", hashlib.sha256(checkpoint_bytes).hexdigest())
    subjects = subjects_of(record, checkpoint_subject, inputs.artifacts)
    predicate = test_result_predicate(record, inputs.configuration)
    lineage = lineage_predicate(record, provenance_sha256, checkpoint, entry_hash)
    documents: dict[str, bytes] = {
        "statement": pretty_json(statement(subjects, TEST_RESULT_PREDICATE, predicate)),
        "lineage": pretty_json(statement(subjects, LINEAGE_PREDICATE, lineage)),
        "predicate": pretty_json(predicate),
        "subjects": subject_checksums(subjects).encode(),
    }
    for key, data in documents.items():
        atomic_write(where.resolved(key), data)
    return {key: where.evidence[key].as_posix() for key in documents}


def _correction(settings: Settings, next_seq: int, ledger_path: Path) -> dict[str, Any]:
    """A correction is a new entry naming the one it supersedes; the earlier entry stays as it was."""
    if settings.supersedes is None:
        return {}
    if settings.supersedes >= next_seq:
        raise InputError(f"there is no entry {settings.supersedes} to supersede yet (next is {next_seq})",
                         source=str(ledger_path), field="--supersedes")  # fmt: skip
    return {"supersedes": settings.supersedes, "correction_reason": settings.correction_reason}


def dataset_lineage(validation: Validation | None) -> list[DatasetLineage]:
    """The validation's results as the provenance file records them."""
    if validation is None:
        return []
    return [
        DatasetLineage(
            dataset_id=r.dataset_id, path=r.path, kind=r.kind, dataset_checksum=r.actual,
            expected_checksum=r.expected, size=r.size, nfiles=r.nfiles, status=r.status, problems=r.problems,
        )
        for r in validation.results
    ]  # fmt: skip


def _add_years(moment: datetime, years: int) -> datetime:
    try:
        return moment.replace(year=moment.year + years)
    except ValueError:  # 29 February in a year that has none
        return moment.replace(year=moment.year + years, day=28) + timedelta(days=1)
