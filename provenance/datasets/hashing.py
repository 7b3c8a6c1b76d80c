r"""sha256 of files and of directory trees, streamed and in parallel.

A directory's digest is the in-toto `dirHash`, which anyone can recompute with coreutils:

    cd DIR && find . -type f | cut -c3- | LC_ALL=C sort | xargs -d '\n' sha256sum | sha256sum

that is, the sha256 of the `sha256sum` listing ("<hex>  <path>\n" per regular file, paths relative
to the directory, in byte order). Symbolic links are not followed, as `find -type f` does not.
Files are read once each; large ones in 1 MiB chunks on several threads (hashlib releases the
GIL), while the listing is still fed in order, so memory stays flat however many files there are.
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from provenance.errors import InputError

CHUNK_BYTES = 1024 * 1024
_WORKERS = max(2, (os.cpu_count() or 1) * 2)
_IN_FLIGHT = _WORKERS * 4


@dataclass(frozen=True)
class FileDigest:
    """A file's sha256 (and md5, when asked for, from the same read) and its size."""

    sha256: str
    size: int
    md5: str | None = None


@dataclass(frozen=True)
class TreeDigest:
    """A directory's (or a glob's) dirHash, its total size and how many files it holds."""

    sha256: str
    size: int
    nfiles: int


def hash_file(path: Path, *, with_md5: bool = False) -> FileDigest:
    """Stream one file through sha256 (and md5) in a single pass."""
    fd, size = _open(str(path))
    return _hash_fd(fd, size, with_md5)


def _open(path: str) -> tuple[int, int]:
    """Open a regular file for reading and tell its size; the descriptor is closed again if that fails.

    The tree is the pull request's: a file can vanish between the listing and the open, or be
    swapped for a FIFO (which would block a plain open forever), a directory or a device. Each
    is bad input naming the file. A file deleted once opened is hashed as it was.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        raise InputError("disappeared while the datasets were hashed", source=path) from None
    except OSError as exc:
        raise InputError(f"cannot be read ({exc.strerror})", source=path) from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise InputError("expected a regular file (it was replaced while the datasets were hashed)", source=path)
        return fd, info.st_size
    except BaseException:
        os.close(fd)
        raise


def _hash_fd(fd: int, size_hint: int, with_md5: bool = False) -> FileDigest:
    """Hash an open file and close it.

    A small file takes one read; a large one streams through a reused 1 MiB buffer (hashlib
    releases the GIL on large updates, so threads help there).
    """
    sha = hashlib.sha256()
    md5 = hashlib.md5(usedforsecurity=False) if with_md5 else None
    size = 0
    try:
        if size_hint < CHUNK_BYTES:
            chunks: Iterator[bytes | memoryview] = iter((os.read(fd, size_hint + 1),))
        else:
            chunks = _chunks(fd)
        for chunk in chunks:
            sha.update(chunk)
            if md5 is not None:
                md5.update(chunk)
            size += len(chunk)
        if size_hint < CHUNK_BYTES and size > size_hint:  # the file grew while we read it
            for chunk in _chunks(fd):
                sha.update(chunk)
                if md5 is not None:
                    md5.update(chunk)
                size += len(chunk)
    finally:
        os.close(fd)
    return FileDigest(sha.hexdigest(), size, md5.hexdigest() if md5 is not None else None)


def _chunks(fd: int) -> Iterator[memoryview]:
    """Read the rest of a file in fixed 1 MiB chunks into one reused buffer."""
    buffer = bytearray(CHUNK_BYTES)
    view = memoryview(buffer)
    while read := os.readv(fd, [buffer]):
        yield view[:read]


def sha256_file(path: Path) -> str:
    """Lowercase hex sha256 of a file's bytes."""
    return hash_file(path).sha256


def walk_files(root: Path) -> Iterator[str]:
    """Regular files under `root`, as `/`-separated relative paths, in byte (C locale) order.

    Sorting each directory's names with a `/` appended to subdirectories yields exactly the global
    byte order of the full paths, so the walk never holds more than one directory's listing per
    level.
    """
    stack: list[tuple[str, Iterator[tuple[bytes, str, bool]]]] = [("", iter(_sorted_entries(root)))]
    while stack:
        prefix, entries = stack[-1]
        entry = next(entries, None)
        if entry is None:
            stack.pop()
            continue
        _, name, is_dir = entry
        relative = prefix + name
        if is_dir:
            stack.append((relative + "/", iter(_sorted_entries(root / relative))))
        else:
            yield relative


def _sorted_entries(directory: Path) -> list[tuple[bytes, str, bool]]:
    found = []
    try:
        with os.scandir(directory) as scan:
            for entry in scan:  # the entry's type comes with the listing: no stat per file
                if entry.is_dir(follow_symlinks=False):
                    found.append((os.fsencode(entry.name) + b"/", entry.name, True))
                elif entry.is_file(follow_symlinks=False):
                    found.append((os.fsencode(entry.name), entry.name, False))
    except OSError as exc:  # removed or replaced while the tree was walked
        raise InputError(f"cannot be listed ({exc.strerror})", source=str(directory)) from None
    found.sort()
    return found


def hash_listing(root: Path, relatives: Iterator[str]) -> TreeDigest:
    """The dirHash of the given files (relative to `root`, already in byte order).

    Small files are hashed right here: for them Python's per-file cost is the bottleneck and
    threads only contend for the GIL. Files of 1 MiB and more go to a thread pool, where hashing
    runs in parallel. The listing is still fed in order, with a bounded number of files in flight.
    """
    outer = hashlib.sha256()
    size = nfiles = 0
    pending: deque[tuple[str, FileDigest | Future[FileDigest]]] = deque()
    base = str(root)

    def emit() -> None:
        nonlocal size, nfiles
        relative, result = pending.popleft()
        digest = result.result() if isinstance(result, Future) else result
        outer.update(_listing_line(digest.sha256, relative))
        size += digest.size
        nfiles += 1

    with ThreadPoolExecutor(max_workers=_WORKERS) as pool:
        for relative in relatives:
            fd, file_size = _open(f"{base}/{relative}")
            if file_size < CHUNK_BYTES:
                pending.append((relative, _hash_fd(fd, file_size)))
            else:
                pending.append((relative, pool.submit(_hash_fd, fd, file_size)))
            while pending and (len(pending) > _IN_FLIGHT or not isinstance(pending[0][1], Future)):
                emit()
        while pending:
            emit()
    return TreeDigest(outer.hexdigest(), size, nfiles)


def hash_tree(root: Path) -> TreeDigest:
    """The in-toto dirHash of a directory, its total size and file count."""
    return hash_listing(root, walk_files(root))


def _listing_line(digest: str, relative: str) -> bytes:
    """One line as `sha256sum` prints it.

    A name with a backslash or a newline is escaped, and its line then starts with a backslash
    (GNU coreutils' rule).
    """
    if "\\" in relative or "\n" in relative:
        escaped = relative.replace("\\", "\\\\").replace("\n", "\\n")
        line = f"\\{digest}  {escaped}\n"
    else:
        line = f"{digest}  {relative}\n"
    return line.encode("utf-8", "surrogateescape")
