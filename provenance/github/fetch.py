"""`provenance fetch`: download a past run's provenance artifacts and check them.

The artifacts are listed through the REST API, each zip is downloaded through GitHub's short-lived
redirect, unpacked without letting any entry escape the destination, and then verified: every
ledger's hash chain (against any checkpoint found beside it), and every provenance file's sha256
against the ledger entry that names it.
"""

from __future__ import annotations

import io
import json
import stat
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from provenance.datasets.hashing import sha256_file
from provenance.errors import InputError
from provenance.github.api import GitHubApi
from provenance.ledger.checkpoint import load_checkpoint
from provenance.ledger.verify import verify

MAX_UNPACKED_BYTES = 4 * 1024**3
MAX_ENTRIES = 100_000


@dataclass
class FetchReport:
    """What was downloaded and what verified."""

    artifacts: list[dict[str, Any]] = field(default_factory=list)
    checks: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Whether every check passed (and there was something to check)."""
        return bool(self.checks) and all(c["ok"] for c in self.checks)


def list_artifacts(api: GitHubApi, repo: str, run_id: int) -> list[dict[str, Any]]:
    """Every artifact of the run, following pagination."""
    found: list[dict[str, Any]] = []
    page = 1
    while True:
        body = api.get_json(f"/repos/{repo}/actions/runs/{run_id}/artifacts", {"per_page": 100, "page": page})
        batch = body.get("artifacts") or []
        found.extend(batch)
        if len(found) >= int(body.get("total_count", 0)) or not batch:
            return found
        page += 1


def safe_extract(data: bytes, dest: Path) -> list[str]:
    """Unpack a zip; refuse absolute paths, `..`, links and archives too large to be honest."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise InputError("the artifact is not a zip archive", source=str(dest)) from None
    members = archive.infolist()
    if len(members) > MAX_ENTRIES or sum(m.file_size for m in members) > MAX_UNPACKED_BYTES:
        raise InputError("the artifact unpacks to more than the limit (a zip bomb?)", source=str(dest))
    root = dest.resolve()
    written = []
    for member in members:
        name = PurePosixPath(member.filename.replace("\\", "/"))
        if name.is_absolute() or ".." in name.parts or (name.parts and ":" in name.parts[0]):
            raise InputError(f"the artifact holds an unsafe path {member.filename!r}", source=str(dest))
        if stat.S_ISLNK(member.external_attr >> 16):
            raise InputError(f"the artifact holds a symbolic link {member.filename!r}", source=str(dest))
        target = (root / name).resolve()
        if root not in target.parents:
            raise InputError(f"the artifact holds an unsafe path {member.filename!r}", source=str(dest))
        if member.is_dir():
            target.mkdir(parents=True, exist_ok=True)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        with archive.open(member) as source, target.open("wb") as out:
            while chunk := source.read(1024 * 1024):
                out.write(chunk)
        written.append(name.as_posix())
    return written


def verify_tree(dest: Path) -> list[dict[str, Any]]:
    """Check every ledger (with the checkpoints beside it) and every provenance file under `dest`."""
    checks: list[dict[str, Any]] = []
    recorded: dict[str, str] = {}
    for ledger in sorted(dest.rglob("*.jsonl")):
        checkpoints = [
            *sorted(ledger.parent.glob("*checkpoint*.json")),
            *sorted(dest.rglob("ledger_checkpoint_*.json")),
        ]
        result = verify(ledger)
        checks.append(
            {
                "check": "ledger",
                "path": _rel(ledger, dest),
                "entries": result.entries,
                "merkle_root": result.merkle_root,
                "ok": result.problem is None,
                "problem": result.problem,
            }
        )
        for checkpoint in dict.fromkeys(checkpoints):
            against = verify(ledger, load_checkpoint(checkpoint))
            checks.append({"check": "checkpoint", "path": _rel(checkpoint, dest), "ledger": _rel(ledger, dest),
                           "ok": against.problem is None, "problem": against.problem})  # fmt: skip
        if result.problem is None:
            for line in ledger.read_text(encoding="utf-8").splitlines():
                entry = json.loads(line)
                recorded[PurePosixPath(entry["provenance_path"]).name] = entry["provenance_sha256"]
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


def fetch_run(api: GitHubApi, repo: str, run_id: int, dest: Path, name: str | None = None) -> FetchReport:
    """Download the run's artifacts (or the one named) into `dest` and verify them."""
    report = FetchReport()
    artifacts = [a for a in list_artifacts(api, repo, run_id) if name is None or a.get("name") == name]
    if not artifacts:
        wanted = f"no artifact named {name!r}" if name else "no artifacts"
        raise InputError(f"run {run_id} of {repo} has {wanted}", field="--run-id")
    for artifact in artifacts:
        if artifact.get("expired"):
            report.artifacts.append({"name": artifact.get("name"), "expired": True, "files": []})
            continue
        target = dest / str(artifact["name"])
        target.mkdir(parents=True, exist_ok=True)
        files = safe_extract(api.download(str(artifact["archive_download_url"])), target)
        report.artifacts.append({"name": artifact["name"], "id": artifact["id"], "expired": False, "files": files})
    report.checks = verify_tree(dest)
    return report


def _rel(path: Path, root: Path) -> str:
    return path.relative_to(root).as_posix()
