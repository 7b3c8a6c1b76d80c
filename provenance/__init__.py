"""Auditable provenance for CI test runs: what code, data and model produced a result."""

__version__ = "0.1.0"

__all__ = ["__version__"]
