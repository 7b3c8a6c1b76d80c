"""What an export directory already holds: per ledger, the last entry exported (its seq and hash).

Kept in the directory itself (`.provenance-export.json`), written last and atomically: it is the
point at which an export counts as done. A ledger is named by its first entry's hash, which no
later append changes and no other ledger shares.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from provenance.errors import InputError
from provenance.reading import read_json
from provenance.workspace import atomic_write, pretty_json

STATE_FILE = ".provenance-export.json"
STATE_TYPE = "provenance-export-state/v1"

_HEX64 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class Exported:
    """The last entry exported from one ledger, and the file it was read from then."""

    seq: int
    entry_hash: str
    ledger: str
    exported_at: str

    @property
    def head(self) -> tuple[int, str]:
        """The seq and hash the ledger must still hold."""
        return self.seq, self.entry_hash


def load_state(directory: Path) -> dict[str, Exported]:
    """The directory's record of what it holds, by ledger id; empty for a new directory."""
    path = directory / STATE_FILE
    if not path.exists():
        return {}
    document = read_json(path)
    ledgers = document.get("ledgers") if isinstance(document, dict) else None
    if not isinstance(document, dict) or document.get("type") != STATE_TYPE or not isinstance(ledgers, dict):
        raise InputError(f"expected an export record of type {STATE_TYPE} with ledgers", source=str(path))
    return {ledger_id: _exported(path, ledger_id, item) for ledger_id, item in ledgers.items()}


def _exported(path: Path, ledger_id: str, item: Any) -> Exported:
    field = f"ledgers.{ledger_id[:16]}"
    if not _HEX64.fullmatch(ledger_id) or not isinstance(item, dict):
        raise InputError("expected a ledger's first entry hash naming what was exported", source=str(path),
                         field=field)  # fmt: skip
    seq, digest = item.get("seq"), item.get("entry_hash")
    if type(seq) is not int or seq < 0 or not isinstance(digest, str) or not _HEX64.fullmatch(digest):
        raise InputError("expected seq (an integer, 0 or more) and entry_hash (a sha256)", source=str(path),
                         field=field)  # fmt: skip
    return Exported(seq, digest, str(item.get("ledger", "")), str(item.get("exported_at", "")))


def save_state(directory: Path, state: dict[str, Exported]) -> None:
    """Write the record atomically: an export interrupted before this counts as not done."""
    ledgers = {
        ledger_id: {"seq": e.seq, "entry_hash": e.entry_hash, "ledger": e.ledger, "exported_at": e.exported_at}
        for ledger_id, e in sorted(state.items())
    }
    atomic_write(directory / STATE_FILE, pretty_json({"type": STATE_TYPE, "ledgers": ledgers}))


def stamp(now: datetime) -> str:
    """RFC 3339 UTC, as every record of ours writes a time."""
    return now.isoformat().replace("+00:00", "Z")
