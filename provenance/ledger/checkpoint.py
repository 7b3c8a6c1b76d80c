"""Ledger checkpoints: the size, head and Merkle root a run saw, kept to detect a later rewrite."""

from __future__ import annotations

import contextlib
import re
from pathlib import Path
from typing import Any

import orjson

from provenance.errors import InputError
from provenance.ledger.merkle import Frontier
from provenance.reading import input_lines, read_json

CHECKPOINT_TYPE = "provenance-ledger-checkpoint/v1"
_SHA256 = re.compile(r"[0-9a-f]{64}")
_COMMIT = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")


def checkpoint_path(ledger: Path) -> Path:
    """The latest checkpoint, kept beside the ledger."""
    return ledger.with_name(ledger.name + ".checkpoint.json")


def load_checkpoint(path: Path) -> dict[str, Any]:
    """Read a checkpoint file; anything malformed is bad input naming the file and the field."""
    data = read_json(path)
    if not isinstance(data, dict) or data.get("type") != CHECKPOINT_TYPE:
        raise InputError(f"expected a ledger checkpoint ({CHECKPOINT_TYPE})", source=str(path), field="type")
    size = data.get("size")
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise InputError("expected a whole number of entries, 0 or more", source=str(path), field="size")
    for key in ("head", "merkle_root"):
        if not isinstance(data.get(key), str) or not _SHA256.fullmatch(data[key]):
            raise InputError("expected 64 lowercase hex digits (a sha256)", source=str(path), field=key)
    tip = data.get("branch_tip")
    if tip is not None and not (isinstance(tip, str) and _COMMIT.fullmatch(tip)):
        raise InputError("expected a commit id (40 or 64 lowercase hex digits)", source=str(path), field="branch_tip")
    return data


def frontier_for(path: Path, size: int, head: str) -> Frontier:
    """The Merkle frontier of `size` entries ending in `head`: the checkpoint's if it matches, else rebuilt."""
    beside = checkpoint_path(path)
    if beside.is_file():
        with contextlib.suppress(ValueError, AttributeError, InputError):  # damaged: rebuilt from the ledger below
            saved = read_json(beside)
            frontier = Frontier.from_json(saved.get("frontier"))
            if frontier.size == size and saved.get("head") == head:
                return frontier
    frontier = Frontier()
    for line in input_lines(path):
        if line.endswith(b"\n"):
            frontier.append(bytes.fromhex(orjson.loads(line)["entry_hash"]))
    return frontier
