"""The `run` pipeline, stage by stage: read the context, ingest the reports, decide, record.

`gather` reads (environment, git, report files); `decide` is pure; `record` writes the
provenance file and the ledger entry. Publishing (outputs, summary, annotations) is the CLI's.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from provenance import __version__
from provenance.config import FailOn, IfNoReport, Settings
from provenance.context import RunContext, read_context
from provenance.datasets.contracts import Validation, audit_records, load_manifest, validate
from provenance.datasets.hashing import sha256_file
from provenance.errors import ExternalServiceError, InputError
from provenance.gitmeta import GitUnavailable, read_git
from provenance.learning.calibration import BinTotals, CalibrationReport, read_test_predictions
from provenance.learning.calibration import report as calibration_report
from provenance.learning.history import Cycle, collapse, recent_predictions
from provenance.learning.model import MODEL_VERSION, Model
from provenance.learning.prediction import load_model, model_path, selection_hindsight
from provenance.ledger.attestation import (
    LINEAGE_PREDICATE,
    TEST_RESULT_PREDICATE,
    Subject,
    artifact_subjects,
    lineage_predicate,
    statement,
    subject_checksums,
    subjects_of,
    test_result_predicate,
)
from provenance.ledger.branch import LedgerBranch
from provenance.ledger.chain import open_for_append
from provenance.ledger.checkpoint import checkpoint_path
from provenance.reports import LoadedReport, display_path, find_reports, load_report
from provenance.schemas import (
    FAILED_RESULTS,
    CalibrationFigures,
    CalibrationSummary,
    CIProvenance,
    CIRun,
    Conclusion,
    DatasetLineage,
    ExperimentLedgerEntry,
    GitInfo,
    LedgerPointer,
    LedgerTest,
    ModelProvenance,
    Retention,
    TestCounts,
    TestResult,
    Verdict,
    utc_now,
)
from provenance.workspace import append_lines, atomic_write, pretty_json, share_with_workspace_owner

# What pytest's exit status means when the counts alone would not say it.
_EXIT_MEANINGS = {2: "interrupted", 3: "an internal error", 4: "a usage error"}
DEFAULT_CONTRACTS = "data_contracts.yaml"
# With failure rates near 1%, a bin of a handful of samples swings MCE to anything; bins with fewer
# samples than this are left out of the MCE the gate and the summary show (ECE keeps them).
MCE_MIN_BIN_COUNT = 10


@dataclass(frozen=True)
class Inputs:
    """Everything read at the edge, before anything is decided or written."""

    settings: Settings
    context: RunContext
    git: GitInfo
    reports: list[LoadedReport]
    unmatched: list[str]
    empty: list[str]
    predictions: dict[str, float] = field(default_factory=dict)
    contracts: Validation | None = None
    artifacts: list[Subject] = field(default_factory=list)
    configuration: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class RunOutcome:
    """What a run produced: the records, where they were written, and what to warn about."""

    provenance: CIProvenance
    entry: ExperimentLedgerEntry
    provenance_path: str
    provenance_sha256: str
    ledger_path: str
    checkpoint_path: str
    checkpoint: dict[str, Any]
    attestations: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    ledger_commit: str = ""

    @property
    def verdict(self) -> Verdict:
        """The run's verdict."""
        return self.provenance.verdict

    def outputs(self) -> dict[str, str]:
        """The step outputs, by their action.yml names."""
        counts = self.provenance.run.counts
        return {
            "conclusion": self.verdict.conclusion.value,
            "tests-total": str(counts.total),
            "tests-passed": str(counts.passed),
            "tests-failed": str(counts.failed),
            "tests-skipped": str(counts.skipped),
            "tests-errors": str(counts.errors),
            "duration-seconds": f"{self.provenance.run.walltime_seconds or 0.0:.3f}",
            "run-id": self.provenance.run.run_id,
            "ledger-path": self.ledger_path,
            "ledger-seq": str(self.entry.seq),
            "ledger-head": self.entry.entry_hash,
            "ledger-commit": self.ledger_commit,
            "provenance-path": self.provenance_path,
            "provenance-sha256": self.provenance_sha256,
            "checkpoint-path": self.checkpoint_path,
            "merkle-root": self.checkpoint["merkle_root"],
            "attestation-path": self.attestations["statement"],
            "lineage-attestation-path": self.attestations["lineage"],
            "predicate-path": self.attestations["predicate"],
            "predicate-type": TEST_RESULT_PREDICATE,
            "subject-checksums": self.attestations["subjects"],
            **self._calibration_outputs(),
            **self._contract_outputs(),
        }

    def _contract_outputs(self) -> dict[str, str]:
        datasets = self.provenance.datasets
        if self.provenance.contracts_manifest is None:
            return {"contracts-status": "none", "contracts-failed": "0"}
        failed = [d for d in datasets if d.status != "ok"]
        return {"contracts-status": "failed" if failed else "ok", "contracts-failed": str(len(failed))}

    def _calibration_outputs(self) -> dict[str, str]:
        window = self.provenance.calibration.window if self.provenance.calibration else None
        return {
            "brier-score": f"{window.brier_score:.6f}" if window else "",
            "ece": f"{window.ece:.6f}" if window else "",
            "mce": f"{window.mce:.6f}" if window else "",
            "calibration-samples": str(window.n_samples) if window else "0",
        }


