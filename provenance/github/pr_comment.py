"""The pull-request comment's body: what this push did to the tests, against the base branch.

One comment per workflow and job, found again by the hidden marker on its first line and edited
in place. It lists the new failures, the fixed tests, those still failing, the flaky ones and
the tests slower than `duration-regression` allows, against the last recorded run of the pull
request's base branch. Every piece of untrusted text (test names, messages, branch, workflow and
job names) is shown inside `<code>`, escaped as the summary escapes it: GitHub links no @mention
and no #123 reference inside code, and nothing there can open a tag or a link. GitHub keeps at
most 65,536 characters of a comment: a longer body is cut on a line boundary, with a link to the
job summary, which has everything.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import assert_never
from urllib.parse import quote

from provenance.choices import CommentMode
from provenance.context import RunContext
from provenance.github.links import failure_url
from provenance.github.markdown import code
from provenance.github.timing import slower_rows
from provenance.pipeline import RunOutcome
from provenance.pipeline.changes import BaseChanges
from provenance.schemas import Conclusion, Outcome, TestResult
from provenance.text import plural

COMMENT_LIMIT = 65_536  # what GitHub keeps of a comment's body
_ICONS = {Conclusion.SUCCESS: "✅", Conclusion.FAILURE: "❌", Conclusion.NEUTRAL: "⚠️"}
_MESSAGE_CHARS = 200
_LARGEST_NUMBER = 2**31 - 1


def marker(workflow: str | None, job: str | None) -> str:
    """The hidden first line naming the comment's workflow and job: percent-encoded, so it never ends early."""
    return f"<!-- provenance-action:{_encoded(workflow)}:{_encoded(job)} -->"


def _encoded(name: str | None) -> str:
    # Letters, digits, `_`, `.` and `~` stay; everything else (`-`, `>`, `:`, spaces) becomes %XX.
    return quote((name or "")[:200], safe="").replace("-", "%2D")


def is_ours(body: str | None, mark: str) -> bool:
    """Whether a comment's body starts with our marker line."""
    return body is not None and body.split("\n", 1)[0].strip() == mark


def changes_of(outcome: RunOutcome) -> BaseChanges:
    """The run's changes against its base; without a comparison, every failure is new."""
    if outcome.changes is not None:
        return outcome.changes
    run = outcome.provenance.run
    flaky = [t for t in run.tests if t.outcome is Outcome.FLAKY]
    return BaseChanges(base_branch=None, base_run_id=None, new_failures=list(run.failures), flaky=flaky)


def wanted(mode: CommentMode, outcome: RunOutcome) -> bool:
    """Whether `mode` asks for a comment on this run (one already there is brought up to date anyway)."""
    if mode is CommentMode.OFF:
        return False
    if mode is CommentMode.ALWAYS:
        return True
    if mode is CommentMode.FAILURES:
        return bool(outcome.provenance.run.failures)
    if mode is CommentMode.CHANGES:
        return changes_of(outcome).any(outcome.verdict.slower_tests)
    assert_never(mode)


def render(outcome: RunOutcome, workflow: str | None, job: str | None, limit: int = COMMENT_LIMIT) -> str:
    """The whole comment, marker first, within `limit` characters (counted as UTF-16, as the web counts)."""
    changes = changes_of(outcome)
    lines = [marker(workflow, job), _headline(outcome, changes), _context(outcome, workflow, job),
             _compared(changes)]  # fmt: skip
    for title, tests in (
        ("🆕 New failures", changes.new_failures),
        ("🔁 Still failing", changes.still_failing),
    ):
        if tests:
            lines += [f"\n### {title} ({len(tests)})\n", *(_failure(outcome, t) for t in tests)]
    if changes.fixed:
        lines += [f"\n### ✅ Fixed ({len(changes.fixed)})\n", *(f"- {code(n, 300)}" for n in changes.fixed)]
    if changes.flaky:
        lines += [f"\n### 🎲 Flaky ({len(changes.flaky)}): failed, then passed on a rerun\n",
                  *(f"- {code(t.nodeid, 300)}" for t in changes.flaky)]  # fmt: skip
    if slower := outcome.verdict.slower_tests:
        lines += [f"\n### 🐢 Slower than usual ({len(slower)})\n", *slower_rows(slower, limit=len(slower))]
    lines.append(f"\n<sub>Edited in place on each push. {_summary_link(outcome)}</sub>")
    return fit("\n".join(lines) + "\n", limit, _summary_link(outcome))


