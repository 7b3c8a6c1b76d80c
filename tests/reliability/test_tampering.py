"""Tampering with a 1,000-entry ledger: edits, deletions, reorderings and truncations all show.

`verify` stops at the first entry that does not verify, so each edited copy costs only the
entries up to the edit; that is what keeps every position affordable here.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from provenance.ledger.verify import verify
from tests.support.entries import build_ledger

ENTRIES = 1000


@pytest.fixture(scope="module")
def ledger(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, object]]:
    path = tmp_path_factory.mktemp("tamper") / "ledger.jsonl"
    checkpoint = build_ledger(path, ENTRIES)
    assert verify(path, checkpoint).problem is None
    return path, checkpoint


def caught(path: Path, data: bytes, checkpoint: dict[str, object] | None = None) -> bool:
    path.write_bytes(data)
    return verify(path, checkpoint).problem is not None


def test_single_byte_edits(ledger: tuple[Path, dict[str, object]], tmp_path: Path) -> None:
    """Every byte of the first, a middle and the last entry, and 500 random bytes anywhere."""
    source, _ = ledger
    original = source.read_bytes()
    lines = original.splitlines(keepends=True)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))
    positions = [p for i in (0, ENTRIES // 2, ENTRIES - 1) for p in range(starts[i], starts[i + 1] - 1)]
    rng = random.Random(6)
    positions += rng.sample(range(len(original)), 500)
    target = tmp_path / "edited.jsonl"
    missed = []
    for position in positions:
        old = original[position]
        new = rng.choice([b for b in range(32, 127) if b != old])
        if old == ord("\n"):
            new = ord(" ")
        if not caught(target, original[:position] + bytes([new]) + original[position + 1 :]):
            missed.append(position)
    assert missed == []
    assert len(positions) > 2000
    print(f"\nsingle-byte edits: {len(positions)} tried, {len(positions) - len(missed)} caught")


def test_deleting_any_entry(ledger: tuple[Path, dict[str, object]], tmp_path: Path) -> None:
    source, _ = ledger
    lines = source.read_bytes().splitlines(keepends=True)
    target = tmp_path / "deleted.jsonl"
    # Deleting the last entry is a truncation: only a checkpoint can tell (next test).
    missed = [i for i in range(ENTRIES - 1) if not caught(target, b"".join(lines[:i] + lines[i + 1 :]))]
    assert missed == []


def test_swapping_any_two_neighbours(ledger: tuple[Path, dict[str, object]], tmp_path: Path) -> None:
    source, _ = ledger
    lines = source.read_bytes().splitlines(keepends=True)
    target = tmp_path / "swapped.jsonl"
    missed = []
    for i in range(ENTRIES - 1):
        swapped = [*lines[:i], lines[i + 1], lines[i], *lines[i + 2 :]]
        if not caught(target, b"".join(swapped)):
            missed.append(i)
    assert missed == []


def test_truncation_needs_and_meets_the_checkpoint(ledger: tuple[Path, dict[str, object]], tmp_path: Path) -> None:
    """Cut at every entry boundary, and at 200 random bytes: the published checkpoint catches each."""
    source, checkpoint = ledger
    original = source.read_bytes()
    boundaries = [i + 1 for i, byte in enumerate(original) if byte == ord("\n")][:-1]
    cuts = [0, *boundaries, *random.Random(7).sample(range(len(original) - 1), 200)]
    target = tmp_path / "truncated.jsonl"
    missed = [cut for cut in cuts if not caught(target, original[:cut], checkpoint)]
    assert missed == []
    assert len(cuts) == ENTRIES + 200
    # Without the checkpoint a cut at a boundary looks like a shorter, valid ledger: that is why it is published.
    assert not caught(target, original[: boundaries[-1]])
