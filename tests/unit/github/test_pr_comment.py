"""The pull-request comment's body: its marker, when it is wanted, what it says, its escaping and its size."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from provenance.choices import CommentMode
from provenance.github import pr_comment
from provenance.schemas import Outcome, TestResult
from tests.support.outcomes import outcome_for

HOSTILE = "tests/t.py::test_x[@octocat #123 **b** <img src=x onerror=alert(1)> [l](https://e.x) `c` -->]"


def result(nodeid: str, outcome: Outcome, message: str | None = None, seconds: float = 0.1) -> TestResult:
    failed = outcome in (Outcome.FAILED, Outcome.ERROR)
    return TestResult(nodeid=nodeid, result=outcome.result, outcome=outcome, duration_seconds=seconds,
                      file="tests/t.py" if failed else None, line=7 if failed else None, message=message)  # fmt: skip


@pytest.mark.parametrize(
    ("workflow", "job"),
    [("CI", "test"), ("CI --> <b>x</b>", "job\n<!-- x"), ("a:b", "c"), ("a", "b:c"), (None, None), ("é 🚀", "-")],
)
def test_the_marker_is_one_html_comment_naming_workflow_and_job(workflow: str | None, job: str | None) -> None:
    mark = pr_comment.marker(workflow, job)
    assert re.fullmatch(r"<!-- provenance-action:[A-Za-z0-9_.~%]*:[A-Za-z0-9_.~%]* -->", mark)
    assert mark.count("--") == 2  # its own opening and closing only
    assert pr_comment.is_ours(mark + "\n## body", mark)
    others = {pr_comment.marker(w, j) for w, j in (("a:b", "c"), ("a", "b:c"), ("CI", "test"), ("CI", "lint"))}
    assert len(others) == 4  # no two workflow/job pairs share a marker


def test_only_a_first_line_marker_is_ours() -> None:
    mark = pr_comment.marker("CI", "test")
    assert not pr_comment.is_ours("quoting it: " + mark, mark)
    assert not pr_comment.is_ours("> " + mark + "\n", mark)
    assert not pr_comment.is_ours(None, mark)
    assert not pr_comment.is_ours(pr_comment.marker("CI", "test2") + "\n", mark)


def test_when_each_mode_wants_a_comment(tmp_path: Path) -> None:
    outcome_for(tmp_path, [result("t::a", Outcome.FAILED)], run_id="1", branch="main")
    still = outcome_for(tmp_path, [result("t::a", Outcome.FAILED)], run_id="2", branch="pr", comment="changes")
    green = outcome_for(tmp_path, [result("t::a", Outcome.PASSED)], run_id="3", branch="main", comment="changes")
    fixed = outcome_for(tmp_path, [result("t::a", Outcome.PASSED)], run_id="4", branch="pr", comment="changes")
    assert [pr_comment.wanted(m, still) for m in CommentMode] == [False, False, True, True]  # failing, as before
    assert [pr_comment.wanted(m, green) for m in CommentMode] == [False, False, False, True]
    assert [pr_comment.wanted(m, fixed) for m in CommentMode] == [False, False, False, True]  # main passed last
    outcome_for(tmp_path, [result("t::a", Outcome.FAILED)], run_id="5", branch="main")
    fixed = outcome_for(tmp_path, [result("t::a", Outcome.PASSED)], run_id="6", branch="pr", comment="changes")
    assert [pr_comment.wanted(m, fixed) for m in CommentMode] == [False, True, False, True]


def test_the_body_says_what_changed_with_untrusted_text_inert(tmp_path: Path) -> None:
    outcome_for(tmp_path, [result("t::fixed", Outcome.FAILED), result("t::still", Outcome.FAILED)], run_id="1",
                branch="main")  # fmt: skip
    head = [result(HOSTILE, Outcome.FAILED, message="@octocat see #123 <script>x</script>"),
            result("t::fixed", Outcome.PASSED), result("t::still", Outcome.ERROR, message="boom"),
            result("t::flaky", Outcome.FLAKY)]  # fmt: skip
    outcome = outcome_for(tmp_path, head, run_id="2", branch="feature", comment="changes")
    body = pr_comment.render(outcome, "CI @octocat", "test #9")
    assert body.startswith(pr_comment.marker("CI @octocat", "test #9") + "\n## ❌ Tests against <code>main</code>: ")
    assert "1 new failure, 1 fixed, 1 still failing, 1 flaky" in body
    assert "Compared with run <code>1</code>, the last recorded run of <code>main</code>." in body
    assert "### 🆕 New failures (1)" in body and "### ✅ Fixed (1)\n\n- <code>t&#58;&#58;fixed</code>" in body
    assert "### 🔁 Still failing (1)\n\n- <code>t&#58;&#58;still</code> at <code>tests/t.py&#58;7</code>: " in body
    assert "### 🎲 Flaky (1)" in body
    # Every @ and # of untrusted text is an entity inside <code>, where GitHub links neither.
    text = re.sub(r"&#\d+;", "", body.split("\n", 1)[1])
    assert "@" not in text and not re.search(r"#\d", text)
    assert "<img" not in text and "<script" not in text and "](https://e.x)" not in text
    assert re.sub(r"<code>[^<]*</code>", "", text).count("&#64;") == 0  # none outside code


def test_a_comment_without_a_base_run_says_so(tmp_path: Path) -> None:
    outcome = outcome_for(tmp_path, [result("t::a", Outcome.PASSED)], run_id="1", branch="feature", comment="always")
    body = pr_comment.render(outcome, "CI", "test")
    assert "## ✅ Tests against <code>main</code>: no change: 1 test passed" in body
    assert "No recorded run of <code>main</code> to compare with: every failure counts as new." in body


def test_an_over_long_body_is_cut_on_a_line_with_where_the_rest_is(tmp_path: Path) -> None:
    failing = [result(f"t::test_{i}_" + "<>" * 140, Outcome.FAILED, message="x" * 500) for i in range(200)]
    outcome = outcome_for(tmp_path, failing, run_id="1", branch="feature", comment="always")
    whole = pr_comment.render(outcome, "CI", "test", limit=10**7)
    assert len(whole) > pr_comment.COMMENT_LIMIT
    body = pr_comment.render(outcome, "CI", "test")
    assert len(body.encode("utf-16-le")) // 2 <= pr_comment.COMMENT_LIMIT
    assert body.startswith(pr_comment.marker("CI", "test") + "\n")
    kept, note = body.split("\n\n> [!NOTE]\n")
    assert whole.startswith(kept + "\n")  # whole lines only: no tag or entity cut in two
    assert note.startswith("> Cut here: a comment holds at most 65,536 characters. Every detail is in the job summary")


def test_fit_counts_utf16_units_as_the_web_does() -> None:
    assert pr_comment.fit("🚀" * 10, 20, "x") == "🚀" * 10
    cut = pr_comment.fit(("🚀" * 10 + "\n") * 20, 200, "see the summary")
    assert len(cut.encode("utf-16-le")) // 2 <= 200 and cut.endswith("see the summary\n")
