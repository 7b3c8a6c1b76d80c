"""Which tests mention a changed source file by name: a link from a change to tests it may break.

It holds before any of those tests has failed with the file. Projects name tests after what they
test (`tests/test_schema.py`, `TestSchema`, `test_load_schema` for `src/pkg/schema.py`), so a test
whose node id mentions the name of a changed source file is more likely to be broken by the change
than one that does not. How much more is learnt per project (`model.py`); this only finds mentions.
"""

from __future__ import annotations

import re

import numpy as np
import numpy.typing as npt

# Words of a file name: split at anything not a letter or digit and where camelCase turns upper.
_SPLIT = re.compile(r"[^A-Za-z0-9]+|(?<=[a-z0-9])(?=[A-Z])")
_TOO_COMMON = frozenset({"test", "tests", "init", "main"})
_MIN_LETTERS = 3


def is_test_file(path: str) -> bool:
    """A test module by pytest's naming (`test_*.py`, `*_test.py`) or a file under a tests directory."""
    *folders, name = path.split("/")
    stem = name.rsplit(".", 1)[0]
    return stem.startswith("test_") or stem.endswith("_test") or "tests" in folders or "test" in folders


def words(path: str) -> set[str]:
    """The lower-case words of a file's name without its extension: `class_registry.py` → class, registry."""
    stem = path.rsplit("/", 1)[-1].rsplit(".", 1)[0]
    found = {word.lower() for word in _SPLIT.split(stem) if len(word) >= _MIN_LETTERS}
    return found - _TOO_COMMON


def mentioned(tests: list[str], changed_files: list[str]) -> npt.NDArray[np.bool_]:
    """Which node ids contain a word of a changed file's name (test files themselves excepted)."""
    named = set().union(*(words(f) for f in changed_files if not is_test_file(f)))
    if not named:
        return np.zeros(len(tests), dtype=bool)
    pattern = re.compile("|".join(sorted(map(re.escape, named))))
    # One scan of all the names (a word never spans the newline between two), each hit mapped back
    # to its name by offset: several times faster than a search per name on a large suite.
    lowered = [t.lower() for t in tests]
    starts = np.cumsum(np.fromiter(map(len, lowered), dtype=np.int64, count=len(tests)) + 1) - 1
    hits = np.fromiter((m.start() for m in pattern.finditer("\n".join(lowered))), dtype=np.int64)
    found = np.zeros(len(tests), dtype=bool)
    found[np.searchsorted(starts, hits)] = True
    return found
