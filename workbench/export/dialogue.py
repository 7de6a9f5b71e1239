"""Question/answer pairs of a sample for the trainer formats, and what the manifest says of them.

Questions come from :mod:`workbench.export.questions`; answers are the family's own output
(:func:`~workbench.export.targets.answer_text`) with each object's coordinates converted for
the trainer. The first user turn also carries the image placeholders
(:func:`~workbench.export.targets.user_text`); later turns ask about the same images.

>>> from pathlib import Path
>>> from workbench.export.samples import ExportImage, ExportObject, ExportSample
>>> from workbench.export.settings import ExportSettings
>>> settings = ExportSettings.create("qwen3-vl", task="referring")
>>> objects = (ExportObject("box", (0, 0, 32, 32), "cat"), ExportObject("box", (32, 0, 64, 32), "dog"))
>>> sample = ExportSample(1, 1, "", (ExportImage("a", 1, Path("a.png"), "a.png", "a.png", (64, 32), objects),))
>>> pairs = Dialogue(settings).pairs(sample, Geometry(settings.family, settings.limits))
>>> [question.split(": ")[1][:5] for question, _ in pairs]
['"cat"', '"dog"']
>>> pairs[0][1]
'```json\\n[\\n  {"bbox_2d": [0, 0, 500, 1000], "label": "cat"}\\n]\\n```'
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from workbench.export.questions import conversation, default_templates
from workbench.export.samples import ExportSample
from workbench.export.settings import ExportSettings
from workbench.export.targets import Geometry, answer_text

__all__ = ["Dialogue"]


class Dialogue:
    """Builds the pairs of every sample of one export and counts how each question was made."""

    def __init__(self, settings: ExportSettings, *, format_templates: Mapping[str, str] | None = None,
                 task: str | None = None) -> None:
        self.settings = settings
        self.task = task or settings.task
        self.templates = {**(format_templates or {}), **settings.question_templates}
        self.generated = 0
        self.own_prompts = 0

    def pairs(self, sample: ExportSample, geometry: Geometry) -> list[tuple[str, str]]:
        """(question, answer) per turn, in order."""
        talk = conversation(sample, self.settings.family, self.task, self.templates, self.settings.negative_labels)
        self.own_prompts += talk.own_prompt
        self.generated += len(talk.turns) - talk.own_prompt
        multi = len(sample.images) > 1
        return [(turn.question, answer_text(turn.objects, geometry, multi=multi)) for turn in talk.turns]

    def details(self) -> dict[str, Any]:
        """The manifest's ``questions`` record: task, effective templates, how many were generated."""
        return {"questions": {
            "task": self.task,
            "templates": {**default_templates(self.settings.family), **self.templates},
            "generated": self.generated,
            "own_prompts": self.own_prompts,
            "note": "Default templates are the family's official phrasing; a multi-image sample's question also "
                    "maps picture numbers to image IDs and asks for each object's picture.",
        }}
