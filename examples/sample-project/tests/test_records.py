"""Tests in a class, a teardown error and a test with output, for the other shapes a report takes."""

import pytest

from sample import normalise


class TestLabels:
    def test_lower(self):
        assert normalise("ABC") == "abc"

    def test_pipe_and_markup(self):
        assert normalise("| **bold** | <script>") == "| **bold** | <script>"


@pytest.fixture
def leaky_resource():
    yield "resource"
    raise OSError("could not release the resource")


def test_teardown_fails(leaky_resource):
    assert leaky_resource == "resource"


def test_prints(capsys):
    print("some output")
    assert capsys.readouterr().out == "some output\n"


def test_labels_dataset():
    """Reads the dataset that data_contracts.yaml keeps under contract."""
    from pathlib import Path

    rows = (Path(__file__).parent.parent / "datasets" / "labels.csv").read_text().splitlines()[1:]
    for row in rows:
        raw, expected = row.rsplit(",", 1)
        assert normalise(raw) == expected
