"""Training questions that ask for exactly what their answers contain.

A sample's stored prompt is what was asked when the model ran; after review its labels are
often something else ("Locate every dog" answered with a flower pot and a trowel head).
Training on that pair teaches the model to ignore the question. So each exported question is
generated from the objects its answer holds, per task:

- ``objects``: one question for every labelled object of the sample (boxes; points get a
  ``points`` line of their own), answered with all of them;
- ``referring``: one question/answer pair per object, its label as the referring expression;
- ``points``: the sample's points only.

Templates are plain strings with placeholders: ``{labels}`` (the labels asked for, joined the
family's way), ``{label}`` (one object's label), ``{image}`` ("the image"/"the images"),
``{picture}`` (the picture of a referred object, "Picture 2 (street)", or "the image") and
``{pictures}`` (every picture by number and ID). The defaults are the family's official
phrasing from :func:`grounding.prompts.grounding_instruction`; a multi-image sample also gets
its picture mapping (:func:`grounding.prompts.image_key_instruction`), since its answer names
the picture of each object. The sample's own prompt is kept only when it is exactly the
family's request for exactly the sample's labels (plus any extra lines the user wrote); when
unsure, the question is generated.

>>> from pathlib import Path
>>> objects = (ExportObject("box", (1, 1, 5, 5), "flower pot"), ExportObject("box", (2, 2, 6, 6), "trowel head"))
>>> image = ExportImage("img1", 1, Path("a.jpg"), "a.jpg", "a.jpg", (8, 8), objects)
>>> sample = ExportSample(1, 1, "Locate every dog in the image and output the bbox coordinates in JSON format.", (image,))
>>> [turn.question for turn in conversation(sample, "qwen2.5-vl").turns]
['Locate every flower pot and trowel head in the image and output the bbox coordinates in JSON format.']
"""

from __future__ import annotations

import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache

from grounding import ModelFamily
from grounding.prompts import (
    GroundingTask,
    grounding_instruction,
    image_key_instruction,
)
from workbench.errors import ExportError
from workbench.export.samples import ExportImage, ExportObject, ExportSample

__all__ = [
    "PLACEHOLDERS",
    "TASKS",
    "Conversation",
    "Turn",
    "check_templates",
    "conversation",
    "default_templates",
    "has_point_syntax",
    "join_labels",
    "task_kinds",
]

TASKS: tuple[str, ...] = ("objects", "referring", "points")
PLACEHOLDERS: tuple[str, ...] = ("labels", "label", "image", "picture", "pictures")
_KIND_TASK = {"box": GroundingTask.BOXES, "point": GroundingTask.POINTS}
_KIND_TEMPLATE = {"box": "objects", "point": "points"}


@dataclass(frozen=True)
class Turn:
    """One question and the objects (with their images) that answer it, in answer order."""

    question: str
    objects: tuple[tuple[ExportImage, ExportObject], ...]


@dataclass(frozen=True)
class Conversation:
    turns: tuple[Turn, ...]
    own_prompt: bool
    """True when the sample's own prompt was kept as the question."""


@cache
def has_point_syntax(family: ModelFamily | str) -> bool:
    """Whether the family has an official way to ask for and answer points (Qwen2-VL has none).

    >>> has_point_syntax("qwen2-vl"), has_point_syntax("qwen3-vl")
    (False, True)
    """
    return bool(ModelFamily.from_name(family).point_prompt)  # family knowledge lives in ModelFamily


def task_kinds(task: str, family: ModelFamily | str) -> tuple[str, ...]:
    """The annotation kinds a task's answers carry in ``family``'s answer syntax.

    >>> task_kinds("objects", "qwen2-vl"), task_kinds("points", "qwen2.5-vl")
    (('box',), ('point',))
    """
    points = ("point",) if has_point_syntax(family) else ()
    return points if task == "points" else ("box", *points)


def join_labels(labels: Sequence[str], family: ModelFamily | str) -> str:
    """Labels as one target: Qwen3-VL's category list is comma-separated, the others read as prose.

    >>> join_labels(["cat", "dog", "bird"], "qwen2.5-vl"), join_labels(["cat", "dog"], "qwen3-vl")
    ('cat, dog and bird', 'cat, dog')
    """
    if ModelFamily.from_name(family).category_list or len(labels) < 2:
        return ", ".join(labels)
    return ", ".join(labels[:-1]) + " and " + labels[-1]


def default_templates(family: ModelFamily | str) -> dict[str, str]:
    """The family's official phrasing per task, with its placeholders (the single-image form).

    >>> default_templates("qwen2.5-vl")["objects"]
    'Locate every {labels} in the image and output the bbox coordinates in JSON format.'
    >>> sorted(default_templates("qwen2-vl"))
    ['objects', 'referring']
    """
    return dict(_default_templates(ModelFamily.from_name(family)))


@cache
def _default_templates(family: ModelFamily) -> tuple[tuple[str, str], ...]:
    templates = {"objects": grounding_instruction("{labels}", family),
                 "referring": grounding_instruction("{label}", family)}
    if has_point_syntax(family):
        templates["points"] = grounding_instruction("{labels}", family, task=GroundingTask.POINTS)
    return tuple(templates.items())


