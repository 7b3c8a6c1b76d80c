"""The summary's timing sections: the slowest tests (folded), and those slower than they used to be."""

from __future__ import annotations

from provenance.github.markdown import code
from provenance.pipeline import RunOutcome
from provenance.schemas import Result, SlowerTest
from provenance.text import plural

SLOWEST_LISTED = 10
SLOWER_LISTED = 50


def seconds(value: float) -> str:
    """A duration as a reader takes it in: `840 ms`, `3.2 s`, `2 min 5 s`."""
    if value < 1:
        return f"{value * 1000:.0f} ms"
    if value < 120:
        return f"{value:.1f} s"
    return f"{int(value // 60)} min {value % 60:.0f} s"


def slowest(outcome: RunOutcome, top: int = SLOWEST_LISTED) -> str:
    """A folded table of the `top` slowest tests that ran (skipped ones took no time worth naming)."""
    ran = [t for t in outcome.provenance.run.tests if t.result is not Result.SKIP and t.duration_seconds > 0]
    if not ran:
        return ""
    chosen = sorted(ran, key=lambda t: (-t.duration_seconds, t.nodeid))[:top]
    total = sum(t.duration_seconds for t in ran)
    rows = [
        f"<details><summary>Slowest tests (the {len(chosen)} slowest of {len(ran)})</summary>\n",
        "| Test | Time | Share of test time |",
        "|:--|--:|--:|",
    ]
    rows += [
        f"| {code(t.nodeid, 300)} | {seconds(t.duration_seconds)} | {t.duration_seconds / total:.1%} |" for t in chosen
    ]
    return "\n".join(rows) + "\n\n</details>\n\n"


def slower_rows(slower: list[SlowerTest], limit: int = SLOWER_LISTED) -> list[str]:
    """One Markdown table row per slower test: its time now, its recorded median, and the ratio."""
    rows = ["| Test | This run | Recorded median | Slower by |", "|:--|--:|--:|--:|"]
    for test in slower[:limit]:
        ratio = f"{test.seconds / test.median_seconds:.1f}x" if test.median_seconds > 0 else "—"
        rows.append(
            f"| {code(test.nodeid, 300)} | {seconds(test.seconds)} | {seconds(test.median_seconds)} "
            f"({plural(test.runs, 'run')}) | {ratio} |"
        )
    return rows


def slower(outcome: RunOutcome) -> str:
    """The tests slower than `duration-regression` allows, with what they usually take."""
    found = outcome.verdict.slower_tests
    if not found:
        return ""
    lines = [
        f"### Slower than usual ({len(found)})\n",
        "Slower than `duration-regression` allows, against their median over recent passing runs:\n",
        *slower_rows(found),
    ]
    if len(found) > SLOWER_LISTED:
        lines.append(f"\n… and {len(found) - SLOWER_LISTED} more (all in {code(outcome.provenance_path)})")
    return "\n".join(lines) + "\n\n"
