"""`provenance fetch`: download a past run's provenance artifacts and check them.

The run's artifacts are listed through PyGithub (`WorkflowRun.get_artifacts()`, a page at a time,
at most `MAX_PAGES` pages); each zip is streamed to a temporary file through GitHub's short-lived
redirect (`download`), unpacked all or nothing (`archive`) into a directory named from the
artifact's name (or its id, when the name is not a safe file name), then verified: every ledger's
hash chain (against any checkpoint found beside it), and every provenance file's sha256 against
the ledger entry that names it. The whole fetch runs against one deadline.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from provenance.datasets.hashing import sha256_file
from provenance.errors import InputError
from provenance.github.archive import extract
from provenance.github.client import Client
from provenance.github.download import Deadline, download_zip, enforced, redirect_location
from provenance.ledger.checkpoint import load_checkpoint
from provenance.ledger.verify import verify
from provenance.text import printable
from provenance.workspace import safe_name, writable_path

MAX_PAGES = 100  # of 100 artifacts each: far more than a run can upload
DEFAULT_DEADLINE_SECONDS = 600.0
DEFAULT_MAX_DOWNLOAD_BYTES = 1024 * 1024**2
_LEDGER_KEYS = frozenset({"seq", "prev", "entry_hash"})
_FIRST_LINE_LIMIT = 1024 * 1024


@dataclass(frozen=True)
class Listed:
    """One artifact as the run lists it."""

    id: int
    name: str
    expired: bool
    size: int


@dataclass
class FetchReport:
    """What was downloaded and what verified."""

    artifacts: list[dict[str, Any]] = field(default_factory=list)
    checks: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Whether every check passed (and there was something to check)."""
        return bool(self.checks) and all(c["ok"] for c in self.checks)


def list_artifacts(
    client: Client, repo: str, run_id: int, deadline: Deadline, max_pages: int = MAX_PAGES
) -> list[Listed]:
    """Every artifact of the run, a page at a time; more than `max_pages` pages is refused."""
    run = client.github.get_repo(repo).get_workflow_run(run_id)  # lazy: no request yet
    listing = f"/repos/{repo}/actions/runs/{run_id}/artifacts"
    url = client.call(f"GET /repos/{repo}/actions/runs/{run_id}", lambda: run.artifacts_url)
    client.expect_url(url, listing)  # PyGithub lists from this URL, with the token
    pages = run.get_artifacts()
    found: list[Listed] = []
    for page in range(max_pages):
        deadline.check()
        batch = client.call(f"GET {listing}", lambda page=page: pages.get_page(page))  # type: ignore[misc]
        found += [Listed(a.id, a.name, bool(a.expired), a.size_in_bytes) for a in batch]
        if not batch or len(found) >= pages.totalCount:
            return found
    raise InputError(
        f"GitHub listed more than {max_pages} pages of artifacts for run {run_id}; refusing to go on", field="--run-id"
    )


def directory_for(dest: Path, artifact: Listed) -> Path:
    """Where an artifact is unpacked: `dest/<name>`, or `dest/artifact-<id>` when the name is no safe file name."""
    try:
        name = safe_name(artifact.name, "artifact name")
    except InputError:
        name = safe_name(f"artifact-{artifact.id}", "artifact id")
    return writable_path(dest, name, "--dest")


def fetch_run(
    client: Client,
    repo: str,
    run_id: int,
    dest: Path,
    name: str | None = None,
    *,
    deadline: Deadline,
    max_download_bytes: int = DEFAULT_MAX_DOWNLOAD_BYTES,
) -> FetchReport:
    """Download the run's artifacts (or the one named) into `dest` and verify them, within `deadline`."""
    report = FetchReport()
    with enforced(deadline):
        artifacts = [a for a in list_artifacts(client, repo, run_id, deadline) if name is None or a.name == name]
        if not artifacts:
            wanted = f"no artifact named {printable(name)!r}" if name else "no artifacts"
            raise InputError(f"run {run_id} of {repo} has {wanted}", field="--run-id")
        dest.mkdir(parents=True, exist_ok=True)
        for artifact in artifacts:
            report.artifacts.append(_fetch_one(client, repo, artifact, dest, deadline, max_download_bytes))
    report.checks = verify_tree(dest)
    return report


