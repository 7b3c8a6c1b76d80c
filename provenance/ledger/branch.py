"""Keep the ledger on a git branch, so it outlives the runner and every job adds to one history.

The user's checkout is never touched: the branch's files are read with `git show`, the new commit
is built with plumbing (a private index file, `write-tree`, `commit-tree`) and pushed by hash. When
another job pushed first, the push is rejected; the caller then appends again on top of the new tip
and retries, so parallel matrix jobs never lose an entry.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from provenance.gitmeta import GitUnavailable, git, git_bytes

# What git says when the branch moved between our fetch and our push (locally or on a server).
_MOVED_ON = ("non-fast-forward", "fetch first", "cannot lock ref", "failed to update ref", "stale info",
             "incorrect old value")  # fmt: skip


class PushRefused(GitUnavailable):
    """The remote refused the push for good (a pre-receive hook, branch protection, no permission): no retry helps."""


IDENTITY = {
    "GIT_AUTHOR_NAME": "provenance-action",
    "GIT_AUTHOR_EMAIL": "provenance-action@users.noreply.github.com",
    "GIT_COMMITTER_NAME": "provenance-action",
    "GIT_COMMITTER_EMAIL": "provenance-action@users.noreply.github.com",
}


@dataclass
class LedgerBranch:
    """One branch of the checkout's remote that holds the ledger's files."""

    workspace: Path
    branch: str
    remote: str = "origin"

    @property
    def _private_ref(self) -> str:
        return f"refs/provenance/{self.branch}"

    def fetch(self) -> str | None:
        """The branch's tip after fetching it, or None when the branch does not exist yet."""
        remote_ref = f"refs/heads/{self.branch}"
        listed = git(self.workspace, "ls-remote", "--heads", self.remote, remote_ref).strip()
        if not listed:
            return None
        git(self.workspace, "fetch", "--quiet", "--no-tags", self.remote, f"+{remote_ref}:{self._private_ref}")
        return git(self.workspace, "rev-parse", "--verify", f"{self._private_ref}^{{commit}}").strip()

    def materialize(self, tip: str | None, paths: list[str], into: Path) -> None:
        """Write the branch's copy of each path (when it has one) under `into`."""
        for path in paths:
            target = into / path
            target.parent.mkdir(parents=True, exist_ok=True)
            if tip is None:
                continue
            try:
                blob = git(self.workspace, "rev-parse", "--verify", f"{tip}:{path}").strip()
            except GitUnavailable:
                continue  # not on the branch yet
            data = git_bytes(self.workspace, "cat-file", "blob", blob)
            target.write_bytes(data)

    def commit(self, tip: str | None, paths: list[str], source: Path, message: str) -> str:
        """A commit on top of `tip` (or a root commit) whose tree is the tip's with `paths` replaced."""
        with tempfile.TemporaryDirectory() as temp:
            env = {**os.environ, **IDENTITY, "GIT_INDEX_FILE": str(Path(temp) / "index")}
            if tip is not None:
                git(self.workspace, "read-tree", tip, env=env)
            for path in paths:
                file = source / path
                if not file.is_file():
                    continue
                blob = git(self.workspace, "hash-object", "-w", "--", str(file), env=env).strip()
                git(self.workspace, "update-index", "--add", "--cacheinfo", f"100644,{blob},{path}", env=env)
            tree = git(self.workspace, "write-tree", env=env).strip()
            parents = ["-p", tip] if tip is not None else []
            return git(self.workspace, "commit-tree", tree, *parents, "-m", message, env=env).strip()

    def push(self, commit: str) -> bool:
        """Push the commit to the branch; False when the remote moved on (another job got there first).

        Any other rejection (`[remote rejected] ... pre-receive hook declined`, a protected branch)
        is `PushRefused`: appending again on a new tip would be refused the same way.
        """
        try:
            git(self.workspace, "push", "--quiet", self.remote, f"{commit}:refs/heads/{self.branch}")
        except GitUnavailable as exc:
            if any(sign in exc.stderr for sign in _MOVED_ON):
                return False
            if "rejected]" in exc.stderr or "denied" in exc.stderr.lower():
                raise PushRefused(exc.stderr) from None
            raise
        return True

    def descends(self, tip: str, ancestor: str) -> bool:
        """`tip` has `ancestor` in its history (false too when git does not know `ancestor` at all)."""
        try:
            git(self.workspace, "merge-base", "--is-ancestor", ancestor, tip)
        except GitUnavailable:
            return False
        return True
