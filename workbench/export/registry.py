"""Every export format by name.

>>> sorted(FORMATS) == sorted(FORMAT_NAMES)
True
>>> get_format("COCO").name
'coco'
"""

from __future__ import annotations

from workbench.errors import ExportError
from workbench.export import (
    coco,
    hf_datasets,
    labelstudio,
    llamafactory,
    qwen_finetune,
    swift,
    vlmr1,
    voc,
    workbench_format,
    xcomposer2,
    yolo,
)
from workbench.export.base import ExportFormat

__all__ = ["FORMATS", "FORMAT_NAMES", "get_format"]

FORMATS: dict[str, ExportFormat] = {module.FORMAT.name: module.FORMAT for module in (
    qwen_finetune, llamafactory, swift, vlmr1, xcomposer2, coco, yolo, voc, labelstudio, hf_datasets, workbench_format,
)}
FORMAT_NAMES: tuple[str, ...] = tuple(FORMATS)


def get_format(name: str) -> ExportFormat:
    key = name.strip().lower().replace("-", "_")
    if key not in FORMATS:
        raise ExportError(f"unknown export format {name!r}; expected one of {', '.join(FORMAT_NAMES)}")
    return FORMATS[key]
