"""Annotations between SQLite rows, history JSON and dataclasses (functions on an open connection).

>>> a = Annotation("box", (1, 2, 3, 4), "cat", id=7, sample_image_id=3)
>>> annotation_from_state(annotation_state(a)) == a
True
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping, Sequence
from typing import Any

from workbench.errors import StoreError
from workbench.store.records import Annotation, AnnotationDraft

__all__ = [
    "ANNOTATION_COLUMNS",
    "annotation_from_row",
    "annotation_from_state",
    "annotation_state",
    "dumps",
    "insert_annotation",
    "read_annotation",
    "write_annotation",
]

ANNOTATION_COLUMNS = "id, sample_image_id, kind, coords, label, provenance, model, settings, status, attributes"


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def annotation_from_row(row: Sequence[Any]) -> Annotation:
    id_, sample_image_id, kind, coords, label, provenance, model, settings, status, attributes = row
    return Annotation(kind, tuple(json.loads(coords)), label, provenance, model, json.loads(settings), status,
                      json.loads(attributes), id=id_, sample_image_id=sample_image_id)


def annotation_state(a: Annotation) -> dict[str, Any]:
    """The annotation as history JSON (what undo restores)."""
    return {"id": a.id, "sample_image_id": a.sample_image_id, "kind": a.kind, "coords": list(a.coords),
            "label": a.label, "provenance": a.provenance, "model": a.model, "settings": dict(a.settings),
            "status": a.status, "attributes": dict(a.attributes)}


def annotation_from_state(state: Mapping[str, Any]) -> Annotation:
    return Annotation(state["kind"], tuple(state["coords"]), state["label"], state["provenance"], state["model"],
                      state["settings"], state["status"], state["attributes"], id=state["id"],
                      sample_image_id=state["sample_image_id"])


def insert_annotation(conn: sqlite3.Connection, sample_image_id: int, draft: AnnotationDraft,
                      id_: int | None = None) -> Annotation:
    cursor = conn.execute(
        f"INSERT INTO annotations ({ANNOTATION_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?)",
        (id_, sample_image_id, draft.kind, json.dumps(list(draft.coords)), draft.label, draft.provenance,
         draft.model, dumps(dict(draft.settings)), draft.status, dumps(dict(draft.attributes))),
    )
    return Annotation(draft.kind, draft.coords, draft.label, draft.provenance, draft.model, draft.settings,
                      draft.status, draft.attributes, id=int(cursor.lastrowid), sample_image_id=sample_image_id)


def write_annotation(conn: sqlite3.Connection, a: Annotation) -> None:
    conn.execute(
        "UPDATE annotations SET kind=?, coords=?, label=?, provenance=?, model=?, settings=?, status=?, "
        "attributes=? WHERE id=?",
        (a.kind, json.dumps(list(a.coords)), a.label, a.provenance, a.model, dumps(dict(a.settings)), a.status,
         dumps(dict(a.attributes)), a.id),
    )


def read_annotation(conn: sqlite3.Connection, annotation_id: int) -> Annotation:
    row = conn.execute(f"SELECT {ANNOTATION_COLUMNS} FROM annotations WHERE id = ?", (annotation_id,)).fetchone()
    if row is None:
        raise StoreError(f"no annotation {annotation_id}")
    return annotation_from_row(row)
