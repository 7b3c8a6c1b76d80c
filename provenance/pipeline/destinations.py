"""Every file a run writes, named once and resolved through the workspace's one resolver.

Built before the first write, so a symlinked `evidence/`, a ledger path that leads out of the
workspace or an earlier run's records under the same run id stop the run with nothing written.
"""

from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass
from pathlib import Path

from provenance.config import Settings
from provenance.context import RunContext
from provenance.errors import InputError
from provenance.learning.state import model_path
from provenance.ledger.checkpoint import checkpoint_path
from provenance.workspace import safe_name, writable_path

# The evidence files of one run: key, file name stem, extension.
EVIDENCE = (
    ("provenance", "ci_provenance", ".json"),
    ("checkpoint", "ledger_checkpoint", ".json"),
    ("statement", "test_result.intoto", ".json"),
    ("lineage", "lineage.intoto", ".json"),
    ("predicate", "test_result_predicate", ".json"),
    ("subjects", "subject_checksums", ".txt"),
)


def evidence_name(context: RunContext, kind: str = "ci_provenance", extension: str = ".json") -> str:
    """`ci_provenance_<run_id>.json`; a re-run attempt gets `-<attempt>` so it never overwrites."""
    attempt = f"-{context.run_attempt}" if context.run_attempt > 1 else ""
    run_id = safe_name(context.run_id, "run id (GITHUB_RUN_ID or --run-id)")
    return f"{kind}_{run_id}{attempt}{extension}"


@dataclass(frozen=True)
class Destinations:
    """Where this run writes: the evidence files as the records name them (relative) and resolved."""

    evidence: dict[str, Path]
    evidence_files: dict[str, Path]
    ledger: Path
    contracts_audit_log: Path
    badge: Path | None = None
    export: Path | None = None  # with `export`: the run's rows, as Parquet, beside the evidence
    ctrf: Path | None = None  # the run as a CTRF report (`ctrf-out`), when asked for

    def resolved(self, key: str) -> Path:
        """An evidence file's path, resolved inside the workspace."""
        return self.evidence_files[key]


def destinations(settings: Settings, context: RunContext) -> Destinations:
    """Resolve every destination; a link on the way, a path outside the workspace or a directory is exit 2."""
    workspace = settings.workspace
    ledger = writable_path(workspace, settings.ledger, "ledger")
    for beside in (checkpoint_path(ledger), model_path(ledger)):
        writable_path(workspace, beside, "ledger")
    audit = writable_path(workspace, settings.contracts_audit_log, "contracts-audit-log")
    evidence_dir = writable_path(workspace, settings.evidence_dir, "evidence-dir")
    evidence = {key: Path(settings.evidence_dir) / evidence_name(context, stem, ext) for key, stem, ext in EVIDENCE}
    for name, path in (("ledger", ledger), ("contracts-audit-log", audit)):
        if path.is_dir():
            raise InputError("expected a file, found a directory", source=str(path), field=name)
    if evidence_dir.exists() and not evidence_dir.is_dir():
        raise InputError("expected a directory, found a file", source=settings.evidence_dir, field="evidence-dir")
    files = {key: writable_path(workspace, relative, "evidence-dir") for key, relative in evidence.items()}
    badge = _optional_file(workspace, settings.badge_path, "badge-path")
    ctrf = _optional_file(workspace, settings.ctrf_out, "ctrf-out")
    distinct_files({"ledger": ledger, "ledger checkpoint": checkpoint_path(ledger), "model state": model_path(ledger),
                    "contracts-audit-log": audit, **{f"evidence file {p.name}": p for p in files.values()},
                    "badge-path": badge, "ctrf-out": ctrf}, workspace)  # fmt: skip
    return Destinations(evidence, files, ledger, audit, badge, export_destination(settings), ctrf)


def distinct_files(files: dict[str, Path | None], workspace: Path) -> None:
    """No two of these resolved files are one: a badge or a list of tests written over the ledger would lose it."""
    seen: dict[Path, str] = {}
    for name, path in files.items():
        if path is None:
            continue
        if path in seen:
            raise InputError(f"is the same file as the {seen[path]}; expected a file of its own",
                             source=_shown(path, workspace), field=name)  # fmt: skip
        seen[path] = name


def _absolute(path: Path) -> Path:
    """The path as the resolver gives it: absolute and normalised (links are refused there, not followed)."""
    return Path(os.path.normpath(os.path.abspath(path)))  # noqa: PTH100


def _shown(path: Path, workspace: Path) -> str:
    """A path inside the workspace as the user names it: relative to the workspace."""
    return _absolute(path).relative_to(_absolute(workspace)).as_posix()


def written_by_the_run(found: Destinations, reports: list[Path], workspace: Path) -> None:
    """No report the run reads is a file it writes: the record would name a report that is gone."""
    ours = {path: name for name, path in (("ledger", found.ledger), ("contracts-audit-log", found.contracts_audit_log),
                                          ("badge-path", found.badge), ("ctrf-out", found.ctrf)) if path}  # fmt: skip
    ours |= dict.fromkeys(found.evidence_files.values(), "evidence-dir")
    for report in reports:
        name = ours.get(_absolute(report))
        if name is not None:
            raise InputError(f"is a report and the run's {name} too; expected a report the run does not write",
                             source=_shown(report, workspace), field="report")  # fmt: skip


def _optional_file(workspace: Path, relative: str | None, setting: str) -> Path | None:
    """A file a setting asks for (none when unset), resolved for writing; a directory there is exit 2."""
    if not relative:
        return None
    path = writable_path(workspace, relative, setting)
    if path.is_dir():
        raise InputError("expected a file, found a directory", source=relative, field=setting)
    return path


# The run's rows go here, inside the evidence directory, so one upload carries both.
EXPORT_DIR = "results"


def export_destination(settings: Settings) -> Path | None:
    """With `export`, the directory of the run's rows (relative to the workspace), checked for writing."""
    if not settings.export:
        return None
    if importlib.util.find_spec("duckdb") is None:
        raise InputError("needs DuckDB: pip install 'provenance-action[export]' (the action's image has it)",
                         field="export")  # fmt: skip
    relative = Path(settings.evidence_dir) / EXPORT_DIR
    found = writable_path(settings.workspace, relative, "evidence-dir")
    if found.exists() and not found.is_dir():
        raise InputError("expected a directory, found a file", source=relative.as_posix(), field="export")
    return relative


def require_new_run(found: Destinations) -> None:
    """A run id's records are written once: a second run under the same id leaves the first's untouched."""
    existing = found.resolved("provenance")
    if existing.exists():
        raise InputError(
            f"{found.evidence['provenance'].as_posix()} already exists: a run with this id was recorded "
            "(give another --run-id; a re-run attempt on GitHub gets its own file)",
            field="run id",
        )
