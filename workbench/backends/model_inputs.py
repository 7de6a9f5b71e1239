"""Images as a local Qwen-VL processor takes them: decoded once, small when the model sees them small, already resized.

Where the time went (tiny model, two small images, 64 new tokens): the processor's resize and
patching, the images decoded for every request, EXIF applied to a full-size copy; then, once
decoding was cheap, fresh memory: float patches made per image, kept, and concatenated again per
request (page faults on tens of MB), and the tokenizer reading thousands of image placeholders.
Here:

- each image is decoded once at the size it needs (:func:`grounding.decode.decode_upright`: a
  JPEG at 1/2, 1/4 or 1/8 scale when the model sees it that much smaller; EXIF orientation
  applied to the small copy) and resized to exactly :func:`grounding.process_size` (the
  project's copy of ``smart_resize``, tested against the processor) with the call the processor
  itself makes (torchvision, the processor's ``resample``, antialias). An image decoded at full
  size gets the processor's own pixels, bit for bit; one decoded at reduced scale differs by what
  the smaller decode smooths.
- only those uint8 pixels are kept per image (keyed by file path + size + mtime, or by a digest
  of the bytes; PIL images given by the caller are not kept), so a new prompt on the same images
  decodes nothing. A request's ``pixel_values`` are written once, straight into one tensor: the
  processor's own rescale-and-normalize arithmetic on each image, then its patch layout as one
  copy (:func:`vision_inputs`), instead of per-image patches and a concatenation.
- the prompt is tokenized with one placeholder per image and the placeholder ids are repeated
  (:func:`assemble`), rather than tokenizing the expanded text.
- the processed inputs of recent requests are kept, so the same request again (e.g. with more
  new tokens) skips all of it.

The result is checked against the processor's own call once per processor (:class:`InputCache`);
if it ever differs, the processor is called every time from then on.

>>> cache = InputCache(max_bytes=1 << 20)
>>> cache.stats()
{'pixel_hits': 0, 'pixel_misses': 0, 'input_hits': 0, 'input_misses': 0}
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import threading
import warnings
import weakref
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image

from grounding import (
    GeometryError,
    ImageReadError,
    ModelFamily,
    PixelLimits,
    process_size,
)
from grounding.decode import decode_upright, rgb8
from workbench.backends.base import ImageInput
from workbench.backends.media import original_wh
from workbench.errors import BackendError

__all__ = ["InputCache", "ModelImage", "assemble", "image_key", "vision_inputs"]


@dataclass(frozen=True)
class ModelImage:
    """One image as the model takes it: upright uint8 pixels (3, h, w) at the processor's size, its
    grid (a (1, 3) ``image_grid_thw``: 1, h / patch, w / patch) and the original (w, h)."""

    pixels: Any
    grid_thw: Any
    original_wh: tuple[int, int]

    @property
    def resized_wh(self) -> tuple[int, int]:
        return (int(self.pixels.shape[2]), int(self.pixels.shape[1]))

    @property
    def nbytes(self) -> int:
        return int(self.pixels.numel())


def image_key(image: ImageInput) -> Hashable | None:
    """What identifies an image's content cheaply: a file's path, size and mtime, or the bytes' digest.

    None for PIL images (the caller's objects can change under the same identity).

    >>> image_key(b"abc") == image_key(b"abc") != image_key(b"abd")
    True
    """
    if isinstance(image, (bytes, bytearray)):
        return ("bytes", hashlib.blake2b(image, digest_size=16).hexdigest())
    if isinstance(image, (str, os.PathLike)):
        try:
            stat = os.stat(image)
        except OSError:
            return None  # reading it will say what is wrong
        return ("file", os.path.realpath(image), stat.st_size, stat.st_mtime_ns, stat.st_ino)
    return None


class _Lru:
    """Least recently used entries up to ``max_bytes`` in total (thread-safe)."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._items: OrderedDict[Hashable, tuple[Any, int]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> Any | None:
        with self._lock:
            found = self._items.get(key)
            if found is None:
                return None
            self._items.move_to_end(key)
            return found[0]

    def put(self, key: Hashable, value: Any, nbytes: int) -> None:
        if nbytes > self.max_bytes:
            return
        with self._lock:
            if key in self._items:
                self._bytes -= self._items.pop(key)[1]
            self._items[key] = (value, nbytes)
            self._bytes += nbytes
            while self._bytes > self.max_bytes:
                _, (_, size) = self._items.popitem(last=False)
                self._bytes -= size

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._bytes = 0


def _decode(image: ImageInput, at_least_wh: tuple[int, int]) -> Image.Image:
    if isinstance(image, Image.Image):  # the caller's, already upright
        return rgb8(image)
    try:
        return decode_upright(image, at_least_wh)
    except ImageReadError as exc:
        name = os.fspath(image) if isinstance(image, (str, os.PathLike)) else "image"
        raise BackendError(f"{name}: {str(exc).split(': ', 1)[-1]}") from None


def _resize(pixels: Any, size_wh: tuple[int, int], resample: Any) -> Any:
    """The processor's own resize call (torchvision, its interpolation, antialias) to exactly ``size_wh``."""
    import torchvision.transforms.v2.functional as tvF
    from transformers.image_utils import pil_torch_interpolation_mapping

    interpolation = pil_torch_interpolation_mapping.get(resample, resample) if resample is not None else None
    return tvF.resize(pixels, [size_wh[1], size_wh[0]], interpolation=interpolation or tvF.InterpolationMode.BILINEAR,
                      antialias=True)


@dataclass(frozen=True)
class _Patching:
    """What the processor's rescale, normalize and patchify use (read once from its image processor)."""

    patch: int
    merge: int
    temporal: int
    mean: Any
    """(3,) float32: the processor's fused ``image_mean / rescale_factor``"""
    std: Any

    @classmethod
    def of(cls, image_processor: Any) -> _Patching | None:
        """None when the processor does not rescale and normalize as Qwen-VL's does (then it patches itself)."""
        import torch

        try:
            if not (image_processor.do_rescale and image_processor.do_normalize):
                return None
            scale = 1.0 / image_processor.rescale_factor
            mean = torch.tensor(image_processor.image_mean) * scale  # as the processor fuses them
            std = torch.tensor(image_processor.image_std) * scale
            sizes = (int(image_processor.patch_size), int(image_processor.merge_size),
                     int(image_processor.temporal_patch_size))
        except (AttributeError, TypeError, ValueError):
            return None
        if mean.shape != (3,) or std.shape != (3,):
            return None
        return cls(*sizes, mean, std)

    @property
    def row(self) -> int:
        """Values per patch row of ``pixel_values``: channels x temporal x patch x patch."""
        return 3 * self.temporal * self.patch * self.patch

    def write(self, pixels: Any, out: Any) -> None:
        """Normalize ``pixels`` (3, h, w uint8) with the processor's float arithmetic and write their patches
        into ``out`` (rows, :attr:`row`) as the processor lays them out, in one copy."""
        import torch

        c, h, w = pixels.shape
        p, m, t = self.patch, self.merge, self.temporal
        gh, gw = h // (p * m), w // (p * m)
        values = pixels.to(torch.float32, memory_format=torch.contiguous_format, copy=True)  # pixels may be channels-last
        values.sub_(self.mean.view(c, 1, 1)).div_(self.std.view(c, 1, 1))  # torchvision's normalize, in place
        blocks = values.view(c, gh, m, p, gw, m, p).permute(1, 4, 2, 5, 0, 3, 6)  # gh, gw, m, m, c, p, p
        shape = (gh, gw, m, m, c, t, p, p)
        out.view(shape).copy_(blocks.unsqueeze(5).expand(shape))


_PATCHING: dict[int, tuple[weakref.ref[Any], _Patching | None]] = {}
"""Per image processor (by id, with a reference that says it is still the same object: an id is reused once
its object is gone, and a Qwen3-VL processor must not get a Qwen2.5-VL one's patch size)."""


def _patching(image_processor: Any) -> _Patching | None:
    found = _PATCHING.get(id(image_processor))
    if found is not None and found[0]() is image_processor:
        return found[1]
    made = _Patching.of(image_processor)
    with contextlib.suppress(TypeError):  # no weak references to it: not cached
        _PATCHING[id(image_processor)] = (weakref.ref(image_processor), made)
    return made


def vision_inputs(images: list[ModelImage], image_processor: Any) -> dict[str, Any]:
    """``pixel_values`` and ``image_grid_thw`` of several images, in order, as the processor stacks them.

    Written into one tensor (:class:`_Patching`); a processor that does not rescale and normalize
    as Qwen-VL's does is called instead.
    """
    import torch

    patching = _patching(image_processor)
    if patching is None:
        made = image_processor(images=[image.pixels for image in images], do_resize=False, return_tensors="pt")
        return {"pixel_values": made["pixel_values"], "image_grid_thw": made["image_grid_thw"]}
    rows = [int(image.grid_thw[0, 1] * image.grid_thw[0, 2]) for image in images]
    pixel_values = torch.empty((sum(rows), patching.row), dtype=torch.float32)
    start = 0
    for image, count in zip(images, rows):
        patching.write(image.pixels, pixel_values[start:start + count])
        start += count
    return {"pixel_values": pixel_values, "image_grid_thw": torch.cat([image.grid_thw for image in images])}


def _expanded_ids(processor: Any, texts: list[str], replacements: list[str]) -> list[list[int]] | None:
    """Token ids of ``texts`` with each image placeholder repeated as ``replacements`` say, or None when
    the replacements are not repeats of the placeholder (then the expanded text must be tokenized)."""
    token = getattr(processor, "image_token", None)
    token_id = getattr(processor, "image_token_id", None)
    if not token or token_id is None:
        return None
    counts = [len(r) // len(token) for r in replacements]
    if any(r != token * n for r, n in zip(replacements, counts)):
        return None
    short = processor.tokenizer(list(texts))["input_ids"]
    if sum(ids.count(token_id) for ids in short) != len(replacements):
        return None
    pending = iter(counts)
    expanded = []
    for ids in short:
        row: list[int] = []
        for token_ in ids:
            row.extend([token_] * next(pending) if token_ == token_id else (token_,))
        expanded.append(row)
    return expanded


def assemble(processor: Any, texts: list[str], images: list[ModelImage], padding_side: str = "left",
             vision: dict[str, Any] | None = None) -> Any:
    """What ``processor(text=texts, images=..., do_resize=False)`` returns, from images sized before.

    The processor's own steps: its image-token replacement, its tokenizer (left padding for a
    batch), its ``mm_token_type_ids``; the text is tokenized with one placeholder per image, whose
    id is then repeated (:func:`_expanded_ids`). :meth:`InputCache.encode` checks the result against
    the processor once per processor before trusting it. ``vision``: :func:`vision_inputs` of
    ``images`` when already made.
    """
    from transformers import BatchFeature

    vision = vision if vision is not None else vision_inputs(images, processor.image_processor)
    replacements = [processor.replace_image_token(vision, image_idx=i) for i in range(len(images))]
    padding = {"padding": True, "padding_side": padding_side} if len(texts) > 1 else {}
    ids = _expanded_ids(processor, texts, replacements)
    if ids is None:
        expanded, _ = processor.get_text_with_replacements(list(texts), replacements)
        text_inputs = dict(processor.tokenizer(expanded, **padding))
    elif padding:
        text_inputs = dict(processor.tokenizer.pad({"input_ids": ids}, **padding))
    else:
        text_inputs = {"input_ids": ids, "attention_mask": [[1] * len(row) for row in ids]}
    if getattr(processor, "return_mm_token_type_ids", False):
        text_inputs["mm_token_type_ids"] = processor.create_mm_token_type_ids(text_inputs["input_ids"])
    data = {k: v for k, v in {**text_inputs, **vision}.items() if k not in processor.unused_input_names}
    return BatchFeature(data, tensor_type="pt")


def _same(a: Any, b: Any) -> bool:
    import torch

    return set(a.keys()) == set(b.keys()) and all(
        torch.equal(torch.as_tensor(a[k]), torch.as_tensor(b[k])) for k in a)


class InputCache:
    """Model-sized uint8 pixels of recent images, the stacked ``pixel_values`` of recent image sets and
    the inputs of recent requests.

    ``max_bytes`` in all: half for the images, a quarter each for the rest (which share the
    ``pixel_values`` tensors). An entry larger than its share is not kept. Float patches are not
    kept per image: eight times the pixels' size, each in fresh memory (page faults), and
    concatenated again for every request.
    """

    def __init__(self, max_bytes: int = 256 << 20) -> None:
        self._pixels = _Lru(max_bytes // 2)
        self._stacked = _Lru(max_bytes // 4)
        self._inputs = _Lru(max_bytes // 4)
        self._counts = {"pixel_hits": 0, "pixel_misses": 0, "input_hits": 0, "input_misses": 0}
        self._assembly_checked: dict[int, bool] = {}

    def stats(self) -> dict[str, int]:
        """Hits and misses so far (for tests and benchmarks)."""
        return dict(self._counts)

    def clear(self) -> None:
        self._pixels.clear()
        self._stacked.clear()
        self._inputs.clear()

    def encode(self, processor: Any, texts: list[str], images: list[ModelImage], key: Hashable | None = None,
               vision_key: Hashable | None = None) -> Any:
        """Model inputs for ``texts`` (one per request, left-padded when several) and all their images in order.

        Assembled from the sized images (:func:`assemble`); the first time for a processor the
        result is compared with the processor's own call, and if they differ the processor is
        called every time from then on. Kept under ``key``, the images' ``pixel_values`` under
        ``vision_key`` (a new prompt on the same images writes none); None: not kept.
        """
        found = None if key is None else self._inputs.get(key)
        if found is not None:
            self._counts["input_hits"] += 1
            return found
        self._counts["input_misses"] += 1
        built = self._encode(processor, texts, images, vision_key)
        if key is not None:
            self._inputs.put(key, built, sum(int(v.numel() * v.element_size()) for v in built.values()
                                             if hasattr(v, "element_size")))
        return built

    def _vision(self, processor: Any, images: list[ModelImage], key: Hashable | None) -> dict[str, Any]:
        if key is not None and (found := self._stacked.get(key)) is not None:
            return found
        vision = vision_inputs(images, processor.image_processor)
        if key is not None:
            self._stacked.put(key, vision, int(vision["pixel_values"].numel() * vision["pixel_values"].element_size()))
        return vision

    def _encode(self, processor: Any, texts: list[str], images: list[ModelImage], vision_key: Hashable | None) -> Any:
        trusted = self._assembly_checked.get(id(processor))
        if trusted is False:
            return self._call_processor(processor, texts, images)
        assembled = assemble(processor, texts, images, vision=self._vision(processor, images, vision_key))
        if trusted is None:
            trusted = _same(assembled, self._call_processor(processor, texts, images))
            self._assembly_checked[id(processor)] = trusted
            if not trusted:
                warnings.warn("this processor's output differs from the assembled inputs: calling it every time",
                              RuntimeWarning, stacklevel=3)
                return self._call_processor(processor, texts, images)
        return assembled

    @staticmethod
    def _call_processor(processor: Any, texts: list[str], images: list[ModelImage]) -> Any:
        padding = {"padding": True, "padding_side": "left"} if len(texts) > 1 else {}
        try:
            return processor(text=texts, images=[image.pixels for image in images], do_resize=False,
                              return_tensors="pt", **padding)
        except ValueError as exc:
            raise BackendError(f"the processor refused the images: {exc}") from None

    def model_image(self, image: ImageInput, processor: Any, family: ModelFamily, limits: PixelLimits) -> ModelImage:
        """``image`` upright, at exactly the size ``process_size`` gives for ``family`` and ``limits``, and its grid."""
        import torch

        key = image_key(image)
        image_processor = processor.image_processor
        cache_key = None if key is None else (key, id(processor), family.name, limits)
        if cache_key is not None and (found := self._pixels.get(cache_key)) is not None:
            self._counts["pixel_hits"] += 1
            return found
        self._counts["pixel_misses"] += 1
        size = original_wh(image)
        try:
            target = process_size(size, family, limits).resized_wh
        except GeometryError as exc:
            raise BackendError(f"the processor refused the images: {exc}") from None
        decoded = _decode(image, target)
        pixels = torch.from_numpy(np.array(decoded)).permute(2, 0, 1)  # (3, h, w), as the processor lays them out
        if decoded.size != target:
            pixels = _resize(pixels, target, image_processor.resample)
        patch = int(image_processor.patch_size)
        grid = torch.tensor([[1, target[1] // patch, target[0] // patch]], dtype=torch.long)
        made = ModelImage(pixels, grid, size)
        if cache_key is not None:
            self._pixels.put(cache_key, made, made.nbytes)
        return made
