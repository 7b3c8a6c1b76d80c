"""Make a test history with changed files: a real project's suite replayed over its releases, with
seeded faults.

    python bench/seeded_history.py --out marshmallow.csv [--project marshmallow] [--first 3.0.0]
                                   [--last 3.26.2] [--commits 2] [--fault-rate 0.5] [--seed 1]
                                   [--with PACKAGE ...] [--deselect NODEID ...] [--suite-timeout 900]

The ATCS histories of the literature carry no changed files, so the part of the model that learns
which files' changes make which tests fail cannot be measured on them. This replays the project's
own test suite (its sdists from the package index, in release order) and records, per cycle, every
test's outcome and duration and the files the cycle changed:

- a release cycle: the release itself, whose changed files are those that differ from the release
  before; then `--commits` commit cycles, each touching one of the release's changed source files;
- in a cycle that touches a source file, with probability `--fault-rate`, one seeded fault (a
  mutation operator applied to a changed line of such a file, or to any line when none fits: a
  comparison, a boolean operator, a constant, a return value). The fault lives in that cycle only;
  the tests that catch it fail.

The project must keep its code under `src/` and its tests under `tests/`.

The faults are seeded and the changes real, so the failures are as realistic as mutation testing
makes them: they follow the change. Written as ATCS CSV with a `ChangedFiles` column (space-separated
paths, on a cycle's first row), which `provenance backtest --format atcs` reads.
"""

from __future__ import annotations

import argparse
import csv
import difflib
import json
import random
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

TEST_DEPENDENCIES = ["pytest", "pytest-json-report", "pytest-timeout", "simplejson", "pytz", "python-dateutil",
                     "packaging", "typing_extensions"]  # fmt: skip
# A seeded fault can make a test loop for ever (a loop's condition mutated): as in CI, such a test
# fails after a while and the rest of the suite runs. A loop that outlives the test's own failure
# (in its clean-up) hangs the whole suite: its cycle is left without rows, as is one whose fault
# broke the package's import.
HUNG_AFTER_SECONDS = 60
OPERATORS = [(" == ", " != "), (" != ", " == "), (" < ", " <= "), (" > ", " >= "), (" <= ", " < "),
             (" >= ", " > "), (" and ", " or "), (" or ", " and "), ("True", "False"), ("False", "True"),
             (" is None", " is not None"), (" is not None", " is None"), ("if not ", "if "),
             (" + 1", " + 2"), (" - 1", " - 2"), ("return ", "return None and ")]  # fmt: skip


def versions(python: Path, project: str, first: str, last: str) -> list[str]:
    """The project's final releases from `first` to `last`, oldest first."""
    out = subprocess.run([str(python), "-m", "pip", "index", "versions", project], check=True,
                         capture_output=True, text=True).stdout  # fmt: skip
    listed = out.split("Available versions:")[1].splitlines()[0].split(",")

    def key(version: str) -> tuple[int, ...]:
        return tuple(int(part) for part in version.split("."))

    chosen = [v.strip() for v in listed if re.fullmatch(r"\d+(\.\d+)*", v.strip())]
    return sorted((v for v in chosen if key(first) <= key(v) <= key(last)), key=key)


def unpack(python: Path, project: str, version: str, work: Path) -> Path:
    """The release's source tree, from its sdist."""
    target = work / "releases" / version
    if target.is_dir():
        return target
    downloads = work / "sdists"
    subprocess.run([str(python), "-m", "pip", "download", "-q", "--no-deps", "--no-binary", ":all:",
                    "-d", str(downloads), f"{project}=={version}"], check=True)  # fmt: skip
    archive = next(downloads.glob(f"{project}-{version}.tar.gz"))
    with tarfile.open(archive) as tar:
        tar.extractall(work / "unpacked", filter="data")
    shutil.move(str(work / "unpacked" / f"{project}-{version}"), target)
    return target


def sources(tree: Path) -> dict[str, str]:
    """The tree's Python files under src/ and tests/, by relative path."""
    files = [p for top in ("src", "tests") if (tree / top).is_dir() for p in sorted((tree / top).rglob("*.py"))]
    return {str(p.relative_to(tree)): p.read_text(encoding="utf-8", errors="replace") for p in files}


def changed_lines(before: str, after: str) -> list[int]:
    """Line numbers (0-based) of `after` that differ from `before`."""
    matcher = difflib.SequenceMatcher(None, before.splitlines(), after.splitlines(), autojunk=False)
    return [j for tag, _, _, j1, j2 in matcher.get_opcodes() if tag in ("replace", "insert") for j in range(j1, j2)]


