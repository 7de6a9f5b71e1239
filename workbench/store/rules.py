"""The store's checks on what comes in: statuses, colours, dataset names, image IDs.

>>> check_name("  my   pets ")
'my pets'
>>> unique_ids(["a", "b", "a"])
['a', 'b', 'a-2']
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from workbench.errors import StoreError
from workbench.store.bounds import bounded_label, check_dataset_name
from workbench.store.records import ITEM_STATUSES, ItemStatus

__all__ = ["IMAGE_ID_RULE", "check_color", "check_image_id", "check_name", "check_status", "unique_ids"]

IMAGE_ID_RULE = "1-32 letters, digits, '_', '-' or '.', starting with a letter or digit"
_IMAGE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,31}")


def check_status(status: str) -> ItemStatus:
    """The status as an :class:`ItemStatus`, or a :class:`StoreError` naming the four there are."""
    if status not in ITEM_STATUSES:
        raise StoreError(f"item status must be one of {', '.join(ITEM_STATUSES)}; got {status!r}")
    return ItemStatus(status)


def check_color(color: str) -> str:
    text = color.strip().lower()
    if len(text) != 7 or text[0] != "#" or any(c not in "0123456789abcdef" for c in text[1:]):
        raise StoreError(f"a colour is written #rrggbb, got {color!r}")
    return text


def check_name(name: str) -> str:
    """A dataset name: white space folded, no path separators or control characters (it names export folders),
    at most 100 characters."""
    check_dataset_name(name or "")
    name = " ".join((name or "").split())
    if not name:
        raise StoreError("a dataset needs a name")
    if "/" in name or "\\" in name or name in {".", ".."}:
        raise StoreError(f"dataset name {name!r} may not contain / or \\ (it names export folders)")
    if len(name) > 100:
        raise StoreError("a dataset name may be at most 100 characters")
    return name


def check_label(name: str) -> str:
    """A label as stored (cleaned, at most as long as the parser keeps), or :class:`StoreError` in words."""
    try:
        return bounded_label(name)
    except ValueError as exc:
        raise StoreError(str(exc)) from None


def check_image_id(image_id: str) -> str:
    image_id = (image_id or "").strip()
    if not _IMAGE_ID.fullmatch(image_id):
        raise StoreError(f"image ID {image_id!r} must be {IMAGE_ID_RULE}")
    return image_id


def unique_ids(ids: Sequence[str]) -> list[str]:
    """Image IDs within an item, made unique by suffixing ``-2``, ``-3``…"""
    seen: set[str] = set()
    out = []
    for image_id in ids:
        image_id = image_id.strip() or "image"
        candidate, n = image_id, 1
        while candidate in seen:
            n += 1
            candidate = f"{image_id}-{n}"
        seen.add(candidate)
        out.append(candidate)
    return out
