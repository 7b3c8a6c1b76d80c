"""The `run` pipeline: read the inputs, decide, record; each stage a module."""

from provenance.pipeline.inputs import Inputs, gather
from provenance.pipeline.outcome import RunOutcome
from provenance.pipeline.record import record
from provenance.pipeline.run import execute
from provenance.pipeline.verdict import decide

__all__ = ["Inputs", "RunOutcome", "decide", "execute", "gather", "record"]