def gather(settings: Settings, env: Mapping[str, str]) -> Inputs:
    """Read the context, git and every report; raises `InputError` on anything malformed."""
    context = read_context(env, settings.run_id)
    workspace = settings.workspace
    if not workspace.is_dir():
        raise InputError("expected an existing directory", source=str(workspace), field="workspace")
    check_destinations(settings)
    git = read_git(workspace, compare_base=context.compare_base, branch_hint=context.branch)
    matches = {pattern: find_reports((pattern,), workspace) for pattern in settings.report}
    unmatched = [pattern for pattern, found in matches.items() if not found]
    reports: list[LoadedReport] = []
    empty: list[str] = []
    for path in dict.fromkeys(path for found in matches.values() for path in found):
        loaded = load_report(path, workspace)
        if loaded is None:
            empty.append(display_path(path, workspace))
        else:
            reports.append(loaded)
    predictions = read_test_predictions(str(workspace / settings.predictions)) if settings.predictions else {}
    contracts = validate_contracts(settings)
    artifacts = artifact_subjects(settings.artifacts, workspace) if settings.artifacts else []
    return Inputs(settings, context, git, reports, unmatched, empty, predictions, contracts, artifacts,
                  test_configuration(settings, context, contracts))  # fmt: skip


def check_destinations(settings: Settings) -> None:
    """Refuse unusable output paths before anything is written, so a bad one leaves no trace."""
    workspace = settings.workspace
    for name, relative in (("ledger", settings.ledger), ("contracts-audit-log", settings.contracts_audit_log)):
        if (workspace / relative).is_dir():
            raise InputError("expected a file, found a directory", source=relative, field=name)
    evidence = workspace / settings.evidence_dir
    if evidence.exists() and not evidence.is_dir():
        raise InputError("expected a directory, found a file", source=settings.evidence_dir, field="evidence-dir")


def test_configuration(settings: Settings, context: RunContext, contracts: Validation | None) -> list[dict[str, Any]]:
    """What configured the test run, as in-toto resource descriptors: the workflow and our inputs."""
    described: list[dict[str, Any]] = []
    if context.workflow_ref:
        described.append({"name": context.workflow_ref, "uri": f"{context.server_url}/{context.workflow_ref}"})
    for name in (contracts.manifest_path if contracts else None, settings.predictions):
        if name and (settings.workspace / name).is_file():
            described.append({"name": name, "digest": {"sha256": sha256_file(settings.workspace / name)}})
    return described


def validate_contracts(settings: Settings) -> Validation | None:
    """The `validate` stage: hash every dataset of the manifest (skipped when the default one is absent)."""
    name = settings.contracts or DEFAULT_CONTRACTS
    path = settings.workspace / name
    if settings.contracts is None and not path.exists():
        return None
    return validate(load_manifest(path), settings.workspace, name)


# The run's calibration bins: ten of equal width, so the totals of runs add up over the window.
CALIBRATION_EDGES = np.linspace(0.0, 1.0, 11)


def run_scores(cycle: Cycle, predictions: dict[str, float]) -> BinTotals:
    """The calibration totals of a run's predictions, for the tests that had one."""
    p_fail = np.array([predictions.get(name, np.nan) for name in cycle.tests], dtype=np.float64)
    scored = ~np.isnan(p_fail)
    return BinTotals.of(p_fail[scored], cycle.failed[scored].astype(np.float64), CALIBRATION_EDGES)


