"""Grounding prompts per family, and multi-image chat messages as plain data.

Each family is asked in the phrasing it was trained on: Qwen2.5-VL's cookbook JSON request,
Qwen3-VL's category list, Qwen2-VL's special-token referring expression. With several
images, the images keep the user's order and the instruction asks for an ``"image"`` key per
object (Qwen2-VL, whose answers are not JSON, is asked to write the image's name before each
box). No official format says which image a box belongs to, so we ask. How images are named
is an :class:`ImageNaming`: not at all (the order given), ``Picture N:`` (the chat template's
``add_vision_id``; each user ID is mapped to its picture number), or the user's own IDs
written before each image (the model answers with the ID, mapped back by ID, never by the
digits in it).

Messages are plain dicts in the transformers chat format, with ``{"type": "image",
"image_id": ...}`` placeholders that each backend swaps for what it sends (a PIL image or a
data URL).

>>> grounding_instruction("cat", "qwen2.5-vl")
'Locate every cat in the image and output the bbox coordinates in JSON format.'
>>> print(grounding_instruction("cat", "qwen3-vl", image_ids=["img1", "img2"]))
Locate every instance that belongs to the following categories: "cat". Report bbox coordinates in JSON format.
There are 2 images: Picture 1 is img1, Picture 2 is img2. Add an "image" key to every object with the number of the picture it is in (1 to 2).
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import Enum
from typing import Any

from grounding.errors import GroundingError
from grounding.families import ModelFamily

__all__ = [
    "GroundingTask",
    "ImageNaming",
    "image_label",
    "label_images",
    "request_text",
    "default_image_ids",
    "picture_numbers",
    "grounding_instruction",
    "image_key_instruction",
    "build_messages",
    "vision_id_label",
]


class GroundingTask(str, Enum):
    """What to ask for: boxes or points."""

    BOXES = "boxes"
    POINTS = "points"


def _template(family: ModelFamily, task: GroundingTask) -> str:
    """The family's official phrasing for ``task`` (kept on :class:`ModelFamily`, the home of family knowledge)."""
    return family.box_prompt if task is GroundingTask.BOXES else family.point_prompt


class ImageNaming(str, Enum):
    """How the prompt names each image, and so what the model is asked to write in ``"image"``."""

    NONE = "none"
    """No label: the images are numbered 1..N in the order given."""
    PICTURE = "picture"
    """``Picture N: `` before each image, as the chat template's ``add_vision_id=True`` writes it."""
    IDS = "ids"
    """The user's ID (``front: ``) before each image; answers name the image by that ID."""


def default_image_ids(count: int) -> list[str]:
    """``img1`` ... ``imgN``, the seed practice for naming pictures.

    >>> default_image_ids(2)
    ['img1', 'img2']
    """
    return [f"img{i}" for i in range(1, count + 1)]


def picture_numbers(image_ids: Sequence[str]) -> dict[str, int]:
    """User IDs to 1-based picture numbers, in the user's order; IDs must be unique and non-empty.

    >>> picture_numbers(["front", "back"])
    {'front': 1, 'back': 2}
    """
    numbers: dict[str, int] = {}
    for image_id in image_ids:
        key = str(image_id).strip()
        if not key:
            raise GroundingError("image IDs must not be empty")
        if key in numbers:
            raise GroundingError(f"image ID {key!r} is used twice; IDs must be unique")
        numbers[key] = len(numbers) + 1
    return numbers


def vision_id_label(number: int) -> str:
    """What the Qwen chat template writes before image ``number`` when ``add_vision_id`` is on.

    >>> vision_id_label(2)
    'Picture 2: '
    """
    return f"Picture {number}: "


def image_label(naming: ImageNaming | str, number: int, image_id: str) -> str:
    """The text written before image ``number`` (1-based) whose user ID is ``image_id``.

    >>> [image_label(n, 2, "back") for n in ImageNaming]
    ['', 'Picture 2: ', 'back: ']
    """
    naming = ImageNaming(naming)
    if naming is ImageNaming.PICTURE:
        return vision_id_label(number)
    if naming is ImageNaming.IDS:
        return f"{str(image_id).strip()}: "
    return ""


