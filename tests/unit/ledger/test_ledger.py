from __future__ import annotations

import concurrent.futures
import hashlib
import json
import multiprocessing
import os
from pathlib import Path
from typing import Any

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from provenance.errors import InputError, IntegrityError
from provenance.ledger import merkle
from provenance.ledger import verify as ledger_verify
from provenance.ledger.canonical import canonical, canonical_entry, entry_hash
from provenance.ledger.chain import open_for_append, tail_lines
from provenance.ledger.checkpoint import checkpoint_path
from provenance.ledger.proofs import check_proof, prove
from provenance.ledger.verify import verify
from tests.support.entries import NOW, entry_fields


def fields(run_id: str) -> dict[str, Any]:
    return entry_fields(run_id)


def append(path: Path, run_id: str) -> None:
    with open_for_append(path) as ledger:
        ledger.append(fields(run_id))


def test_entries_chain(tmp_path: Path) -> None:
    path = tmp_path / "data" / "ledger.jsonl"
    for i in range(3):
        append(path, str(i))
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert [e["seq"] for e in lines] == [0, 1, 2]
    assert lines[0]["prev"] == "0" * 64
    assert lines[1]["prev"] == lines[0]["entry_hash"]
    assert all(entry_hash(e) == e["entry_hash"] for e in lines)
    # Each line is itself canonical JSON.
    assert all(canonical(e) == raw.encode() for e, raw in zip(lines, path.read_text().splitlines(), strict=True))
    assert verify(path).problem is None
    assert verify(path).entries == 3


@pytest.mark.parametrize(
    ("canonical_form", "other_form"),
    [(b"1", b"1.0"), (b"0.000001", b"1e-6"), (b"20000000000000000", b"2e+16")],
)
@pytest.mark.parametrize("where", ["top level", "in a test"])
def test_a_number_laid_out_otherwise_with_a_hash_that_matches_is_found(
    tmp_path: Path, canonical_form: bytes, other_form: bytes, where: str
) -> None:
    # The same value in another layout (as orjson writes it) and an entry hash recomputed over the
    # new bytes: a verifier that re-encodes the content by RFC 8785 gets another hash. The default
    # check makes the top-level numbers exact and takes orjson's layout for the rest (fast, and
    # exact for every line our writer makes); `--strict` finds it anywhere.
    path = tmp_path / "l.jsonl"
    draft = fields("r")
    if where == "top level":
        draft["walltime_seconds"] = float(canonical_form)
        member, forged = (b'"walltime_seconds":' + form + b"}" for form in (canonical_form, other_form))
    else:
        draft["tests"] = [{"nodeid": "t.py::t", "result": "pass", "duration_seconds": float(canonical_form)}]
        member, forged = (b'"duration_seconds":' + form + b',"nodeid"' for form in (canonical_form, other_form))
    with open_for_append(path) as ledger:
        entry = ledger.append(draft)
    assert verify(path).problem is None and verify(path, strict=True).problem is None
    line = path.read_bytes()
    assert member in line
    body = line.replace(member, forged)
    old_member = b'"entry_hash":"' + entry.entry_hash.encode() + b'",'
    rehashed = hashlib.sha256(body.replace(old_member, b"").rstrip(b"\n")).hexdigest()
    path.write_bytes(body.replace(old_member, b'"entry_hash":"' + rehashed.encode() + b'",'))
    assert (verify(path).problem is None) == (where == "in a test")
    problem = verify(path, strict=True).problem
    assert problem is not None and "canonical" in problem


def test_a_stable_suite_s_small_p_fail_verifies_and_a_layout_forged_beside_it_is_found(tmp_path: Path) -> None:
    # A long history predicts most tests a p_fail between 1e-6 and 1e-5 (RFC 8785: `0.0000085`,
    # orjson: `8.5e-6`); verification puts RFC 8785's layout in place of orjson's where such a value
    # stands as a test's field, not where a name holds the same characters.
    path = tmp_path / "l.jsonl"
    draft = fields("r")
    names = ["t.py::a", "t.py::b[:8.5e-6,]", "t.py::c", "t.py::d"]
    draft["tests"] = [{"nodeid": n, "result": "pass", "duration_seconds": 3e-6 if n.endswith("c") else 0.25,
                       "p_fail": 8.5e-6} for n in names]  # fmt: skip
    with open_for_append(path) as ledger:
        entry = ledger.append(draft)
    assert verify(path).problem is None and verify(path, strict=True).problem is None
    line = path.read_bytes()
    assert line.count(b'"p_fail":0.0000085,') == 4 and b"[:8.5e-6,]" in line
    # One test's p_fail forged in orjson's layout, the others left in RFC 8785's, the hash recomputed.
    body = line.replace(b'"p_fail":0.0000085,', b'"p_fail":8.5e-6,', 1)
    old_member = b'"entry_hash":"' + entry.entry_hash.encode() + b'",'
    rehashed = hashlib.sha256(body.replace(old_member, b"").rstrip(b"\n")).hexdigest()
    path.write_bytes(body.replace(old_member, b'"entry_hash":"' + rehashed.encode() + b'",'))
    for strict in (False, True):
        problem = verify(path, strict=strict).problem
        assert problem is not None and "canonical" in problem


