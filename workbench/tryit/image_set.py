"""The images of one request: ordered, each with a user ID, an original file and a display copy.

Pure and immutable: every operation returns a new :class:`ImageSet`, so Gradio can keep it in
per-session state and nothing is shared between users.

>>> images = ImageSet().add([ImageEntry.placeholder("cat.jpg", (640, 480)), ImageEntry.placeholder("dog.jpg", (800, 600))])
>>> images.ids
('img1', 'img2')
>>> images.rename("img2", "dog").move("dog", -1).ids
('dog', 'img1')
>>> images.picture_number("img2")
2
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace

from workbench.errors import WorkbenchError

__all__ = ["ImageEntry", "ImageSet", "ImageSetError", "ID_PATTERN"]

ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,31}$")


class ImageSetError(WorkbenchError):
    """An operation on the image list that cannot be done (unknown or duplicate ID, bad name)."""


@dataclass(frozen=True)
class ImageEntry:
    """One uploaded image: its ID, the original file and the display copy the browser gets."""

    image_id: str
    name: str
    path: str
    original_wh: tuple[int, int]
    display_path: str
    display_wh: tuple[int, int]

    @classmethod
    def placeholder(cls, name: str, original_wh: tuple[int, int]) -> ImageEntry:
        """An entry without files (for examples and pure tests); the ID is given by :meth:`ImageSet.add`."""
        return cls("", name, name, original_wh, name, original_wh)


@dataclass(frozen=True)
class ImageSet:
    """Ordered images of a request; picture N in the prompt is ``images[N - 1]``."""

    images: tuple[ImageEntry, ...] = ()
    issued: int = 0
    """Highest ``imgN`` ever handed out here: removed images' IDs are not given to new ones."""

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(image.image_id for image in self.images)

    def __len__(self) -> int:
        return len(self.images)

    def __iter__(self):
        return iter(self.images)

    def get(self, image_id: str) -> ImageEntry:
        return self.images[self.index_of(image_id)]

    def index_of(self, image_id: str) -> int:
        try:
            return self.ids.index(image_id)
        except ValueError:
            raise ImageSetError(f"no image with ID {image_id!r} (have: {', '.join(self.ids) or 'none'})") from None

    def picture_number(self, image_id: str) -> int:
        """1-based position, as in "Picture N" of the chat template."""
        return self.index_of(image_id) + 1

    def _next_id(self, taken: set[str], issued: int) -> tuple[str, int]:
        """``img{N+1}`` after the highest ``imgN`` ever issued or in use."""
        numbers = [int(i[3:]) for i in taken if i.startswith("img") and i[3:].isdigit()]
        n = max([issued, *numbers]) + 1
        while f"img{n}" in taken:
            n += 1
        return f"img{n}", n

    def add(self, entries: Iterable[ImageEntry]) -> ImageSet:
        """Append entries; those without a free ID get the next ``imgN``."""
        images = list(self.images)
        taken = set(self.ids)
        issued = self.issued
        for entry in entries:
            if entry.image_id and entry.image_id not in taken:
                image_id = entry.image_id
            else:
                image_id, issued = self._next_id(taken, issued)
            taken.add(image_id)
            images.append(replace(entry, image_id=image_id))
        return ImageSet(tuple(images), issued)

    def remove(self, image_id: str) -> ImageSet:
        index = self.index_of(image_id)
        return ImageSet(self.images[:index] + self.images[index + 1 :], self.issued)

    def move(self, image_id: str, offset: int) -> ImageSet:
        """Move an image ``offset`` places (negative: towards picture 1), stopping at the ends."""
        index = self.index_of(image_id)
        target = min(max(index + offset, 0), len(self.images) - 1)
        images = list(self.images)
        images.insert(target, images.pop(index))
        return ImageSet(tuple(images), self.issued)

    def reorder(self, ids: Iterable[str]) -> ImageSet:
        """Images in the order of ``ids``, which must name each image exactly once."""
        ids = list(ids)
        if sorted(ids) != sorted(self.ids):
            raise ImageSetError(f"new order {ids} must list each of {list(self.ids)} once")
        return ImageSet(tuple(self.get(i) for i in ids), self.issued)

    def rename(self, image_id: str, new_id: str) -> ImageSet:
        new_id = new_id.strip()
        if new_id == image_id:
            return self
        if not ID_PATTERN.match(new_id):
            raise ImageSetError(
                f"image ID {new_id!r} must be 1-32 letters, digits, '_', '-' or '.', starting with a letter or digit"
            )
        if new_id in self.ids:
            raise ImageSetError(f"image ID {new_id!r} is already used")
        index = self.index_of(image_id)
        images = list(self.images)
        images[index] = replace(images[index], image_id=new_id)
        return ImageSet(tuple(images), self.issued)
