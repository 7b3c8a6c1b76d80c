"""A built site opened in Debian's Chromium through Playwright, with every request and console error kept.

The site is served by a loopback HTTP server that serves only its directory; every request the
page makes is routed through here, and one to anywhere else is refused and recorded, so a test can
say that nothing left the directory. No browser is downloaded: the system's Chromium is found by path.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

# Debian's `chromium` package; another Chromium-based browser by path where there is none (a hosted runner's Chrome).
CHROMIUM = Path(os.environ.get("PROVENANCE_CHROMIUM", "/usr/bin/chromium"))
# Without the networking flags Chromium's own background connections (updates, sync) are refused
# here and reported; the page's requests are the ones a test is about.
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]  # fmt: skip
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "build"  # uploaded by CI

needs_chromium = pytest.mark.skipif(
    not CHROMIUM.exists(), reason=f"{CHROMIUM} is absent (apt-get install chromium; .ci/run does)"
)


@dataclass
class Visit:
    """The open page, and what it asked for and complained about."""

    page: Any
    base: str
    requests: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)

    def texts(self, selector: str) -> list[str]:
        """The text of every element `selector` matches."""
        found: list[str] = self.page.locator(selector).all_text_contents()
        return found


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def served(site: Path) -> Iterator[str]:
    """`site` on a loopback port the system chose; yields the base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_Quiet, directory=str(site)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def chromium() -> Iterator[Any]:
    """Debian's Chromium, launched headless through Playwright (one per module: Playwright's sync API
    runs one driver per thread)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            yield browser
        finally:
            browser.close()


@contextmanager
def opened(
    browser: Any, site: Path, *, over_http: bool = True, width: int = 1280, height: int = 900
) -> Iterator[Visit]:
    """The site's index.html in a fresh browser context, loaded until the page says it is ready."""
    with served(site) as base:
        context = browser.new_context(viewport={"width": width, "height": height}, service_workers="block")
        try:
            page = context.new_page()
            start = base if over_http else site.resolve().as_uri() + "/"
            visit = Visit(page, start)

            def route(route: Any) -> None:
                url = route.request.url
                if url.startswith(start):
                    route.continue_()
                else:
                    visit.refused.append(url)
                    route.abort()

            context.route("**/*", route)
            page.on("request", lambda request: visit.requests.append(request.url))
            page.on("console", lambda message: visit.errors.append(message.text) if message.type == "error" else None)
            page.on("pageerror", lambda error: visit.errors.append(str(error)))
            page.on("dialog", lambda dialog: (visit.dialogs.append(dialog.message), dialog.dismiss()))
            page.goto(start + "index.html")
            page.wait_for_selector("body[data-ready='true']", timeout=30_000)
            yield visit
        finally:
            context.close()
