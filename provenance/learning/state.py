"""The model's state on disk: an npz archive beside the ledger, the same state always the same bytes.

The state is trusted only when it was saved at the ledger's head, by this model version; otherwise
it is rebuilt from the ledger (a state of an earlier version included), so it can never drift from
the record.
"""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import numpy as np
import orjson

from provenance.errors import InputError
from provenance.learning.changes import Changes
from provenance.learning.experts import CONTEXTS, EXPERTS
from provenance.learning.history import read_ledger
from provenance.learning.model import DECAYED, MODEL_VERSION, PER_TEST, Model, rebuild


def encode(model: Model) -> bytes:
    """The state as an npz archive (names as JSON); the same state gives the same bytes."""
    buffer = io.BytesIO()
    np.savez(
        buffer,
        version=np.frombuffer(MODEL_VERSION.encode(), dtype=np.uint8),
        names=np.frombuffer(orjson.dumps(model.names), dtype=np.uint8),
        stats=np.vstack([*(getattr(model, name) for name in PER_TEST), model.decayed]),
        totals=np.array(
            [
                model.total_runs,
                model.total_fails,
                float(model.cycles),
                model.total_runs_after_failure,
                model.total_fails_after_failure,
                model.total_runs_after_any_failure,
                model.total_fails_after_any_failure,
                model.recent_runs,
                model.recent_fails,
                *model.cost_error,
            ]
        ),
        expert_loss=model.expert_loss,
        ledger_head=np.frombuffer(model.ledger_head.encode(), dtype=np.uint8),
        scored_runs=model.scored_runs,
        files=np.frombuffer(orjson.dumps(model.changes.files), dtype=np.uint8),
        file_changes=model.changes.file_changes,
        co_failures=np.array(
            [(f, t, n) for f, tests in sorted(model.changes.co_failures.items()) for t, n in sorted(tests.items())],
            dtype=np.float64,
        ).reshape(-1, 3),
        mentioned=np.array([model.changes.mentioned_runs, model.changes.mentioned_fails]),
    )
    return buffer.getvalue()


def decode(data: bytes, source: str = "model state") -> Model:
    """Load a state written by `encode`; anything else is bad input naming `source`."""
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as archive:
            version = bytes(archive["version"]).decode()
            if version != MODEL_VERSION:
                raise ValueError(f"written by {version}, expected {MODEL_VERSION}")
            stats, totals = archive["stats"], archive["totals"]
            co_failures: dict[int, dict[int, float]] = {}
            for f, t, n in archive["co_failures"].tolist():
                co_failures.setdefault(int(f), {})[int(t)] = n
            return Model(
                names=list(orjson.loads(bytes(archive["names"]))),
                **{name: stats[row].copy() for row, name in enumerate(PER_TEST)},
                total_runs=float(totals[0]),
                total_fails=float(totals[1]),
                cycles=int(totals[2]),
                total_runs_after_failure=float(totals[3]),
                total_fails_after_failure=float(totals[4]),
                total_runs_after_any_failure=float(totals[5]),
                total_fails_after_any_failure=float(totals[6]),
                recent_runs=float(totals[7]),
                recent_fails=float(totals[8]),
                cost_error=totals[9:11].copy(),
                decayed=stats[len(PER_TEST) : len(PER_TEST) + DECAYED].copy(),
                expert_loss=archive["expert_loss"].reshape(len(CONTEXTS), EXPERTS).copy(),
                ledger_head=bytes(archive["ledger_head"]).decode(),
                scored_runs=archive["scored_runs"],
                changes=Changes(
                    files=list(orjson.loads(bytes(archive["files"]))),
                    file_changes=archive["file_changes"].copy(),
                    co_failures=co_failures,
                    mentioned_runs=float(archive["mentioned"][0]),
                    mentioned_fails=float(archive["mentioned"][1]),
                ),
            )
    except (OSError, ValueError, KeyError, IndexError) as exc:
        raise InputError(f"not a model state ({exc})", source=source) from None


def load_model(ledger_path: Path, head: str) -> Model:
    """The model state beside the ledger when it was saved at the ledger's head, else rebuilt from it."""
    path = model_path(ledger_path)
    if path.is_file():
        with contextlib.suppress(InputError):
            model = Model.load(path)
            if model.ledger_head == head:
                return model
    model = rebuild(read_ledger(ledger_path)) if ledger_path.is_file() and ledger_path.stat().st_size else Model()
    model.ledger_head = head
    return model


def model_path(ledger_path: Path) -> Path:
    """Where the model state lives: beside the ledger (and on the ledger branch with it)."""
    return ledger_path.with_name(ledger_path.name + ".model.npz")
