"""Imports into the dataset store: image files, COCO, YOLO, Label Studio, Hugging Face datasets, this project's
export, model outputs.

>>> from workbench.importers import import_images, import_coco, import_hf, import_labelstudio, import_yolo
"""

from workbench.importers.base import (
    DatasetImportError,
    ImportImage,
    ImportReport,
    ImportSample,
    write_samples,
)
from workbench.importers.coco import import_coco
from workbench.importers.hf_datasets import import_hf
from workbench.importers.images import import_images
from workbench.importers.labelstudio import import_labelstudio
from workbench.importers.model_outputs import (
    ModelOutput,
    import_model_outputs,
    read_outputs_jsonl,
)
from workbench.importers.workbench_format import import_workbench
from workbench.importers.yolo import import_yolo

__all__ = [
    "DatasetImportError",
    "ImportImage",
    "ImportReport",
    "ImportSample",
    "ModelOutput",
    "import_coco",
    "import_hf",
    "import_images",
    "import_labelstudio",
    "import_model_outputs",
    "import_workbench",
    "import_yolo",
    "read_outputs_jsonl",
    "write_samples",
]
