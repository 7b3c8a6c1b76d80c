"""The trust boundary: where a path in the workspace may lead, and how files are written and read.

The workspace is the pull request's tree: any path in it may be a symlink. Every path the tool
resolves from it is checked here; every file it writes is written so that a crash leaves the old
content or the new, never half of either.
"""

from __future__ import annotations

import contextlib
import glob
import os
import re
import stat
import tempfile
import time
from pathlib import Path
from typing import Any

from provenance.errors import InputError
from provenance.text import printable


def resolve_inside(workspace: Path, relative: str, what: str) -> Path:
    """A path inside the workspace; `..` or a symlink that leads out of it is refused."""
    root = workspace.resolve()
    candidate = (root / relative).resolve()
    if candidate != root and root not in candidate.parents:
        raise InputError(f"path {relative!r} leads outside the workspace", field=what)
    return candidate


# What a file name built from an id (a run id, an artifact's name) may contain: nothing that moves
# the path (`/`, `..`), splits a line, or needs quoting in a shell or a URL.
_SAFE_NAME = re.compile(r"[A-Za-z0-9._-]{1,128}")


def safe_name(text: str, what: str) -> str:
    """`text` itself when it can stand as one file name; bad input naming `what` otherwise."""
    if not _SAFE_NAME.fullmatch(text) or text in (".", ".."):
        raise InputError(f"expected 1 to 128 of A-Z a-z 0-9 . _ - (got {printable(text[:80])!r})", field=what)
    return text


def lexical(path: Path) -> Path:
    """The path absolute and normalised (`..` taken away), links not followed: as the resolver compares it."""
    return Path(os.path.normpath(os.path.abspath(path)))  # noqa: PTH100


def writable_path(workspace: Path, relative: str | Path, what: str) -> Path:
    """Where to write `relative`: inside the workspace, with no symlink on the way there.

    The workspace is the pull request's tree: a committed `evidence -> /etc` or
    `data/ci_runs.jsonl -> ~/.bashrc` would otherwise carry our writes wherever it points. Every
    existing component below the workspace (the file itself included) must be a real directory or
    file; the workspace's own path may pass through links (the runner mounts it).
    """
    root = Path(os.path.abspath(workspace))  # noqa: PTH100
    target = lexical(root / relative)
    if target != root and not target.is_relative_to(root):
        raise InputError("leads outside the workspace", source=str(relative), field=what)
    current = root
    parts = target.relative_to(root).parts
    for depth, part in enumerate(parts, 1):
        current = current / part
        try:
            mode = current.lstat().st_mode
        except FileNotFoundError:
            break  # what does not exist yet is created by us, below a checked directory
        except OSError as exc:
            raise InputError(f"cannot be used ({exc.strerror})", source=str(relative), field=what) from None
        shown = current.relative_to(root).as_posix()
        if stat.S_ISLNK(mode):
            raise InputError(f"{shown} is a symlink; refusing to write through it", source=str(relative), field=what)
        if depth < len(parts) and not stat.S_ISDIR(mode):
            raise InputError(f"{shown} is a file where a directory is expected", source=str(relative), field=what)
    return target


def linked_out(path: Path, workspace: Path) -> str | None:
    """The path shown relative to the workspace when it lies in it but a symlink leads it outside; else None.

    A pull request can commit such a link; following it would publish whatever it points at (a
    runner file, a secret). A path named outside the checkout is the user's choice.
    """
    # Lexically (links not followed), then resolved: a difference means a link leads out.
    root, named = lexical(workspace), lexical(path)
    if named.is_relative_to(root) and not path.resolve().is_relative_to(workspace.resolve()):
        return named.relative_to(root).as_posix()
    return None


def atomic_write(path: Path, data: bytes) -> None:
    """Write to a temporary file beside `path`, fsync it, rename it over `path`, fsync the directory."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        Path(temp).chmod(0o644)
        Path(temp).replace(path)
    except BaseException:
        with contextlib.suppress(OSError):
            Path(temp).unlink()
        raise
    fsync_dir(path.parent)
    _remove_stale_temporaries(path)


# No write of ours takes an hour: a temporary file that old was left by a writer that was killed.
STALE_AFTER_SECONDS = 3600


def _remove_stale_temporaries(path: Path) -> None:
    """Remove what killed writers of this very file left beside it (`.<name>.<random>.tmp`, an hour old)."""
    cutoff = time.time() - STALE_AFTER_SECONDS
    for stale in path.parent.glob(f".{glob.escape(path.name)}.????????.tmp"):  # mkstemp: 8 random characters
        with contextlib.suppress(OSError):
            if stale.stat().st_mtime < cutoff:
                stale.unlink()


def fsync_dir(directory: Path) -> None:
    """Make a rename or a new file in `directory` durable (a no-op where the OS cannot)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def share_with_workspace_owner(paths: list[Path], workspace: Path) -> None:
    """Give files we created in the workspace to the workspace's owner.

    A container action runs as root while later steps run as the runner's user; root-owned
    files would leave those steps unable to append to the ledger or clean the checkout. Only
    paths inside the workspace, and their directories up to it, are changed.
    """
    if os.geteuid() != 0:
        return
    owner = workspace.stat()
    if owner.st_uid == 0:
        return
    root = workspace.resolve()
    for path in paths:
        current = path.resolve()
        while current != root and root in current.parents:
            with contextlib.suppress(OSError):
                if current.stat().st_uid == 0:
                    os.chown(current, owner.st_uid, owner.st_gid)
            current = current.parent


def append_lines(path: Path, lines: list[bytes]) -> None:
    """Append whole lines under an exclusive lock, in one write, then fsync: never half a line."""
    import fcntl

    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    except IsADirectoryError:
        raise InputError("expected a file, found a directory", source=str(path)) from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        data = b"".join(line if line.endswith(b"\n") else line + b"\n" for line in lines)
        written = 0
        while written < len(data):
            written += os.write(fd, data[written:])
        os.fsync(fd)
    finally:
        os.close(fd)


def pretty_json(document: Any) -> bytes:
    """A JSON file people read (indented, UTF-8, a final newline); orjson, as the stdlib's indenting encoder is slow."""
    import orjson

    return orjson.dumps(document, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE)