def _fetch_one(
    client: Client, repo: str, artifact: Listed, dest: Path, deadline: Deadline, limit: int
) -> dict[str, Any]:
    """Download, unpack and list one artifact (an expired one is listed, not downloaded)."""
    entry: dict[str, Any] = {"name": artifact.name, "id": artifact.id, "expired": artifact.expired, "files": []}
    if artifact.expired:
        return entry
    if artifact.size > limit:
        raise InputError(
            f"artifact {printable(artifact.name)!r} is {artifact.size:,} bytes, more than the limit of {limit:,}; "
            "raise --max-download-mb if it is expected",
            field="--max-download-mb",
        )
    target = directory_for(dest, artifact)
    location = redirect_location(client, repo, artifact.id)
    archive = download_zip(location, dest, limit=limit, deadline=deadline)
    try:
        entry["files"] = extract(archive, target, f"artifact {printable(artifact.name)!r}")
    finally:
        archive.unlink(missing_ok=True)
    entry["dir"] = target.name
    return entry


def is_ledger(path: Path) -> bool:
    """Whether a `*.jsonl` file is one of our ledgers: its first line is an entry (`seq`, `prev`, `entry_hash`).

    An artifact may hold other JSON lines (the contracts audit log, predictions): checking them as
    ledgers would raise a false tamper alarm.
    """
    try:
        with path.open("rb") as handle:
            first = handle.readline(_FIRST_LINE_LIMIT)
        entry = json.loads(first)
    except (OSError, ValueError):
        return False
    return isinstance(entry, dict) and entry.keys() >= _LEDGER_KEYS


def verify_tree(dest: Path) -> list[dict[str, Any]]:
    """Check every ledger (with the checkpoints beside it) and every provenance file under `dest`."""
    checks: list[dict[str, Any]] = []
    recorded: dict[str, str] = {}
    for ledger in sorted(p for p in dest.rglob("*.jsonl") if p.is_file() and is_ledger(p)):
        checks += _ledger_checks(ledger, dest, recorded)
    for provenance in sorted(dest.rglob("ci_provenance_*.json")):
        expected = recorded.get(provenance.name)
        actual = sha256_file(provenance)
        problem = None
        if expected is None:
            problem = "no ledger entry in the download names this file"
        elif expected != actual:
            problem = f"Expected: {expected}, Got: {actual}"
        checks.append({"check": "provenance", "path": _rel(provenance, dest), "sha256": actual,
                       "ok": problem is None, "problem": problem})  # fmt: skip
    return checks


def _ledger_checks(ledger: Path, dest: Path, recorded: dict[str, str]) -> list[dict[str, Any]]:
    """The ledger's own check, one per checkpoint found for it; what its entries record goes to `recorded`."""
    result = verify(ledger)
    checks = [{"check": "ledger", "path": _rel(ledger, dest), "entries": result.entries,
               "merkle_root": result.merkle_root, "ok": result.problem is None, "problem": result.problem}]  # fmt: skip
    checkpoints = [*sorted(ledger.parent.glob("*checkpoint*.json")), *sorted(dest.rglob("ledger_checkpoint_*.json"))]
    for checkpoint in dict.fromkeys(checkpoints):
        against = verify(ledger, load_checkpoint(checkpoint))
        checks.append({"check": "checkpoint", "path": _rel(checkpoint, dest), "ledger": _rel(ledger, dest),
                       "ok": against.problem is None, "problem": against.problem})  # fmt: skip
    if result.problem is None:
        with ledger.open(encoding="utf-8") as lines:
            for line in lines:
                entry = json.loads(line)
                recorded[PurePosixPath(entry["provenance_path"]).name] = entry["provenance_sha256"]
    return checks


def _rel(path: Path, root: Path) -> str:
    return path.relative_to(root).as_posix()
