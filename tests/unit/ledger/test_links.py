"""The gate's check of the chain finds every edit that `verify` finds, at the same line."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest

from provenance.ledger.links import check_links
from provenance.ledger.verify import verify
from tests.support.entries import build_ledger


@pytest.fixture(scope="module")
def ledger(tmp_path_factory: pytest.TempPathFactory) -> tuple[bytes, dict[str, Any]]:
    path = tmp_path_factory.mktemp("links") / "ledger.jsonl"
    checkpoint = build_ledger(path, 120)
    return path.read_bytes(), checkpoint


def both(path: Path, data: bytes, checkpoint: dict[str, Any]) -> tuple[object, object]:
    """What each check found: None, or the line of the first problem (0 for a ledger cut short)."""
    path.write_bytes(data)
    quick, full = check_links(path, checkpoint), verify(path, checkpoint)
    return (quick.line or 0 if quick.problem else None), (full.line or 0 if full.problem else None)


def test_an_intact_ledger_passes(ledger: tuple[bytes, dict[str, Any]], tmp_path: Path) -> None:
    data, checkpoint = ledger
    path = tmp_path / "l.jsonl"
    path.write_bytes(data)
    found = check_links(path, checkpoint)
    assert (found.problem, found.entries, found.head) == (None, 120, checkpoint["head"])


def test_every_edit_verify_finds_is_found_at_its_line(ledger: tuple[bytes, dict[str, Any]], tmp_path: Path) -> None:
    data, checkpoint = ledger
    lines = data.splitlines(keepends=True)
    rng = random.Random(3)
    edited = []
    for position in rng.sample(range(len(data)), 400):  # one byte replaced, anywhere
        byte = rng.choice([b for b in range(32, 127) if b != data[position]])
        if data[position] != ord("\n"):
            edited.append(data[:position] + bytes([byte]) + data[position + 1 :])
    edited += [b"".join(lines[:i] + lines[i + 1 :]) for i in range(0, 120, 7)]  # an entry removed
    edited += [b"".join([*lines[:i], lines[i + 1], lines[i], *lines[i + 2 :]]) for i in range(0, 119, 11)]  # swapped
    edited += [b"".join(lines[:i]) for i in (1, 60, 119)]  # cut shorter than the checkpoint
    path = tmp_path / "l.jsonl"
    for data_edited in edited:
        quick, full = both(path, data_edited, checkpoint)
        assert full is not None
        assert quick == full, (quick, full)


def test_a_rewritten_head_is_found_against_the_checkpoint(ledger: tuple[bytes, dict[str, Any]], tmp_path: Path) -> None:
    data, checkpoint = ledger
    path = tmp_path / "l.jsonl"
    path.write_bytes(data)
    assert check_links(path, {**checkpoint, "head": "f" * 64}).problem is not None
    assert "truncated" in str(check_links(path, {**checkpoint, "size": 121}).problem)
    # The one beside the ledger rewritten with it must not outvote the one kept elsewhere.
    assert check_links(path, checkpoint, {**checkpoint, "head": "f" * 64}).problem is not None
