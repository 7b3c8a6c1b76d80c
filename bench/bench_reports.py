"""A 100,000-test report through `provenance run`, against the floor of merely loading it.

    python bench/bench_reports.py [--tests 100000] [--formats json,xml,ctrf] [--parse-only]

Generates a pytest-json-report, a JUnit XML and a CTRF file (as pytest-json-ctrf writes it) of N
tests (setup/call/teardown phases, 2% of them failing with a 40-line traceback, 3% skipped), then
measures wall time and peak memory (max RSS, from /usr/bin/time) of `provenance run` on each, and
of a bare Python process that only loads the same file (`json.load`, `xml.etree.ElementTree.parse`).
Best of 5 each, the floor and ours taking turns, for each of the runs below. `--parse-only` times
reading the report alone (`load_report` in this process against the floor's load), best of 7.

Three runs of ours: the first one (an empty ledger); one in the steady state, after 19 earlier
runs of the same suite (the default calibration window of 20 is full, the model predicts every
test and the selection in hindsight is worked out); and one after 40 earlier runs, a longer
history, in which the stable tests' predicted p_fail has fallen below 1e-5 (a number the ledger's
canonical JSON writes differently from orjson: it cost a second per run until it was remembered).
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape, quoteattr

TRACEBACK = "\n".join(f"    frame {i}: value = compute(x, y)  # line {i}" for i in range(40))


def make_json(path: Path, n: int) -> None:
    rng = random.Random(3)
    tests = []
    for i in range(n):
        roll = rng.random()
        nodeid = f"tests/test_mod{i // 200}.py::TestCase{i % 7}::test_item_{i}[param-{i % 13}]"
        phase = {"duration": 0.0002, "outcome": "passed"}
        call = {"duration": rng.random() * 0.05, "outcome": "passed"}
        test = {"nodeid": nodeid, "lineno": i % 300, "outcome": "passed", "keywords": [nodeid.split("::")[-1]],
                "setup": phase, "call": call, "teardown": phase}  # fmt: skip
        if roll < 0.02:
            test["outcome"] = "failed"
            test["call"] = {"duration": 0.01, "outcome": "failed",
                            "crash": {"path": f"/home/runner/work/app/app/tests/test_mod{i // 200}.py", "lineno": 42,
                                      "message": f"AssertionError: assert {i} == {i + 1}"},
                            "longrepr": TRACEBACK + f"\nE   AssertionError: assert {i} == {i + 1}"}  # fmt: skip
        elif roll < 0.05:
            test["outcome"] = "skipped"
            skip = f"('/home/runner/work/app/app/tests/x.py', {i % 300}, 'Skipped: slow')"
            test["setup"] = {"duration": 0.0001, "outcome": "skipped", "longrepr": skip}
            del test["call"]
        tests.append(test)
    document = {"created": 1.0, "duration": 900.0, "exitcode": 1, "root": "/home/runner/work/app/app",
                "environment": {}, "summary": {"total": n}, "collectors": [], "tests": tests}  # fmt: skip
    path.write_text(json.dumps(document))


def make_junit(path: Path, n: int) -> None:
    rng = random.Random(3)
    with path.open("w") as out:
        out.write('<?xml version="1.0" encoding="utf-8"?><testsuites>')
        out.write(f'<testsuite name="pytest" tests="{n}" time="900">')
        for i in range(n):
            roll = rng.random()
            name = quoteattr(f"test_item_{i}[param-{i % 13}]")
            out.write(f'<testcase classname="tests.test_mod{i // 200}.TestCase{i % 7}" name={name} time="0.01">')
            if roll < 0.02:
                detail = f"{escape(TRACEBACK)}\ntests/x.py:42: AssertionError"
                out.write(f'<failure message="assert {i} == {i + 1}">{detail}</failure>')
            elif roll < 0.05:
                out.write('<skipped type="pytest.skip" message="slow">tests/x.py:3: slow</skipped>')
            out.write("</testcase>")
        out.write("</testsuite></testsuites>")


def make_ctrf(path: Path, n: int) -> None:
    """The same suite as pytest-json-ctrf 0.6.1 writes it: indented, one object per test, times in ms."""
    rng = random.Random(3)
    start = 1_700_000_000_000
    tests = []
    for i in range(n):
        roll = rng.random()
        module, began = f"tests/test_mod{i // 200}.py", start + i * 9
        test: dict[str, Any] = {
            "name": f"{module}::TestCase{i % 7}::test_item_{i}[param-{i % 13}]", "status": "passed",
            "duration": round(rng.random() * 50), "start": began, "stop": began + 5,
            "suite": [module, f"TestCase{i % 7}"], "retries": 0, "filePath": module,
        }  # fmt: skip
        if roll < 0.02:
            message = f"AssertionError: assert {i} == {i + 1}"
            test |= {"status": "failed", "rawStatus": "call_failed", "message": message,
                     "trace": f"{TRACEBACK}\nE   {message}\n\n{module}:42: AssertionError"}  # fmt: skip
        elif roll < 0.05:
            test |= {"status": "skipped", "message": "slow"}
        tests.append(test)
    summary = {"tests": n, "passed": 0, "failed": 0, "skipped": 0, "pending": 0, "other": 0, "start": start,
               "stop": start + 900_000}  # fmt: skip
    document = {
        "reportFormat": "CTRF",
        "specVersion": "1.0.0",
        "generatedBy": "pytest",
        "results": {"tool": {"name": "pytest", "version": "9.2.0"}, "summary": summary, "tests": tests},
    }
    path.write_text(json.dumps(document, indent=4))


REPEATS = 5


def measure(command: list[str], cwd: Path) -> tuple[float, int]:
    started = time.perf_counter()
    done = subprocess.run(["/usr/bin/time", "-f", "%M", *command], cwd=cwd, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    return elapsed, int(done.stderr.strip().splitlines()[-1])


def against(ours: tuple[float, int], floor: tuple[float, int]) -> dict[str, float]:
    """Our time and peak memory, and their ratios to the floor's."""
    return {
        "seconds": round(ours[0], 2), "time_ratio": round(ours[0] / floor[0], 2),
        "max_rss_mb": round(ours[1] / 1024), "memory_ratio": round(ours[1] / floor[1], 2),
    }  # fmt: skip