def past_scores(model: Model, ledger_path: Path, count: int) -> list[BinTotals]:
    """The calibration totals of the last `count` ledger entries, oldest first.

    The model state keeps them; when it keeps fewer (it was rebuilt from the ledger, or the window
    grew), the entries themselves are read: an entry of a large suite is megabytes.
    """
    wanted = min(count, model.cycles)
    if len(model.scored_runs) >= wanted:
        return [BinTotals.from_row(row) for row in model.scored_runs[len(model.scored_runs) - wanted :]]
    return [run_scores(cycle, predicted) for cycle, predicted in recent_predictions(ledger_path, count)]


def calibrate_run(run: BinTotals, past: list[BinTotals]) -> CalibrationSummary | None:
    """Score the predictions made before this run, alone and over the rolling window (pure).

    The window is this run plus the previous `calibration-window - 1` ledger entries; only tests
    that had a prediction count. None when no prediction exists anywhere in the window.
    """
    scored = [totals for totals in (run, *past) if totals.counts.sum()]
    if not scored:
        return None

    def figures(totals: BinTotals) -> tuple[CalibrationFigures, CalibrationReport]:
        report = calibration_report(totals, CALIBRATION_EDGES, min_bin_count=MCE_MIN_BIN_COUNT)
        return CalibrationFigures(
            brier_score=report.brier_score, ece=report.ece, mce=report.mce,
            n_samples=report.n_samples, base_rate=report.base_rate,
        ), report  # fmt: skip

    window, report = figures(sum(scored[1:], scored[0]))
    diagram = report.reliability_diagram
    return CalibrationSummary(
        run=figures(run)[0] if run.counts.sum() else None,
        window=window,
        window_runs=len(scored),
        bins=report.n_bins,
        mce_min_bin_count=report.mce_min_bin_count,
        bin_centers=diagram.bin_centers,
        mean_predicted=diagram.mean_predicted,
        empirical_probs=diagram.empirical_probs,
        bin_counts=diagram.bin_counts,
    )


def decide(inputs: Inputs, tests: list[TestResult], calibration: CalibrationSummary | None = None) -> Verdict:
    """The gate: what fails the run, and why.

    Failures and errors fail; a missing report or an interrupted session never passes; calibration
    over the window beyond `max-ece` or `max-brier` fails.
    """
    settings = inputs.settings
    counts = TestCounts.of(tests)
    reasons: list[str] = []
    failed = False
    neutral = False
    if not inputs.reports:
        reasons.append(_no_report_reason(inputs))
        failed = settings.if_no_report is IfNoReport.FAIL
        neutral = not failed
    for loaded in inputs.reports:
        status = loaded.parsed.exit_status
        if status in _EXIT_MEANINGS:
            reasons.append(f"pytest exited with status {status} ({_EXIT_MEANINGS[status]}) in {loaded.source.path}")
            failed = True
    if counts.failed or counts.errors:
        reasons.append(_plural(counts.failed, "test") + " failed, " + _plural(counts.errors, "error"))
        failed = True
    if inputs.contracts is not None and inputs.contracts.blocks:
        failures = inputs.contracts.failures
        reasons.append(
            f"{_plural(len(failures), 'dataset')} failed the contract: " + "; ".join(r.describe() for r in failures)
        )
        failed = True
    if calibration is not None:
        window = calibration.window
        for name, value, limit in (
            ("ECE", window.ece, settings.max_ece),
            ("Brier score", window.brier_score, settings.max_brier),
        ):
            if limit is not None and value > limit:
                reasons.append(
                    f"{name} {value:.4f} over the last {calibration.window_runs} runs exceeds the limit {limit:g}"
                )
                failed = True
    if inputs.reports and counts.total == 0:
        reasons.append("the reports contain no tests")
        if settings.if_no_report is IfNoReport.FAIL:
            failed = True
        else:
            neutral = True
    if failed:
        conclusion = Conclusion.FAILURE
    elif neutral:
        conclusion = Conclusion.NEUTRAL
    else:
        conclusion = Conclusion.SUCCESS
        reasons.append(f"{_plural(counts.passed, 'test')} passed, none failed")
    return Verdict(
        conclusion=conclusion,
        reasons=reasons,
        gate_failed=conclusion is Conclusion.FAILURE and settings.fail_on is not FailOn.NONE,
    )


