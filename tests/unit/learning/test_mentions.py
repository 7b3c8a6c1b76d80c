"""Which tests mention a changed file: the words of a file name, and where they are looked for."""

from __future__ import annotations

import pytest

from provenance.learning.mentions import is_test_file, mentioned, words


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("src/pkg/class_registry.py", {"class", "registry"}),
        ("lib/errorStore.ts", {"error", "store"}),
        ("src/pkg/__init__.py", set()),  # too common to mean anything
        ("src/pkg/io.py", set()),  # too short to look for inside other words
        ("Makefile", {"makefile"}),
    ],
)
def test_words_of_a_file_name(path: str, expected: set[str]) -> None:
    assert words(path) == expected


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("tests/test_schema.py", True),
        ("pkg/schema_test.py", True),
        ("tests/conftest.py", True),
        ("src/pkg/test/helpers.py", True),
        ("src/pkg/schema.py", False),
        ("src/pkg/testing.py", False),
    ],
)
def test_test_files(path: str, expected: bool) -> None:
    assert is_test_file(path) is expected


def test_tests_that_mention_a_changed_source_file() -> None:
    tests = [
        "tests/test_schema.py::test_dump",
        "tests/test_fields.py::TestSchemaLoad::test_nested",
        "tests/test_fields.py::test_email",
        "tests/test_fields.py::test_dump[SCHEMA]",
    ]
    changed = ["src/pkg/schema.py", "tests/test_fields.py", "README.md"]
    # the changed test file names no source (its own tests are chosen by the selection anyway)
    assert mentioned(tests, changed).tolist() == [True, True, False, True]
    assert mentioned(tests, ["tests/test_schema.py", "src/pkg/__init__.py"]).tolist() == [False] * 4
    assert mentioned([], ["src/pkg/schema.py"]).tolist() == []