def mutate(text: str, lines: list[int], rng: random.Random) -> str | None:
    """The file with one operator applied to one of the given lines (any line if none fits)."""
    rows = text.splitlines(keepends=True)

    def candidates(numbers: list[int]) -> list[tuple[int, str, str]]:
        found = []
        for n in numbers:
            code = rows[n].split("#")[0]
            if code.strip().startswith(("def ", "class ", '"', "'", "@", "import ", "from ")):
                continue
            found += [(n, old, new) for old, new in OPERATORS if old in code]
        return found

    options = candidates(lines) or candidates(list(range(len(rows))))
    if not options:
        return None
    n, old, new = rng.choice(options)
    rows[n] = rows[n].replace(old, new, 1)
    return "".join(rows)


def run_suite(
    python: Path, tree: Path, work: Path, deselect: list[str], suite_timeout: float
) -> list[tuple[str, bool, float]]:
    """(node id, failed, seconds) for every test of the tree's suite; none when it hung."""
    report = work / "report.json"
    report.unlink(missing_ok=True)
    skip = [f"--deselect={nodeid}" for nodeid in deselect]
    try:
        subprocess.run([str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider", "--continue-on-collection-errors",
                        f"--timeout={HUNG_AFTER_SECONDS}", *skip, "--json-report", f"--json-report-file={report}",
                        "-W", "ignore", "tests"],
                       cwd=tree, env={"PYTHONPATH": str(tree / "src"), "PATH": "/usr/bin:/bin"},
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False,
                       timeout=suite_timeout)  # fmt: skip
    except subprocess.TimeoutExpired:
        return []
    if not report.is_file():
        return []
    data = json.loads(report.read_text())
    rows = []
    for test in data.get("tests", []):
        seconds = sum(test.get(stage, {}).get("duration", 0.0) for stage in ("setup", "call", "teardown"))
        rows.append((test["nodeid"], test["outcome"] in ("failed", "error"), round(seconds, 4)))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--project", default="marshmallow")
    parser.add_argument("--first", default="3.0.0")
    parser.add_argument("--last", default="3.26.2")
    parser.add_argument("--commits", type=int, default=2)
    parser.add_argument("--fault-rate", type=float, default=0.5)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--work", type=Path, help="keep downloads and the environment here")
    parser.add_argument("--with", dest="extra", action="append", default=[], metavar="PACKAGE",
                        help="a further package the project's tests need")  # fmt: skip
    parser.add_argument("--suite-timeout", type=float, default=900, metavar="SECONDS",
                        help="a suite still running after this long hung: its cycle gets no rows")  # fmt: skip
    parser.add_argument("--deselect", action="append", default=[], metavar="NODEID",
                        help="a test that fails only because the replay runs the sources uninstalled")  # fmt: skip
    args = parser.parse_args()
    rng = random.Random(args.seed)
    work = args.work or Path(tempfile.mkdtemp(prefix="seeded-history-"))
    env = work / "env"
    if not env.is_dir():
        subprocess.run([sys.executable, "-m", "venv", str(env)], check=True)
        subprocess.run([str(env / "bin" / "python"), "-m", "pip", "install", "-q", *TEST_DEPENDENCIES, *args.extra],
                       check=True)  # fmt: skip
    python = env / "bin" / "python"
    releases = versions(python, args.project, args.first, args.last)
    cycle = 0
    previous: dict[str, str] = {}
    with args.out.open("w", newline="") as handle:
        out = csv.writer(handle, delimiter=";")
        out.writerow(["Id", "Name", "Duration", "Verdict", "Cycle", "ChangedFiles", "Fault"])
        row_id = 0
        for version in releases:
            tree = unpack(python, args.project, version, work)
            current = sources(tree)
            changed = sorted(p for p in current if previous.get(p) != current[p]) if previous else []
            src_changed = [p for p in changed if p.startswith("src/")]
            plan = [changed] + [[rng.choice(src_changed)] for _ in range(args.commits) if src_changed]
            for touched in plan:
                cycle += 1
                work_tree = work / "cycle"
                shutil.rmtree(work_tree, ignore_errors=True)
                shutil.copytree(tree, work_tree)
                fault = ""
                targets = [p for p in touched if p.startswith("src/")]
                if targets and rng.random() < args.fault_rate:
                    path = rng.choice(targets)
                    mutated = mutate(current[path], changed_lines(previous.get(path, ""), current[path]), rng)
                    if mutated is not None:
                        (work_tree / path).write_text(mutated, encoding="utf-8")
                        fault = path
                results = run_suite(python, work_tree, work, args.deselect, args.suite_timeout)
                for i, (name, failed, seconds) in enumerate(results):
                    row_id += 1
                    out.writerow([row_id, name, seconds, int(failed), cycle, " ".join(touched) if i == 0 else "",
                                  fault if i == 0 else ""])  # fmt: skip
                failing = sum(failed for _, failed, _ in results)
                print(f"cycle {cycle} {version}: {len(results)} tests, {failing} failing, {len(touched)} "
                      f"files changed, fault in {fault or '-'}", file=sys.stderr, flush=True)  # fmt: skip
            previous = current


if __name__ == "__main__":
    main()
