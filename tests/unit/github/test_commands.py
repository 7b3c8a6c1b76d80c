from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from provenance.errors import InputError
from provenance.github.commands import Annotation, command, escape_data, escape_property, format_outputs
from provenance.text import is_invisible, printable, printable_lines
from tests.support.runner import parse_commands, parse_output_file


def test_escaping_matches_the_toolkit() -> None:
    assert escape_data("50% done\r\nnext") == "50%25 done%0D%0Anext"
    assert escape_property("a:b,c%\n") == "a%3Ab%2Cc%25%0A"


def test_command_with_properties() -> None:
    line = Annotation("error", "boom\n::set-output name=x::y", title="t::1", file="a,b.py", line=3).as_command()
    assert line == "::error file=a%2Cb.py,line=3,title=t%3A%3A1::boom%0A::set-output name=x::y"
    assert "\n" not in line


def test_command_without_properties() -> None:
    assert command("warning", "careful") == "::warning::careful"


def test_output_value_containing_its_delimiter_is_refused() -> None:
    with pytest.raises(InputError, match="delimiter"):
        format_outputs({"name": "x ghadelimiter_fixed y"}, delimiter_for=lambda: "ghadelimiter_fixed")


def test_outputs_round_trip_through_the_runner_parser(tmp_path: Path) -> None:
    values = {"conclusion": "failure", "multi": "line one\nline two", "tricky": "x<<EOF\nname=evil"}
    path = tmp_path / "out"
    path.write_text(format_outputs(values))
    assert parse_output_file(path) == values


@given(st.dictionaries(st.sampled_from(["a", "b-c", "run-id"]), st.text()))
def test_no_value_can_add_or_change_an_output(values: dict[str, str]) -> None:
    text = format_outputs({k: v.replace("\r", "") for k, v in values.items()})
    path = Path("/dev/shm") if Path("/dev/shm").is_dir() else Path("/tmp")
    target = path / f"outputs-{id(values)}"
    try:
        target.write_text(text, encoding="utf-8", newline="")
        parsed = parse_output_file(target)
    finally:
        target.unlink(missing_ok=True)
    assert parsed == {k: v.replace("\r", "") for k, v in values.items()}


@given(st.text(), st.text(), st.text())
def test_no_message_can_issue_another_command(message: str, title: str, file: str) -> None:
    line = Annotation("error", message, title=title, file=file, line=1).as_command()
    commands = parse_commands(line)
    assert len(commands) == 1
    assert commands[0].name == "error"
    # What reaches the log is the text itself, its control and format characters shown as escapes.
    assert commands[0].data == printable_lines(message)
    assert commands[0].properties["title"] == printable(title)
    assert commands[0].properties["file"] == printable(file)
    assert not any(is_invisible(c) and c not in "\n\t" for c in commands[0].data + commands[0].properties["title"])


def test_escape_sequences_in_test_output_reach_the_log_inert() -> None:
    message = "AssertionError: \x1b[2J\x1b]8;;http://evil\x07click\x1b]8;;\x07 \u202eexe.txt\n\tat line 3"
    line = Annotation("error", message, title="t\x1b[31m").as_command()
    assert "\x1b" not in line and "\x07" not in line and "\u202e" not in line
    assert parse_commands(line)[0].data.endswith("\\u202eexe.txt\n\tat line 3")
