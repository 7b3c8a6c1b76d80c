"""Inclusion proofs: show one entry is in the ledger without handing over the rest."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from provenance.errors import InputError, IntegrityError
from provenance.ledger import merkle
from provenance.ledger.canonical import entry_hash
from provenance.ledger.verify import verify
from provenance.reading import input_lines


def prove(path: Path, seq: int) -> dict[str, Any]:
    """An inclusion proof for entry `seq`: the entry, its audit path and the root of the whole ledger."""
    result = verify(path)
    if result.problem is not None:
        raise IntegrityError(f"line {result.line}: {result.problem}; no proof from a ledger that does not verify",
                             source=str(path))  # fmt: skip
    if not 0 <= seq < result.entries:
        held = f"it holds 0 to {result.entries - 1}" if result.entries else "it is empty"
        raise InputError(f"no entry with seq {seq}; {held}", source=str(path), field="--seq")
    leaves: list[bytes] = []
    entry: dict[str, Any] = {}
    for number, line in enumerate(input_lines(path)):  # verified above: each line a ledger entry
        fields = json.loads(line)
        leaves.append(bytes.fromhex(fields["entry_hash"]))
        if number == seq:
            entry = fields
    return {
        "type": "provenance-inclusion-proof/v1",
        "ledger": path.name,
        "tree_size": len(leaves),
        "leaf_index": seq,
        "merkle_root": result.merkle_root,
        "audit_path": merkle.inclusion_proof(leaves, seq),
        "entry": entry,
    }


def check_proof(proof: Any, checkpoint: dict[str, Any] | None, source: str = "proof") -> str | None:
    """What is wrong with an inclusion proof, or None when the entry is provably in the ledger."""
    try:
        entry = proof["entry"]
        index, size, path = int(proof["leaf_index"]), int(proof["tree_size"]), list(proof["audit_path"])
        claimed_root = str(proof["merkle_root"])
        claimed_hash = str(entry["entry_hash"])
    except (KeyError, TypeError, ValueError):
        raise InputError("expected a proof from `provenance prove`", source=source) from None
    if entry_hash(entry) != claimed_hash:
        return "the entry does not match its entry_hash: it was edited"
    if entry.get("seq") != index:
        return f"the entry's seq {entry.get('seq')} is not the proof's leaf index {index}"
    try:
        computed = merkle.root_from_proof(bytes.fromhex(claimed_hash), index, size, path)
    except ValueError as exc:
        return f"the audit path does not fit the tree: {exc}"
    if computed != claimed_root:
        return "the audit path does not lead to the proof's Merkle root"
    if checkpoint is not None and (checkpoint["size"], checkpoint["merkle_root"]) != (size, claimed_root):
        return (
            f"the proof is for a tree of {size} entries with root {claimed_root}, the checkpoint records "
            f"{checkpoint['size']} entries with root {checkpoint['merkle_root']}"
        )
    return None
