"""in-toto Statements for the supply-chain tools.

The standard test-result predicate, our lineage predicate, and the subject list `actions/attest`
signs. Subjects are what the run vouches for: the test reports, the datasets, the ledger checkpoint and
any build outputs named by the `artifacts` input. Files carry their sha256; a directory or glob
dataset carries its in-toto `dirHash`.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from provenance.datasets.hashing import hash_file
from provenance.errors import InputError
from provenance.reading import glob_files, read_input
from provenance.schemas import CIProvenance, Conclusion, Outcome

STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
TEST_RESULT_PREDICATE = "https://in-toto.io/attestation/test-result/v0.1"
LINEAGE_PREDICATE = "urn:provenance-action:predicate:lineage:v1"


@dataclass(frozen=True)
class Subject:
    """One thing the statement is about: its name and digest (sha256, or dirHash for a tree)."""

    name: str
    algorithm: str
    digest: str

    def as_json(self) -> dict[str, Any]:
        """The in-toto ResourceDescriptor form."""
        return {"name": self.name, "digest": {self.algorithm: self.digest}}


# `sha256sum` escapes a name with a newline or a backslash, which `actions/attest` does not read back;
# a control character has no place in a name either. Such a file cannot be a signed subject.
_UNSIGNABLE = re.compile(r"[\x00-\x1f\x7f\\]")


def signable(name: str, setting: str) -> str:
    """`name`, when it can be a line of the `subject-checksums` file; else bad input naming the setting."""
    if _UNSIGNABLE.search(name):
        raise InputError(f"{name!r}: a file whose name holds a control character or a backslash cannot be "
                         "a signed subject; rename it", field=setting)  # fmt: skip
    return name


def artifact_subjects(patterns: tuple[str, ...], workspace: Path) -> list[Subject]:
    """Build outputs named by globs, each file with its sha256; a pattern matching nothing is an error."""
    root = workspace.resolve()
    subjects: dict[str, Subject] = {}
    for pattern in patterns:
        files = [Path(os.path.relpath(m, root)).as_posix() for m in glob_files(pattern, root, setting="artifacts")]
        if not files:
            raise InputError(f"matches no file: {pattern!r}", field="artifacts")
        for match in files:
            name = signable(Path(match).as_posix(), "artifacts")
            resolved = (root / match).resolve()
            if root not in resolved.parents:
                raise InputError(f"{name!r} leads outside the workspace", field="artifacts")
            subjects[name] = Subject(name, "sha256", hash_file(resolved).sha256)
    return list(subjects.values())


def subjects_of(record: CIProvenance, checkpoint: Subject, artifacts: list[Subject]) -> list[Subject]:
    """Everything the run vouches for, in a stable order, each name once."""
    found = [Subject(r.path, "sha256", r.sha256) for r in record.reports]
    for dataset in record.datasets:
        if dataset.dataset_checksum is not None:
            algorithm = "sha256" if dataset.kind == "file" else "dirHash"
            found.append(Subject(dataset.path, algorithm, dataset.dataset_checksum))
    found.append(checkpoint)
    found.extend(artifacts)
    unique: dict[str, Subject] = {}
    for subject in found:
        unique.setdefault(subject.name, subject)
    return list(unique.values())


def test_result_predicate(record: CIProvenance, configuration: list[dict[str, Any]]) -> dict[str, Any]:
    """The standard test-result predicate: pass only when the run's verdict is success."""
    tests = record.run.tests
    passed = [t.nodeid for t in tests if t.outcome is Outcome.PASSED]
    warned = [t.nodeid for t in tests if t.outcome is Outcome.XPASSED]
    failed = [t.nodeid for t in record.run.failures]
    predicate: dict[str, Any] = {
        "result": "pass" if record.verdict.conclusion is Conclusion.SUCCESS else "fail",
        "configuration": configuration,
        "passedTests": list(dict.fromkeys(passed)),
        "warnedTests": list(dict.fromkeys(warned)),
        "failedTests": list(dict.fromkeys(failed)),
    }
    if record.run.run_url:
        predicate["url"] = record.run.run_url
    return predicate


def lineage_predicate(record: CIProvenance, provenance_sha256: str, checkpoint: dict[str, Any],
                      entry_hash: str) -> dict[str, Any]:  # fmt: skip
    """Our predicate: the data, model and calibration behind the result, and where the record sits."""
    return {
        "commit": record.run.git.commit or record.run.sha,
        "datasets": [d.model_dump(mode="json") for d in record.datasets],
        "model": record.model.model_dump(mode="json") if record.model else None,
        "calibration": record.calibration.window.model_dump(mode="json") if record.calibration else None,
        "ledger": {
            "path": record.ledger.path,
            "seq": record.ledger.seq,
            "entry_hash": entry_hash,
            "merkle_root": checkpoint["merkle_root"],
            "size": checkpoint["size"],
        },
        "provenance_file_sha256": provenance_sha256,
        "verdict": record.verdict.model_dump(mode="json"),
    }


def statement(subjects: list[Subject], predicate_type: str, predicate: dict[str, Any]) -> dict[str, Any]:
    """An in-toto Statement v1."""
    return {
        "_type": STATEMENT_TYPE,
        "subject": [s.as_json() for s in subjects],
        "predicateType": predicate_type,
        "predicate": predicate,
    }


def subject_checksums(subjects: list[Subject]) -> str:
    """The `sha256sum`-format list `actions/attest` takes as `subject-checksums` (sha256 subjects only)."""
    return "".join(f"{s.digest}  {s.name}\n" for s in subjects if s.algorithm == "sha256")


def read_digests(path: Path) -> dict[str, str]:
    """A build's digests, from a `sha256sum`-format file or a directory.

    A file is read as `subject-checksums` (or any `sha256sum` output); a directory has every
    regular file hashed, named relative to it.
    """
    from provenance.datasets.hashing import walk_files

    if path.is_dir():
        return {name: hash_file(path / name).sha256 for name in walk_files(path)}
    try:
        text = read_input(path).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"cannot be read ({exc})", source=str(path)) from None
    digests: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        digest, sep, name = line.partition("  ")
        digest = digest.removeprefix("\\")
        if not sep or len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
            raise InputError("expected `<sha256>  <name>` lines", source=str(path), field=f"line {number}")
        digests[name.removeprefix("*")] = digest
    return digests


def compare_builds(a: dict[str, str], b: dict[str, str]) -> dict[str, list[str]]:
    """What differs between two builds' digests: files only in one, and files whose bytes differ."""
    return {
        "only_in_a": sorted(set(a) - set(b)),
        "only_in_b": sorted(set(b) - set(a)),
        "differing": sorted(name for name in set(a) & set(b) if a[name] != b[name]),
    }
