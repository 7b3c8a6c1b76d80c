"""Random and mutated input to whole commands: `run`, `verify` and `fetch` answer 0, 1 or 2, never worse.

Each example runs the real command (in-process, as the container's entrypoint does) in a fresh
workspace beside a directory it must never touch, and asserts: an exit code of 0, 1 or 2; no
traceback and no internal error; nothing written outside the workspace (or `fetch`'s destination);
the memory Python allocated for the command under a bound. A ledger that was changed in any way
must never verify against the checkpoint published before the change.

CI runs a bounded, derandomized number of examples; search further with
`PROVENANCE_PROPERTY_EXAMPLES=2000 python -m pytest tests/hostile/test_properties.py`.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import tempfile
import tracemalloc
import warnings
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from provenance.cli import main
from tests.reliability.test_fuzz import mutated
from tests.support.entries import build_ledger
from tests.support.github_server import Artifact, GitHubServer
from tests.support.mutations import ACTIONS, edited, edits

EXAMPLES = int(os.environ.get("PROVENANCE_PROPERTY_EXAMPLES", "40"))
PROPERTY = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=EXAMPLES <= 100,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
# Far above what these inputs (a few KB) need; a reader that loaded something unbounded would pass it.
MEMORY_BOUND = 64 << 20
REPORT_NAMES = ("report.json", "report.xml", "report.jsonl")


def snapshot(root: Path) -> dict[str, bytes]:
    return {str(p): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file() and not p.is_symlink()}


@contextlib.contextmanager
def sandbox() -> Iterator[tuple[Path, Path]]:
    """A workspace and, beside it, a directory holding a file nothing may change."""
    with tempfile.TemporaryDirectory() as temp:
        workspace, outside = Path(temp) / "work", Path(temp) / "outside"
        workspace.mkdir()
        outside.mkdir()
        (outside / "keep.txt").write_text("precious\n")
        yield workspace, outside


def command(argv: list[str], env: dict[str, str] | None = None) -> tuple[int, str]:
    """Run one command; its exit code and what it wrote to stderr, with the memory it allocated checked."""
    err = io.StringIO()
    tracemalloc.start()
    try:
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            code = main(argv, env or {})
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    text = err.getvalue()
    assert code in (0, 1, 2), (code, text)
    assert "Traceback" not in text and "internal error" not in text, text
    assert peak < MEMORY_BOUND, peak
    return code, text


@PROPERTY
@given(st.lists(st.tuples(st.sampled_from(REPORT_NAMES), mutated()), min_size=1, max_size=3), st.booleans())
def test_run_on_mutated_reports(reports: list[tuple[str, bytes]], with_history: bool) -> None:
    with sandbox() as (workspace, outside):
        for index, (name, data) in enumerate(reports):
            (workspace / f"{index}-{name}").write_bytes(data)
        if with_history:
            (workspace / "data").mkdir()
            build_ledger(workspace / "data" / "ci_runs.jsonl", 5)
        before = snapshot(outside)
        command(["run", "--workspace", str(workspace), "--report", "*-report.*", "--run-id", "1"])
        assert snapshot(outside) == before
        assert sorted(p.name for p in workspace.parent.iterdir()) == ["outside", "work"]


@pytest.fixture(scope="module")
def ledger_bytes(tmp_path_factory: pytest.TempPathFactory) -> tuple[bytes, dict[str, object]]:
    path = tmp_path_factory.mktemp("ledger") / "ci_runs.jsonl"
    checkpoint = build_ledger(path, 12)
    return path.read_bytes(), checkpoint


@PROPERTY
@given(data=st.data())
def test_verify_on_mutated_ledgers(ledger_bytes: tuple[bytes, dict[str, object]], data: st.DataObject) -> None:
    original, checkpoint = ledger_bytes
    mutated_ledger = edited(original, data.draw(edits(len(original))))
    with sandbox() as (workspace, outside):
        (workspace / "ci_runs.jsonl").write_bytes(mutated_ledger)
        (workspace / "checkpoint.json").write_text(json.dumps(checkpoint))
        code, _ = command(
            ["verify", str(workspace / "ci_runs.jsonl"), "--checkpoint", str(workspace / "checkpoint.json")]
        )
        if mutated_ledger != original:
            assert code != 0  # any change at all shows against the published checkpoint
        command(["run", "--workspace", str(workspace), "--report", "absent.xml", "--ledger", "ci_runs.jsonl"])
        assert snapshot(outside) == {str(outside / "keep.txt"): b"precious\n"}


@pytest.fixture(scope="module")
def api() -> Iterator[GitHubServer]:
    running = GitHubServer().start()
    yield running
    running.stop()
    assert running.violations == []


def archive(members: list[tuple[str, bytes]]) -> bytes:
    buffer = io.BytesIO()
    with warnings.catch_warnings(), zipfile.ZipFile(buffer, "w") as zipped:
        warnings.simplefilter("ignore", UserWarning)  # a duplicate name is one of the hostile shapes wanted
        for name, content in members:
            zipped.writestr(name, content)
    return buffer.getvalue()


# Names that climb out of the destination (to the untouchable file beside the workspace) or the tree.
ABSOLUTE = "/provenance-property-test-escape.txt"
member_names = st.sampled_from(["data/ci_runs.jsonl", "evidence/ci_provenance_1.json", "../../../outside/keep.txt",
                                "../../../outside/new.txt", ABSOLUTE, "a/../../b", "ok.txt", "dir/", "con\nfused",
                                "evidence/x.jsonl"])  # fmt: skip


@PROPERTY
@given(
    st.lists(st.tuples(member_names, st.binary(max_size=200)), max_size=5),
    st.lists(st.tuples(st.sampled_from(ACTIONS), st.integers(0, 10**6),
                       st.integers(0, 255)), max_size=4),
    st.text(min_size=1, max_size=20),
)  # fmt: skip
def test_fetch_on_random_artifacts(
    api: GitHubServer, members: list[tuple[str, bytes]], changes: list[tuple[str, int, int]], name: str
) -> None:
    api.artifacts[:] = [Artifact(7, name, edited(archive(members), changes), run_id=42)]
    with sandbox() as (workspace, outside):
        command(["fetch", "--repo", "acme/app", "--run-id", "42", "--api-url", api.api_url, "--token",
                 "ghs_propertyTestToken0123456789", "--dest", str(workspace / "fetched")])  # fmt: skip
        assert snapshot(outside) == {str(outside / "keep.txt"): b"precious\n"}
        assert sorted(p.name for p in workspace.parent.iterdir()) == ["outside", "work"]
        leftovers = [p for p in workspace.rglob("*") if p.name.startswith(".") or p.suffix == ".tmp"]
        assert leftovers == []
        assert not Path(ABSOLUTE).exists()


def test_fetch_on_a_zip_of_a_version_zipfile_cannot_read(api: GitHubServer) -> None:
    """Found by the property above: a zip whose headers ask for version 6.4 was an internal error."""
    data = bytearray(archive([("ok.txt", b"hello")]))
    for signature, offset in ((b"PK\x03\x04", 4), (b"PK\x01\x02", 6)):  # version needed to extract
        data[data.find(signature) + offset] = 64
    api.artifacts[:] = [Artifact(7, "provenance", bytes(data), run_id=42)]
    with sandbox() as (workspace, _):
        code, err = command(["fetch", "--repo", "acme/app", "--run-id", "42", "--api-url", api.api_url, "--token",
                             "ghs_propertyTestToken0123456789", "--dest", str(workspace / "fetched")])  # fmt: skip
        assert code == 2 and "cannot be read (zip file version 6.4)" in err, err
        assert not (workspace / "fetched").exists() or not any((workspace / "fetched").rglob("*"))
