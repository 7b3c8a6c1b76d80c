"""Our CTRF types accept exactly what CTRF's published schema accepts (tests/data/ctrf/README.md).

Checked with `jsonschema` on every real CTRF report we keep and on documents edited one field at a
time (a member removed, a value replaced by another JSON value, a member added), at every depth.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import jsonschema
import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from provenance.reports.ctrf_schema import Document
from tests.support.project import ROOT

SCHEMA = json.loads((ROOT / "tests" / "data" / "ctrf" / "ctrf-schema-0.0.json").read_text())
VALIDATOR = jsonschema.Draft7Validator(SCHEMA)
REAL_CTRF = sorted((ROOT / "tests" / "data").rglob("*.ctrf.json"))
# One of each: a pytest session with reruns and xdist, and mocha with retries and pending tests.
SEEDS = [ROOT / "tests" / "data" / "real" / "iniconfig-reruns-xdist" / "report.ctrf.json",
         ROOT / "tests" / "data" / "ctrf" / "mocha" / "report.ctrf.json"]  # fmt: skip
RICH = {
    "reportFormat": "CTRF", "specVersion": "0.0.0", "reportId": "r", "runId": "1", "timestamp": "t",
    "generatedBy": "g", "extra": {},
    "insights": {"passRate": {"current": 0.5, "baseline": 1, "change": -0.5}, "runsAnalyzed": 3, "failRate": {},
                 "flakyRate": {}, "averageRunDuration": {}, "p95RunDuration": {}, "averageTestDuration": {},
                 "extra": {}},
    "baseline": {"reportId": "b", "buildNumber": 2, "buildUrl": "u", "timestamp": "t", "source": "s",
                 "buildName": "n", "commit": "c", "extra": {}},
    "results": {
        "tool": {"name": "jest", "version": "30", "extra": {}},
        "summary": {"tests": 1, "passed": 1, "failed": 0, "skipped": 0, "pending": 0, "other": 0, "flaky": 1,
                    "suites": 1, "start": 1, "stop": 2, "duration": 1},
        "environment": {"buildNumber": 7, "healthy": True, "shardId": "1/2", "osPlatform": "linux", "reportName": "r",
                        "appName": "a", "appVersion": "1", "buildId": "b", "buildName": "n", "buildUrl": "u",
                        "repositoryName": "r", "repositoryUrl": "u", "commit": "c", "branchName": "b",
                        "osRelease": "r", "osVersion": "v", "testEnvironment": "t", "extra": {}},
        "extra": {},
        "tests": [{
            "name": "adds", "status": "passed", "duration": 1, "labels": {"team": ["a", 1, True], "p": 0.5},
            "id": "i", "testId": "t", "executionId": "e", "start": 1, "stop": 2, "message": "m", "trace": "t",
            "snippet": "s", "ai": "a", "line": 3, "rawStatus": "r", "type": "unit", "filePath": "f", "retries": 1,
            "flaky": True, "stdout": ["o"], "stderr": ["e"], "threadId": "w", "browser": "b", "device": "d",
            "screenshot": "s", "extra": {},
            "retryAttempts": [{"attempt": 1, "status": "failed", "duration": 2, "stdout": ["x"], "stderr": [],
                               "attemptId": "a", "message": "m", "trace": "t", "line": 1, "snippet": "s",
                               "start": 1, "stop": 2, "extra": {},
                               "attachments": [{"name": "n", "contentType": "c", "path": "p"}]}],
            "steps": [{"name": "s", "status": "passed"}], "suite": ["a"], "tags": ["t"], "parameters": {"k": 1},
            "insights": {"flakyRate": {"current": 0.1}, "executedInRuns": 4, "passRate": {}, "failRate": {},
                         "averageTestDuration": {}, "p95TestDuration": {}, "extra": {}},
            "attachments": [{"name": "n", "contentType": "c", "path": "p", "extra": {}}],
        }],
    },
}  # fmt: skip


def ours(doc: Any) -> bool:
    """Whether our types take the document, decoded from its bytes (the reader's fast path) or converted."""
    verdicts = set()
    for read in (lambda: msgspec.json.decode(json.dumps(doc), type=Document), lambda: msgspec.convert(doc, Document)):
        try:
            read()
        except msgspec.ValidationError:
            verdicts.add(False)
        else:
            verdicts.add(True)
    assert len(verdicts) == 1, "the two readings disagree"
    return verdicts.pop()


def theirs(doc: Any) -> bool:
    return VALIDATOR.is_valid(doc)


def test_the_schema_is_the_published_one() -> None:
    assert SCHEMA["title"] == "CTRF JSON Schema"
    assert SCHEMA["required"] == ["results", "reportFormat", "specVersion"]


@pytest.mark.parametrize("path", REAL_CTRF, ids=lambda p: p.parent.name)
def test_every_real_ctrf_report_is_valid_both_ways(path: Path) -> None:
    doc = json.loads(path.read_text())
    assert theirs(doc), next(iter(VALIDATOR.iter_errors(doc))).message
    assert ours(doc)


def test_a_report_using_every_object_of_the_schema_is_valid_both_ways() -> None:
    assert theirs(RICH) and ours(RICH)


def places(doc: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every member and item of the document, as a path from the root (the first three items of a list)."""
    found = [path]
    if isinstance(doc, dict):
        for key, value in doc.items():
            found += places(value, (*path, key))
    elif isinstance(doc, list):
        for index, value in enumerate(doc[:3]):
            found += places(value, (*path, index))
    return found


def small(doc: dict[str, Any]) -> dict[str, Any]:
    """A real report cut to a few tests of each shape: the first ones, and those with earlier attempts."""
    tests = doc["results"]["tests"]
    doc["results"]["tests"] = tests[:2] + [t for t in tests[2:] if "retryAttempts" in t or "extra" in t][:2]
    return doc


KEYS = ["name", "status", "extra", "duration", "bogus"]  # members added: some the place lists, one no place does
VALUES = [None, True, 0, -1, 1.5, 2.0, "", "x", "passed", "1.2.3", [], ["x"], [1], {}, {"name": "x"}]
DOCUMENTS = {"rich": RICH, **{p.parent.name: small(json.loads(p.read_text())) for p in SEEDS}}


def edits(doc: dict[str, Any]) -> list[tuple[tuple[Any, ...], str, Any]]:
    """Each place once (the same member of another test is the same place): removed, replaced, added to."""
    seen, out = set(), []
    for where in places(doc)[1:]:
        shape = tuple(0 if isinstance(key, int) else key for key in where)
        if shape in seen:
            continue
        seen.add(shape)
        out += [(where, "delete", None), *((where, "replace", value) for value in VALUES), (where, "add", "bogus")]
    return out


def apply(doc: dict[str, Any], where: tuple[Any, ...], action: str, value: Any) -> dict[str, Any]:
    doc = copy.deepcopy(doc)
    parent: Any = doc
    for key in where[:-1]:
        parent = parent[key]
    if action == "delete":
        del parent[where[-1]]
    elif action == "replace":
        parent[where[-1]] = value
    elif isinstance(parent[where[-1]], dict):
        parent[where[-1]][value] = 1
    return doc


@pytest.mark.parametrize("name", DOCUMENTS)
def test_we_accept_what_the_schema_accepts_and_nothing_else(name: str) -> None:
    """Every one-field edit of each document: hundreds of documents, valid and not, judged alike."""
    disagree, valid = [], 0
    for where, action, value in edits(DOCUMENTS[name]):
        doc = apply(DOCUMENTS[name], where, action, value)
        valid += theirs(doc)
        if ours(doc) != theirs(doc):
            disagree.append(f"{action} {'.'.join(map(str, where))} {value!r}: schema says {theirs(doc)}")
    assert not disagree, disagree[:20]
    assert valid > 50  # the edits reach valid documents too, not only broken ones


@st.composite
def edited(draw: st.DrawFn) -> Any:
    """Two or three edits at once, anywhere."""
    doc = draw(st.sampled_from(list(DOCUMENTS.values())))
    for _ in range(draw(st.integers(2, 3))):
        where = draw(st.sampled_from(places(doc)[1:]))
        action = draw(st.sampled_from(["delete", "replace", "add"]))
        value = draw(st.sampled_from(KEYS if action == "add" else VALUES))
        doc = apply(doc, where, action, value)
    return doc


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(edited())
def test_several_edits_at_once_are_judged_alike(doc: Any) -> None:
    assert ours(doc) == theirs(doc), json.dumps(doc)[:2000]
