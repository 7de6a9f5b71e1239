"""Shared by the COCO, YOLO and Pascal VOC exporters: one entry (file) per sample image.

These formats have no multi-image samples: one entry per sample image (its own file name,
``s<sample>-<picture>-<id>.ext``), boxes in original pixels, classes numbered in first-seen
label order. Points have no place in them (the export leaves them out and counts them).
They are written here, not by supervision's ``as_coco``/``as_yolo``/``as_pascal_voc``: those
read every image to learn a size the store already knows.

>>> from pathlib import Path
>>> from workbench.export.samples import ExportImage, ExportObject, ExportSample
>>> image = ExportImage("a", 1, Path("a.png"), "images/x.png", "s000001-1-a.png", (8, 8),
...                     (ExportObject("box", (0, 0, 4, 4), "cat"),))
>>> [(entry.name, entry.image.wh) for entry in entries_of([ExportSample(1, 1, "", (image,))])]
[('s000001-1-a.png', (8, 8))]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from workbench.export.files import copy_images, export_name
from workbench.export.samples import ExportImage, ExportSample, labels_of

__all__ = ["Entry", "class_names", "entries_of", "write_entry_images"]


@dataclass(frozen=True)
class Entry:
    """One image file of a per-image format and its boxes."""

    name: str
    image: ExportImage
    sample: int = 0
    """The sample's position in the dataset."""
    status: str = "accepted"
    """The item's review status."""

    @property
    def stem(self) -> str:
        return Path(self.name).stem

    @property
    def origin(self) -> dict[str, Any]:
        """Where the image came from, for ``workbench import`` to make the sample again (IDs, picture order, status).

        >>> Entry("s000003-2-back.jpg", ExportImage("back", 2, Path("b.jpg"), "", "", (8, 8), ()), 3).origin
        {'sample': 3, 'picture': 2, 'image_id': 'back', 'status': 'accepted'}
        """
        return {"sample": self.sample, "picture": self.image.position, "image_id": self.image.image_id,
                "status": self.status}


def entries_of(samples: Sequence[ExportSample], *, as_jpeg: bool = False) -> list[Entry]:
    return [Entry(export_name(image, per_entry=True, as_jpeg=as_jpeg), image, sample.position, sample.status)
            for sample in samples for image in sample.images]


def class_names(samples: Sequence[ExportSample], fixed: Sequence[str] = ()) -> list[str]:
    """Box labels in first-seen order (after ``fixed``, the classes several files share): class ``i`` is ``names[i]``."""
    return list(dict.fromkeys([*fixed, *labels_of(samples, kinds=("box",))]))


def write_entry_images(samples: Sequence[ExportSample], folder: Path, subdir: str, *, as_jpeg: bool = False) -> None:
    """One upright file per sample image under ``folder/subdir``."""
    copy_images(samples, folder, per_entry=True, subdir=subdir, as_jpeg=as_jpeg)
