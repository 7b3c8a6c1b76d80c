"""Reading what others wrote: every input opened bounded, every JSON document read one way.

The workspace is a pull request's tree, so any input may be a FIFO that never ends, a device, a
2 GB file of zeros, a file that grows while it is read, a glob over links that lead back to their
own directory, or JSON nested 100,000 deep. None of those may hang the step, take the runner's
memory or end in a traceback: each is bad input (exit 2) naming the file. Every stage reads
through here, so this module sits below them all (the path checks of writes are `workspace`'s).
"""

from __future__ import annotations

import contextlib
import errno
import fnmatch
import glob
import io
import json
import os
import stat
from collections.abc import Iterator
from contextvars import ContextVar
from pathlib import Path
from typing import Any, BinaryIO

from provenance.errors import InputError

# The largest file read whole, and the longest line of a file read a line at a time (a ledger), in
# MiB: the `max-input-mb` setting. A 100,000-test pytest-json-report is about 40 MB; parsing holds
# a few times the file's size, so the default keeps a run well inside a hosted runner's memory.
DEFAULT_MAX_INPUT_MB = 256
MAX_INPUT_MB_CEILING = 16384
_max_input_bytes: ContextVar[int] = ContextVar("max_input_bytes", default=DEFAULT_MAX_INPUT_MB << 20)


@contextlib.contextmanager
def input_limit(megabytes: int | None, setting: str = "max-input-mb") -> Iterator[None]:
    """Read every input of the block under this limit (None: the default); out of range is bad input."""
    if megabytes is None:
        yield
        return
    if not 1 <= megabytes <= MAX_INPUT_MB_CEILING:
        raise InputError(f"expected 1 to {MAX_INPUT_MB_CEILING} (MiB; got {megabytes})", field=setting)
    token = _max_input_bytes.set(megabytes << 20)
    try:
        yield
    finally:
        _max_input_bytes.reset(token)


def max_input_bytes() -> int:
    """The limit in force: the largest file read whole, the longest line read from a streamed one."""
    return _max_input_bytes.get()


class MissingInput(InputError):
    """The input does not exist: some callers read that as "nothing yet"."""


_KINDS = ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))  # fmt: skip


def _too_large(shown: str, field: str | None, size: int | None = None, what: str = "larger") -> InputError:
    found = f" ({size:,} bytes)" if size is not None else ""
    limit = f"the {max_input_bytes() >> 20} MiB limit on inputs{found}; see max-input-mb"
    return InputError(f"{what} than {limit}", source=shown, field=field)


class _BoundedRaw(io.RawIOBase):
    """A descriptor read no further than `limit` bytes: a file that grows while it is read is refused."""

    def __init__(self, fd: int, limit: int | None, shown: str, field: str | None) -> None:
        super().__init__()
        self._fd, self._limit, self._count, self._shown, self._field = fd, limit, 0, shown, field

    def readable(self) -> bool:
        return True

    def fileno(self) -> int:
        return self._fd

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        return os.lseek(self._fd, offset, whence)

    def tell(self) -> int:
        return os.lseek(self._fd, 0, os.SEEK_CUR)

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        if self._limit is not None:
            view = view[: self._limit - self._count + 1]
        count = os.readv(self._fd, [view])
        self._add(count)
        return count

    def readall(self) -> bytes:
        """The rest in as few reads as the size allows: one allocation for a file that does not grow."""
        chunks: list[bytes] = []
        while True:
            expected = max(os.fstat(self._fd).st_size - os.lseek(self._fd, 0, os.SEEK_CUR), 0) + 1
            if self._limit is not None:
                expected = min(expected, self._limit - self._count + 1)
            chunk = os.read(self._fd, max(expected, 1 << 16))
            if not chunk:
                return chunks[0] if len(chunks) == 1 else b"".join(chunks)
            self._add(len(chunk))
            chunks.append(chunk)

    def _add(self, count: int) -> None:
        self._count += count
        if self._limit is not None and self._count > self._limit:
            raise _too_large(self._shown, self._field)

    def close(self) -> None:
        if not self.closed:
            os.close(self._fd)
        super().close()