def warnings_for(inputs: Inputs) -> list[str]:
    """What the user should know even when the run passes."""
    warnings = []
    if not inputs.reports:
        warnings.append(_no_report_reason(inputs))
    elif inputs.unmatched:
        warnings.append("no report matched " + ", ".join(inputs.unmatched))
    if inputs.contracts is not None and inputs.contracts.failures and not inputs.contracts.blocks:
        warnings.extend(
            f"dataset {r.dataset_id} failed its contract (block_on_mismatch is off): {r.describe()}"
            for r in inputs.contracts.failures
        )
    if inputs.git.status == "unknown":
        warnings.append(f"git metadata unknown: {inputs.git.reason}")
    return warnings


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
        runner_os=context.runner_os,
        runner_arch=context.runner_arch,
        git=inputs.git,
        started_at=min(starts) if starts else None,
        recorded_at=now,
        walltime_seconds=walltime,
        counts=TestCounts.of(tests),
        tests=tests,
    )


def evidence_name(context: RunContext, kind: str = "ci_provenance", extension: str = ".json") -> str:
    """`ci_provenance_<run_id>.json`; a re-run attempt gets `-<attempt>` so it never overwrites."""
    attempt = f"-{context.run_attempt}" if context.run_attempt > 1 else ""
    return f"{kind}_{context.run_id}{attempt}{extension}"


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


def record(inputs: Inputs, now: datetime | None = None, ledger_root: Path | None = None) -> RunOutcome:
    """Decide, then write the provenance file and append the ledger entry under the ledger's lock.

    The provenance file names the ledger position it will occupy (`seq`, `prev`), and the ledger
    entry carries the provenance file's digest, so each vouches for the other.
    """
    now = now or utc_now()
    settings = inputs.settings
    run = build_run(inputs, now)
    workspace = settings.workspace
    ledger_path = (ledger_root or workspace) / settings.ledger
    evidence_rel = Path(settings.evidence_dir) / evidence_name(inputs.context)
    retention = Retention(
        retention_years=settings.retention_years,
        retain_until=_add_years(now, settings.retention_years),
    )
    lineage = dataset_lineage(inputs.contracts)
    with open_for_append(ledger_path) as ledger:
        # The model learnt from every entry before this one predicts this run; its predictions are
        # scored (unless the user supplied their own) and recorded, then it learns from the outcome.
        model = load_model(ledger_path, ledger.head.prev)
        rows = [(t.nodeid, t.result in FAILED_RESULTS, t.duration_seconds) for t in run.tests]
        changed = [f.path for f in run.git.changed_files] if run.git.changed_files is not None else None
        cycle = collapse(ledger.head.next_seq, rows, changed)
        # Nothing learnt yet (no history): a prior is not a prediction worth scoring or selecting by.
        p_fail = model.predict(cycle.tests, cycle.changed_files) if model.cycles else None
        predictions = inputs.predictions or (dict(zip(cycle.tests, p_fail.tolist(), strict=True))
                                             if p_fail is not None else {})  # fmt: skip
        hindsight = selection_hindsight(model, cycle, p_fail, settings) if p_fail is not None else None
        model_used = ModelProvenance(model_hash=model.digest, model_version=MODEL_VERSION)
        scores = run_scores(cycle, predictions)
        calibration = calibrate_run(scores, past_scores(model, ledger_path, settings.calibration_window - 1))
        verdict = decide(inputs, run.tests, calibration)
        provenance = CIProvenance(
            tool="provenance",
            tool_version=__version__,
            run=run,
            verdict=verdict,
            reports=[loaded.source for loaded in inputs.reports],
            contracts_manifest=inputs.contracts.manifest_path if inputs.contracts else None,
            datasets=lineage,
            model=model_used,
            calibration=calibration,
            selection_hindsight=hindsight,
            retention=retention,
            ledger=LedgerPointer(path=settings.ledger, seq=ledger.head.next_seq, prev=ledger.head.prev),
        )
        provenance_sha256 = write_provenance(workspace / evidence_rel, provenance)
        entry = ledger.append(
            {
                "recorded_at": now,
                "run_id": run.run_id,
                "run_attempt": run.run_attempt,
                "repository": run.repository,
                "commit": run.sha,
                "branch": inputs.git.branch,
                "conclusion": verdict.conclusion,
                "counts": run.counts,
                "walltime_seconds": run.walltime_seconds,
                "tests": [
                    LedgerTest(t.nodeid, t.result, t.duration_seconds, predictions.get(t.nodeid)) for t in run.tests
                ],
                "changed_files": changed,
                "reports": [loaded.source.sha256 for loaded in inputs.reports],
                "provenance_path": evidence_rel.as_posix(),
                "provenance_sha256": provenance_sha256,
                "retention_until": retention.retain_until,
                "model_hash": model_used.model_hash,
                "model_version": model_used.model_version,
                **_correction(settings, ledger.head.next_seq, ledger_path),
                "dataset_id": [d.dataset_id for d in lineage],
                "dataset_checksum": [d.dataset_checksum for d in lineage],
                **(
                    {"brier_score": calibration.run.brier_score, "ece": calibration.run.ece, "mce": calibration.run.mce}
                    if calibration is not None and calibration.run is not None
                    else {}
                ),
            }
        )
        # The latest checkpoint stays beside the ledger (the next run extends its Merkle frontier);
        # a copy goes with the evidence, so a later truncation or rewrite of the ledger shows.
        checkpoint = ledger.checkpoint(now, run.run_id)
        checkpoint_bytes = pretty_json(checkpoint)
        atomic_write(checkpoint_path(ledger_path), checkpoint_bytes)
        checkpoint_rel = Path(settings.evidence_dir) / evidence_name(inputs.context, "ledger_checkpoint")
        atomic_write(workspace / checkpoint_rel, checkpoint_bytes)
        quarantined = ledger.quarantined
        model.update(cycle.tests, cycle.failed, cycle.durations, cycle.changed_files)
        model.remember_scores(scores.to_row(), keep=settings.calibration_window)
        model.ledger_head = entry.entry_hash
        model.save(model_path(ledger_path))
    attestations = write_attestations(
        inputs, provenance, provenance_sha256, entry.entry_hash, checkpoint, checkpoint_rel, checkpoint_bytes
    )
    written = [ledger_path, workspace / evidence_rel, checkpoint_path(ledger_path), workspace / checkpoint_rel,
               model_path(ledger_path)]  # fmt: skip
    written += [workspace / p for p in attestations.values()]
    if inputs.contracts is not None:
        written.append(workspace / settings.contracts_audit_log)
    share_with_workspace_owner([p for p in written if workspace.resolve() in p.resolve().parents], workspace)
    return RunOutcome(
        provenance=provenance,
        entry=entry,
        provenance_path=evidence_rel.as_posix(),
        provenance_sha256=provenance_sha256,
        ledger_path=settings.ledger,
        checkpoint_path=checkpoint_rel.as_posix(),
        checkpoint=checkpoint,
        attestations=attestations,
        warnings=warnings_for(inputs)
        + (
            [
                f"the ledger ended with a torn write; its bytes were moved to {quarantined.name} and the ledger cut "
                "back to its last whole entry"
            ]
            if quarantined is not None
            else []
        ),
    )


