"""Imports into the dataset store: image files, COCO JSON, this project's own export, and model outputs.

>>> from workbench.importers import import_images, import_coco, import_workbench, import_model_outputs
"""

from workbench.importers.base import DatasetImportError, ImportReport
from workbench.importers.coco import import_coco
from workbench.importers.images import import_images
from workbench.importers.model_outputs import ModelOutput, import_model_outputs, read_outputs_jsonl
from workbench.importers.workbench_format import import_workbench

__all__ = [
    "DatasetImportError",
    "ImportReport",
    "ModelOutput",
    "import_coco",
    "import_images",
    "import_model_outputs",
    "import_workbench",
    "read_outputs_jsonl",
]
