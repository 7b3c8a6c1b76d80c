"""The reading half of `run`: the context, git, the reports, the contracts and the artifacts, before any write."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from provenance.config import Settings
from provenance.context import RunContext, read_context
from provenance.datasets.contracts import Validation, load_manifest, validate
from provenance.datasets.hashing import sha256_file
from provenance.errors import InputError
from provenance.gitmeta import read_git
from provenance.learning.calibration import read_test_predictions
from provenance.ledger.attestation import Subject, artifact_subjects, signable
from provenance.pipeline.destinations import destinations, not_written, require_new_run
from provenance.reports import LoadedReport, display_path, find_reports, load_report
from provenance.reports.sessions import one_per_session
from provenance.schemas import GitInfo

DEFAULT_CONTRACTS = "data_contracts.yaml"


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
    # What was done with reports of one session named twice, or of several merged.
    report_notes: list[str] = field(default_factory=list)
    # On a ledger branch: the commit this run's entry is appended on (recorded in the checkpoint).
    branch_tip: str | None = None


def gather(settings: Settings, env: Mapping[str, str]) -> Inputs:
    """Read the context, git and every report; raises `InputError` on anything malformed."""
    context = read_context(env, settings.run_id)
    workspace = settings.workspace
    if not workspace.is_dir():
        raise InputError("expected an existing directory", source=str(workspace), field="workspace")
    where = destinations(settings, context)
    require_new_run(where)
    git = read_git(workspace, compare_base=context.compare_base, branch_hint=context.branch)
    matches = {pattern: find_reports((pattern,), workspace) for pattern in settings.report}
    not_written(where.written(), read_by_the_run(settings, [path for paths in matches.values() for path in paths]),
                workspace)  # fmt: skip
    unmatched = [pattern for pattern, found in matches.items() if not found]
    reports: list[LoadedReport] = []
    empty: list[str] = []
    for path in dict.fromkeys(path for found in matches.values() for path in found):
        loaded = load_report(path, workspace)
        if loaded is None:
            empty.append(display_path(path, workspace))
        else:
            reports.append(loaded)
    predictions, old_key = (
        read_test_predictions(str(workspace / settings.predictions)) if settings.predictions else ({}, False)
    )
    contracts = validate_contracts(settings)
    artifacts = artifact_subjects(settings.artifacts, workspace) if settings.artifacts else []
    for loaded in reports:
        signable(loaded.source.path, "report")
    for result in contracts.results if contracts is not None else []:
        signable(result.path, "contracts")
    reports, notes = one_per_session(reports)
    if old_key:
        notes.append(f'{settings.predictions} names tests by "nodeid"; write "test", as backtest --emit-predictions '
                     'does ("nodeid" is read until the next release)')  # fmt: skip
    return Inputs(settings, context, git, reports, unmatched, empty, predictions, contracts, artifacts,
                  test_configuration(settings, context, contracts), notes)  # fmt: skip


def read_by_the_run(settings: Settings, reports: list[Path]) -> dict[str, list[Path]]:
    """The files the run reads, by the setting that names them: none of them may be one it writes."""
    contracts = settings.workspace / (settings.contracts or DEFAULT_CONTRACTS)
    predictions = [settings.workspace / settings.predictions] if settings.predictions else []
    read = [contracts] if os.path.isfile(contracts) else []  # noqa: PTH113 (no error: an unsearchable directory is False)
    return {"report": reports, "predictions": predictions, "contracts": read}


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
