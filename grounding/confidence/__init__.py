"""Per-box confidence signals from one model answer (pure: no torch, no store).

- :mod:`~grounding.confidence.tokens`: token log-probabilities as backends give them, placed on the answer's text;
- :mod:`~grounding.confidence.spans`: where each detection's coordinates are written;
- :mod:`~grounding.confidence.digits`: lowest/mean log-probability of a coordinate's digits, expected error;
- :mod:`~grounding.confidence.structure`: overlaps, duplicates, border, loops, truncation;
- :mod:`~grounding.confidence.signals`: all of them per detection, and the raw score used before calibration.

Calibration on a dataset's reviews lives in :mod:`workbench.confidence`.
"""

from grounding.confidence.signals import FLAGS, box_signals, raw_score
from grounding.confidence.spans import coordinate_spans
from grounding.confidence.structure import repeating_tail, structure_signals
from grounding.confidence.tokens import TokenLogprob, token_spans, tokens_from_openai

__all__ = ["FLAGS", "TokenLogprob", "box_signals", "coordinate_spans", "raw_score", "repeating_tail",
           "structure_signals", "token_spans", "tokens_from_openai"]
