"""The history page in a real browser (Debian's Chromium through Playwright): a ledger of 200 runs of
2,000 tests, some made flaky on purpose, and the bundled sample project's real runs.

The page must load with no console error and no request outside its directory, list exactly the
tests the fixture made flaky, and narrow its rows when filtered. Screenshots are kept in build/.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from provenance.site import build_site
from tests.support.browser import ARTIFACTS, Visit, chromium, needs_chromium, opened
from tests.support.history import History, build_history, sample_history

pytestmark = [pytest.mark.browser, needs_chromium]


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> tuple[History, Path]:
    root = tmp_path_factory.mktemp("site")
    made = build_history(root / "ci_runs.jsonl", runs=200, tests=2000)
    build_site(made.path, "site", root)
    return made, root / "site"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as launched:
        yield launched


@pytest.fixture(scope="module")
def visit(browser: Any, history: tuple[History, Path]) -> Iterator[Visit]:
    with opened(browser, history[1]) as page:
        yield page


def test_the_page_loads_with_no_console_error_and_no_request_outside_its_directory(visit: Visit) -> None:
    assert visit.errors == []
    assert visit.refused == []
    assert visit.dialogs == []
    paths = sorted({url.removeprefix(visit.base) for url in visit.requests})
    assert paths == ["data.js", "index.html", "site.css", "site.js"]
    ARTIFACTS.mkdir(exist_ok=True)
    visit.page.screenshot(path=str(ARTIFACTS / "site-screenshot.png"), full_page=False)


def test_the_flaky_table_lists_the_tests_the_fixture_made_flaky(visit: Visit, history: tuple[History, Path]) -> None:
    made, _ = history
    listed = visit.texts("#flaky-table tbody tr td.name")
    assert sorted(listed) == sorted(made.flaky)
    assert made.regression not in listed  # failed for a stretch, then fixed: not flaky
    rates = [float(text.rstrip("%")) for text in visit.texts("#flaky-table tbody tr td:nth-child(2)")]
    assert rates == sorted(rates, reverse=True) and all(rate > 0 for rate in rates)


def test_filtering_by_name_file_and_outcome_narrows_the_rows(visit: Visit, history: tuple[History, Path]) -> None:
    made, _ = history
    page = visit.page
    assert len(visit.texts("#test-table tbody td.name")) == 200  # a page of rows at a time
    assert visit.texts("#filter-count") == ["2000 of 2000 tests"]
    page.fill("#filter-name", "TEST_CASE_123")  # case does not matter
    expected = [name for name in made.names if "test_case_123" in name]
    assert visit.texts("#test-table tbody td.name") == expected
    assert visit.texts("#filter-count") == [f"{len(expected)} of 2000 tests"]
    page.fill("#filter-name", "")
    page.select_option("#filter-file", "tests/test_mod007.py")
    assert visit.texts("#test-table tbody td.name") == [n for n in made.names if n.startswith("tests/test_mod007.py::")]
    page.select_option("#filter-file", "")
    page.select_option("#filter-outcome", "s")
    skipped = visit.texts("#test-table tbody td.name")
    assert skipped and all(name in made.names[3::401] for name in skipped)
    page.select_option("#filter-outcome", "failed-recently")
    last_entries = [json.loads(line) for line in made.path.read_bytes().splitlines()[-30:]]  # every test runs each time
    failed = {t["nodeid"] for entry in last_entries for t in entry["tests"] if t["result"] in ("fail", "error")}
    assert failed and set(visit.texts("#test-table tbody td.name")) == failed
    assert set(visit.texts("#flaky-table tbody td.name")) == failed & set(made.flaky)
    page.fill("#filter-name", made.flaky[0])
    assert visit.texts("#flaky-table tbody td.name") == [made.flaky[0]]
    page.select_option("#filter-outcome", "")
    page.fill("#filter-name", "")


def test_every_section_is_drawn(visit: Visit, history: tuple[History, Path]) -> None:
    page = visit.page
    assert page.locator("#run-table tbody tr").count() == 100
    page.click("#run-more")
    assert page.locator("#run-table tbody tr").count() == 200
    assert page.locator("#reliability circle").count() >= 2
    assert page.locator("#brier-weeks rect").count() == 8  # 200 runs six hours apart: 50 days
    assert page.locator("#savings-table tbody tr").count() == 5
    assert re.match(r"\d+ runs replayed", visit.texts("#savings-note")[0])
    assert visit.texts("#dataset-list h3") == ["training-set"]
    assert page.locator("#dataset-list table tr").count() == 1 + history[0].dataset_changes
    assert page.locator("#test-table tbody svg.strip").count() == 200


def test_opened_from_the_file_system_it_also_loads_clean(browser: Any, history: tuple[History, Path]) -> None:
    with opened(browser, history[1], over_http=False) as page:
        assert page.errors == [] and page.refused == []
        assert page.base.startswith("file://")
        assert sorted(url.removeprefix(page.base) for url in page.requests) == ["data.js", "index.html", "site.css",
                                                                                "site.js"]  # fmt: skip
        assert len(page.texts("#flaky-table tbody tr td.name")) == len(history[0].flaky)


def test_the_bundled_example_page(browser: Any, tmp_path: Path) -> None:
    ledger = sample_history(tmp_path)
    build_site(ledger, "site", tmp_path)
    with opened(browser, tmp_path / "site", height=1100) as page:
        assert page.errors == [] and page.refused == []
        names = page.texts("#test-table tbody td.name")
        assert "tests/test_stats.py::test_normalise[<b>bold</b>-<b>bold</b>]" in names
        assert page.page.locator("#test-table b").count() == 0  # markup in a name stays text
        ARTIFACTS.mkdir(exist_ok=True)
        page.page.screenshot(path=str(ARTIFACTS / "site-example.png"), full_page=False)
    assert (ARTIFACTS / "site-example.png").stat().st_size > 10_000
    shutil.rmtree(tmp_path / "site")
