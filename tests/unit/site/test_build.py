"""The site's directory: written whole beside --out, then put in its place; never over other files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from provenance.errors import InputError
from provenance.site import build_site
from provenance.site.build import ASSETS, DATA_FILE, MARKER
from tests.support.history import build_history


@pytest.fixture(scope="module")
def ledger(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_history(tmp_path_factory.mktemp("history") / "ci_runs.jsonl", runs=30, tests=120).path


def data_of(site: Path) -> dict[str, object]:
    text = (site / DATA_FILE).read_text()
    prefix = "window.PROVENANCE_SITE = "
    assert text.startswith(prefix) and text.endswith(";\n")
    loaded: dict[str, object] = json.loads(text[len(prefix) : -2])
    return loaded


def test_the_page_its_assets_and_its_data_are_written(tmp_path: Path, ledger: Path) -> None:
    built = build_site(ledger, "public/site", tmp_path)
    site = tmp_path / "public" / "site"
    assert built.out == site
    assert sorted(p.name for p in site.iterdir()) == sorted([*ASSETS, DATA_FILE, MARKER])
    assert built.bytes == sum(p.stat().st_size for p in site.iterdir())
    assert (built.entries, built.tests, built.files) == (30, 120, 5)
    data = data_of(site)
    assert data["ledger"] == json.loads(json.dumps(data["ledger"]))
    page = (site / "index.html").read_text()
    assert "Content-Security-Policy" in page and "default-src 'none'; script-src 'self'" in page
    assert '<script src="data.js"></script>' in page
    assert [p.name for p in tmp_path.joinpath("public").iterdir()] == ["site"]  # nothing left beside it


def test_a_site_built_before_is_replaced_whole(tmp_path: Path, ledger: Path) -> None:
    build_site(ledger, "site", tmp_path)
    (tmp_path / "site" / "stale.html").write_text("from an older build")
    build_site(ledger, "site", tmp_path)
    assert not (tmp_path / "site" / "stale.html").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site"]


@pytest.mark.parametrize("existing", ["a checkout", "a file"])
def test_a_directory_of_other_files_or_a_file_is_never_replaced(tmp_path: Path, ledger: Path, existing: str) -> None:
    out = tmp_path / "out"
    if existing == "a file":
        out.write_text("keep me")
    else:
        out.mkdir()
        (out / "README.md").write_text("keep me")
    with pytest.raises(InputError) as caught:
        build_site(ledger, "out", tmp_path)
    assert caught.value.field == "--out"
    assert (out if existing == "a file" else out / "README.md").read_text() == "keep me"


def test_an_empty_directory_is_used(tmp_path: Path, ledger: Path) -> None:
    (tmp_path / "out").mkdir()
    build_site(ledger, "out", tmp_path)
    assert (tmp_path / "out" / "index.html").is_file()


def test_out_must_lie_in_the_workspace_with_no_symlink_on_the_way(tmp_path: Path, ledger: Path) -> None:
    workspace = tmp_path / "workspace"
    (workspace / "docs").mkdir(parents=True)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (workspace / "linked").symlink_to(elsewhere)
    with pytest.raises(InputError, match="leads outside the workspace"):
        build_site(ledger, "../site", workspace)
    with pytest.raises(InputError, match="is a symlink"):
        build_site(ledger, "linked/site", workspace)
    assert list(elsewhere.iterdir()) == []


def test_a_failed_build_leaves_the_earlier_site_as_it_was(tmp_path: Path, ledger: Path) -> None:
    build_site(ledger, "site", tmp_path)
    before = {p.name: p.read_bytes() for p in (tmp_path / "site").iterdir()}
    broken = tmp_path / "broken.jsonl"
    broken.write_bytes(ledger.read_bytes().replace(b'"run_id":"9000003"', b'"run_id":"9000004"', 1))
    with pytest.raises(InputError, match="does not verify"):
        build_site(broken, "site", tmp_path)
    assert {p.name: p.read_bytes() for p in (tmp_path / "site").iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["broken.jsonl", "site"]
