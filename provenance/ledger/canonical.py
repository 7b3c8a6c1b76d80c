"""Canonical JSON (RFC 8785): the bytes every hash in the project is taken over, written fast.

orjson writes most of an entry; the numbers it lays out otherwise, and keys it sorts otherwise,
go through the `rfc8785` package, the reference. An entry's hash is over its canonical form
without its `entry_hash` member.
"""

from __future__ import annotations

import functools
import hashlib
from typing import TYPE_CHECKING, Any

import orjson
import rfc8785

if TYPE_CHECKING:
    from provenance.schemas import LedgerTest

ZERO_HASH = "0" * 64  # the `prev` of the first entry


def canonical(value: Any) -> bytes:
    """RFC 8785 canonical JSON: the bytes every hash in the project is taken over.

    orjson with sorted keys writes exactly RFC 8785's bytes for strings, booleans, null, ASCII
    keys and integers below 2^53, and for floats once integral ones are written as integers and
    the rest lie where both use plain decimal notation (1e-5 <= |x| < 1e16) or both use the same
    exponent notation (|x| < 1e-6, |x| >= 1e21: `1.5e-7`, `1e+21`). Any other number is written by
    the `rfc8785` package, the reference, as a fragment; a value with a non-ASCII key (sorted
    differently) is encoded by it whole. The tests compare the two.
    """
    prepared = _orjson_ready(value)
    if prepared is _UNSAFE:
        return rfc8785.dumps(value)
    return orjson.dumps(prepared, option=orjson.OPT_SORT_KEYS)


_UNSAFE = object()


_AS_IS = (str, bool, type(None))  # written identically by orjson and RFC 8785


def exact_number(value: float) -> float | orjson.Fragment:
    """A number as orjson must be handed it to write RFC 8785's bytes."""
    if isinstance(value, float):
        magnitude = abs(value)
        if value.is_integer():
            if magnitude < 2**53:
                return int(value)
            if magnitude >= 1e21:
                return value
        elif magnitude < 1e-6 or 1e-5 <= magnitude < 1e16:
            return value
    elif abs(value) < 2**53:
        return value
    else:
        value = float(value)  # what such an integer is once read in ES: a double
    # Where ES and orjson lay the digits out differently (1e-6 <= |x| < 1e-5 and 1e16 <= |x| < 1e21:
    # ES in plain decimals, orjson in exponent notation), or an integral float beyond 2^53.
    return _reference_number(value)


def _reference_number(value: float) -> orjson.Fragment:
    """rfc8785's bytes for a number, for orjson to write as they are."""
    return orjson.Fragment(reference_bytes(value))


@functools.lru_cache(maxsize=1 << 16)
def reference_bytes(value: float) -> bytes:
    """rfc8785's bytes for a number, remembered: it takes about 10 µs, and a run's values repeat.

    The predicted p_fail of stable tests falls below 1e-5 as their history grows, and tests with
    the same history share one value (in a 100,000-test benchmark, 98,000 of them).
    """
    return rfc8785.dumps(value)


def _orjson_ready(value: Any) -> Any:
    """`value` with every number as `_number` gives it, or `_UNSAFE` where only rfc8785 is exact.

    Strings, booleans and null are passed through without a call, as they are most of a ledger entry.
    """
    if isinstance(value, (float, int)) and not isinstance(value, bool):
        return exact_number(value)
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if not (type(key) is str and key.isascii()):
                return _UNSAFE
            if type(item) in _AS_IS:
                out[key] = item
                continue
            ready = _orjson_ready(item)
            if ready is _UNSAFE:
                return _UNSAFE
            out[key] = ready
        return out
    if isinstance(value, list):
        items = []
        for item in value:
            ready = item if type(item) in _AS_IS else _orjson_ready(item)
            if ready is _UNSAFE:
                return _UNSAFE
            items.append(ready)
        return items
    return value


def entry_hash(fields: dict[str, Any]) -> str:
    """The hash an entry must carry: over all of its fields except `entry_hash` itself."""
    body = {key: value for key, value in fields.items() if key != "entry_hash"}
    return hashlib.sha256(canonical(body)).hexdigest()


def canonical_tests(tests: list[LedgerTest]) -> orjson.Fragment:
    """An entry's tests in canonical form, written directly: an entry may hold 100,000 of them.

    The keys are listed in RFC 8785's order; a test checks the line against `canonical` of the
    whole entry dumped by pydantic, so a field added to `LedgerTest` and not here fails it.
    """
    return orjson.Fragment(
        orjson.dumps(
            [
                {
                    "duration_seconds": exact_number(t.duration_seconds),
                    "nodeid": t.nodeid,
                    "p_fail": None if t.p_fail is None else exact_number(t.p_fail),
                    "result": t.result,
                }
                for t in tests
            ]
        )
    )


def canonical_entry(fields: dict[str, Any]) -> bytes:
    """`canonical(fields)`, with the tests, most of a large line, encoded as the writer encodes them.

    The generic walk of `canonical` takes twice as long over 100,000 tests; `strict` compares every
    line with this, and the default check each line the faster comparisons did not match.
    """
    tests = _plain_tests(fields.get("tests"))
    return canonical(fields if tests is None else {**fields, "tests": tests})


_TEST_KEYS = {"duration_seconds", "nodeid", "p_fail", "result"}
_NUMBERS = (float, int)  # not bool


def _plain_tests(tests: Any) -> orjson.Fragment | None:
    """Tests as `canonical_tests` writes them, or None unless each is a plain ledger test."""
    if type(tests) is not list:
        return None
    out = []
    for test in tests:
        if type(test) is not dict or test.keys() != _TEST_KEYS:
            return None
        duration, nodeid, p_fail, result = test["duration_seconds"], test["nodeid"], test["p_fail"], test["result"]
        if (type(nodeid) is not str or type(result) is not str or type(duration) not in _NUMBERS
                or (p_fail is not None and type(p_fail) not in _NUMBERS)):  # fmt: skip
            return None
        out.append({"duration_seconds": exact_number(duration), "nodeid": nodeid,
                    "p_fail": None if p_fail is None else exact_number(p_fail), "result": result})  # fmt: skip
    return orjson.Fragment(orjson.dumps(out))


def body_hash(raw: bytes, claimed: str) -> str:
    """sha256 of the canonical entry without `entry_hash` ("" when the line does not hold `claimed`)."""
    return hash_without(raw, hash_member(claimed))[0]


def hash_member(digest: str) -> bytes:
    """The `entry_hash` member as a canonical line holds it, with its trailing comma."""
    return b'"entry_hash":"' + digest.encode() + b'",'


def hash_without(line: bytes, member: bytes) -> tuple[str, int]:
    """sha256 of a canonical line (its newline aside) with `member` cut out, and where it was.

    In a canonical line the entry without `entry_hash` is the line with the `"entry_hash":"…",`
    member cut out: keys are sorted, it is never the last, and no string value can hold it with
    its quotes unescaped. The line can be megabytes: it is hashed through views, not copied.
    ("", -1) when the member is not there.
    """
    at = line.find(member)
    if at < 0:
        return "", -1
    view = memoryview(line)
    end = len(line) - 1 if line.endswith(b"\n") else len(line)
    hasher = hashlib.sha256(view[:at])
    hasher.update(view[at + len(member) : end])
    return hasher.hexdigest(), at
