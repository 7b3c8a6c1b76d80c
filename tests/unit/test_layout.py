"""The house rules a reader relies on: small modules, short functions, one package per stage."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "provenance"
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60
# Exceptions, each with why in one line.
LONGER_MODULES = {"schemas.py": "every record format in one module, read side by side with docs/records.md"}
LONGER_FUNCTIONS: dict[str, str] = {}
STAGES = {"reports", "datasets", "learning", "selection", "export", "ledger", "pipeline", "github", "cli", "site"}
SHARED = {"__init__", "__main__", "schemas", "errors", "config", "context", "gitmeta", "text", "choices",
          "terminal", "workspace", "reading"}  # fmt: skip


def modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def test_no_module_is_over_its_limit() -> None:
    over = {
        path.relative_to(PACKAGE).as_posix(): lines
        for path in modules()
        if (lines := len(path.read_text().splitlines())) > MAX_MODULE_LINES
    }
    assert set(over) <= set(LONGER_MODULES), over


def test_no_function_is_over_its_limit() -> None:
    over = {}
    for path in modules():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                assert node.end_lineno is not None
                start = min([node.lineno, *(d.lineno for d in node.decorator_list)])
                if (lines := node.end_lineno - start + 1) > MAX_FUNCTION_LINES:
                    over[f"{path.relative_to(PACKAGE).as_posix()}:{node.name}"] = lines
    assert set(over) <= set(LONGER_FUNCTIONS), over


def test_the_root_holds_only_what_every_stage_shares() -> None:
    """A stage's code lives in its package; the root keeps the shared core and the trust boundary."""
    root = {path.stem for path in PACKAGE.glob("*.py")}
    packages = {path.parent.name for path in PACKAGE.glob("*/__init__.py")}
    assert root <= SHARED, root - SHARED
    assert packages == STAGES
