"""`provenance site`: the page's data from one pass over the ledger, written with the page's files.

The output directory is self-contained (HTML, CSS, JavaScript and the data as a script), so it works
from GitHub Pages, a downloaded artifact or a laptop with no network: the page asks no other host
for anything, and its Content-Security-Policy forbids it to.
"""

from __future__ import annotations

import contextlib
import itertools
import shutil
import tempfile
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import orjson

from provenance.errors import InputError
from provenance.site.datasets import Datasets
from provenance.site.history import Catalog, Entry, checked, entries
from provenance.site.runs import Runs
from provenance.site.savings import BUDGETS, Savings
from provenance.site.strips import FLAKY_FLIPS, STRIP_LENGTH, Strips
from provenance.site.weeks import Weeks
from provenance.workspace import atomic_write, fsync_dir, writable_path

ASSETS = ("index.html", "site.css", "site.js")
DATA_FILE = "data.js"
# Written into every site; only a directory holding it (or an empty one) is replaced by a new build.
MARKER = ".provenance-site"


@dataclass(frozen=True)
class SiteSummary:
    """What was built: for the command's one line and its JSON."""

    out: Path
    entries: int
    tests: int
    flaky: int
    files: int
    bytes: int


def page_data(ledger: Path) -> dict[str, Any]:
    """Everything the page shows, from a ledger whose every hash and link holds."""
    count, head = checked(ledger)
    catalog = Catalog()
    strips, savings = Strips(catalog), Savings(catalog, count)
    parts = (strips, Runs(), Weeks(), savings, Datasets())
    first: Entry | None = None
    last: Entry | None = None
    for entry in itertools.islice(entries(ledger), count):  # not an entry appended since the check
        columns = catalog.columns(entry)
        for part in parts:
            part.add(columns)
        first, last = first or entry, entry
    runs, weeks, datasets = parts[1], parts[2], parts[4]
    assert first is not None and last is not None  # `checked` refused an empty ledger
    return {
        "ledger": {"name": ledger.name, "entries": count, "head": head, "repository": last.repository,
                   "first_recorded_at": first.recorded_at, "last_recorded_at": last.recorded_at},
        "settings": {"strip_length": STRIP_LENGTH, "flaky_flips": FLAKY_FLIPS, "budgets": list(BUDGETS)},
        "runs": runs.columns,
        "tests": strips.columns(),
        "flaky": strips.flaky(),
        "failures": runs.recent_failures(),
        "calibration": weeks.summary(),
        "savings": savings.summary(),
        "datasets": datasets.summary(),
    }  # fmt: skip


def build_site(ledger: Path, out: str, workspace: Path) -> SiteSummary:
    """Build the page for `ledger` into `out` (inside `workspace`), replacing an earlier build whole.

    The files go to a temporary directory beside `out`, which then takes `out`'s place: a failure
    leaves the earlier site as it was, never a mix. An existing `out` must be empty or a site built
    here before (it holds the marker file), so a mistyped `--out .` cannot remove a checkout.
    """
    target = writable_path(workspace, out, "--out")
    _check_replaceable(target, out)
    data = page_data(ledger)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
    try:
        files = _write_files(staging, data)
        size = sum(path.stat().st_size for path in files)
        staging.chmod(0o755)
        _swap(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return SiteSummary(target, data["ledger"]["entries"], len(data["tests"]["name"]), len(data["flaky"]),
                       len(files), size)  # fmt: skip


def _check_replaceable(target: Path, shown: str) -> None:
    if not target.exists():
        return
    if not target.is_dir():
        raise InputError("exists and is not a directory; expected a directory for the site", source=shown,
                         field="--out")  # fmt: skip
    if any(target.iterdir()) and not (target / MARKER).is_file():
        raise InputError(f"is a directory that holds other files (no {MARKER}); expected a new or empty directory, "
                         "or a site built before", source=shown, field="--out")  # fmt: skip


def _write_files(directory: Path, data: dict[str, Any]) -> list[Path]:
    """The page's files, each written whole; returns their paths."""
    written = []
    assets = resources.files("provenance.site") / "assets"
    for name in ASSETS:
        path = directory / name
        atomic_write(path, (assets / name).read_bytes())
        written.append(path)
    script = b"window.PROVENANCE_SITE = " + orjson.dumps(data) + b";\n"
    atomic_write(directory / DATA_FILE, script)
    atomic_write(directory / MARKER, b"built by provenance site; this directory is replaced by the next build\n")
    return [*written, directory / DATA_FILE, directory / MARKER]


def _swap(staging: Path, target: Path) -> None:
    """Put `staging` at `target`; an earlier site there is moved aside first, then removed."""
    old: Path | None = None
    if target.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".old", dir=target.parent))
        target.replace(old / target.name)
    try:
        staging.replace(target)
    except BaseException:
        if old is not None:
            with contextlib.suppress(OSError):
                (old / target.name).replace(target)
        raise
    finally:
        fsync_dir(target.parent)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
