"""Byte-level mutations of real files, for the fuzzing and hostile-input properties."""

from __future__ import annotations

from hypothesis import strategies as st

ACTIONS = ("replace", "delete", "insert", "cut")


@st.composite
def edits(draw: st.DrawFn, size: int, most: int = 8) -> list[tuple[str, int, int]]:
    """Up to `most` edits of a byte string of `size` bytes: replace, delete, insert or cut at a position."""
    edit = st.tuples(st.sampled_from(ACTIONS), st.integers(0, max(size - 1, 0)), st.integers(0, 255))
    return draw(st.lists(edit, min_size=1, max_size=most))


def edited(data: bytes, changes: list[tuple[str, int, int]]) -> bytes:
    """`data` with the edits applied in turn (positions wrap around what is left)."""
    out = bytearray(data)
    for action, at, byte in changes:
        if not out:
            break
        at %= len(out)
        if action == "replace":
            out[at] = byte
        elif action == "delete":
            del out[at]
        elif action == "insert":
            out.insert(at, byte)
        else:
            del out[at:]
    return bytes(out)
