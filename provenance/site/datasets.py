"""Each dataset's checksum history: the runs where its digest was first seen or changed."""

from __future__ import annotations

from typing import Any

from provenance.site.history import Columns


class Datasets:
    """Per dataset id, the changes of its recorded checksum (None: missing or not hashed in that run)."""

    def __init__(self) -> None:
        self._history: dict[str, list[dict[str, Any]]] = {}
        self._runs: dict[str, int] = {}

    def add(self, columns: Columns) -> None:
        """Take one entry's dataset records (ids and checksums side by side)."""
        entry = columns.entry
        for dataset, checksum in zip(entry.dataset_id, entry.dataset_checksum, strict=False):
            self._runs[dataset] = self._runs.get(dataset, 0) + 1
            changes = self._history.setdefault(dataset, [])
            if not changes or changes[-1]["checksum"] != checksum:
                changes.append({"seq": entry.seq, "run_id": entry.run_id, "recorded_at": entry.recorded_at,
                                "checksum": checksum})  # fmt: skip

    def summary(self) -> list[dict[str, Any]]:
        """Every dataset by id, with the runs that recorded it and its checksum changes, oldest first."""
        return [{"id": dataset, "runs": self._runs[dataset], "changes": self._history[dataset]}
                for dataset in sorted(self._history)]  # fmt: skip
