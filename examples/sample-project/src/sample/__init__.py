"""A tiny library whose test suite shows every outcome pytest can report."""


def mean(values: list[float]) -> float:
    """Arithmetic mean; deliberately wrong on empty input so one test fails."""
    return sum(values) / len(values)


def normalise(name: str) -> str:
    """Collapse whitespace and lower-case a label."""
    return " ".join(name.split()).lower()
