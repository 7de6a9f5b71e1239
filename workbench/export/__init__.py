"""Fine-tuning exports: one module per format, a registry, settings, and ``export_dataset``.

>>> from workbench.export import FORMAT_NAMES
>>> FORMAT_NAMES[:3]
('qwen_finetune', 'llamafactory', 'swift')
"""

from workbench.export.base import ExportFormat, FormatOutput
from workbench.export.dataset import ExportResult, export_dataset
from workbench.export.registry import FORMAT_NAMES, FORMATS, get_format
from workbench.export.settings import ExportSettings

__all__ = [
    "FORMATS",
    "FORMAT_NAMES",
    "ExportFormat",
    "ExportResult",
    "ExportSettings",
    "FormatOutput",
    "export_dataset",
    "get_format",
]
