"""Unpacking a downloaded artifact: every member checked first, then all of it or nothing.

An artifact's zip comes from whoever could upload to the run, so each member is checked before
anything is written: no absolute name, no `..`, no drive letter, no control character, no
symbolic link or other special file, no name twice, at most `MAX_MEMBERS` members and
`MAX_UNPACKED_BYTES` in all. The members are then written into a temporary directory beside the
destination, which is renamed into place only when every one was written: a refusal or a crash
leaves nothing behind.
"""

from __future__ import annotations

import shutil
import stat
import tempfile
import unicodedata
import zipfile
import zlib
from pathlib import Path, PurePosixPath

from provenance.errors import InputError
from provenance.text import printable

MAX_MEMBERS = 10_000
MAX_UNPACKED_BYTES = 4 * 1024**3
_COPY_BYTES = 1024 * 1024


def _refuse(problem: str, where: str) -> InputError:
    return InputError(problem, source=where)


def member_name(info: zipfile.ZipInfo, where: str) -> PurePosixPath:
    """The member's relative path, or a refusal saying what is wrong with it."""
    raw = info.filename
    shown = printable(raw[:200])
    name = PurePosixPath(raw)
    if not raw or "\\" in raw or name.is_absolute() or (name.parts and ":" in name.parts[0]):
        raise _refuse(f"the artifact holds an unsafe path {shown!r}", where)
    if any(part in ("..", ".") for part in name.parts) or any(unicodedata.category(c)[0] == "C" for c in raw):
        raise _refuse(f"the artifact holds an unsafe path {shown!r}", where)
    kind = stat.S_IFMT(info.external_attr >> 16)
    if kind == stat.S_IFLNK:
        raise _refuse(f"the artifact holds a symbolic link {shown!r}", where)
    if kind not in (0, stat.S_IFREG, stat.S_IFDIR):
        raise _refuse(f"the artifact holds a special file {shown!r}", where)
    return name


def check_members(archive: zipfile.ZipFile, where: str) -> list[tuple[zipfile.ZipInfo, PurePosixPath]]:
    """Every member, checked before anything is written (see the module's docstring)."""
    members = archive.infolist()
    if len(members) > MAX_MEMBERS:
        raise _refuse(f"the artifact holds {len(members):,} members, more than the limit of {MAX_MEMBERS:,}", where)
    total = sum(m.file_size for m in members)
    if total > MAX_UNPACKED_BYTES:
        raise _refuse(f"the artifact unpacks to {total:,} bytes, more than the limit of {MAX_UNPACKED_BYTES:,}", where)
    seen: set[PurePosixPath] = set()
    checked = []
    for info in members:
        name = member_name(info, where)
        if name in seen:
            raise _refuse(f"the artifact holds {printable(info.filename[:200])!r} twice", where)
        seen.add(name)
        checked.append((info, name))
    files = {name for info, name in checked if not info.is_dir()}
    for name in seen:
        if any(parent in files for parent in name.parents):
            raise _refuse(f"the artifact holds {printable(str(name)[:200])!r} under a file of the same name", where)
    return checked


def extract(zip_path: Path, target: Path, where: str) -> list[str]:
    """Unpack `zip_path` into `target` (which must not exist yet), all or nothing; the files written."""
    if target.exists() or target.is_symlink():
        raise InputError(f"{target} already exists; choose another --dest", field="--dest")
    try:
        archive = zipfile.ZipFile(zip_path)
    except (zipfile.BadZipFile, OSError):
        raise _refuse("the artifact is not a zip archive", where) from None
    except (NotImplementedError, ValueError) as exc:  # a zip version or feature zipfile cannot read
        raise _refuse(
            f"the artifact is a zip archive that cannot be read ({printable(str(exc)[:200])})", where
        ) from None
    staging = Path(tempfile.mkdtemp(prefix=".unpack-", dir=target.parent))
    try:
        with archive:
            checked = check_members(archive, where)
            written = _write_members(archive, checked, staging, where)
        staging.rename(target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return written


def _write_members(
    archive: zipfile.ZipFile, checked: list[tuple[zipfile.ZipInfo, PurePosixPath]], root: Path, where: str
) -> list[str]:
    """Write the checked members under `root`, counting the bytes really inflated against the limit."""
    written: list[str] = []
    total = 0
    for info, name in checked:
        target = root.joinpath(*name.parts)
        if info.is_dir():
            target.mkdir(parents=True, exist_ok=True)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            with archive.open(info) as source, target.open("xb") as out:
                while chunk := source.read(_COPY_BYTES):
                    total += len(chunk)
                    if total > MAX_UNPACKED_BYTES:
                        raise _refuse(f"the artifact unpacks to more than {MAX_UNPACKED_BYTES:,} bytes", where)
                    out.write(chunk)
        except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError) as exc:
            reason = printable(str(exc)[:200])
            raise _refuse(
                f"the artifact's member {printable(str(name)[:200])!r} is unreadable ({reason})", where
            ) from None
        written.append(name.as_posix())
    return written
