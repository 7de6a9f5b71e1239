"""Save what the user accepted in the workbench into a dataset of the store, edit by edit.

The images of the workspace become one sample (ordered, with their IDs) the first time a box
set is accepted; every later accept updates that sample's annotations of one image in place.
Boxes identical to the model's keep provenance ``model`` (with its name and settings); moved,
resized, relabelled or new boxes are ``human``. Each store call commits on its own.

>>> import tempfile, pathlib
>>> from PIL import Image
>>> from workbench.store import DatasetStore
>>> from workbench.uploads import load_upload
>>> folder = pathlib.Path(tempfile.mkdtemp()); Image.new("RGB", (640, 480)).save(folder / "a.png")
>>> store = DatasetStore(folder / "db.sqlite"); _ = store.create_dataset("cats")
>>> ws = Workspace().with_images(Workspace().images.add([load_upload(folder / "a.png", folder / "d")]))
>>> ws = ws.with_output('[{"bbox_2d": [322, 238, 644, 476], "label": "cat"}]')
>>> ws, message = save_accepted(store, ws, "img1", "cats", prompt="find the cat")
>>> message
"saved 1 box(es) of img1 to dataset 'cats' (sample 1: 1 from the model, 0 by hand)"
>>> [(a.label, a.coords, a.provenance) for a in store.sample(ws.sample_id).images[0].annotations]
[('cat', (320.0, 240.0, 640.0, 480.0), 'model')]
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from pathlib import Path

from workbench.box_history import EditorBox
from workbench.errors import StoreError
from workbench.store import AnnotationDraft, DatasetStore, ImageSource
from workbench.workspace import Workspace

__all__ = ["save_accepted"]


def _key(label: str, coords) -> tuple:
    return (label, tuple(round(float(v), 6) for v in coords))


def save_accepted(store: DatasetStore, ws: Workspace, image_id: str, dataset: str, *, prompt: str = "") -> tuple[Workspace, str]:
    """Accept the current boxes of ``image_id`` and write them to ``dataset``; returns the workspace and a message."""
    if not dataset:
        raise StoreError("choose or create a dataset first (Dataset tab)")
    record = store.dataset(dataset)
    ws = ws.accept(image_id)
    sample = None
    if ws.sample_id is not None:
        try:
            sample = store.sample(ws.sample_id)
        except StoreError:
            sample = None
        if sample is not None and sample.dataset_id != record.id:
            sample = None
    if sample is None:
        sources = [ImageSource(Path(entry.path), entry.image_id) for entry in ws.images]
        sample = store.add_sample(record, sources, prompt)
        ws = replace(ws, sample_id=sample.id)
        others = [i for i in ws.accepted if i != image_id]  # a new sample gets every accepted image, not just this one
    else:
        others = []
        if prompt and sample.prompt != prompt:
            store.set_prompt(sample.id, prompt)
        _sync_ids(store, sample, ws)
        sample = store.sample(sample.id)
    for other in others:
        _write_boxes(store, ws, other, sample.images[ws.images.index_of(other)])
    _write_boxes(store, ws, image_id, sample.images[ws.images.index_of(image_id)])
    final = store.sample(sample.id).images[ws.images.index_of(image_id)].annotations
    boxes = [a for a in final if a.kind == "box"]
    by_model = sum(a.provenance == "model" for a in boxes)
    message = (f"saved {len(boxes)} box(es) of {image_id} to dataset '{record.name}' "
               f"(sample {sample.id}: {by_model} from the model, {len(boxes) - by_model} by hand)")
    return ws, message


def _sync_ids(store: DatasetStore, sample, ws: Workspace) -> None:
    """Bring the stored order and IDs in line with the workspace (reordered or renamed since the last accept)."""
    remaining = list(sample.images)
    order = []
    for entry in ws.images:  # match stored images to the workspace's files, in the workspace's order
        sha = _sha256(entry.path)
        same_file = [i for i, image in enumerate(remaining) if image.sha256 == sha]
        same_id = [i for i in same_file if remaining[i].image_id == entry.image_id]  # identical files: the ID decides
        order.append(remaining.pop((same_id or same_file)[0]))
    if [image.id for image in order] != [image.id for image in sample.images]:
        store.reorder_images(sample.id, [image.id for image in order])
    ids = ws.images.ids
    sample = store.sample(sample.id)
    changed = [(image, new) for image, new in zip(sample.images, ids) if image.image_id != new]
    in_use = {image.image_id for image in sample.images}
    if any(new in in_use for _, new in changed):  # a swap: step aside first
        for n, (image, _) in enumerate(changed):
            store.rename_image(image.id, f"{image.image_id}~{n}")
    for image, new in changed:
        store.rename_image(image.id, new)


def _sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _write_boxes(store: DatasetStore, ws: Workspace, image_id: str, stored_image) -> None:
    """Make the stored boxes of one image equal the accepted ones (keeping those already there)."""
    model_boxes = {_key(b.label, b.xyxy) for b in ws.model_boxes(image_id)}
    run = ws.run
    limits = (run.limits if run and run.limits else ws.limits)
    settings = {"family": (run.family if run and run.family else ws.family),
                "min_pixels": limits.min_pixels, "max_pixels": limits.max_pixels}
    wanted: list[tuple[tuple, EditorBox]] = [(_key(b.label, b.xyxy), b) for b in ws.accepted[image_id]]
    for annotation in stored_image.annotations:
        if annotation.kind != "box":
            continue
        key = _key(annotation.label, annotation.coords)
        match = next((n for n, (k, _) in enumerate(wanted) if k == key), None)
        if match is None:
            store.delete_annotation(annotation.id)
            continue
        wanted.pop(match)  # already stored: keep it (and its history)
        if annotation.status != "accepted":
            store.update_annotation(annotation.id, status="accepted")
    drafts = []
    for key, box in wanted:
        from_model = key in model_boxes
        drafts.append(AnnotationDraft.box(
            box.xyxy, box.label, provenance="model" if from_model else "human",
            model=run.model if (from_model and run) else None, settings=settings if from_model else {},
            status="accepted"))
    if drafts:
        store.add_annotations(stored_image.id, drafts)