def side_by_side(floor: Callable[[], tuple[float, int]], ours: Callable[[], tuple[float, int]]) -> dict[str, Any]:
    """Best of REPEATS each, the floor and ours taking turns: this machine's speed drifts."""
    pairs = [(floor(), ours()) for _ in range(REPEATS)]
    base = min((pair[0] for pair in pairs), key=lambda m: m[0])
    best = min((pair[1] for pair in pairs), key=lambda m: m[0])
    return {"floor_seconds": round(base[0], 2), "floor_max_rss_mb": round(base[1] / 1024), **against(best, base)}


def bench(work: Path, name: str, floor: str) -> dict[str, Any]:
    """The first run, the steady state and a long history of `provenance run` on one report."""
    ledger = work / f"{name}.ledger.jsonl"
    run = [sys.executable, "-m", "provenance", "run", "--report", name, "--fail-on", "none",
           "--ledger", ledger.name, "--evidence-dir", f"evidence-{name}"]  # fmt: skip

    def load() -> tuple[float, int]:
        return measure([sys.executable, "-c", floor, name], work)

    def first_run() -> tuple[float, int]:
        for stale in work.glob(ledger.name + "*"):
            stale.unlink()
        return measure(run, work)

    results = {"megabytes": round((work / name).stat().st_size / 1e6, 1), "first_run": side_by_side(load, first_run)}
    runs = 1  # the ledger holds the last first run
    for label, earlier_runs in (("steady_state", 19), ("long_history", 40)):
        while runs < earlier_runs:
            subprocess.run(run, cwd=work, capture_output=True, check=True)
            runs += 1
        results[label] = side_by_side(load, lambda: measure(run, work))
        runs += REPEATS
    return results


def parse_only(work: Path, name: str, floor: str) -> dict[str, float]:
    """Reading the report alone, in this process, against loading it: best of 7, taking turns."""
    from provenance.reports import load_report

    load = floor.removeprefix("import json, sys; ").replace("sys.argv[1]", repr(str(work / name)))
    loads, reads = [], []
    for _ in range(7):
        started = time.perf_counter()
        exec(load)  # the floor's own statement, on this file
        loads.append(time.perf_counter() - started)
        started = time.perf_counter()
        load_report(work / name, work)
        reads.append(time.perf_counter() - started)
    return {"floor_seconds": round(min(loads), 2), "seconds": round(min(reads), 2),
            "time_ratio": round(min(reads) / min(loads), 2)}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tests", type=int, default=100_000)
    parser.add_argument("--formats", default="json,xml,ctrf", help="which reports, comma-separated")
    parser.add_argument("--parse-only", action="store_true", help="time reading each report, not whole runs")
    args = parser.parse_args()
    load_json = "import json, sys; json.load(open(sys.argv[1]))"
    formats = {
        "json": ("report.json", make_json, load_json),
        "xml": ("report.xml", make_junit, "import sys, xml.etree.ElementTree as ET; ET.parse(sys.argv[1])"),
        "ctrf": ("report.ctrf.json", make_ctrf, load_json),
    }
    results = {}
    with tempfile.TemporaryDirectory() as temp:
        work = Path(temp)
        for key in args.formats.split(","):
            name, make, floor = formats[key]
            make(work / name, args.tests)
            results[name] = parse_only(work, name, floor) if args.parse_only else bench(work, name, floor)
    print(json.dumps({"tests": args.tests, **results}, indent=2))


if __name__ == "__main__":
    main()
