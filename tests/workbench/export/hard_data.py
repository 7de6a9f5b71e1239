"""A dataset that breaks naive exports: 12 MP rotated phone photos, edge boxes, tricky labels.

- ``phone``: a 4032x3024 JPEG with EXIF orientation 6 (shown 3024x4032), boxes clamped to its
  right and bottom edges (as model boxes are), labels with quotes, a backslash, CJK and emoji;
  one box is a model proposal still pending, the others are human or accepted.
- ``screen``: a PNG with one human box and a point.
- ``pair``: a two-image sample (phone + screen).
- ``points``: a sample with points only (nothing for box-only formats).
- ``empty``: a sample with no annotation at all.
"""

from __future__ import annotations

from pathlib import Path

from PIL import ExifTags, Image

from workbench.store import AnnotationDraft, DatasetStore, ImageSource

BOTH = ("box", "point")

PHONE_WH = (3024, 4032)  # displayed size (stored 4032x3024, orientation 6)
EDGE_BOXES = [(x1, y1, 3024.0, 4032.0) for x1, y1 in
              ((1000.3, 2000.7), (17.77, 3.3), (2999.91, 4000.123), (1234.567, 89.01), (5.5, 3333.3))]
LABELS = ['say "cheese"', "back\\slash", "猫", "🐱 cat", "plain"]

def write_phone(folder: Path) -> Path:
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6
    path = folder / "phone.jpg"
    Image.new("RGB", (4032, 3024), (120, 140, 160)).save(path, "JPEG", quality=80, exif=exif.tobytes())
    return path


def write_screen(folder: Path) -> Path:
    path = folder / "screen.png"
    Image.new("RGB", (800, 600), (10, 200, 30)).save(path, "PNG")
    return path


def build_hard(store: DatasetStore, folder: Path, name: str = "hard") -> None:
    folder.mkdir(parents=True, exist_ok=True)
    phone, screen = write_phone(folder), write_screen(folder)
    store.create_dataset(name)
    s1 = store.add_item(name, [ImageSource(phone, "phone")], "Locate every dog in the image.")
    drafts = [AnnotationDraft.box(box, label) for box, label in zip(EDGE_BOXES, LABELS)]
    store.set_annotations(s1.id, 1, kinds=BOTH, drafts=drafts)
    s2 = store.add_item(name, [ImageSource(screen, "screen")], "")
    store.set_annotations(s2.id, 1, kinds=BOTH, drafts=[AnnotationDraft.box((100, 50, 800, 600), "window"),
                                            AnnotationDraft.point((400, 300), "cursor")])
    s3 = store.add_item(name, [ImageSource(phone, "front"), ImageSource(screen, "back")], "")
    store.set_annotations(s3.id, 1, kinds=BOTH, drafts=[AnnotationDraft.box((0, 0, 3024, 100), "shelf")])
    store.set_annotations(s3.id, 2, kinds=BOTH, drafts=[AnnotationDraft.box((0, 0, 10, 10), "icon")])
    s4 = store.add_item(name, [ImageSource(screen, "only-points")], "")
    store.set_annotations(s4.id, 1, kinds=BOTH, drafts=[AnnotationDraft.point((1, 2), "pixel")])
    s5 = store.add_item(name, [ImageSource(screen, "empty")], "")
    for item in (s1, s2, s3, s4, s5):  # a person reviewed these
        store.set_status(item.id, "accepted")
    s6 = store.add_item(name, [ImageSource(phone, "unreviewed")], "")  # the model's boxes, nobody has looked yet
    run = store.run(name, model="m", family="qwen2.5-vl", settings={})
    store.record_proposals(run.id, s6.id, [[AnnotationDraft.box((10, 10, 500, 700), "proposal")]])
