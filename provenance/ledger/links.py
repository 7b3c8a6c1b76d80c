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


def check_links(path: Path, checkpoint: dict[str, Any] | None = None) -> Verification:
    """Every entry's hash over its bytes, its `prev` and `seq`, and the checkpoint's head at its size.

    Stops at the first problem, naming its line. The Merkle root is not recomputed: with every
    link intact, the head the checkpoint names fixes every entry before it.
    """
    prev, count = ZERO_HASH, 0
    size = checkpoint["size"] if checkpoint is not None else -1

    def bad(problem: str, line: int) -> Verification:
        return Verification(count, prev, "", problem, line)

    for number, raw in enumerate(input_lines(path), start=1):
        found = _HASH.search(raw), _PREV.search(raw), _SEQ.search(raw)
        if found[0] is None or found[1] is None or found[2] is None:
            return bad("not a ledger entry (seq, prev and entry_hash are required)", number)
        claimed = found[0].group(1).decode()
        if int(found[2].group(1)) != count:
            return bad(f"seq is {int(found[2].group(1))}, expected {count} (missing or reordered)", number)
        if found[1].group(1).decode() != prev:
            return bad("prev does not match the previous entry's hash", number)
        if hash_without(raw, found[0].group(0))[0] != claimed:
            return bad("entry_hash does not match the entry's content (edited)", number)
        prev, count = claimed, count + 1
        if count == size and prev != checkpoint["head"]:  # type: ignore[index]
            return bad(
                f"the first {count} entries do not match the checkpoint's head: the ledger was rewritten", number
            )
    if checkpoint is not None and count < size:
        return Verification(
            count, prev, "", f"the ledger has {count} entries but the checkpoint recorded {size}: truncated"
        )
    return Verification(count, prev, "")