_floats_near_the_notation_switches = (
    st.floats(allow_nan=False, allow_infinity=False)
    | st.floats(min_value=1e-8, max_value=1e-4)
    | st.floats(min_value=-1e-4, max_value=-1e-8)
    | st.floats(min_value=1e15, max_value=1e22)
    | st.sampled_from([0.0, -0.0, 1e-6, 1e-5, 1e16, 1e21, 2.0**53, 5e-324, 1.7976931348623157e308])
)


@settings(max_examples=2000)
@given(_floats_near_the_notation_switches)
def test_every_float_is_written_as_rfc8785_writes_it(value: float) -> None:
    # orjson writes a float itself only where its layout is ES's; the ranges switch notation at
    # 1e-6, 1e-5, 1e16 and 1e21, so the draws crowd around them.
    assert canonical(value) == rfc8785.dumps(value)
    assert canonical([value, value]) == rfc8785.dumps([value, value])  # a remembered fragment is reused


_test_numbers = _floats_near_the_notation_switches | st.integers(-(2**53) + 1, 2**53 - 1)  # rfc8785 refuses more
_ledger_tests = st.lists(
    st.fixed_dictionaries({
        "duration_seconds": _test_numbers | st.just("1"), "nodeid": st.text(max_size=8) | st.just(8e-6),
        "p_fail": st.none() | _test_numbers | st.just("x"), "result": st.sampled_from(["pass", "fail", "é"]),
    }),
    max_size=6,
)  # fmt: skip
_other_tests = st.lists(st.dictionaries(st.sampled_from(["nodeid", "p_fail", "x", "ü"]), st.booleans() | _test_numbers))


@settings(max_examples=500)
@given(_ledger_tests | _other_tests)
def test_verify_encodes_a_line_s_tests_as_rfc8785_does(tests: list[dict[str, Any]]) -> None:
    # Verification encodes plain ledger tests the way the writer does (for speed) and anything else
    # generically; both must give RFC 8785's bytes.
    fields = {"seq": 1, "brier_score": 8e-6, "tests": tests}
    assert canonical_entry(fields) == rfc8785.dumps(fields)


def test_the_tests_written_directly_are_the_canonical_form_of_the_whole_entry(tmp_path: Path) -> None:
    # The tests of an entry are encoded apart from the rest, for speed; the line must still be
    # exactly the canonical form of the entry, with every field of every test, whatever the numbers.
    path = tmp_path / "l.jsonl"
    numbers = [0.0, 1.0, 0.5, 1e-7, 3e-6, 2.5e-5, 123456.789, 1e16, 2.0**60]
    draft = entry_fields("r")
    draft["tests"] = [
        {"nodeid": f"t.py::t{i}[é]", "result": "fail" if i % 2 else "pass", "duration_seconds": number,
         "p_fail": None if i == 0 else min(number, 1.0)}
        for i, number in enumerate(numbers)
    ]  # fmt: skip
    with open_for_append(path) as ledger:
        entry = ledger.append(draft)
    line = path.read_bytes()
    assert (
        line == canonical(entry.model_dump(mode="json")) + b"\n" == rfc8785.dumps(entry.model_dump(mode="json")) + b"\n"
    )
    assert verify(path).problem is None


@pytest.mark.parametrize("torn", [b"", b'{"seq": 9, "te', b"x" * 200_000])
def test_the_last_lines_are_read_whole_whatever_their_size(tmp_path: Path, torn: bytes) -> None:
    # Lines around and far beyond the 64 KiB block the tail is read backwards in.
    sizes = [10, 65_535, 65_536, 300_000, 1, 131_073, 5]
    lines = [(f"{i}:".encode() + b"a" * size + b"\n") for i, size in enumerate(sizes)]
    path = tmp_path / "l.jsonl"
    path.write_bytes(b"".join(lines) + torn)
    for count in range(len(lines) + 2):
        assert list(tail_lines(path, count)) == (lines[-count:] if count else [])


