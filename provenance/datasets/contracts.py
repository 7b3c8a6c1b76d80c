"""Dataset contracts: prove the tests ran on exactly the data the team signed off.

`data_contracts.yaml` names each dataset (a file, a directory or a glob) and its sha256; the
`validate` stage hashes each one and compares. `update` writes the new digests back without
touching the rest of the user's file (comments, key order, quoting), atomically.
"""

from __future__ import annotations

import glob
import io
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from provenance.datasets.hashing import TreeDigest, hash_file, hash_listing, hash_tree
from provenance.errors import InputError
from provenance.reading import glob_files, open_input, read_input
from provenance.workspace import atomic_write, resolve_inside

MAX_MANIFEST_BYTES = 1024 * 1024
# A dataset glob may name a tree of small files (a directory's worth), but not without end.
MAX_DATASET_GLOB_FILES = 1_000_000
_SHA256 = r"^[0-9a-f]{64}$"
_GIT_SHA = r"^(?:[0-9a-f]{40}|[0-9a-f]{64})$"

Status = Literal["ok", "mismatch", "missing", "unverified"]


class StrictLoader(yaml.SafeLoader):
    """PyYAML's safe loader, refusing what it would otherwise read one of two ways.

    A key given twice keeps its last value in PyYAML and its first in other readers, so a
    reviewer and the tool could see different checksums; a key that is not a string (`1:`,
    `null:`, `2024-01-01:`) names no dataset or field.
    """

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        """Check the keys, then build the mapping as the safe loader does."""
        seen: set[str] = set()
        for key, _ in node.value:
            if not isinstance(key, yaml.ScalarNode) or key.tag != "tag:yaml.org,2002:str":
                raise yaml.constructor.ConstructorError(None, None, "expected a string key", key.start_mark)
            if key.value in seen:
                raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key.value!r}", key.start_mark)
            seen.add(key.value)
        return super().construct_mapping(node, deep)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _blank_allowed(schema: dict[str, Any]) -> None:
    """The schema accepts what `validate` accepts: a blank checksum is one not recorded yet."""
    schema["anyOf"].insert(1, {"type": "string", "pattern": r"^\s*$"})


class DatasetContract(_Strict):
    """One dataset as the manifest declares it."""

    name: str | None = None
    description: str | None = None
    path: str = Field(min_length=1)
    checksum_type: Literal["sha256"] = "sha256"
    checksum: str | None = Field(default=None, pattern=_SHA256, json_schema_extra=_blank_allowed)
    size: int | None = Field(default=None, ge=0)
    nfiles: int | None = Field(default=None, ge=0)
    last_verified_commit: str | None = Field(default=None, pattern=_GIT_SHA)
    retention_days: int | None = Field(default=None, ge=1)
    dvc: str | None = None

    @field_validator("path")
    @classmethod
    def _a_path_a_file_system_can_hold(cls, value: str) -> str:
        """No NUL and no name over 255 bytes: the file system refuses them with an error of its own."""
        if "\0" in value:
            raise ValueError("expected a path without a NUL character")
        if any(len(part.encode("utf-8", "surrogatepass")) > 255 for part in value.split("/")):
            raise ValueError("expected no file or directory name longer than 255 bytes")
        return value

    @field_validator("checksum", mode="before")
    @classmethod
    def _blank_is_not_recorded_yet(cls, value: Any) -> Any:
        """`checksum: ""` is how a contract is written before its first `--update`: nothing recorded yet."""
        return None if isinstance(value, str) and not value.strip() else value


class ValidationPolicy(_Strict):
    """What a failed check means."""

    enforce_checksums: bool = True
    block_on_mismatch: bool = True
    allow_missing: bool = False


class Manifest(_Strict):
    """The whole `data_contracts.yaml`."""

    datasets: dict[str, DatasetContract] = Field(default_factory=dict)
    validation: ValidationPolicy = Field(default_factory=ValidationPolicy)


@dataclass
class DatasetResult:
    """What one dataset turned out to be, and whether that is what the manifest says."""

    dataset_id: str
    path: str
    kind: Literal["file", "directory", "glob"]
    status: Status
    expected: str | None
    actual: str | None = None
    size: int | None = None
    nfiles: int | None = None
    dvc_md5: str | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        """Whether this dataset breaks its contract."""
        return self.status != "ok"

    def describe(self) -> str:
        """One line for logs and the summary."""
        if self.status == "mismatch" and self.expected and self.actual and self.expected != self.actual:
            return f"{self.path}: Expected: {self.expected}, Got: {self.actual}"
        return f"{self.path}: " + "; ".join(self.problems or [self.status])


@dataclass
class Validation:
    """Every dataset's result under the manifest's policy."""

    manifest_path: str
    policy: ValidationPolicy
    results: list[DatasetResult]

    @property
    def failures(self) -> list[DatasetResult]:
        """Datasets that fail, after `allow_missing` and `enforce_checksums` are applied."""
        policy = self.policy
        return [
            r
            for r in self.results
            if (r.status == "missing" and not policy.allow_missing)
            or (r.status == "unverified" and policy.enforce_checksums)
            or r.status == "mismatch"
        ]

    @property
    def blocks(self) -> bool:
        """Whether the failures fail the step (`block_on_mismatch`)."""
        return bool(self.failures) and self.policy.block_on_mismatch


