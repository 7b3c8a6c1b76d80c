"""Map the paths a report names onto paths relative to the repository, for annotations.

A report written on the runner names files under the runner's checkout (for example
`/home/runner/work/repo/repo/pkg/tests/test_x.py`), while the container sees the same checkout
at `/github/workspace`. The rootdir's trailing path components that exist in the workspace tell
where the report's files live; the longest such suffix wins, so the mapping is never ambiguous.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from pathlib import Path, PurePosixPath


class Locator:
    """Resolves report paths to workspace-relative POSIX paths, caching per path."""

    def __init__(self, workspace: Path, report_dir: Path, rootdir: str | None) -> None:
        self.workspace = workspace.resolve()
        self._cache: dict[str, str] = {}
        self._files: dict[str, bool] = {}
        self._dirs: dict[PurePosixPath, bool] = {}
        self._seen: set[PurePosixPath] = set()
        self._root_abs = _posix(rootdir) if rootdir else None
        self._prefixes = self._candidate_prefixes(report_dir.resolve())

    def _candidate_prefixes_for_root(self) -> list[PurePosixPath]:
        if self._root_abs is None or not self._root_abs.is_absolute():
            return []
        parts = self._root_abs.parts[1:]
        return [PurePosixPath(*parts[i:]) for i in range(len(parts))]

    def _candidate_prefixes(self, report_dir: Path) -> list[PurePosixPath]:
        prefixes = self._candidate_prefixes_for_root()
        with contextlib.suppress(ValueError):
            prefixes.append(PurePosixPath(report_dir.relative_to(self.workspace).as_posix()))
        prefixes.append(PurePosixPath("."))
        return list(dict.fromkeys(prefixes))

    def relative(self, reported: str) -> str:
        """The reported path as the repository names it (best effort, never raises)."""
        cached = self._cache.get(reported)
        if cached is None:
            cached = self._cache[reported] = self._resolve(reported)
        return cached

    def is_file(self, reported: str) -> bool:
        """Whether the reported path is a file of the workspace; the filesystem is asked once per path."""
        known = self._files.get(reported)
        if known is None:
            known = self._files[reported] = _is(Path.is_file, self.workspace / self.relative(reported))
        return known

    def _resolve(self, reported: str) -> str:
        path = _posix(reported)
        if not path.is_absolute():
            self._seen.add(path)
        elif self._root_abs is None:
            self._learn_root(path)
        if path.is_absolute():
            inside = self._under(path, PurePosixPath(self.workspace.as_posix()))
            if inside is not None:
                return inside.as_posix()
            under_root = self._under(path, self._root_abs) if self._root_abs else None
            if under_root is None:
                return self._by_suffix(path)
            path = under_root
        for prefix in self._prefixes:
            candidate = prefix / path
            if self._in_workspace(candidate):
                return candidate.as_posix()
        return path.as_posix()

    def _in_workspace(self, candidate: PurePosixPath) -> bool:
        """Whether the workspace has this file; most candidates miss on a directory, remembered once."""
        parent = candidate.parent
        exists = self._dirs.get(parent)
        if exists is None:
            exists = self._dirs[parent] = _is(Path.is_dir, self.workspace / parent)
        return exists and _is(Path.is_file, self.workspace / candidate)

    def _learn_root(self, path: PurePosixPath) -> None:
        """Find the rootdir of a report that does not record it (report-log, JUnit XML).

        Such reports still name files both ways: an absolute path that ends with a relative one
        the report used reveals where the paths are rooted.
        """
        parts = path.parts
        for i in range(1, len(parts)):
            if PurePosixPath(*parts[i:]) in self._seen:
                self._root_abs = PurePosixPath(*parts[:i])
                self._prefixes = [*self._candidate_prefixes_for_root(), *self._prefixes]
                self._prefixes = list(dict.fromkeys(self._prefixes))
                return

    @staticmethod
    def _under(path: PurePosixPath, base: PurePosixPath | None) -> PurePosixPath | None:
        if base is None:
            return None
        try:
            return path.relative_to(base)
        except ValueError:
            return None

    def _by_suffix(self, path: PurePosixPath) -> str:
        parts = path.parts[1:]
        for i in range(len(parts)):
            candidate = PurePosixPath(*parts[i:])
            if self._in_workspace(candidate):
                return candidate.as_posix()
        return path.as_posix()


def _posix(reported: str) -> PurePosixPath:
    """Read a path written on any OS: backslashes become slashes, a drive letter is dropped."""
    text = reported.replace("\\", "/")
    if len(text) >= 2 and text[1] == ":" and text[0].isalpha():
        text = text[2:] or "/"
    return PurePosixPath(text)


def _is(kind: Callable[[Path], bool], path: Path) -> bool:
    """`path.is_file()` or `is_dir()`: a name the file system refuses (over 255 bytes, a NUL) is no file of ours."""
    try:
        return kind(path)
    except (OSError, ValueError):
        return False