def write_attestations(
    inputs: Inputs,
    record: CIProvenance,
    provenance_sha256: str,
    entry_hash: str,
    checkpoint: dict[str, Any],
    checkpoint_rel: Path,
    checkpoint_bytes: bytes,
) -> dict[str, str]:
    """The in-toto statements, the bare predicate and the subject checksums `actions/attest` takes."""
    settings = inputs.settings
    checkpoint_subject = Subject(checkpoint_rel.as_posix(), "sha256", hashlib.sha256(checkpoint_bytes).hexdigest())
    subjects = subjects_of(record, checkpoint_subject, inputs.artifacts)
    predicate = test_result_predicate(record, inputs.configuration)
    paths = {
        "statement": Path(settings.evidence_dir) / evidence_name(inputs.context, "test_result.intoto"),
        "lineage": Path(settings.evidence_dir) / evidence_name(inputs.context, "lineage.intoto"),
        "predicate": Path(settings.evidence_dir) / evidence_name(inputs.context, "test_result_predicate"),
        "subjects": Path(settings.evidence_dir) / evidence_name(inputs.context, "subject_checksums", ".txt"),
    }
    lineage = lineage_predicate(record, provenance_sha256, checkpoint, entry_hash)
    documents: dict[str, bytes] = {
        "statement": pretty_json(statement(subjects, TEST_RESULT_PREDICATE, predicate)),
        "lineage": pretty_json(statement(subjects, LINEAGE_PREDICATE, lineage)),
        "predicate": pretty_json(predicate),
        "subjects": subject_checksums(subjects).encode(),
    }
    for key, data in documents.items():
        atomic_write(settings.workspace / paths[key], data)
    return {key: path.as_posix() for key, path in paths.items()}


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


def _no_report_reason(inputs: Inputs) -> str:
    if inputs.empty:
        return "the test report is empty: " + ", ".join(inputs.empty)
    return "no test report found at " + ", ".join(inputs.unmatched or inputs.settings.report)


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _add_years(moment: datetime, years: int) -> datetime:
    try:
        return moment.replace(year=moment.year + years)
    except ValueError:  # 29 February in a year that has none
        return moment.replace(year=moment.year + years, day=28) + timedelta(days=1)