def test_rfc8785_is_what_gets_hashed() -> None:
    assert canonical({"b": 1, "a": [1.0, "é", None]}) == b'{"a":[1,"\xc3\xa9",null],"b":1}'


@pytest.mark.parametrize(
    ("tamper", "problem"),
    [
        (lambda lines: [lines[0], lines[1].replace('"run_id":"1"', '"run_id":"X"'), lines[2]], "edited"),
        (lambda lines: [lines[0], lines[2], lines[1]], "missing or reordered"),
        (lambda lines: [lines[0], lines[2]], "missing or reordered"),
        # An integer beyond 2^53 where the bytes are not orjson's: once an internal error.
        (
            lambda lines: [
                lines[0],
                lines[1]
                .replace('"run_attempt":1', '"run_attempt":123456789012345678')
                .replace('"branch":"main"', '"branch":"\\u006dain"'),
                lines[2],
            ],
            "edited",
        ),
    ],
)
def test_verify_finds_the_first_bad_entry(tmp_path: Path, tamper: Any, problem: str) -> None:
    path = tmp_path / "l.jsonl"
    for i in range(3):
        append(path, str(i))
    lines = path.read_text().splitlines()
    path.write_text("\n".join(tamper(lines)) + "\n")
    found = verify(path)
    assert found.line == 2
    assert problem in (found.problem or "")


_TAMPERINGS = {
    "none": lambda lines: lines,
    "an entry edited": lambda lines: [*lines[:20], lines[20].replace(b'"run_id":"20"', b'"run_id":"X"'), *lines[21:]],
    "an entry gone": lambda lines: [*lines[:7], *lines[8:]],
    "two entries swapped": lambda lines: [*lines[:30], lines[31], lines[30], *lines[32:]],
    "a line not JSON": lambda lines: [*lines[:12], b"{oops\n", *lines[12:]],
    "a line not canonical": lambda lines: [*lines[:25], lines[25].replace(b'":', b'": '), *lines[26:]],
    "a torn tail": lambda lines: [*lines[:-1], lines[-1][:100]],
    "the tail cut off": lambda lines: lines[:33],
    "every entry from the 16th edited": lambda lines: [
        *lines[:15],
        *(line.replace(b'"recorded_at":"', b'"recorded_at":"1') for line in lines[15:]),
    ],
}


def forty_entries(path: Path, tampering: str) -> dict[str, Any]:
    """A ledger of 40 entries, tampered with as `_TAMPERINGS` names; the checkpoint taken before."""
    for i in range(40):
        append(path, str(i))
    with open_for_append(path) as ledger:
        checkpoint = ledger.checkpoint(NOW)
    path.write_bytes(b"".join(_TAMPERINGS[tampering](path.read_bytes().splitlines(keepends=True))))
    return checkpoint


def in_slices(monkeypatch: pytest.MonkeyPatch) -> None:
    """Have `verify` check any ledger with two worker processes, a few lines a slice, some cut mid-line."""
    monkeypatch.setattr(ledger_verify, "PARALLEL_FROM_BYTES", 0)
    monkeypatch.setattr(ledger_verify, "SLICE_BYTES", 3000)
    monkeypatch.setattr(os, "sched_getaffinity", lambda _: {0, 1}, raising=False)


@pytest.mark.parametrize("tampering", _TAMPERINGS)
def test_a_large_ledger_checked_in_slices_by_several_processes_verifies_as_in_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tampering: str
) -> None:
    # Lines are checked on their own in parallel and only the links followed in order: whatever is
    # wrong, and wherever, the finding must be the one-process walk's, to the line.
    path = tmp_path / "l.jsonl"
    checkpoint = forty_entries(path, tampering)
    alone = [verify(path), verify(path, checkpoint)]
    in_slices(monkeypatch)
    assert [verify(path), verify(path, checkpoint)] == alone
    assert (alone[1].problem is None) == (tampering == "none")


def _dies_after_the_first_slice(path: str, start: int, end: int, strict: bool, limit: int) -> list[Any]:
    if start > 0:
        os._exit(1)  # as a worker killed for its memory
    return list(ledger_verify._checked_in(path, start, end, strict, limit))


def _no_process_pool(*args: Any) -> None:
    raise OSError(38, "Function not implemented")  # as where there are no semaphores