def check_templates(templates: Mapping[str, str], family: ModelFamily | str, task: str) -> None:
    """Raise :class:`ExportError` for an unknown task, an unknown placeholder or a task the family cannot ask.

    >>> check_templates({"objects": "Find {animals}."}, "qwen2.5-vl", "objects")
    Traceback (most recent call last):
    ...
    workbench.errors.ExportError: question template for 'objects' uses {animals}; the placeholders are {labels}, {label}, {image}, {picture}, {pictures}
    """
    if task not in TASKS:
        raise ExportError(f"unknown question task {task!r}; expected one of {', '.join(TASKS)}")
    if task == "points" and not has_point_syntax(family):
        raise ExportError(f"{ModelFamily.from_name(family).name} has no official point format; "
                          "use the objects or referring task")
    for name, template in templates.items():
        if name not in TASKS:
            raise ExportError(f"question template for unknown task {name!r}; expected some of {', '.join(TASKS)}")
        if not isinstance(template, str) or not template.strip():
            raise ExportError(f"question template for {name!r} must be a non-empty text")
        try:
            fields = [field for _, field, _, _ in string.Formatter().parse(template) if field is not None]
        except ValueError as exc:
            raise ExportError(f"question template for {name!r} is not a valid template ({exc})") from None
        unknown = [field for field in fields if field not in PLACEHOLDERS]
        if unknown:
            allowed = ", ".join("{" + p + "}" for p in PLACEHOLDERS)
            raise ExportError(f"question template for {name!r} uses {{{unknown[0]}}}; the placeholders are {allowed}")


def _picture(image: ExportImage, sample: ExportSample) -> str:
    return f"Picture {image.position} ({image.image_id})" if len(sample.images) > 1 else "the image"


def _labels(objects: Sequence[tuple[ExportImage, ExportObject]], kind: str) -> list[str]:
    return list(dict.fromkeys(obj.label for _, obj in objects if obj.kind == kind))


@lru_cache(maxsize=4096)
def _official_line(target: str, family: ModelFamily, kind: str, multi: bool) -> str:
    """The first line of the family's request for ``target`` ("in the images" when there are several)."""
    ids = ["a", "b"] if multi else ["a"]
    return grounding_instruction(target, family, task=_KIND_TASK[kind], image_ids=ids).split("\n", 1)[0]


@lru_cache(maxsize=1024)
def _key_line(ids: tuple[str, ...], family: ModelFamily) -> str:
    return image_key_instruction(ids, family)


class _Asker:
    """Renders questions for one sample with the effective templates."""

    def __init__(self, sample: ExportSample, family: ModelFamily, templates: Mapping[str, str]) -> None:
        self.sample, self.family, self.templates = sample, family, templates
        self.defaults = dict(_default_templates(family))
        self.ids = [image.image_id for image in sample.images]
        self.multi = len(sample.images) > 1

    def line(self, key: str, kind: str, target: str, picture: str) -> str:
        template = self.templates[key]
        if template == self.defaults.get(key):  # the official phrasing, "in the images" for several
            return _official_line(target, self.family, kind, self.multi)
        pictures = " and ".join(_picture(image, self.sample) for image in self.sample.images)
        return template.format_map({"labels": target, "label": target, "picture": picture, "pictures": pictures,
                                    "image": "the images" if self.multi else "the image"})

    def question(self, lines: list[str]) -> str:
        key_line = _key_line(tuple(self.ids), self.family) if self.multi else ""
        return "\n".join(lines + ([key_line] if key_line else []))


def conversation(sample: ExportSample, family: ModelFamily | str, task: str = "objects",
                 templates: Mapping[str, str] | None = None,
                 negative_labels: Mapping[str, Sequence[str]] | None = None) -> Conversation:
    """The question/answer turns of one sample (objects already filtered to what the export carries).

    ``templates`` override the family's defaults per task. For ``referring`` there is one turn
    per object; otherwise one turn with every object, its question naming each label once.
    An explicit negative (a sample with no object) asks for the labels the export teaches, per
    kind (``negative_labels``, e.g. ``{"box": ["cat", "dog"]}``), and is answered with nothing:
    "every cat and dog" -> none here, which is what a reviewed empty picture says.

    >>> from pathlib import Path
    >>> empty = ExportSample(1, 1, "", (ExportImage("a", 1, Path("a.jpg"), "a.jpg", "a.jpg", (8, 8), ()),))
    >>> conversation(empty, "qwen2.5-vl", negative_labels={"box": ["cat", "dog"]}).turns[0].question
    'Locate every cat and dog in the image and output the bbox coordinates in JSON format.'
    """
    family = ModelFamily.from_name(family)
    asker = _Asker(sample, family, {**default_templates(family), **(templates or {})})
    objects = tuple((image, obj) for image in sample.images for obj in image.objects)
    if task == "referring":
        turns = tuple(Turn(asker.question([asker.line("referring" if obj.kind == "box" else "points", obj.kind,
                                                      obj.label, _picture(image, sample))]), ((image, obj),))
                      for image, obj in objects)
        return Conversation(turns, False)
    lines = [asker.line(_KIND_TEMPLATE[kind], kind, join_labels(labels, family), "the image")
             for kind in ("box", "point") if (labels := _labels(objects, kind))]
    if not lines:  # an explicit negative: ask for what the export teaches, answer nothing
        kind = "point" if task == "points" else "box"
        asked = list((negative_labels or {}).get(kind, ()))
        lines = [asker.line(_KIND_TEMPLATE[kind], kind, join_labels(asked, family) if asked else "object",
                            "the image")]
    generated = asker.question(lines)
    official = asker.question([_official_line(join_labels(_labels(objects, kind), family), family, kind, asker.multi)
                               for kind in ("box", "point") if _labels(objects, kind)])
    own = bool(objects) and _fits(sample.prompt, official)
    return Conversation((Turn(sample.prompt if own else generated, objects),), own)


def _fits(prompt: str, official: str) -> bool:
    """The prompt is the official request for exactly these labels, maybe followed by the user's own lines."""
    return prompt == official or prompt.startswith(official + "\n")
