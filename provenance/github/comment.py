"""The pull-request comment on GitHub: found by its marker among the pull request's comments, edited in place.

One comment per workflow and job, never one per run: the pull request's comments are listed a
page at a time (at most `MAX_PAGES` pages of 100) until the one whose first line is our marker
(`pr_comment.marker`) and whose author is the token's login (`comment-author`: anyone can post a
comment starting with the marker, and an edit of theirs would leave our report under their name,
theirs to change); that one is edited (`PATCH /repos/{owner}/{repo}/issues/comments/{id}`),
else a new one is made when the mode asks for it (`POST .../issues/{number}/comments`). A pull
request from a fork, or one by Dependabot, gets a read-only token: no request is made, and the
run says so once; a token refused (403, 404) is one warning too. The summary is written either way.
"""

from __future__ import annotations

from typing import Any

from provenance.choices import CommentMode
from provenance.context import RunContext
from provenance.github import pr_comment
from provenance.github.client import ApiError, Client
from provenance.github.pr_comment import CommentOutcome
from provenance.pipeline import RunOutcome

MAX_PAGES = 30  # of 100 comments each: a pull request with more is a conversation no one reads to the end
PER_PAGE = 100
_REFUSED = (
    "the token cannot write pull-request comments. Give the job `permissions: pull-requests: write`; a pull "
    "request from a fork gets a read-only token (see the workflow_run recipe in the README)"
)


def publish_comment(client: Client, repo: str, number: int, outcome: RunOutcome, mode: CommentMode,
                    context: RunContext, author: str) -> CommentOutcome:  # fmt: skip
    """Edit our comment (by `author`) on pull request `number` if there is one, else create it if `mode` wants one."""
    result = CommentOutcome()
    mark = pr_comment.marker(context.workflow, context.job)
    try:
        existing = find(client, repo, number, mark, author)
        if existing is None and not pr_comment.wanted(mode, outcome):
            result.notes.append(f"no pull-request comment: nothing for `comment: {mode.value}` to say")
            return result
        body = pr_comment.render(outcome, context.workflow, context.job)
        if existing is None:
            issue = client.github.get_repo(repo).get_issue(number)  # lazy: no request
            made = client.call(f"POST /repos/{repo}/issues/{number}/comments", lambda: issue.create_comment(body))
            result.action, result.comment_id, result.html_url = "created", made.id, made.html_url
            result.warnings += _another_author(made, author)
            return result
        path = f"/repos/{repo}/issues/comments/{existing.id}"
        client.expect_url(existing.url, path)  # PyGithub sends the edit to this URL, with the token
        client.call(f"PATCH {path}", lambda: existing.edit(body))
        result.action, result.comment_id, result.html_url = "edited", existing.id, existing.html_url
    except ApiError as exc:
        if exc.status not in (403, 404):
            raise
        result.warnings.append(f"no pull-request comment ({exc.status}): {_REFUSED}")
    return result


def find(client: Client, repo: str, number: int, mark: str, author: str, max_pages: int = MAX_PAGES) -> Any:
    """Our comment on the pull request (the first by `author` whose first line is `mark`), or None; bounded in pages."""
    comments = client.github.get_repo(repo).get_issue(number).get_comments()  # lazy: no request yet
    listing = f"GET /repos/{repo}/issues/{number}/comments"
    for page in range(max_pages):
        batch = client.call(listing, lambda page=page: comments.get_page(page))  # type: ignore[misc]
        for comment in batch:
            if _by(comment, author) and pr_comment.is_ours(comment.body, mark):
                return comment
        if len(batch) < PER_PAGE:
            return None
    return None


def _by(comment: Any, author: str) -> bool:
    """Whether `author` wrote the comment (logins are compared as GitHub does, ignoring case)."""
    return comment.user is not None and str(comment.user.login).casefold() == author.casefold()


def _another_author(made: Any, author: str) -> list[str]:
    """A warning when the token wrote as someone other than `comment-author`: the next run would not find it."""
    if made.user is None or _by(made, author):
        return []
    login = str(made.user.login)
    return [f"the comment was made as {login}, not {author}: set `comment-author: {login}` so that the next run "
            "edits it instead of adding another"]  # fmt: skip