def open_input(
    path: Path | str, *, shown: str | None = None, field: str | None = None, whole: bool = True,
    follow_links: bool = True,
) -> BinaryIO:  # fmt: skip
    """Open an input: a regular file only, its size checked before the first byte is read.

    `O_NONBLOCK` makes opening a FIFO return at once (then `fstat` refuses it), so no input can
    leave the step waiting for a writer. `whole`: the file is read whole, so it is bounded by
    the limit as a whole; otherwise it is read a line at a time (`input_lines` bounds each line).
    """
    shown = str(path) if shown is None else shown
    flags = os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC | (0 if follow_links else os.O_NOFOLLOW)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise MissingInput("no such file", source=shown, field=field) from None
    except OSError as exc:
        raise _unopenable(path, exc, shown, field) from None
    try:
        info = os.fstat(fd)
        for test, kind in _KINDS:
            if test(info.st_mode) and not _is_devnull(info):  # /dev/null: the usual "nothing", and it ends
                raise InputError(f"expected a regular file, found {kind}", source=shown, field=field)
        limit = max_input_bytes() if whole else None
        if limit is not None and info.st_size > limit:
            raise _too_large(shown, field, info.st_size)
        return io.BufferedReader(_BoundedRaw(fd, limit, shown, field), buffer_size=1 << 20)
    except BaseException:
        os.close(fd)
        raise


def _is_devnull(info: os.stat_result) -> bool:
    try:
        null = Path(os.devnull).stat()
    except OSError:
        return False
    return stat.S_ISCHR(info.st_mode) and info.st_rdev == null.st_rdev


def _unopenable(path: Path | str, exc: OSError, shown: str, field: str | None) -> InputError:
    """Why a path cannot be opened, in the words of the file's kind where that is the reason."""
    if exc.errno == errno.ELOOP:
        return InputError("is a symlink; expected a regular file", source=shown, field=field)
    with contextlib.suppress(OSError):
        mode = Path(path).stat().st_mode
        for test, kind in _KINDS:
            if test(mode):
                return InputError(f"expected a regular file, found {kind}", source=shown, field=field)
    return InputError(f"cannot be read ({exc.strerror})", source=shown, field=field)


def read_input(path: Path | str, *, shown: str | None = None, field: str | None = None,
               follow_links: bool = True) -> bytes:  # fmt: skip
    """A whole input, bounded by the limit (checked before reading, and again as it is read)."""
    with open_input(path, shown=shown, field=field, follow_links=follow_links) as handle:
        return handle.read()


_PIECE = 1 << 20


class LineTooLong(ValueError):
    """A line past the limit on inputs: measured, never held."""


def read_line(handle: BinaryIO, limit: int) -> bytes:
    """The next line, with its newline (b"" at the end); `LineTooLong` past `limit` bytes.

    A long line is measured a piece at a time first, then read in one go: `readline(limit)` would
    gather the pieces and join them, holding a line past the limit twice before it could refuse it.
    """
    line = handle.readline(min(limit + 1, _PIECE))
    if line.endswith(b"\n") or len(line) < _PIECE:
        if len(line) > limit:
            raise LineTooLong
        return line  # nearly every line: one call
    start, length = handle.tell() - len(line), len(line)
    while piece := handle.readline(_PIECE):
        length += len(piece)
        if length > limit:
            raise LineTooLong
        if piece.endswith(b"\n"):
            break
    handle.seek(start)
    return handle.read(length)


def bounded_lines(handle: BinaryIO, shown: str, field: str | None = None) -> Iterator[bytes]:
    """The lines of an open input, each with its newline; a line longer than the limit is refused unread."""
    limit = max_input_bytes()
    while True:
        try:
            line = read_line(handle, limit)
        except LineTooLong:
            raise _too_large(shown, field, what="a line is longer") from None
        if not line:
            return
        yield line


def input_lines(path: Path | str, *, shown: str | None = None, field: str | None = None) -> Iterator[bytes]:
    """A file read a line at a time (a ledger, a history): no limit on its size, each line bounded."""
    shown = str(path) if shown is None else shown
    with open_input(path, shown=shown, field=field, whole=False) as handle:
        yield from bounded_lines(handle, shown, field)


