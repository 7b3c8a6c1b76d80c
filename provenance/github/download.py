"""An artifact's zip, downloaded the one way PyGithub cannot do safely, and the fetch's overall deadline.

The one REST call PyGithub does not make for us: following the artifact's download redirect.
`GET /repos/{owner}/{repo}/actions/artifacts/{id}/zip` answers 302 with a short-lived URL on
another host (blob storage). That first request goes through PyGithub (token, retries) without
following the redirect; the file itself is fetched here with requests, because PyGithub's own
`Requester.getStream` (PyGithub 2.10):

- keeps the `Authorization` header when the redirect names the API's host name on another port
  or scheme, and compares the header's name case-sensitively;
- asserts (an `AssertionError`, not an error we can report) that the host lies under the API's
  domain, which GitHub's blob storage hosts do not;
- opens the connection to the redirect host without the timeout, and follows 302s unboundedly.

Here the file is fetched with no credentials at all (not even from `~/.netrc`), a timeout on every
read, at most `MAX_REDIRECTS` further redirects, and streamed to a temporary file beside its
destination in 64 KiB chunks, refused as soon as it passes the size limit: it is never held in
memory whole.
"""

from __future__ import annotations

import contextlib
import os
import signal
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import FrameType
from urllib.parse import urlsplit

import requests

from provenance.errors import InputError
from provenance.github.client import ApiError, Client, DeadlinePassed
from provenance.text import printable

CHUNK_BYTES = 64 * 1024
MAX_REDIRECTS = 3


class Deadline:
    """A point in time (`time.monotonic()`) the whole fetch must finish by."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.at = time.monotonic() + seconds

    def left(self) -> float:
        """Seconds left, never negative."""
        return max(0.0, self.at - time.monotonic())

    def check(self) -> None:
        """Raise `DeadlinePassed` once the time is up (between pages and chunks)."""
        if self.left() <= 0:
            raise DeadlinePassed(f"not finished within {self.seconds:g} s")


class _Alarm(BaseException):
    """The timer's interruption of whatever blocking call is running.

    A BaseException, so that no library's `except Exception` can swallow it.
    """


@contextlib.contextmanager
def enforced(deadline: Deadline) -> Iterator[None]:
    """Interrupt any blocking call (DNS, connect, a server that trickles) when the deadline passes.

    A read timeout alone cannot: a server that sends a byte every few seconds never trips it.
    SIGALRM can, but only in the main thread; elsewhere the deadline is checked between pages
    and chunks (and each read has its timeout).
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def on_alarm(signum: int, frame: FrameType | None) -> None:
        raise _Alarm

    previous = signal.signal(signal.SIGALRM, on_alarm)
    try:
        try:
            signal.setitimer(signal.ITIMER_REAL, max(deadline.left(), 0.001))
            yield
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
    except _Alarm:
        raise DeadlinePassed(f"not finished within {deadline.seconds:g} s") from None
    finally:
        signal.signal(signal.SIGALRM, previous)


def _no_credentials(request: requests.PreparedRequest) -> requests.PreparedRequest:
    """An auth hook that adds nothing: set, it stops requests from reading `~/.netrc`."""
    return request


def redirect_location(client: Client, repo: str, artifact_id: int) -> str:
    """Ask the API (through PyGithub, with the token) where the artifact's zip lies; no redirect followed."""
    path = f"/repos/{repo}/actions/artifacts/{artifact_id}/zip"
    headers, _ = client.call(f"GET {path}", lambda: client.github.requester.requestJsonAndCheck("GET", path))
    location = str(headers.get("location") or "")
    if urlsplit(location).scheme not in ("https", "http"):
        raise ApiError(f"GET {path}: expected a redirect to the download, got none")
    return location


def download_zip(location: str, into: Path, *, limit: int, deadline: Deadline, timeout: float = 30.0) -> Path:
    """Stream `location` (no credentials) to a temporary file in `into`; refuse it past `limit` bytes."""
    host = printable(urlsplit(location).hostname or "the download host")
    fd, name = tempfile.mkstemp(prefix=".download-", suffix=".zip", dir=into)
    temp = Path(name)
    try:
        with requests.Session() as session, os.fdopen(fd, "wb") as out:
            session.max_redirects = MAX_REDIRECTS
            response = session.get(location, stream=True, auth=_no_credentials,
                                   timeout=min(timeout, max(deadline.left(), 0.001)))  # fmt: skip
            with response:
                if response.status_code >= 400:
                    raise ApiError(f"download from {host}: {response.status_code}", response.status_code)
                declared = response.headers.get("Content-Length", "")
                if declared.isdigit() and int(declared) > limit:
                    raise _too_large(int(declared), limit)
                received = 0
                for chunk in response.iter_content(chunk_size=CHUNK_BYTES):
                    received += len(chunk)
                    if received > limit:
                        raise _too_large(received, limit)
                    out.write(chunk)
                    deadline.check()
    except requests.Timeout:
        temp.unlink(missing_ok=True)
        raise DeadlinePassed(f"{host} did not answer in time") from None
    except requests.RequestException as exc:
        temp.unlink(missing_ok=True)
        raise ApiError(f"download from {host} failed ({type(exc).__name__})") from None
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return temp


def _too_large(size: int, limit: int) -> InputError:
    return InputError(
        f"the artifact's download passes the limit of {limit:,} bytes (at least {size:,}); "
        "raise --max-download-mb if it is expected",
        field="--max-download-mb",
    )