def load_manifest(path: Path) -> Manifest:
    """Read and check the manifest: safe YAML, bounded in size, no aliases, no unknown keys."""
    shown = str(path)
    with open_input(path, shown=shown) as handle:
        data = handle.read(MAX_MANIFEST_BYTES + 1)
    if len(data) > MAX_MANIFEST_BYTES:
        raise InputError(f"larger than {MAX_MANIFEST_BYTES} bytes; a contracts manifest is small", source=shown)
    try:
        text = data.decode("utf-8")
        if any(isinstance(event, yaml.AliasEvent) for event in yaml.parse(io.StringIO(text), Loader=yaml.SafeLoader)):
            raise InputError("YAML aliases are not allowed in a contracts manifest", source=shown)
        document = yaml.load(text, Loader=StrictLoader)  # a SafeLoader, stricter
    except UnicodeDecodeError:
        raise InputError("not UTF-8 text", source=shown) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise InputError(f"not valid YAML{where}: {problem}", source=shown) from None
    if not isinstance(document, dict):
        raise InputError("expected a mapping with `datasets` and `validation`", source=shown)
    try:
        return Manifest.model_validate(document)
    except ValidationError as exc:
        error = exc.errors()[0]
        location = ".".join(str(part) for part in error["loc"])
        if error["type"] == "extra_forbidden":
            key = error["loc"][-1]
            owner = ".".join(str(part) for part in error["loc"][:-1]) or "the top level"
            raise InputError(f"unknown key {key!r} in {owner}", source=shown, field=location) from None
        message = error["msg"].removeprefix("Value error, ")
        raise InputError(f"{message} (got {error.get('input')!r})", source=shown, field=location) from None


def validate(
    manifest: Manifest,
    workspace: Path,
    manifest_path: str = "data_contracts.yaml",
    step: Callable[[], object] = lambda: None,
) -> Validation:
    """Hash every dataset and compare with the manifest; `step` is called after each (for progress)."""
    results = []
    try:
        for dataset_id, contract in manifest.datasets.items():
            results.append(check_dataset(dataset_id, contract, workspace))
            step()
    except InputError as exc:
        exc.source = exc.source or manifest_path
        raise
    return Validation(manifest_path, manifest.validation, results)


def check_dataset(dataset_id: str, contract: DatasetContract, workspace: Path) -> DatasetResult:
    """Hash one dataset (file, directory or glob) and compare it with its contract."""
    where = f"datasets.{dataset_id}.path"
    is_glob = glob.has_magic(contract.path)
    if is_glob and (".." in Path(contract.path).parts or Path(contract.path).is_absolute()):
        raise InputError(f"glob {contract.path!r} leads outside the workspace", field=where)
    target = workspace.resolve() if is_glob else resolve_inside(workspace, contract.path, where)
    kind: Literal["file", "directory", "glob"] = "glob" if is_glob else "directory" if target.is_dir() else "file"
    result = DatasetResult(dataset_id, contract.path, kind, "ok", contract.checksum)
    dvc = _dvc_entry(contract, workspace, dataset_id) if contract.dvc else None
    digest: TreeDigest
    if kind == "glob":
        matches = _glob_files(workspace, contract.path, where)
        if not matches:
            result.status = "missing"
            result.problems.append("the glob matches no file")
            return result
        digest = hash_listing(workspace.resolve(), iter(matches))
    elif kind == "directory":
        digest = hash_tree(target)
    elif target.is_file():
        single = hash_file(target, with_md5=dvc is not None and dvc.get("md5") is not None)
        digest = TreeDigest(single.sha256, single.size, 1)
        if dvc is not None and single.md5 is not None and single.md5 != dvc["md5"]:
            result.problems.append(f"DVC records md5 {dvc['md5']}, the file has md5 {single.md5}")
    else:
        result.status = "missing"
        result.problems.append("no such file or directory")
        return result
    result.actual, result.size = digest.sha256, digest.size
    result.nfiles = digest.nfiles if kind != "file" else None
    if dvc is not None:
        result.dvc_md5 = dvc.get("md5")
        for key, ours in (("size", digest.size), ("nfiles", result.nfiles)):
            if ours is not None and isinstance(dvc.get(key), int) and dvc[key] != ours:
                result.problems.append(f"DVC records {key} {dvc[key]}, found {ours}")
    if contract.checksum is None:
        result.status = "unverified"
        result.problems.append("no checksum recorded yet: run `provenance validate --update`")
    elif contract.checksum != digest.sha256:
        result.status = "mismatch"
        result.problems.insert(0, f"Expected: {contract.checksum}, Got: {digest.sha256}")
    elif result.problems:
        result.status = "mismatch"
    return result