# A glob that matches more files than this is a mistake (or a planted tree), not a set of reports.
MAX_GLOB_MATCHES = 10_000


def glob_files(pattern: str, root: Path, *, setting: str, limit: int = MAX_GLOB_MATCHES) -> list[Path]:
    """Regular files the glob names (`**` included), never reached through a symlinked directory.

    `glob.glob` follows links to directories under `**`, so two links to each other multiply the
    paths without end; `os.walk` with `followlinks=False` sees each directory once. Names starting
    with a dot match only a pattern that starts with one, as in `glob`. The matches are bounded.
    """
    parts = Path(pattern).parts if Path(pattern).is_absolute() else (root / pattern).parts
    fixed = next((i for i, part in enumerate(parts) if glob.has_magic(part)), len(parts))
    base, wanted = Path(*parts[:fixed]), parts[fixed:]
    if not wanted:
        return [base] if base.is_file() else []
    depth = None if "**" in wanted else len(wanted)
    found: list[Path] = []
    hidden = any(part.startswith(".") for part in wanted)
    for directory, subdirectories, files in os.walk(base, followlinks=False):
        here = Path(directory).relative_to(base).parts
        if depth is not None and len(here) + 1 >= depth:
            subdirectories.clear()
        elif not hidden:  # `.git` and the like cannot match: not walked
            subdirectories[:] = [name for name in subdirectories if not name.startswith(".")]
        for name in sorted(files):
            if _glob_match(wanted, (*here, name)) and (path := Path(directory, name)).is_file():
                found.append(path)
                if len(found) > limit:
                    raise InputError(f"matches more than {limit:,} files", source=pattern, field=setting)
    return sorted(found)


def _glob_match(pattern: tuple[str, ...], parts: tuple[str, ...]) -> bool:
    """Whether path `parts` match glob `pattern` segment by segment (`**`: any number of directories)."""
    if not pattern:
        return not parts
    head = pattern[0]
    if head == "**":
        return any(_glob_match(pattern[1:], parts[skip:]) for skip in range(len(parts) + 1)
                   if not any(part.startswith(".") for part in parts[:skip]))  # fmt: skip
    if not parts or (parts[0].startswith(".") and not head.startswith(".")):
        return False
    return fnmatch.fnmatchcase(parts[0], head) and _glob_match(pattern[1:], parts[1:])


# --- JSON ---------------------------------------------------------------------------------------

# Integers outside 64 bits (signed or not) are refused: every writer we feed them to stops there.
_INT_MIN, _INT_MAX = -(2**63), 2**64 - 1


class _Refused(ValueError):
    """Raised inside the parser's hooks; its message is the reason."""


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    document = dict(pairs)
    if len(document) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _Refused(f"duplicate key {key!r}")
            seen.add(key)
    return document


def _integer(text: str) -> int:
    value = int(text) if len(text) <= 21 else None
    if value is None or not _INT_MIN <= value <= _INT_MAX:
        raise _Refused(f"integer out of the 64-bit range ({text[:24]}{'…' if len(text) > 24 else ''})")
    return value


def loads(data: bytes | str, *, source: str, field: str | None = None, error: type[InputError] = InputError) -> Any:
    """Parse one JSON document; duplicate keys, nesting past the parser's depth and huge integers are bad input."""
    try:
        return json.loads(data, object_pairs_hook=_pairs, parse_int=_integer)
    except _Refused as exc:
        problem = str(exc)
    except RecursionError:
        problem = "nested too deeply (expected JSON of a few levels)"
    except UnicodeDecodeError:
        problem = "not valid JSON (not UTF-8)"
    except ValueError as exc:  # json.JSONDecodeError and the rest
        problem = f"not valid JSON ({exc})"
    raise error(problem, source=source, field=field)


def read_json(path: Path | str) -> Any:
    """A small JSON file (a checkpoint, a proof): bounded, and read strictly."""
    return loads(read_input(path), source=str(path))
