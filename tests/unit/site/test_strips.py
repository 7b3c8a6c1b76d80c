"""Per-test strips, durations and flips, from real ledgers written by the append path."""

from __future__ import annotations

from pathlib import Path

from provenance.site.build import page_data
from provenance.site.strips import STRIP_LENGTH
from tests.support.history import write_runs

A, B, C = "tests/test_a.py::test_flips", "tests/test_b.py::test_regression", "tests/test_b.py::test_skips_between"


def test_flips_are_counted_between_passes_and_failures_and_skips_are_no_outcome(tmp_path: Path) -> None:
    pattern_a = ["pass", "fail", "pass", "fail", "pass", "pass"]
    pattern_b = ["pass", "fail", "error", "pass", "pass", "pass"]
    pattern_c = ["pass", "skip", "pass", "skip", "fail", "fail"]
    runs = [[(A, a, 0.5 + k, None), (B, b, 0.1, None), (C, c, 0.2, None)]
            for k, (a, b, c) in enumerate(zip(pattern_a, pattern_b, pattern_c, strict=True))]  # fmt: skip
    write_runs(tmp_path / "ledger.jsonl", runs)
    data = page_data(tmp_path / "ledger.jsonl")
    tests = data["tests"]
    assert tests["name"] == [A, B, C]
    assert tests["file"] == ["tests/test_a.py", "tests/test_b.py", "tests/test_b.py"]
    assert tests["strip"] == ["pfpfpp", "pfepp" + "p", "pspsff"]
    assert tests["flips"] == [4, 2, 1]
    assert tests["failures"] == [2, 2, 2]
    assert tests["durations"][0] == [0.5, 1.5, 2.5, 3.5, 4.5, 5.5]
    # Only A flipped three times or more: a regression and its fix (B) is not flaky.
    assert [row["test"] for row in data["flaky"]] == [0]
    flaky = data["flaky"][0]
    assert (flaky["flips"], flaky["first_flip"], flaky["last_flip"], flaky["runs"]) == (4, 1, 4, 6)
    assert flaky["flip_rate"] == 0.8  # 4 flips in 5 pairs of consecutive results


def test_a_strip_keeps_the_last_results_in_order(tmp_path: Path) -> None:
    runs = [[(A, "fail" if k % 3 == 0 else "pass", float(k), None)] for k in range(STRIP_LENGTH + 7)]
    write_runs(tmp_path / "ledger.jsonl", runs)
    tests = page_data(tmp_path / "ledger.jsonl")["tests"]
    expected = "".join("f" if k % 3 == 0 else "p" for k in range(7, STRIP_LENGTH + 7))
    assert tests["strip"] == [expected]
    assert tests["durations"] == [[float(k) for k in range(7, STRIP_LENGTH + 7)]]
    assert tests["runs"] == [STRIP_LENGTH + 7]


def test_flaky_tests_are_ranked_by_flip_rate_then_flips_then_name(tmp_path: Path) -> None:
    every_other = ["pass", "fail"] * 4  # 7 flips in 7 pairs
    every_third = ["pass", "pass", "fail"] * 3  # ...
    runs = [[("z.py::test_alternates", every_other[k % 8], 0.1, None), ("a.py::test_sometimes",
             every_third[k % 9], 0.1, None), ("m.py::test_alternates_too", every_other[k % 8], 0.1, None)]
            for k in range(8)]  # fmt: skip
    write_runs(tmp_path / "ledger.jsonl", runs)
    data = page_data(tmp_path / "ledger.jsonl")
    ranked = [data["tests"]["name"][row["test"]] for row in data["flaky"]]
    assert ranked == ["m.py::test_alternates_too", "z.py::test_alternates", "a.py::test_sometimes"]
    assert [row["flip_rate"] for row in data["flaky"]] == [1.0, 1.0, round(4 / 7, 4)]


def test_a_test_listed_twice_in_one_entry_counts_once_with_its_last_listing(tmp_path: Path) -> None:
    runs = [[(A, "pass", 0.1, None)], [(A, "fail", 0.2, None), (A, "pass", 0.3, None)], [(A, "fail", 0.4, None)]]
    write_runs(tmp_path / "ledger.jsonl", runs)
    tests = page_data(tmp_path / "ledger.jsonl")["tests"]
    assert tests["strip"] == ["ppf"]
    assert tests["durations"] == [[0.1, 0.3, 0.4]]
