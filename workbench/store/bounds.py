"""How much one label, one image's annotations and one name may be, checked where they enter the store.

A page, an export and a training file all carry every box and label of an item: 100 000 boxes in one
edit made a page load take seconds, a 10 MB label made a 46 MB page, and a NUL in a name broke the
export's file names. Person-made input past a bound is refused with a message; a model's answer is cut
to the bound by the parser (:mod:`grounding.parse.dispatch`), whose bounds these are.

>>> bounded_label("cat")
'cat'
>>> bounded_label("x" * 302)
Traceback (most recent call last):
...
ValueError: a label is at most 301 characters, got 302
>>> bounded_file_name("photo\\x00.png"), bounded_file_name("a" * 300 + ".jpg")[-8:], len(bounded_file_name("a" * 300 + ".jpg"))
('photo .png', 'aaaa.jpg', 200)
>>> check_annotation_count([[None] * 3], limit=2)
Traceback (most recent call last):
...
workbench.errors.StoreError: picture 1 would carry 3 boxes/points; one picture may carry at most 2
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from grounding.parse import MAX_DETECTIONS
from grounding.parse import MAX_LABEL_CHARS as PARSED_LABEL_CHARS
from workbench.errors import StoreError

__all__ = ["MAX_ANNOTATIONS_PER_IMAGE", "MAX_FILE_NAME_CHARS", "MAX_LABEL_CHARS", "bounded_file_name",
           "bounded_label", "check_annotation_count", "check_dataset_name", "clean_label"]

MAX_LABEL_CHARS = PARSED_LABEL_CHARS + 1
"""Characters of one label: the parser's bound on a model's label (which it cuts, adding "…"), so any parsed
answer fits."""
MAX_ANNOTATIONS_PER_IMAGE = MAX_DETECTIONS
"""Boxes and points on one picture: the parser's bound on one answer (dense shelves and crowds stay in the
hundreds)."""
MAX_FILE_NAME_CHARS = 200
"""Characters of an image's recorded file name (longer ones keep their end, where the suffix is)."""


_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]+")


def clean_label(label: str) -> str:
    """A label as stored: each run of control characters (C0, DEL, C1, line and paragraph separators) and of
    white space made one space, trimmed — the one label rule of the project.

    A label ends up in XML (VOC, Label Studio's config), JSON answers and YAML keys, where a newline,
    a tab or a NUL breaks the file or silently changes the class; it is cleaned on the way into the
    store, and again when read (a store written by an earlier version may hold one).

    >>> clean_label("  red\\tcar\\n\\x00 ")
    'red car'
    >>> clean_label("nul\\x00byte")
    'nul byte'
    """
    return " ".join(_CONTROL.sub(" ", label).split())


def bounded_label(label: str) -> str:
    """The label as stored (:func:`clean_label`), or ValueError past the bound."""
    label = clean_label(label)
    if len(label) > MAX_LABEL_CHARS:
        raise ValueError(f"a label is at most {MAX_LABEL_CHARS} characters, got {len(label)}")
    return label


def bounded_file_name(name: str) -> str:
    """A file name as recorded: control characters (NUL included) made spaces, at most the bound (its end kept)."""
    name = clean_label(name) or "image"
    return name[-MAX_FILE_NAME_CHARS:]


def check_annotation_count(per_image: Sequence[Sequence[object]], *, limit: int = MAX_ANNOTATIONS_PER_IMAGE,
                           first: int = 1) -> None:
    """Raise :class:`StoreError` when a picture (numbered from ``first``) would carry more than ``limit``."""
    for number, shapes in enumerate(per_image, start=first):
        if len(shapes) > limit:
            raise StoreError(f"picture {number} would carry {len(shapes)} boxes/points; one picture may carry "
                             f"at most {limit}")


def check_dataset_name(name: str) -> None:
    """Refuse control characters in a dataset name (it names export folders and files)."""
    if clean_label(name) != " ".join(name.split()):
        raise StoreError("a dataset name may not contain control characters")