@pytest.mark.parametrize("failure", ["a worker dies", "no process pool"])
def test_a_ledger_is_still_verified_when_its_slices_cannot_be_checked_by_other_processes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failure: str
) -> None:
    path = tmp_path / "l.jsonl"
    forty_entries(path, "two entries swapped")
    alone = verify(path)
    assert alone.line == 31
    in_slices(monkeypatch)
    if failure == "a worker dies":
        monkeypatch.setattr(ledger_verify, "_check_slice", _dies_after_the_first_slice)
    else:
        monkeypatch.setattr(concurrent.futures, "ProcessPoolExecutor", _no_process_pool)
    assert verify(path) == alone


def test_a_torn_tail_is_kept_aside_and_reported(tmp_path: Path) -> None:
    path = tmp_path / "l.jsonl"
    append(path, "0")
    whole = path.read_bytes()
    with path.open("ab") as handle:
        handle.write(b'{"seq":1,"prev":')
    assert verify(path).problem == "the last line is incomplete (a torn write)"
    assert verify(path).entries == 1
    with open_for_append(path) as ledger:
        assert ledger.quarantined is not None
        assert ledger.quarantined.read_bytes() == b'{"seq":1,"prev":'
        assert ledger.head.next_seq == 1
        ledger.append(fields("1"))
    assert path.read_bytes().startswith(whole)
    assert verify(path).problem is None and verify(path).entries == 2


def test_a_whole_last_entry_without_its_newline_is_kept(tmp_path: Path) -> None:
    # An editor or a tool that strips the final newline must not cost the ledger its last run.
    path = tmp_path / "l.jsonl"
    append(path, "0")
    append(path, "1")
    whole = path.read_bytes()
    path.write_bytes(whole[:-1])
    with open_for_append(path) as ledger:
        assert ledger.quarantined is None
        assert ledger.head.next_seq == 2
        ledger.append(fields("2"))
    assert path.read_bytes().startswith(whole)
    assert verify(path).problem is None and verify(path).entries == 3
    assert not list(tmp_path.glob("*.torn-*"))


def test_a_torn_tail_nested_50000_deep_is_kept_aside(tmp_path: Path) -> None:
    path = tmp_path / "l.jsonl"
    append(path, "0")
    with path.open("ab") as handle:
        handle.write(b'{"seq":1,"tests":' + b"[" * 50_000)
    with open_for_append(path) as ledger:
        assert ledger.quarantined is not None and ledger.head.next_seq == 1


def test_append_refuses_an_edited_head(tmp_path: Path) -> None:
    path = tmp_path / "l.jsonl"
    append(path, "0")
    path.write_text(path.read_text().replace('"branch":"main"', '"branch":"evil"'))
    with pytest.raises(IntegrityError, match="does not match its entry_hash"):
        append(path, "1")


def _append_many(path: str, worker: int) -> None:
    for i in range(20):
        append(Path(path), f"{worker}-{i}")


def test_concurrent_appends_keep_every_entry(tmp_path: Path) -> None:
    path = tmp_path / "l.jsonl"
    context = multiprocessing.get_context("spawn")
    processes = [context.Process(target=_append_many, args=(str(path), w)) for w in range(4)]
    for process in processes:
        process.start()
    for process in processes:
        process.join(60)
        assert process.exitcode == 0
    result = verify(path)
    assert result.problem is None
    assert result.entries == 80
    run_ids = {json.loads(line)["run_id"] for line in path.read_text().splitlines()}
    assert len(run_ids) == 80


def test_checkpoints_catch_truncation_and_rewrites(tmp_path: Path) -> None:
    path = tmp_path / "l.jsonl"
    for i in range(5):
        append(path, str(i))
    with open_for_append(path) as ledger:
        checkpoint = ledger.checkpoint(NOW)
    assert checkpoint["size"] == 5
    assert checkpoint["merkle_root"] == merkle.root([bytes.fromhex(json.loads(x)["entry_hash"]) for x in
                                                     path.read_text().splitlines()])  # fmt: skip
    assert verify(path, checkpoint).problem is None
    append(path, "5")
    assert verify(path, checkpoint).problem is None  # growing is fine

    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(lines[:3]))
    truncated = verify(path, checkpoint)
    assert truncated.problem == "the ledger has 3 entries but the checkpoint recorded 5: truncated"

    # Rewritten from entry 2 on with a chain that verifies on its own: only the checkpoint tells.
    path.write_text("".join(lines[:2]))
    for i in range(4):
        append(path, f"forged-{i}")
    assert verify(path).problem is None
    rewritten = verify(path, checkpoint)
    assert rewritten.problem is not None and "rewritten" in rewritten.problem
    assert rewritten.line == 5


