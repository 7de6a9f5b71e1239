"""The chat messages of a request: its history, then the new user turn, with each image named.

Messages stay plain dicts with ``{"type": "image", "image_id": ...}`` placeholders; each backend
swaps them for what it sends (``{"type": "image"}`` with PIL images in order for the local
processor, ``image_url`` data URLs for a server). Images are named as the request says
(:class:`grounding.prompts.ImageNaming`), counted across the whole conversation as the chat
template counts them.

>>> request = GroundingRequest(images=(b"a", b"b"), prompt="Find cats.", image_ids=("front", "back"),
...                            naming="ids")
>>> [p.get("text", p.get("image_id")) for p in request_messages(request)[0]["content"]]
['front: ', 'front', 'back: ', 'back', 'Find cats.']
>>> [p.get("text", p.get("image_id")) for p in request_messages(
...     GroundingRequest(images=(b"a", b"b"), prompt="Find."))[0]["content"]]
['Picture 1: ', 'img1', 'Picture 2: ', 'img2', 'Find.']
"""

from __future__ import annotations

from grounding.prompts import build_messages, label_images
from workbench.backends.base import GroundingRequest

__all__ = ["request_messages", "processor_messages"]


def request_messages(request: GroundingRequest, *, vision_id_in_template: bool = False) -> list[dict]:
    """History + the new user turn (its images, then the prompt), labels written as text parts.

    ``vision_id_in_template`` leaves ``Picture N:`` out of the messages for a backend that
    passes ``add_vision_id=True`` to the chat template instead (it renders the same text).
    """
    turn = build_messages(request.new_image_ids, request.prompt)
    return label_images([*request.history, *turn], request.image_naming, skip_picture=vision_id_in_template)


def processor_messages(request: GroundingRequest) -> list[dict]:
    """Messages for a local chat template: image parts become ``{"type": "image"}`` (the images
    go to the processor separately, in the request's order, which is their order here)."""
    messages = request_messages(request, vision_id_in_template=True)
    for message in messages:
        if isinstance(message.get("content"), list):
            message["content"] = [{"type": "image"} if p.get("type") == "image" else p for p in message["content"]]
    return messages
