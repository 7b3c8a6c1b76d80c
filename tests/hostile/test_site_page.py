"""Hostile text in a ledger (test names, run ids, branches, dataset ids) stays text on the history page.

The ledger is written by the real append path with names a pull request can choose; the page is
opened in Chromium. No script may run (no dialog, no global set), no element may come from the
names, and each name must read back exactly as written. The DOM check holds whatever the page's
Content-Security-Policy would block: markup parsed from a name would show as an element.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from provenance.site import build_site
from tests.support.browser import chromium, needs_chromium, opened
from tests.support.history import write_runs

pytestmark = [pytest.mark.browser, needs_chromium]

NAMES = [
    "tests/test_x.py::test_a[<img src=x onerror=alert(1);window.pwned=1>]",
    "tests/test_x.py::test_b[<script>window.pwned=2</script>]",
    'tests/test_x.py::test_c["><svg onload=alert(3)>]',
    "tests/test_x.py::test_d[javascript:alert(4)]",
    "tests/<iframe src=javascript:alert(5)>.py::test_e",
]


def test_no_name_becomes_markup_or_runs_a_script(tmp_path: Path) -> None:
    rows = [[(name, "fail" if (run + k) % 2 else "pass", 0.1, 0.5 if run else None) for k, name in enumerate(NAMES)]
            for run in range(6)]  # fmt: skip
    write_runs(tmp_path / "ledger.jsonl", rows, branches=["<b onmouseover=alert(6)>main</b>"] * 6,
               datasets=[{"<img src=y onerror=alert(7)>": "1" * 64}] * 6)  # fmt: skip
    build_site(tmp_path / "ledger.jsonl", "site", tmp_path)
    with chromium() as browser, opened(browser, tmp_path / "site") as visit:
        page = visit.page
        assert visit.dialogs == [] and visit.refused == []
        assert page.evaluate("window.pwned === undefined")
        for tag in ("img", "script:not([src])", "iframe", "b", "section svg[onload]"):
            assert page.locator(tag).count() == 0, tag
        assert sorted(visit.texts("#test-table td.name")) == sorted(NAMES)
        assert sorted(visit.texts("#flaky-table td.name")) == sorted(NAMES)  # each alternates
        assert visit.texts("#run-table tbody tr td:nth-child(4)") == ["<b onmouseover=alert(6)>main</b>"] * 6
        assert visit.texts("#dataset-list h3") == ["<img src=y onerror=alert(7)>"]
        assert "tests/<iframe src=javascript:alert(5)>.py" in visit.texts("#filter-file option")
        page.fill("#filter-name", "<script>")
        assert visit.texts("#test-table td.name") == [NAMES[1]]
        assert page.evaluate("window.pwned === undefined") and visit.dialogs == []