def label_images(messages: Sequence[dict[str, Any]], naming: ImageNaming | str, *, skip_picture: bool = False) -> list[dict[str, Any]]:
    """Copies of ``messages`` with each image placeholder preceded by its label text part.

    Images are counted across all messages, as the chat template counts them. ``skip_picture``
    leaves ``Picture N:`` out (for a backend that sets ``add_vision_id`` in the template instead).

    >>> turns = [{"role": "user", "content": [{"type": "image", "image_id": "a"}, {"type": "text", "text": "?"}]},
    ...          {"role": "assistant", "content": "[]"},
    ...          {"role": "user", "content": [{"type": "image", "image_id": "b"}, {"type": "text", "text": "?"}]}]
    >>> [p["text"] for m in label_images(turns, "picture") if m["role"] == "user" for p in m["content"] if "text" in p]
    ['Picture 1: ', '?', 'Picture 2: ', '?']
    """
    naming = ImageNaming(naming)
    if naming is ImageNaming.PICTURE and skip_picture:
        naming = ImageNaming.NONE
    number = 0
    labelled: list[dict[str, Any]] = []
    for message in messages:
        message = dict(message)
        if isinstance(message.get("content"), list):
            content: list[dict[str, Any]] = []
            for part in message["content"]:
                if part.get("type") == "image":
                    number += 1
                    label = image_label(naming, number, part.get("image_id", ""))
                    if label:
                        content.append({"type": "text", "text": label})
                content.append(dict(part))
            message["content"] = content
        labelled.append(message)
    return labelled


def image_key_instruction(
    image_ids: Sequence[str], family: ModelFamily | str, naming: ImageNaming | str = ImageNaming.PICTURE
) -> str:
    """Say how the images are named and ask which image each object is in ("" for one image).

    >>> image_key_instruction(["img1"], "qwen2.5-vl")
    ''
    >>> print(image_key_instruction(["a", "b"], "qwen2-vl"))
    There are 2 images: Picture 1 is a, Picture 2 is b. Write "Picture N:" before every box, N being the number of the picture it is in.
    >>> print(image_key_instruction(["front", "back"], "qwen2.5-vl", "ids"))
    There are 2 images, each written after its name: front, back. Add an "image" key to every object with the name of the image it is in ("front" or "back").
    """
    numbers = picture_numbers(image_ids)
    if len(numbers) < 2:
        return ""
    naming = ImageNaming(naming)
    count = len(numbers)
    qwen2 = not ModelFamily.from_name(family).writes_json
    if naming is ImageNaming.IDS:
        names = list(numbers)
        choices = " or ".join(f'"{name}"' for name in names) if count == 2 else ", ".join(f'"{name}"' for name in names)
        head = f"There are {count} images, each written after its name: {', '.join(names)}."
        if qwen2:
            return f"{head} Write the name of the image and a colon before every box."
        return f'{head} Add an "image" key to every object with the name of the image it is in ({choices}).'
    if naming is ImageNaming.NONE:
        head = f"There are {count} images, numbered 1 to {count} in the order given."
        if qwen2:
            return f'{head} Write "Image N:" before every box, N being the number of the image it is in.'
        return f'{head} Add an "image" key to every object with the number of the image it is in (1 to {count}).'
    mapping = ", ".join(f"Picture {n} is {image_id}" for image_id, n in numbers.items())
    head = f"There are {count} images: {mapping}."
    if qwen2:
        return f'{head} Write "Picture N:" before every box, N being the number of the picture it is in.'
    return f'{head} Add an "image" key to every object with the number of the picture it is in (1 to {count}).'