def test_checkpoint_beside_the_ledger_is_extended_not_rebuilt(tmp_path: Path) -> None:
    path = tmp_path / "l.jsonl"
    for i in range(3):
        with open_for_append(path) as ledger:
            ledger.append(fields(str(i)))
            checkpoint_path(path).write_text(json.dumps(ledger.checkpoint(NOW)))
    saved = json.loads(checkpoint_path(path).read_text())
    assert saved["size"] == 3 and saved["merkle_root"] == verify(path).merkle_root


def test_inclusion_proofs(tmp_path: Path) -> None:
    path = tmp_path / "l.jsonl"
    for i in range(7):
        append(path, str(i))
    with open_for_append(path) as ledger:
        checkpoint = ledger.checkpoint(NOW)
    for seq in range(7):
        proof = prove(path, seq)
        assert proof["entry"]["seq"] == seq and proof["tree_size"] == 7
        assert check_proof(proof, checkpoint) is None
    proof = prove(path, 3)
    edited = json.loads(json.dumps(proof))
    edited["entry"]["run_id"] = "forged"
    assert check_proof(edited, checkpoint) == "the entry does not match its entry_hash: it was edited"
    wrong_path = json.loads(json.dumps(proof))
    wrong_path["audit_path"][0] = "00" * 32
    assert check_proof(wrong_path, None) == "the audit path does not lead to the proof's Merkle root"
    append(path, "7")
    newer = prove(path, 3)
    assert check_proof(newer, checkpoint) is not None  # a different tree than the one published
    with pytest.raises(InputError):
        prove(path, 99)


def test_a_correction_supersedes_without_rewriting(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from provenance.cli import main

    (tmp_path / "r.xml").write_text('<testsuite><testcase classname="t" name="ok"/></testsuite>')
    assert main(["run", "--workspace", str(tmp_path), "--report", "r.xml"], {}) == 0
    ledger = tmp_path / "data" / "ci_runs.jsonl"
    first = ledger.read_text()
    args = ["run", "--workspace", str(tmp_path), "--report", "r.xml", "--supersedes", "0"]
    assert main(args, {}) == 2  # a correction needs its reason
    assert main([*args, "--correction-reason", "report of the wrong commit attached"], {}) == 0
    assert main([*args[:-1], "5", "--correction-reason", "x"], {}) == 2  # nothing to supersede
    capsys.readouterr()
    lines = ledger.read_text().splitlines()
    assert ledger.read_text().startswith(first)  # the corrected entry is untouched
    correction = json.loads(lines[1])
    assert (correction["supersedes"], correction["correction_reason"]) == (0, "report of the wrong commit attached")
    assert verify(ledger).problem is None


def test_every_single_byte_edit_of_an_entry_is_detected(tmp_path: Path) -> None:
    """Substitute each byte of a whole entry with every other printable byte: verify catches all."""
    path = tmp_path / "l.jsonl"
    for i in range(3):
        append(path, str(i))
    original = path.read_bytes()
    lines = original.splitlines(keepends=True)
    start = len(lines[0])
    middle = lines[1]
    caught = tried = 0
    for offset in range(len(middle) - 1):  # every byte but the newline
        for replacement in (b"0", b"1", b"a", b"A", b" ", b'"', b"}", b"9"):
            if middle[offset : offset + 1] == replacement:
                continue
            edited = original[: start + offset] + replacement + original[start + offset + 1 :]
            path.write_bytes(edited)
            tried += 1
            caught += verify(path).problem is not None
    assert caught == tried > 4000


def test_strict_verification_checks_the_schema(tmp_path: Path) -> None:
    path = tmp_path / "l.jsonl"
    append(path, "0")
    fields_now = json.loads(path.read_text())
    fields_now["conclusion"] = "maybe"  # not a conclusion, but rehashed so the chain holds
    fields_now["entry_hash"] = entry_hash(fields_now)
    path.write_bytes(canonical(fields_now) + b"\n")
    assert verify(path).problem is None
    strict = verify(path, strict=True)
    assert strict.problem is not None and "not a valid ledger entry" in strict.problem


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**60), 2**60) | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)  # fmt: skip


@settings(max_examples=400)
@given(_json_values)
def test_fast_canonical_json_is_rfc8785(value: object) -> None:
    try:
        expected = rfc8785.dumps(value)
    except rfc8785.CanonicalizationError:
        return  # integers beyond 2^53, refused by the reference; canonical() writes them as ES reads them
    assert canonical(value) == expected
