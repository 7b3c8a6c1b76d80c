"""RFC 6962 (Certificate Transparency) Merkle trees over ledger entry hashes.

Leaf hash = SHA-256(0x00 || leaf), node hash = SHA-256(0x01 || left || right); a tree of n
leaves splits at the largest power of two smaller than n. The leaves are the ledger's entry hashes
(32 raw bytes each). An inclusion proof lets an auditor check one run against a published root
without seeing the other runs.
"""

from __future__ import annotations

import hashlib
from typing import Any

EMPTY_ROOT = hashlib.sha256(b"").hexdigest()


def leaf_hash(leaf: bytes) -> bytes:
    """The hash of one leaf."""
    return hashlib.sha256(b"\x00" + leaf).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """The hash of an inner node."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two strictly smaller than n (n >= 2)."""
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def root(leaves: list[bytes]) -> str:
    """The Merkle tree hash of the leaves, iteratively (no recursion depth limit), as hex."""
    if not leaves:
        return EMPTY_ROOT
    level = [leaf_hash(leaf) for leaf in leaves]
    # Pairing left to right and carrying an odd last node up unchanged gives exactly RFC 6962's
    # split at the largest power of two.
    while len(level) > 1:
        paired = [node_hash(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            paired.append(level[-1])
        level = paired
    return level[0].hex()


def inclusion_proof(leaves: list[bytes], index: int) -> list[str]:
    """The audit path for leaf `index` (RFC 6962 §2.1.1), as hex, nearest sibling first."""
    if not 0 <= index < len(leaves):
        raise ValueError(f"leaf {index} is not in a tree of {len(leaves)}")
    path: list[bytes] = []
    hashed = [leaf_hash(leaf) for leaf in leaves]

    def subtree(lo: int, hi: int) -> bytes:
        level = hashed[lo:hi]
        while len(level) > 1:
            paired = [node_hash(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
            if len(level) % 2:
                paired.append(level[-1])
            level = paired
        return level[0]

    lo, hi, m = 0, len(leaves), index
    while hi - lo > 1:
        k = _split(hi - lo)
        if m < k:
            path.append(subtree(lo + k, hi))
            hi = lo + k
        else:
            path.append(subtree(lo, lo + k))
            lo, m = lo + k, m - k
    return [h.hex() for h in reversed(path)]


def root_from_proof(leaf: bytes, index: int, size: int, path: list[str]) -> str:
    """Recompute the root from one leaf and its audit path (RFC 9162 §2.1.3.2)."""
    if not 0 <= index < size:
        raise ValueError(f"leaf {index} is not in a tree of {size}")
    fn, sn = index, size - 1
    r = leaf_hash(leaf)
    for hex_hash in path:
        p = bytes.fromhex(hex_hash)
        if sn == 0:
            raise ValueError("the proof is longer than the tree is deep")
        if fn % 2 == 1 or fn == sn:
            r = node_hash(p, r)
            if fn % 2 == 0:
                while fn % 2 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ValueError("the proof is shorter than the tree is deep")
    return r.hex()


class Frontier:
    """The roots of the perfect subtrees of a growing tree (a compact range).

    Enough to append a leaf and to compute the root in O(log n), without reading the earlier
    leaves again.
    """

    def __init__(self, nodes: list[tuple[int, bytes]] | None = None) -> None:
        self.nodes: list[tuple[int, bytes]] = list(nodes or [])

    @property
    def size(self) -> int:
        """How many leaves the tree holds."""
        return sum(size for size, _ in self.nodes)

    def append(self, leaf: bytes) -> None:
        """Add one leaf, merging equal-sized subtrees."""
        self.nodes.append((1, leaf_hash(leaf)))
        while len(self.nodes) >= 2 and self.nodes[-1][0] == self.nodes[-2][0]:
            (size, right), (_, left) = self.nodes.pop(), self.nodes.pop()
            self.nodes.append((size * 2, node_hash(left, right)))

    def root(self) -> str:
        """The RFC 6962 root: the subtrees folded from the right."""
        if not self.nodes:
            return EMPTY_ROOT
        acc = self.nodes[-1][1]
        for _, node in reversed(self.nodes[:-1]):
            acc = node_hash(node, acc)
        return acc.hex()

    def to_json(self) -> list[list[Any]]:
        """`[[size, hex], ...]`, largest subtree first."""
        return [[size, node.hex()] for size, node in self.nodes]

    @classmethod
    def from_json(cls, value: Any) -> Frontier:
        """Read `to_json`'s form back; raises ValueError on anything else."""
        if not isinstance(value, list):
            raise ValueError("expected a list of [size, hash] pairs")
        nodes = []
        for item in value:
            if not (
                isinstance(item, list) and len(item) == 2 and isinstance(item[0], int) and isinstance(item[1], str)
            ):
                raise ValueError("expected a list of [size, hash] pairs")
            nodes.append((item[0], bytes.fromhex(item[1])))
        return cls(nodes)
