"""Fuzzing every parser of user files: whatever the bytes, the answer is a result or an InputError.

An InputError is what becomes exit code 2 and one line; anything else (a KeyError, a
RecursionError, a pydantic error escaping) would be an internal error, which is the bug.
"""

from __future__ import annotations

import contextlib
import json
import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from provenance.datasets.contracts import load_manifest, validate
from provenance.errors import InputError
from provenance.learning.calibration import read_test_predictions
from provenance.learning.history import detect_format, read_atcs, read_ledger
from provenance.reports import load_report
from tests.support.mutations import edited, edits
from tests.support.project import ROOT

FIXTURES = ROOT / "tests" / "fixtures" / "reports" / "shapes"
SEEDS = [(FIXTURES / name).read_bytes() for name in ("report.json", "report.xml", "report.jsonl")] + [
    (ROOT / "tests" / "data" / "ctrf" / "mocha" / "report.ctrf.json").read_bytes()
]
# Derandomized, so CI is repeatable; run with more examples and a random seed to search further.
FUZZ = settings(max_examples=150, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=20,
)
test_keys = st.sampled_from(["nodeid", "outcome", "lineno", "keywords", "setup", "call", "teardown", "duration",
                             "longrepr", "crash", "when", "location", "$report_type", "sections"])  # fmt: skip
json_objects = st.dictionaries(test_keys, json_values | st.sampled_from(["passed", "failed", "call", "setup"]))


def survives(data: bytes, name: str, read: Callable[[Path], object] | None = None) -> None:
    """Write `data` as a file `name` and read it (as a report unless told): a result or an InputError."""
    with tempfile.TemporaryDirectory() as temp:
        path = Path(temp) / name
        path.write_bytes(data)
        with contextlib.suppress(InputError):
            (read or (lambda p: load_report(p, Path(temp))))(path)


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    """A real report with a few bytes replaced, deleted, inserted or cut."""
    data = draw(st.sampled_from(SEEDS))
    return edited(data, draw(edits(len(data))))


@FUZZ
@given(mutated())
@example(b'<?xml version="1.0" encoding="tf-8"?><testsuite/>')  # found by this test: a LookupError, now exit 2
def test_mutated_reports(data: bytes) -> None:
    survives(data, "report.json")


@FUZZ
@given(st.fixed_dictionaries({"tests": st.lists(json_objects, max_size=5)}, optional={
    "collectors": st.lists(json_objects, max_size=3), "exitcode": json_values, "duration": json_values,
    "root": json_values}))  # fmt: skip
@example({"tests": [{"outcome": [], "nodeid": "passed"}]})  # found by this test: a TypeError, now exit 2
def test_pytest_json_of_any_shape(document: dict[str, Any]) -> None:
    survives(json.dumps(document).encode(), "report.json")


@FUZZ
@given(st.lists(json_objects, min_size=1, max_size=6))
def test_report_logs_of_any_shape(lines: list[dict[str, Any]]) -> None:
    lines[0]["$report_type"] = "SessionStart"
    survives("\n".join(json.dumps(line) for line in lines).encode(), "report.jsonl")


ctrf_keys = st.sampled_from(["name", "status", "duration", "rawStatus", "start", "stop", "retries", "flaky",
                             "retryAttempts", "filePath", "line", "message", "trace", "extra", "threadId"])  # fmt: skip
ctrf_words = ["passed", "failed", "skipped", "pending", "other", "setup_failed", "teardown_failed", "xfailed",
              "xpassed", "call_error", 0, 1, 10**15]  # fmt: skip
ctrf_values = json_values | st.sampled_from(ctrf_words)


ctrf_tests = st.fixed_dictionaries(
    {"name": st.text(min_size=1, max_size=20), "status": st.sampled_from(["passed", "failed", "skipped"]),
     "duration": st.integers(-(2**40), 2**62)},
    optional={"start": st.integers(0, 2**62), "stop": st.integers(0, 2**62), "rawStatus": ctrf_values,
              "retries": st.integers(-1, 3), "flaky": st.booleans(), "line": st.integers(-5, 2**40),
              "trace": st.text(max_size=60)},
)  # fmt: skip


@FUZZ
@given(
    st.sampled_from(["pytest", "jest"]),
    st.lists(st.dictionaries(ctrf_keys, ctrf_values) | ctrf_tests, max_size=5),
    st.dictionaries(st.sampled_from(["start", "stop", "tests", "passed"]), ctrf_values),
)
def test_ctrf_of_any_shape(tool: str, tests: list[dict[str, Any]], summary: dict[str, Any]) -> None:
    counts = dict.fromkeys(["tests", "passed", "failed", "skipped", "pending", "other", "start", "stop"], 0)
    document = {"reportFormat": "CTRF", "specVersion": "0.0.0",
                "results": {"tool": {"name": tool}, "summary": counts | summary, "tests": tests}}  # fmt: skip
    survives(json.dumps(document).encode(), "report.ctrf.json")


xml_names = st.sampled_from(["testsuites", "testsuite", "testcase", "failure", "error", "skipped", "system-out",
                             "properties", "property"])  # fmt: skip
xml_attrs = st.dictionaries(
    st.sampled_from(
        ["name", "classname", "file", "line", "time", "tests", "message", "type", "timestamp", "failures", "errors"]
    ),
    st.text(st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"]), max_size=12),
)


@st.composite
def xml_trees(draw: st.DrawFn, depth: int = 0) -> ET.Element:
    element = ET.Element(draw(xml_names), draw(xml_attrs))
    if depth < 3:
        for _ in range(draw(st.integers(0, 3))):
            element.append(draw(xml_trees(depth + 1)))
    element.text = draw(st.none() | st.text(st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"]), max_size=20))
    return element


@FUZZ
@given(xml_trees())
def test_junit_of_any_shape(root: ET.Element) -> None:
    survives(ET.tostring(root), "report.xml")


@FUZZ
@given(st.binary(max_size=2000) | st.text(max_size=500).map(str.encode))
def test_contracts_manifests(data: bytes) -> None:
    survives(data, "data_contracts.yaml", lambda path: validate(load_manifest(path), path.parent))


@FUZZ
@given(st.fixed_dictionaries({"datasets": st.dictionaries(st.text(max_size=8), st.dictionaries(
    st.sampled_from(["name", "path", "checksum", "size", "retention_days", "dvc", "extra"]), json_values,
    max_size=5), max_size=3)}, optional={"validation": json_values}))  # fmt: skip
def test_contracts_of_any_shape(document: dict[str, Any]) -> None:
    survives(
        json.dumps(document).encode(), "data_contracts.yaml", lambda path: validate(load_manifest(path), path.parent)
    )


@FUZZ
@given(st.lists(json_values.map(json.dumps) | st.text(max_size=40), max_size=6))
def test_prediction_files(lines: list[str]) -> None:
    survives("\n".join(lines).encode(), "p.jsonl", lambda path: read_test_predictions(str(path))[0])


@FUZZ
@given(st.lists(json_values.map(json.dumps) | st.text(max_size=60), max_size=6))
def test_histories(lines: list[str]) -> None:
    survives("\n".join(lines).encode(), "history",
             lambda path: (read_atcs if detect_format(path) == "atcs" else read_ledger)(path))  # fmt: skip
