from __future__ import annotations

import os
import time
from pathlib import Path

from provenance.workspace import STALE_AFTER_SECONDS, atomic_write


def test_a_write_removes_what_killed_writers_of_the_same_file_left(tmp_path: Path) -> None:
    old = time.time() - STALE_AFTER_SECONDS - 60
    left = {
        ".x.json.abcd_123.tmp": old,  # a killed writer of x.json: removed
        ".x.json.efgh4567.tmp": time.time(),  # perhaps still being written: kept
        ".x.json.checkpoint.json.abcd_123.tmp": old,  # another file's: kept
        ".x.json.backup.tmp": old,  # not ours: kept
        ".y.json.abcd_123.tmp": old,  # another file's: kept
    }
    for name, mtime in left.items():
        (tmp_path / name).write_bytes(b"partial")
        os.utime(tmp_path / name, (mtime, mtime))
    atomic_write(tmp_path / "x.json", b"{}")
    assert (tmp_path / "x.json").read_bytes() == b"{}"
    kept = {name for name in left if name != ".x.json.abcd_123.tmp"}
    assert {p.name for p in tmp_path.iterdir()} == {*kept, "x.json"}
