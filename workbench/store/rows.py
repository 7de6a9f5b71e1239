"""Annotations between SQLite rows, history JSON and dataclasses (functions on an open connection).

>>> a = Annotation("box", (1, 2, 3, 4), "cat", id=7, item_image_id=3)
>>> annotation_from_state(annotation_state(a)) == a
True
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping, Sequence
from typing import Any

from workbench.store.records import Annotation, AnnotationDraft

__all__ = [
    "ANNOTATION_COLUMNS",
    "annotation_from_row",
    "annotation_from_state",
    "annotation_state",
    "dumps",
    "insert_annotation",
]

ANNOTATION_COLUMNS = "id, item_image_id, kind, coords, label, provenance, model, settings, attributes, score"


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def annotation_from_row(row: Sequence[Any]) -> Annotation:
    id_, item_image_id, kind, coords, label, provenance, model, settings, attributes, score = row
    return Annotation(kind, tuple(json.loads(coords)), label, provenance, model, json.loads(settings),
                      json.loads(attributes), score, id=id_, item_image_id=item_image_id)


def annotation_state(a: Annotation) -> dict[str, Any]:
    """The annotation as history JSON (what undo restores)."""
    return {"id": a.id, "item_image_id": a.item_image_id, "kind": a.kind, "coords": list(a.coords),
            "label": a.label, "provenance": a.provenance, "model": a.model, "settings": dict(a.settings),
            "attributes": dict(a.attributes), "score": a.score}


def annotation_from_state(state: Mapping[str, Any]) -> Annotation:
    return Annotation(state["kind"], tuple(state["coords"]), state["label"], state["provenance"], state["model"],
                      state["settings"], state["attributes"], state.get("score"), id=state["id"],
                      item_image_id=state["item_image_id"])


def insert_annotation(conn: sqlite3.Connection, item_image_id: int, draft: AnnotationDraft,
                      id_: int | None = None) -> Annotation:
    cursor = conn.execute(
        f"INSERT INTO annotations ({ANNOTATION_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?)",
        (id_, item_image_id, draft.kind, json.dumps(list(draft.coords)), draft.label, draft.provenance,
         draft.model, dumps(dict(draft.settings)), dumps(dict(draft.attributes)), draft.score),
    )
    return Annotation(draft.kind, draft.coords, draft.label, draft.provenance, draft.model, draft.settings,
                      draft.attributes, draft.score, id=int(cursor.lastrowid or 0), item_image_id=item_image_id)
