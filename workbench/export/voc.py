"""Pascal VOC in the devkit layout torchvision's ``VOCDetection`` opens as it is.

``VOCdevkit/VOC2012/`` holds ``JPEGImages/<id>.jpg`` (VOCDetection builds that path, so other
formats are re-encoded as JPEG at quality 95), ``Annotations/<id>.xml`` and
``ImageSets/Main/train.txt`` and ``trainval.txt`` (every id: the export makes no split):
``VOCDetection(root=<export folder>, year="2012", image_set="trainval")``. Boxes use the
devkit's 1-based inclusive pixels (``xmin = round(x1 + 1)``, ``xmax = round(x2)``), as
supervision writes them; sizes come from the store, not from decoding images.

>>> voc_box((146, 137, 615, 415), (640, 428))
(147, 138, 615, 415)
>>> voc_box((639.7, 0, 640, 428), (640, 428))  # a sliver on the edge stays inside the 1-based image
(640, 1, 640, 428)
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path
from xml.sax.saxutils import escape

from grounding import ImageReadError, read_image_size
from workbench.export.base import ExportFormat, FormatOutput, Problems, check_label
from workbench.export.detection import Entry, entries_of, write_entry_images
from workbench.export.samples import ExportSample
from workbench.export.settings import ExportSettings

ROOT = "VOCdevkit/VOC2012"
IMAGE_SETS = ("train", "trainval")


def voc_box(xyxy: Sequence[float], wh: tuple[int, int]) -> tuple[int, int, int, int]:
    x1, y1, x2, y2 = xyxy
    xmin, ymin = min(max(round(x1 + 1), 1), wh[0]), min(max(round(y1 + 1), 1), wh[1])
    return xmin, ymin, min(max(round(x2), xmin), wh[0]), min(max(round(y2), ymin), wh[1])


def annotation_xml(entry: Entry) -> str:
    w, h = entry.image.wh
    objects = "".join(
        f"  <object>\n    <name>{escape(box.label)}</name>\n    <pose>Unspecified</pose>\n"
        f"    <truncated>0</truncated>\n    <difficult>0</difficult>\n    <bndbox>\n"
        + "".join(f"      <{tag}>{value}</{tag}>\n" for tag, value in zip(("xmin", "ymin", "xmax", "ymax"),
                                                                          voc_box(box.coords, (w, h))))
        + "    </bndbox>\n  </object>\n"
        for box in entry.image.boxes)
    return (f'<?xml version="1.0" encoding="utf-8"?>\n<annotation>\n  <folder>VOC2012</folder>\n'
            f"  <filename>{escape(entry.name)}</filename>\n"
            f"  <source>\n    <database>Grounding Workbench</database>\n  </source>\n"
            f"  <size>\n    <width>{w}</width>\n    <height>{h}</height>\n    <depth>3</depth>\n  </size>\n"
            f"  <segmented>0</segmented>\n{objects}</annotation>\n")


def write(samples: Sequence[ExportSample], settings: ExportSettings, folder: Path) -> FormatOutput:
    root = folder / ROOT
    entries = entries_of(samples, as_jpeg=True)
    write_entry_images(samples, root, "JPEGImages", as_jpeg=True)
    (root / "Annotations").mkdir(parents=True, exist_ok=True)
    for entry in entries:
        (root / "Annotations" / f"{entry.stem}.xml").write_text(annotation_xml(entry), encoding="utf-8")
    (root / "ImageSets" / "Main").mkdir(parents=True, exist_ok=True)
    ids = "".join(f"{entry.stem}\n" for entry in entries)
    for image_set in IMAGE_SETS:
        (root / "ImageSets" / "Main" / f"{image_set}.txt").write_text(ids, encoding="utf-8")
    recoded = sum(1 for entry in entries if Path(entry.image.file).suffix.lower() not in (".jpg", ".jpeg"))
    warnings = (f"{recoded} images re-encoded as JPEG (quality 95): VOC's JPEGImages holds .jpg files only",) \
        if recoded else ()
    usage = (f"torchvision.datasets.VOCDetection(root='{folder}', year='2012', image_set='trainval') "
             "(train and trainval list every image: no split is made).")
    return FormatOutput(len(entries), (f"{ROOT}/JPEGImages/", f"{ROOT}/Annotations/", f"{ROOT}/ImageSets/Main/"),
                        warnings, usage)


def _int(node: ET.Element | None, tag: str) -> int | None:
    text = node.findtext(tag) if node is not None else None
    try:
        return int(text) if text is not None else None
    except ValueError:
        return None


def validate(folder: Path, settings: ExportSettings) -> list[str]:
    problems = Problems()
    root = folder / ROOT
    try:
        ids = (root / "ImageSets" / "Main" / "trainval.txt").read_text(encoding="utf-8").split()
    except OSError:
        return [f"VOC: {ROOT}/ImageSets/Main/trainval.txt is missing"]
    for image_id in ids:
        where = f"VOC {image_id}"
        try:
            size = read_image_size(root / "JPEGImages" / f"{image_id}.jpg")
        except ImageReadError as exc:
            problems.add(f"{where}: {exc}")
            continue
        if size.format not in ("JPEG", "MPO"):
            problems.add(f"{where}: JPEGImages/{image_id}.jpg is {size.format}, not JPEG")
        try:
            tree = ET.parse(root / "Annotations" / f"{image_id}.xml").getroot()
        except (OSError, ET.ParseError) as exc:
            problems.add(f"{where}: annotation cannot be parsed ({exc})")
            continue
        w, h = _int(tree.find("size"), "width"), _int(tree.find("size"), "height")
        if (w, h) != size.wh:
            problems.add(f"{where}: size says {w}x{h}, the image is {size.width}x{size.height}")
        for obj in tree.findall("object"):
            check_label(obj.findtext("name"), problems, where)
            box = [_int(obj.find("bndbox"), tag) for tag in ("xmin", "ymin", "xmax", "ymax")]
            x0, y0, x1, y1 = box
            if x0 is None or y0 is None or x1 is None or y1 is None or not (
                    1 <= x0 <= x1 <= size.width and 1 <= y0 <= y1 <= size.height):
                problems.add(f"{where}: bndbox {box} is not inside 1..{size.width} x 1..{size.height}")
    return problems.result()


FORMAT = ExportFormat("voc", "Pascal VOC (torchvision VOCDetection layout)", False,
                      "original-image pixels, 1-based inclusive xyxy", write, validate, kinds=("box",))