def _glob_files(workspace: Path, pattern: str, where: str) -> list[str]:
    """Regular files the glob matches, relative to the workspace, in byte order; none may leave it."""
    root = workspace.resolve()
    found = []
    for path in glob_files(pattern, root, setting=where, limit=MAX_DATASET_GLOB_FILES):
        if path.is_symlink():
            continue
        match = path.relative_to(root).as_posix()
        resolve_inside(root, match, where)
        found.append(match)
    return sorted(found, key=lambda p: p.encode("utf-8", "surrogateescape"))


def _dvc_entry(contract: DatasetContract, workspace: Path, dataset_id: str) -> dict[str, Any]:
    """The `outs` entry DVC keeps for this dataset, from a `.dvc` file or `dvc.lock`."""
    where = f"datasets.{dataset_id}.dvc"
    assert contract.dvc is not None
    pointer = resolve_inside(workspace, contract.dvc, where)
    try:
        document = yaml.load(read_input(pointer, field=where).decode("utf-8"), Loader=StrictLoader)
    except (UnicodeDecodeError, yaml.YAMLError) as exc:
        raise InputError(f"cannot read the DVC file {contract.dvc!r} ({exc})", field=where) from None
    outs: list[Any] = []
    base = pointer.parent
    if isinstance(document, dict) and isinstance(document.get("outs"), list):
        outs = document["outs"]
    elif isinstance(document, dict) and isinstance(document.get("stages"), dict):
        outs = [o for stage in document["stages"].values() if isinstance(stage, dict) for o in stage.get("outs") or []]
    wanted = resolve_inside(workspace, contract.path, f"datasets.{dataset_id}.path")
    for out in outs:
        if isinstance(out, dict) and isinstance(out.get("path"), str) and (base / out["path"]).resolve() == wanted:
            md5 = out.get("md5")
            if isinstance(md5, int) and not isinstance(md5, bool):
                md5 = str(md5).zfill(32)  # an all-digit md5 written unquoted reads as a YAML integer
            return {"md5": md5 if isinstance(md5, str) else None, "size": out.get("size"), "nfiles": out.get("nfiles")}
    raise InputError(f"the DVC file {contract.dvc!r} has no entry for {contract.path!r}", field=where)


def planned_updates(manifest: Manifest, validation: Validation, commit: str | None) -> dict[str, dict[str, Any]]:
    """Per dataset, the fields `--update` would change (old and new values); refuses unreadable data."""
    unreadable = [r for r in validation.results if r.actual is None]
    if unreadable:
        names = ", ".join(r.dataset_id for r in unreadable)
        raise InputError(f"cannot update: these datasets could not be read: {names}", source=validation.manifest_path)
    changes: dict[str, dict[str, Any]] = {}
    for result in validation.results:
        contract = manifest.datasets[result.dataset_id]
        new: dict[str, Any] = {"checksum": result.actual, "size": result.size}
        if result.kind != "file":
            new["nfiles"] = result.nfiles
        if commit is not None:
            new["last_verified_commit"] = commit
        changed = {k: (getattr(contract, k), v) for k, v in new.items() if getattr(contract, k) != v}
        if changed:
            changes[result.dataset_id] = changed
    return changes


def write_updates(path: Path, changes: Mapping[str, Mapping[str, tuple[Any, Any]]]) -> None:
    """Write new values into the user's YAML, keeping comments, order and formatting; atomically."""
    from ruamel.yaml import YAML

    round_trip = YAML()
    round_trip.preserve_quotes = True
    round_trip.width = 4096
    text = read_input(path).decode("utf-8")  # read and checked once already by `load_manifest`
    document = round_trip.load(text)
    for dataset_id, fields in changes.items():
        entry = document["datasets"][dataset_id]
        keys = list(entry.keys())
        position = keys.index("checksum") + 1 if "checksum" in keys else len(keys)
        for key, (_, new) in fields.items():
            if key in entry:
                entry[key] = new
            else:  # new keys go after `checksum`, in a fixed order
                entry.insert(position, key, new)
                position += 1
    out = io.StringIO()
    round_trip.dump(document, out)
    atomic_write(path, out.getvalue().encode("utf-8"))


def audit_records(
    validation: Validation,
    action: Literal["validate", "update"],
    *,
    actor: str | None,
    commit: str | None,
    run_id: str | None,
    at: str,
    changes: Mapping[str, Mapping[str, tuple[Any, Any]]] | None = None,
) -> list[dict[str, Any]]:
    """One audit line per dataset: who, when, on which commit, old and new checksum, the verdict."""
    records = []
    for result in validation.results:
        old = result.expected
        new = result.actual
        if action == "update" and changes is not None:
            change = changes.get(result.dataset_id, {}).get("checksum")
            old, new = (change[0], change[1]) if change else (result.expected, result.expected)
        records.append(
            {
                "time": at,
                "action": action,
                "actor": actor,
                "commit": commit,
                "run_id": run_id,
                "manifest": validation.manifest_path,
                "dataset": result.dataset_id,
                "path": result.path,
                "old_checksum": old,
                "new_checksum": new,
                "verdict": "updated" if action == "update" else result.status,
            }
        )
    return records
