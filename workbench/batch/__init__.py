"""Batch pre-annotation: many units (dataset items, files) through a model into a sink.

- :mod:`~workbench.batch.units`: :class:`WorkUnit` (one item) and :class:`JobSettings` (model,
  family, limits; their key makes re-runs resume);
- :mod:`~workbench.batch.results`: :class:`UnitResult` (detections per image, provenance) and
  :class:`UnitError`;
- :mod:`~workbench.batch.sinks`: the :class:`ResultSink` protocol, :class:`MemorySink`, :class:`JsonlSink`;
- :mod:`~workbench.batch.runner`: :func:`run_batch`, the built-in engine (threads);
- :mod:`~workbench.batch.replicas`: :class:`ReplicaPool`, several servers spread by load;
- :mod:`~workbench.batch.geometry_check`: probe a server's resizing before trusting its boxes;
- :mod:`~workbench.batch.ray_engine`: the same job as a Ray Data pipeline (optional extra).

>>> from workbench.batch import run_batch, MemorySink, WorkUnit
"""

from workbench.batch.ledger import BatchLedger, BatchSummary
from workbench.batch.progress import BatchProgress
from workbench.batch.replicas import ReplicaPool, ServersUnavailable
from workbench.batch.results import (
    ImageResult,
    Timings,
    UnitError,
    UnitResult,
    unit_result,
)
from workbench.batch.runner import annotate_unit, run_batch
from workbench.batch.sinks import JsonlSink, MemorySink, ResultSink
from workbench.batch.units import JobSettings, WorkUnit, unit_prompt

__all__ = [
    "BatchLedger",
    "BatchProgress",
    "BatchSummary",
    "ImageResult",
    "JobSettings",
    "JsonlSink",
    "MemorySink",
    "ReplicaPool",
    "ResultSink",
    "ServersUnavailable",
    "Timings",
    "UnitError",
    "UnitResult",
    "WorkUnit",
    "annotate_unit",
    "run_batch",
    "unit_prompt",
    "unit_result",
]
