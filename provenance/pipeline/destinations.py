"""Every file a run writes, named once and resolved through the workspace's one resolver.

Built before the first write, so a symlinked `evidence/`, a ledger path that leads out of the
workspace or an earlier run's records under the same run id stop the run with nothing written.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from provenance.config import Settings
from provenance.context import RunContext
from provenance.errors import InputError
from provenance.learning.state import model_path
from provenance.ledger.checkpoint import checkpoint_path
from provenance.reports import display_path
from provenance.workspace import lexical, safe_name, writable_path

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

    def written(self) -> dict[str, Path | None]:
        """Every file the run writes, by the setting that names it."""
        return {"ledger": self.ledger, "ledger checkpoint": checkpoint_path(self.ledger),
                "model state": model_path(self.ledger), "contracts-audit-log": self.contracts_audit_log,
                **{f"evidence file {p.name}": p for p in self.evidence_files.values()},
                "badge-path": self.badge, "ctrf-out": self.ctrf}  # fmt: skip


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
    found = Destinations(evidence, files, ledger, audit, badge, export_destination(settings), ctrf)
    folders = {"evidence-dir": evidence_dir, "export": workspace / found.export if found.export else None}
    distinct_files(found.written(), workspace, folders)
    return found


def distinct_files(files: Mapping[str, Path | None], workspace: Path,
                   directories: Mapping[str, Path | None] | None = None) -> None:  # fmt: skip
    """No file written is another destination or on the way to one: a badge written over the ledger would lose it.

    Paths are compared as the resolver gives them and, where both exist, as files: a hard link, or
    another case of a name on a file system that ignores case, is the same file. Directories may
    hold the files; no file may hold anything.
    """
    named = [(n, lexical(p)) for n, p in {**files, **(directories or {})}.items() if p is not None]
    for i, (name, path) in enumerate(named):
        for other, where in named[:i]:
            if _same(path, where):
                raise InputError(f"is the same file as the {other}; expected a file of its own",
                                 source=display_path(path, workspace), field=name)  # fmt: skip
        if name in files:
            for other, where in named:
                if where != path and where.is_relative_to(path):
                    raise InputError(f"is written as a file, and the {other} would be inside it; expected a file of "
                                     "its own", source=display_path(path, workspace), field=name)  # fmt: skip


def not_written(files: Mapping[str, Path | None], reads: Mapping[str, list[Path]], workspace: Path) -> None:
    """No file read (by the setting that names it) is one of the `files` written: the record would name one gone."""
    written = [(name, lexical(path)) for name, path in files.items() if path is not None]
    for setting, paths in reads.items():
        for read in paths:
            for name, path in written:
                if _same(lexical(read), path):
                    raise InputError(f"is read by the run and is its {name} too; expected a file the run does not "
                                     "write", source=display_path(read, workspace), field=setting)  # fmt: skip


def _same(a: Path, b: Path) -> bool:
    """One file: the same path, or two paths to one file (a hard link, a link, a name in another case)."""
    try:
        return a == b or (a.exists() and b.exists() and a.samefile(b))
    except OSError:  # a directory on the way that cannot be searched: the resolver or the reader says so
        return False


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
