"""Make a test history with changed files and no seeded fault: a real project's suite run on each of its releases.

    python bench/release_history.py --out humanize-releases.csv --project humanize [--first 1.0.0]
                                    [--last 4.17.0] [--tests tests ...] [--install] [--with PACKAGE ...]
                                    [--deselect NODEID ...] [--suite-timeout 900] [--work DIR]

`seeded_history.py` seeds the faults its histories fail on; this one seeds none. Each cycle is one
release of the project, oldest first (its sdists from the package index, final releases only): the
release's own test suite is run in one fixed environment (the Python that runs this script, and the
newest pytest and test dependencies the index serves when the environment is made, created once and
kept for every cycle), and the failures recorded are the ones that really happen: tests that an
environment newer than the release breaks, tests of bugs fixed in a later release, and so on.

A cycle's changed files are the real difference between the release's sdist and the one before:
every file added, changed or removed (as `git diff --name-only` lists them), paths relative to the
project's root, except the sdist's generated metadata (`PKG-INFO`, `*.egg-info/`) and compiled
files (`__pycache__/`, `*.pyc`). The first cycle has none (no release before it). A release whose
suite gives no rows (it hung, or nothing could be collected) is no cycle of the history, so its
changes are carried into the next cycle that has rows: each cycle's changed files are the difference
from the last release the history holds, and no change is lost to a predictor.

With `--install` the release's sdist is installed (not editable, without its dependencies) into the
environment before its tests run, for projects whose code reads its own installed metadata; its
tests then import the installed package (a package kept at the root of its sdist is imported from
there, the same code). Without it the sources are run uninstalled, with `src/` on the path.

A test module that cannot be collected (a failed import) is recorded as one failing row named by the
module's node id, as a CI run reports it. A suite still running after `--suite-timeout` seconds
gives its cycle no rows; a single test is failed after 60 s (pytest-timeout), as in
`seeded_history.py`, whose version listing and environment this reuses. A test's duration that is
negative or longer than the whole pytest run is no measurement (the test froze the clock the timing
reads) and is recorded as 0.

Written as ATCS CSV (`Id;Name;Duration;Verdict;Cycle;ChangedFiles`, Verdict 1 = failed, the changed
files space-separated on a cycle's first row), which `provenance backtest --format atcs` reads.
Everything but the durations follows from the package index and the environment's versions, and
the verdicts of tests that time the code (zipp's complexity tests), which a rerun can change.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from seeded_history import HUNG_AFTER_SECONDS, TEST_DEPENDENCIES, versions

GENERATED = ("PKG-INFO",)
GENERATED_PARTS = (".egg-info", "__pycache__")


def fetch(python: Path, project: str, version: str, work: Path) -> tuple[Path, Path] | None:
    """The release's sdist and its unpacked source tree (whatever the archive's name and format).

    None when pip cannot download it: pip reads an sdist's metadata by running its build, and an old
    setup script today's setuptools refuses (`use_2to3`) gives no sdist. Such a release is no cycle.
    """
    downloads = work / "sdists" / version
    target = work / "releases" / version
    if not downloads.is_dir() or not any(downloads.iterdir()):
        downloads.mkdir(parents=True, exist_ok=True)
        done = subprocess.run([str(python), "-m", "pip", "download", "-q", "--no-deps", "--no-binary", ":all:",
                               "-d", str(downloads), f"{project}=={version}"], check=False)  # fmt: skip
        if done.returncode != 0:
            return None
    archive = next(p for p in sorted(downloads.iterdir()) if p.name.endswith((".tar.gz", ".zip", ".tar.bz2")))
    if target.is_dir():
        return archive, target
    unpacked = work / "unpacked" / version
    shutil.rmtree(unpacked, ignore_errors=True)
    unpacked.mkdir(parents=True)
    if archive.name.endswith(".zip"):
        with zipfile.ZipFile(archive) as zipped:
            zipped.extractall(unpacked)
    else:
        with tarfile.open(archive) as tar:
            tar.extractall(unpacked, filter="data")
    (top,) = list(unpacked.iterdir())
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(str(top), target)
    return archive, target


def tree_digests(tree: Path) -> dict[str, str]:
    """A digest of every file of the source tree but generated metadata, by path relative to its root."""
    digests = {}
    for path in sorted(tree.rglob("*")):
        relative = path.relative_to(tree)
        if not path.is_file() or relative.name in GENERATED or relative.suffix == ".pyc":
            continue
        if any(part.endswith(GENERATED_PARTS) for part in relative.parts[:-1]):
            continue
        digests[relative.as_posix()] = hashlib.sha256(path.read_bytes()).hexdigest()
    return digests


def changed_files(before: dict[str, str], after: dict[str, str]) -> list[str]:
    """Paths added, changed or removed between two trees."""
    return sorted(p for p in before.keys() | after.keys() if before.get(p) != after.get(p))


def install(python: Path, archive: Path) -> bool:
    """Whether the sdist built and installed: a release that does not is no cycle, its suite cannot run."""
    done = subprocess.run([str(python), "-m", "pip", "install", "-q", "--no-deps", "--force-reinstall", str(archive)],
                          check=False, stdout=subprocess.DEVNULL)  # fmt: skip
    return done.returncode == 0


def run_tests(
    python: Path, tree: Path, work: Path, tests: list[str], deselect: list[str], installed: bool, suite_timeout: float
) -> list[tuple[str, bool, float]] | None:
    """(node id, failed, seconds) for every test the suite ran or failed to collect; None when it hung."""
    report = work / "report.json"
    report.unlink(missing_ok=True)
    paths = [t for t in tests if (tree / t).exists()]
    if not paths:
        return []
    # Only what a rebuild elsewhere can reproduce: no user's locale, time zone or home directory.
    (work / "home").mkdir(exist_ok=True)
    env = {"PATH": "/usr/bin:/bin", "TZ": "UTC", "LC_ALL": "C.UTF-8", "HOME": str(work / "home")}
    if not installed and (tree / "src").is_dir():
        env["PYTHONPATH"] = str(tree / "src")
    skip = [f"--deselect={nodeid}" for nodeid in deselect]
    try:
        subprocess.run([str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider", "--continue-on-collection-errors",
                        f"--timeout={HUNG_AFTER_SECONDS}", *skip, "--json-report", f"--json-report-file={report}",
                        *paths],
                       cwd=tree, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False,
                       timeout=suite_timeout)  # fmt: skip
    except subprocess.TimeoutExpired:
        return None
    if not report.is_file():
        return []
    data = json.loads(report.read_text())
    # A module in a package is reported by two collectors (the package's and its own): one row each id.
    rows: dict[str, tuple[bool, float]] = {}
    for collector in data.get("collectors", []):
        if collector.get("outcome") == "failed" and collector["nodeid"]:
            rows[collector["nodeid"]] = (True, 0.0)
    whole_run = float(data.get("duration", 0.0))
    for test in data.get("tests", []):
        seconds = sum(test.get(stage, {}).get("duration", 0.0) for stage in ("setup", "call", "teardown"))
        if not 0.0 <= seconds <= whole_run:
            # Not a measurement: the test stopped the clock the timing reads between two of its stages
            # (a class frozen by freezegun is, between setup and teardown), giving +-43 years.
            seconds = 0.0
        failed = test["outcome"] in ("failed", "error") or rows.get(test["nodeid"], (False, 0.0))[0]
        rows[test["nodeid"]] = (failed, round(seconds, 4))
    return [(name, failed, seconds) for name, (failed, seconds) in rows.items()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--project", default="humanize")
    parser.add_argument("--first", default="1.0.0")
    parser.add_argument("--last", default="4.17.0")
    parser.add_argument("--tests", action="append", metavar="PATH",
                        help="a test directory or file, relative to the project's root (default: tests)")  # fmt: skip
    parser.add_argument("--install", action="store_true", help="install each release's sdist before its tests run")
    parser.add_argument("--work", type=Path, help="keep downloads and the environment here")
    parser.add_argument("--with", dest="extra", action="append", default=[], metavar="PACKAGE",
                        help="a further package the project's tests need (PACKAGE==VERSION pins it)")  # fmt: skip
    parser.add_argument("--suite-timeout", type=float, default=900, metavar="SECONDS",
                        help="a suite still running after this long hung: its cycle gets no rows")  # fmt: skip
    parser.add_argument("--deselect", action="append", default=[], metavar="NODEID",
                        help="a test not to run (one that fails only because of the replay itself)")  # fmt: skip
    args = parser.parse_args()
    tests = args.tests or ["tests"]
    work = args.work or Path(tempfile.mkdtemp(prefix="release-history-"))
    env = work / "env"
    python = env / "bin" / "python"
    if not env.is_dir():
        subprocess.run([sys.executable, "-m", "venv", str(env)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", *TEST_DEPENDENCIES, *args.extra], check=True)
    frozen = subprocess.run([str(python), "-m", "pip", "freeze", "--all"], check=True, capture_output=True,
                            text=True).stdout.split()  # fmt: skip
    print("environment:", sys.version.split()[0], *frozen, file=sys.stderr, flush=True)
    previous: dict[str, str] | None = None
    row_id = 0
    with args.out.open("w", newline="") as handle:
        out = csv.writer(handle, delimiter=";")
        out.writerow(["Id", "Name", "Duration", "Verdict", "Cycle", "ChangedFiles"])
        for cycle, version in enumerate(versions(python, args.project, args.first, args.last), start=1):
            fetched = fetch(python, args.project, version, work)
            if fetched is None:
                print(f"cycle {cycle} {version}: no sdist pip can download", file=sys.stderr, flush=True)
                continue
            archive, tree = fetched
            current = tree_digests(tree)
            touched = changed_files(previous, current) if previous is not None else []
            work_tree = work / "cycle"
            shutil.rmtree(work_tree, ignore_errors=True)
            shutil.copytree(tree, work_tree)
            built = not args.install or install(python, archive)
            results = (
                run_tests(python, work_tree, work, tests, args.deselect, args.install, args.suite_timeout)
                if built
                else []
            )
            for i, (name, failed, seconds) in enumerate(results or []):
                row_id += 1
                out.writerow([row_id, name, seconds, int(failed), cycle, " ".join(touched) if i == 0 else ""])
            handle.flush()
            if results:
                previous = current
            failing = sorted(name for name, failed, _ in results or [] if failed)
            state = "hung" if results is None else f"{len(results)} tests, {len(failing)} failing"
            state = state if built else "did not build"
            print(f"cycle {cycle} {version}: {state}, {len(touched)} files changed", *failing, sep="\n  ",
                  file=sys.stderr, flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
