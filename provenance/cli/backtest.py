"""`provenance backtest`: replay a history to show what prediction and selection would have done."""

from __future__ import annotations

import json
import sys
from argparse import Namespace
from collections.abc import Mapping
from pathlib import Path

from provenance.cli.common import Commands, add_input_limit, limited
from provenance.errors import ExitCode, InputError
from provenance.terminal import Progress


def add_parser(commands: Commands) -> None:
    """Declare the `backtest` command and its options."""
    parser = commands.add_parser(
        "backtest",
        help="replay a test history: what prediction and selection would have caught and saved",
        description="Replay a history in order (predictions for each cycle use only the cycles before it) and "
        "print Brier, log loss, ECE, MCE, APFD, APFDc, recall and detection at each budget, and the time "
        "saved at 95%, 99% and 100% failing-cycle detection.",
        epilog="examples:\n  provenance backtest --history data/ci_runs.jsonl\n"
        "  provenance backtest --history history.csv --format atcs --emit-predictions predictions.jsonl\n"
        "  provenance backtest --history data/ci_runs.jsonl --reference",
    )
    parser.add_argument("--history", required=True, type=Path, metavar="FILE", help="the ledger or an ATCS CSV")
    parser.add_argument(
        "--format",
        choices=["auto", "ledger", "atcs"],
        default="auto",
        help="history format (default: from the content)",
    )
    parser.add_argument(
        "--emit-predictions",
        type=Path,
        metavar="FILE",
        help="write one JSON line per (cycle, test): cycle, test, p_fail, rank, failed, duration",
    )
    parser.add_argument(
        "--budgets",
        default="0.1,0.2,0.3,0.4,0.5,0.6,0.7",
        metavar="LIST",
        help="fractions of each cycle's time (default 0.1,...,0.7)",
    )
    parser.add_argument("--warmup", type=int, default=10, metavar="N", help="cycles learnt from, not scored (10)")
    parser.add_argument(
        "--reference",
        action="store_true",
        help="also replay the baseline (each test's failure rate shrunk toward the global rate, ranked per "
        "second of its last duration) and print its figures under 'reference', and the model's "
        "difference from them with a 95%% interval (a paired bootstrap over the cycles) under "
        "'model_minus_reference'",
    )
    add_input_limit(parser)
    parser.set_defaults(handler=limited(replay))


def replay(args: Namespace, env: Mapping[str, str], in_github: bool) -> int:
    """Print the figures (and the reference's, and the difference) as one JSON object."""
    from provenance.learning import history
    from provenance.learning.model import MODEL_VERSION, Model
    from provenance.selection import backtest
    from provenance.selection.comparison import compare
    from provenance.workspace import atomic_write

    budgets = _fractions(args.budgets)
    if args.warmup < 0:
        raise InputError(f"expected a number of cycles >= 0, got {args.warmup}", field="--warmup")
    path: Path = args.history
    emit: Path | None = args.emit_predictions
    if emit is not None and emit.exists() and path.exists() and emit.samefile(path):
        raise InputError("is the history being read; expected a file of its own", source=str(emit),
                         field="--emit-predictions")  # fmt: skip
    fmt = args.format if args.format != "auto" else history.detect_format(path)
    cycles = history.read_atcs(path) if fmt == "atcs" else history.read_ledger(path)
    if len(cycles) <= args.warmup:
        raise InputError(f"nothing to score: {len(cycles)} cycles, and the first {args.warmup} are the warm-up "
                         "(give a smaller --warmup or a longer history)", source=str(path))  # fmt: skip
    model = Model()
    with Progress("backtest: scored cycles", max(0, len(cycles) - args.warmup), sys.stderr, env) as progress:
        figures, scored = backtest.run_backtest(cycles, lambda: model, args.warmup, budgets, progress.advance)
    if args.emit_predictions is not None:
        import orjson

        atomic_write(
            args.emit_predictions, b"".join(orjson.dumps(row) + b"\n" for row in backtest.predictions_rows(scored))
        )
    out = {"history": str(path), "format": fmt, "model": MODEL_VERSION, "cycles": len(cycles),
           "warmup": args.warmup, **figures, "learnt": model.learnt()}  # fmt: skip
    if args.reference:
        with Progress("backtest: reference", max(0, len(cycles) - args.warmup), sys.stderr, env) as progress:
            out["reference"], reference = backtest.run_backtest(cycles, backtest.ReferencePredictor, args.warmup,
                                                                budgets, progress.advance)  # fmt: skip
        out["model_minus_reference"] = compare(reference, scored, budgets)
    print(json.dumps(out))
    return int(ExitCode.OK)


def _fractions(text: str) -> tuple[float, ...]:
    try:
        values = tuple(float(part) for part in text.split(",") if part.strip())
    except ValueError:
        values = ()
    if not values or not all(0.0 < v <= 1.0 for v in values):
        raise InputError(f"expected fractions in (0, 1] separated by commas, got {text!r}", field="--budgets")
    return values
