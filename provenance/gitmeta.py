"""Git metadata by subprocess: commit, branch and what the change touched.

Inside a container the workspace belongs to another user and git refuses it; `safe.directory`
is passed on each command line (a protected scope git honours) so no configuration is changed.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from provenance.schemas import ChangedFile, GitInfo

_TIMEOUT_SECONDS = 60


class GitUnavailable(Exception):
    """git is missing, the directory is no repository, or an object is not in a shallow clone.

    The message is git's last line of stderr; `stderr` keeps all of it.
    """

    def __init__(self, message: str, stderr: str = "") -> None:
        super().__init__(message)
        self.stderr = stderr or message


def git_bytes(workspace: Path, *args: str, env: dict[str, str] | None = None) -> bytes:
    """Run git in `workspace` (any owner: safe.directory is set for this command only); its stdout."""
    try:
        done = subprocess.run(
            ["git", "-c", "safe.directory=*", "-C", str(workspace), *args],
            capture_output=True,
            check=False,
            timeout=_TIMEOUT_SECONDS,
            env=env,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise GitUnavailable(f"git could not run: {exc}") from None
    if done.returncode != 0:
        stderr = done.stderr.decode("utf-8", "replace").strip()
        lines = stderr.splitlines()
        raise GitUnavailable(lines[-1] if lines else f"git {args[0]} failed", stderr)
    return done.stdout


def git(workspace: Path, *args: str, env: dict[str, str] | None = None) -> str:
    """`git_bytes`, decoded."""
    return git_bytes(workspace, *args, env=env).decode("utf-8", "surrogateescape")


def read_git(workspace: Path, *, compare_base: str | None, branch_hint: str | None) -> GitInfo:
    """Describe HEAD and its change; never raises: what git cannot tell is recorded as unknown."""
    try:
        commit = git(workspace, "rev-parse", "--verify", "HEAD").strip()
    except GitUnavailable as exc:
        return GitInfo(status="unknown", reason=str(exc), branch=branch_hint)
    branch = branch_hint or _current_branch(workspace)
    try:
        base = _resolve_base(workspace, compare_base)
        changed = _changed_files(workspace, base)
    except GitUnavailable as exc:
        return GitInfo(status="unknown", reason=f"changed files unknown: {exc}", commit=commit, branch=branch)
    return GitInfo(
        status="ok",
        commit=commit,
        branch=branch,
        compare_base=base,
        changed_files=changed,
        lines_added=sum(f.added or 0 for f in changed),
        lines_deleted=sum(f.deleted or 0 for f in changed),
    )


def _current_branch(workspace: Path) -> str | None:
    try:
        name = git(workspace, "symbolic-ref", "--quiet", "--short", "HEAD").strip()
    except GitUnavailable:
        return None  # detached HEAD, as in a pull request checkout
    return name or None


def _resolve_base(workspace: Path, compare_base: str | None) -> str | None:
    """The PR base or pushed-from commit when the clone has it, else the first parent; None for a root commit.

    A shallow clone lacks both: that is said in words, not in git's (`fatal: Needed a single revision`).
    """
    if compare_base:
        try:
            return git(workspace, "merge-base", compare_base, "HEAD").strip()
        except GitUnavailable:
            raise GitUnavailable(f"the base commit {compare_base[:12]} is not in the clone; {_DEEPEN}") from None
    parents = git(workspace, "rev-list", "--parents", "-n", "1", "HEAD").split()[1:]
    if parents:
        return parents[0]
    if git(workspace, "rev-parse", "--is-shallow-repository").strip() == "true":
        raise GitUnavailable(f"the clone is shallow and holds no parent of HEAD; {_DEEPEN}")
    return None  # the repository's first commit: every file in it is new


_DEEPEN = "check out with `fetch-depth: 0` (actions/checkout) so the change can be diffed"


def _changed_files(workspace: Path, base: str | None) -> list[ChangedFile]:
    if base is None:  # against the empty tree, in the repository's own hash
        base = git(workspace, "hash-object", "-t", "tree", "/dev/null").strip()
    out = git(workspace, "diff", "--numstat", "-z", "--no-renames", base, "HEAD")
    fields = out.split("\0")
    changed: list[ChangedFile] = []
    for record in fields:
        if not record:
            continue
        added, deleted, path = record.split("\t", 2)
        changed.append(
            ChangedFile(
                path=path,
                added=None if added == "-" else int(added),
                deleted=None if deleted == "-" else int(deleted),
            )
        )
    return changed
