"""The check every `run` makes of the ledger it extends: every entry's hash and link, at hashing speed.

`verify` also proves that each line is the canonical form of its content, which means parsing and
encoding every line again: about 200 MB/s, so seconds a run on a long history. This check reads
each line's three chain fields where a canonical line holds them and hashes the line without its
`entry_hash` member, as the writer did, so any byte changed anywhere in an entry shows as a hash
that does not match, and an entry removed, added or reordered as a broken link. What it leaves to
`verify` is a line rewritten with its hash recomputed over non-canonical bytes: whoever can do that
can recompute the whole chain, which no check of the ledger alone can see (SECURITY.md).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from provenance.ledger.canonical import ZERO_HASH, hash_without
from provenance.ledger.verify import Verification
from provenance.reading import input_lines

# Top-level members of a canonical entry; no nested object of an entry has these keys, and inside a
# string a quote is escaped, so the first match in a line is the member itself.
_HASH = re.compile(rb'"entry_hash":"([0-9a-f]{64})",')
_PREV = re.compile(rb'"prev":"([0-9a-f]{64})"')
_SEQ = re.compile(rb'"seq":(0|[1-9][0-9]{0,18})[,}]')


class BrokenLink(Exception):
    """The first line whose hash or link does not hold: what is wrong, and its 1-based line number."""

    def __init__(self, problem: str, line: int, entries: int, head: str) -> None:
        super().__init__(problem)
        self.problem, self.line, self.entries, self.head = problem, line, entries, head


def linked_lines(path: Path) -> Iterator[tuple[int, str, bytes]]:
    """Each line with its seq and entry hash, once its hash over its bytes and its link are checked.

    Raises `BrokenLink` at the first line that is no entry, is out of sequence, does not link to
    the line before or does not match its hash: what was yielded before it is the intact prefix.
    """
    prev, count = ZERO_HASH, 0
    for number, raw in enumerate(input_lines(path), start=1):
        found = _HASH.search(raw), _PREV.search(raw), _SEQ.search(raw)
        if found[0] is None or found[1] is None or found[2] is None:
            raise BrokenLink("not a ledger entry (seq, prev and entry_hash are required)", number, count, prev)
        claimed, seq = found[0].group(1).decode(), int(found[2].group(1))
        if seq != count:
            raise BrokenLink(f"seq is {seq}, expected {count} (missing or reordered)", number, count, prev)
        if found[1].group(1).decode() != prev:
            raise BrokenLink("prev does not match the previous entry's hash", number, count, prev)
        if hash_without(raw, found[0].group(0))[0] != claimed:
            raise BrokenLink("entry_hash does not match the entry's content (edited)", number, count, prev)
        yield seq, claimed, raw
        prev, count = claimed, count + 1


def first_entry_hash(path: Path) -> str | None:
    """The hash on the ledger's first line, which names the ledger (None for an empty one); not checked here."""
    for raw in input_lines(path):
        found = _HASH.search(raw)
        return found.group(1).decode() if found else None
    return None


def check_links(path: Path, *checkpoints: dict[str, Any]) -> Verification:
    """Every entry's hash over its bytes, its `prev` and `seq`, and each checkpoint's head at its size.

    One pass, however many checkpoints vouch for the ledger (the one beside it, the one the last
    run here kept); stops at the first problem, naming its line. The Merkle root is not recomputed:
    with every link intact, the head a checkpoint names fixes every entry before it.
    """
    prev, count = ZERO_HASH, 0
    heads: dict[int, set[str]] = {}  # two checkpoints of one size may name different heads: both must hold
    for checkpoint in checkpoints:
        heads.setdefault(checkpoint["size"], set()).add(checkpoint["head"])
    try:
        for seq, claimed, _ in linked_lines(path):
            prev, count = claimed, seq + 1
            if heads.get(count, {prev}) != {prev}:
                problem = f"the first {count} entries do not match the checkpoint's head: the ledger was rewritten"
                return Verification(count, prev, "", problem, count)
    except BrokenLink as broken:
        return Verification(broken.entries, broken.head, "", broken.problem, broken.line)
    if heads and count < max(heads):
        problem = f"the ledger has {count} entries but the checkpoint recorded {max(heads)}: truncated"
        return Verification(count, prev, "", problem, None)
    return Verification(count, prev, "")