def fit(body: str, limit: int, whole_at: str) -> str:
    """`body` when it fits in `limit` UTF-16 units; else its first whole lines and a note saying where the rest is."""
    if _size(body) <= limit:
        return body
    note = f"\n\n> [!NOTE]\n> Cut here: a comment holds at most {limit:,} characters. {whole_at}\n"
    room = limit - _size(note)
    kept: list[str] = []
    for line in body.split("\n"):
        room -= _size(line) + 1
        if room < 0:
            break
        kept.append(line)
    return "\n".join(kept) + note


def _size(text: str) -> int:
    return len(text.encode("utf-16-le", errors="surrogatepass")) // 2


def _headline(outcome: RunOutcome, changes: BaseChanges) -> str:
    slower = outcome.verdict.slower_tests
    counts = [(len(changes.new_failures), "new failure"), (len(changes.fixed), "fixed"),
              (len(changes.still_failing), "still failing"), (len(changes.flaky), "flaky"),
              (len(slower), "slower")]  # fmt: skip
    said = [f"{n} {word}" if word in ("fixed", "still failing", "flaky", "slower") else plural(n, word)
            for n, word in counts if n]  # fmt: skip
    run = outcome.provenance.run
    what = ", ".join(said) if said else f"no change: {plural(run.counts.passed, 'test')} passed"
    against = f" against {code(changes.base_branch, 100)}" if changes.base_branch else ""
    return f"## {_ICONS[outcome.verdict.conclusion]} Tests{against}: {what}\n"


def _context(outcome: RunOutcome, workflow: str | None, job: str | None) -> str:
    run = outcome.provenance.run
    counts = run.counts
    parts = [f"Workflow {code(workflow or 'unknown', 100)}, job {code(job or 'unknown', 100)}"]
    if commit := run.git.commit or run.sha:
        parts.append("commit " + code(commit[:12]))
    parts.append(f"{plural(counts.total, 'test')}: {counts.passed} passed, {counts.failed} failed, "
                 f"{plural(counts.errors, 'error')}, {counts.skipped} skipped")  # fmt: skip
    return " · ".join(parts) + "\n"


def _compared(changes: BaseChanges) -> str:
    if changes.base_branch is None:
        return "No base branch to compare with: every failure counts as new."
    if changes.base_run_id is None:
        return (f"No recorded run of {code(changes.base_branch, 100)} to compare with: every failure counts "
                "as new.")  # fmt: skip
    return (f"Compared with run {code(changes.base_run_id, 100)}, the last recorded run of "
            f"{code(changes.base_branch, 100)}.")  # fmt: skip


def _failure(outcome: RunOutcome, test: TestResult) -> str:
    item = f"- {code(test.nodeid, 300)}"
    if test.file:
        where = code(test.file + (f":{test.line}" if test.line else ""), 300)
        url = failure_url(outcome, test)
        item += f" at [{where}]({url})" if url else f" at {where}"
    if message := " ".join((test.message or "").split()):
        item += f": {code(message, _MESSAGE_CHARS)}"
    return item


def _summary_link(outcome: RunOutcome) -> str:
    url = outcome.provenance.run.run_url
    where = f"the [job summary]({url})" if url else "the job summary"
    return f"Every detail is in {where} and {code(outcome.provenance_path)}."


@dataclass
class CommentOutcome:
    """What reached the pull request, and what the user should be told."""

    action: str = "none"  # "created", "edited" or "none"
    comment_id: int | None = None
    html_url: str | None = None
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def preflight(mode: CommentMode, context: RunContext, token: str | None) -> tuple[int | None, CommentOutcome]:
    """The pull request to comment on, or why there is none (a warning, or a note when it is no pull request)."""
    result = CommentOutcome()
    number = context.pr_number
    if mode is CommentMode.OFF:
        return None, result
    if number is None:
        result.notes.append("no pull-request comment: this run is not for a pull request")
        return None, result
    if not 1 <= number <= _LARGEST_NUMBER:
        result.warnings.append(f"no pull-request comment: the event's pull_request.number {number} is no "
                               "pull-request number")  # fmt: skip
        return None, result
    if context.read_only_token:
        result.warnings.append("no pull-request comment: a pull request from a fork or by Dependabot gets a "
                               "read-only token; the job summary has the same")  # fmt: skip
        return None, result
    if not token or not context.repository:
        result.warnings.append("no pull-request comment: it needs a token (github-token or GITHUB_TOKEN) and "
                               "GITHUB_REPOSITORY")  # fmt: skip
        return None, result
    return number, result