def grounding_instruction(
    target: str,
    family: ModelFamily | str,
    *,
    task: GroundingTask | str = GroundingTask.BOXES,
    image_ids: Sequence[str] = (),
    extra: str = "",
    naming: ImageNaming | str = ImageNaming.PICTURE,
    allow_none: bool = False,
) -> str:
    """The family's official grounding request for ``target``, plus the multi-image instruction.

    ``extra`` is free user text appended on its own line (e.g. "Ignore reflections."). ``allow_none``
    adds the family's wording for "nothing there" (:attr:`ModelFamily.none_prompt`), whose answer the
    parser reads as an explicit empty answer.

    >>> grounding_instruction("the red car", "qwen2-vl")
    'Detect the bounding box of <|object_ref_start|>the red car<|object_ref_end|>.'
    >>> grounding_instruction("cat", "qwen2.5-vl", allow_none=True).split(". ")[1]
    'If there is no cat in the image, output an empty list: [].'
    """
    family = ModelFamily.from_name(family)
    task = GroundingTask(task)
    target = " ".join(target.split())
    if not target:
        raise GroundingError("say what to locate (the target must not be empty)")
    template = _template(family, task)
    if not template:
        raise GroundingError(f"{family.name} has no official {task.value} format; ask for boxes instead")
    lines = [template.format(target=target)]
    if allow_none and family.none_prompt:
        lines[0] += " " + family.none_prompt.format(target=target)
    if len(image_ids) > 1:  # the cookbook phrasing speaks of one image
        lines[0] = lines[0].replace(" in the image ", " in the images ").replace(" in the image,", " in the images,")
    lines += [line for line in (image_key_instruction(image_ids, family, naming), extra.strip()) if line]
    return "\n".join(lines)


def request_text(
    family: ModelFamily | str,
    image_ids: Sequence[str],
    *,
    target: str | None = None,
    prompt: str | None = None,
    task: GroundingTask | str = GroundingTask.BOXES,
    naming: ImageNaming | str = ImageNaming.PICTURE,
) -> str:
    """The text of a request: the official phrasing for ``target``, or the user's ``prompt``,
    each followed by the multi-image instruction for ``naming``. Give exactly one of the two.

    >>> request_text("qwen2.5-vl", ["a"], prompt="Find the cup.")
    'Find the cup.'
    >>> request_text("qwen2.5-vl", ["a", "b"], prompt="Find the cup.", naming="none").splitlines()[1][:24]
    'There are 2 images, numb'
    """
    if (target is None) == (prompt is None):
        raise GroundingError("give either a target (what to locate) or a prompt (your own text)")
    if target is not None:
        return grounding_instruction(target, family, task=task, image_ids=image_ids, naming=naming)
    assert prompt is not None
    if not prompt.strip():
        raise GroundingError("the prompt is empty")
    extra = image_key_instruction(image_ids, family, naming)
    return prompt if not extra else f"{prompt}\n{extra}"


def build_messages(
    image_ids: Sequence[str], text: str, *, picture_labels: bool = False, system: str | None = None,
    naming: ImageNaming | str | None = None,
) -> list[dict[str, Any]]:
    """One user turn: the images in the user's order, then the text.

    ``picture_labels`` writes ``Picture N: `` as text before each image, which renders to the
    same prompt as the chat template's ``add_vision_id=True`` (for servers whose template
    arguments we cannot set). The local backend sets ``add_vision_id`` instead. ``naming``,
    when given, chooses the labels instead (see :class:`ImageNaming`).

    >>> build_messages(["a", "b"], "Find cats.", picture_labels=True)[0]["content"][:2]
    [{'type': 'text', 'text': 'Picture 1: '}, {'type': 'image', 'image_id': 'a'}]
    >>> build_messages(["a", "b"], "Find cats.", naming="ids")[0]["content"][:2]
    [{'type': 'text', 'text': 'a: '}, {'type': 'image', 'image_id': 'a'}]
    """
    numbers = picture_numbers(image_ids)
    content: list[dict[str, Any]] = [{"type": "image", "image_id": image_id} for image_id in numbers]
    content.append({"type": "text", "text": text})
    messages = [{"role": "user", "content": content}]
    if naming is None:
        naming = ImageNaming.PICTURE if picture_labels else ImageNaming.NONE
    messages = label_images(messages, naming)
    if system is not None:
        messages.insert(0, {"role": "system", "content": [{"type": "text", "text": system}]})
    return messages

