"""`provenance calibrate`: score failure predictions (Brier, ECE, MCE, reliability diagram)."""

from __future__ import annotations

import json
from argparse import Namespace
from collections.abc import Mapping

from provenance.cli.common import Commands, add_input_limit, limited
from provenance.errors import ExitCode, InputError


def add_parser(commands: Commands) -> None:
    """Declare the `calibrate` command and its options."""
    parser = commands.add_parser(
        "calibrate",
        help="score failure predictions: Brier, ECE, MCE, reliability diagram",
        description='Read JSON lines {"p_fail": <0..1>, "failed": <bool>} and print one JSON object with '
        "brier_score, ece, mce, n_samples, base_rate and the reliability diagram.",
        epilog="example:\n  provenance calibrate --predictions predictions.jsonl --bins 10 --strategy quantile",
    )
    parser.add_argument("--predictions", required=True, metavar="FILE", help="JSON lines of predictions")
    parser.add_argument("--bins", type=int, default=10, metavar="N", help="number of bins (default 10)")
    parser.add_argument(
        "--strategy",
        choices=["uniform", "quantile"],
        default="uniform",
        help="equal-width or equal-mass bins (default uniform)",
    )
    parser.add_argument(
        "--min-bin-count",
        type=int,
        default=1,
        metavar="K",
        help="bins with fewer samples are left out of MCE (default 1)",
    )
    add_input_limit(parser)
    parser.set_defaults(handler=limited(score))


def score(args: Namespace, env: Mapping[str, str], in_github: bool) -> int:
    """Print the calibration report as one JSON object."""
    from provenance.learning.calibration import MAX_BINS, BinStrategy, calibrate, read_predictions

    if not 1 <= args.bins <= MAX_BINS:  # before the file is read: a flag's mistake costs nothing
        raise InputError(f"expected 1 to {MAX_BINS:,} (got {args.bins})", field="--bins")
    p, y = read_predictions(args.predictions)
    report = calibrate(
        p, y, n_bins=args.bins, strategy=BinStrategy(args.strategy), min_bin_count=args.min_bin_count,
        source=args.predictions,
    )  # fmt: skip
    print(json.dumps(report.as_dict()))
    return int(ExitCode.OK)
