"""Links to a failing test's file and line: made only from safe parts, the path percent-encoded."""

from __future__ import annotations

import pytest

from provenance.github.links import blob_url

SHA = "0123456789abcdef0123456789abcdef01234567"


def test_a_link_to_the_file_and_line_at_the_commit() -> None:
    url = blob_url("https://github.com", "acme/app", SHA, "tests/test_x.py", 12)
    assert url == f"https://github.com/acme/app/blob/{SHA}/tests/test_x.py#L12"
    assert blob_url("https://ghe.example.com/", "acme/app", SHA, "t.py", None) == (
        f"https://ghe.example.com/acme/app/blob/{SHA}/t.py"
    )


def test_the_path_is_percent_encoded() -> None:
    url = blob_url("https://github.com", "acme/app", SHA, "tests/a b/x#y?(z)[1].py", 3)
    assert url == f"https://github.com/acme/app/blob/{SHA}/tests/a%20b/x%23y%3F%28z%29%5B1%5D.py#L3"


@pytest.mark.parametrize(
    ("server", "repo", "sha", "path"),
    [
        ("https://github.com", "acme/app", SHA, "/etc/passwd"),  # absolute
        ("https://github.com", "acme/app", SHA, "../other/x.py"),  # outside the repository
        ("https://github.com", "acme/app", SHA, "tests/../../x.py"),
        ("https://github.com", "acme/app", SHA, "tests\\x.py"),
        ("https://github.com", "acme/app", SHA, "tests/x\n.py"),
        ("https://github.com", "acme/app", SHA, ""),
        ("javascript:alert(1)//", "acme/app", SHA, "x.py"),  # not a web server
        ("https://github.com) [x](https://evil.example", "acme/app", SHA, "x.py"),
        ("https://github.com", "acme/app/../../evil", SHA, "x.py"),
        ("https://github.com", "acme/app", "main", "x.py"),  # a branch moves: only a commit
        ("https://github.com", None, SHA, "x.py"),
        (None, "acme/app", SHA, "x.py"),
    ],
)
def test_no_link_from_unsafe_or_unknown_parts(server: str | None, repo: str | None, sha: str, path: str) -> None:
    assert blob_url(server, repo, sha, path, 1) is None
