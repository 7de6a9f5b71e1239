"""Images as a local Qwen-VL processor takes them: decoded once, small when the model sees them small, already resized.

Where the time went (tiny model, two small images, 64 new tokens): the processor's resize and
patching, the images decoded for every request, EXIF applied to a full-size copy. Here:

- each image is decoded once at the size it needs (:func:`grounding.decode.decode_upright`: a
  JPEG at 1/2, 1/4 or 1/8 scale when the model sees it that much smaller; EXIF orientation
  applied to the small copy) and resized to exactly :func:`grounding.process_size` (the
  project's copy of ``smart_resize``, tested against the processor) with the call the processor
  itself makes (torchvision, the processor's ``resample``, antialias). The processor then runs
  with ``do_resize=False``. An image decoded at full size gets the processor's own pixels, bit
  for bit; one decoded at reduced scale differs by what the smaller decode smooths.
- the resized pixels of recent images are kept (keyed by file path + size + mtime, or by a
  digest of the bytes; PIL images given by the caller are not kept), so a new prompt on the same
  images decodes nothing; and the processed inputs of recent requests are kept, so the same
  request again (e.g. with more new tokens) skips the processor.

The geometry still comes from the processor's ``image_grid_thw``; the backend checks it is the
size asked for here.

>>> cache = InputCache(max_bytes=1 << 20)
>>> cache.stats()
{'pixel_hits': 0, 'pixel_misses': 0, 'input_hits': 0, 'input_misses': 0}
"""

from __future__ import annotations

import hashlib
import os
import threading
import warnings
from collections import OrderedDict
from collections.abc import Callable, Hashable
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
from grounding.decode import decode_upright
from workbench.backends.base import ImageInput
from workbench.backends.media import original_wh
from workbench.errors import BackendError

__all__ = ["InputCache", "ModelImage", "assemble", "image_key", "vision_inputs"]


@dataclass(frozen=True)
class ModelImage:
    """One image as the model takes it: upright uint8 pixels (3, h, w) at the processor's size, the
    processor's patches of them (``pixel_values`` rows) and grid (a (1, 3) ``image_grid_thw``), the original (w, h)."""

    pixels: Any
    patches: Any
    grid_thw: Any
    original_wh: tuple[int, int]

    @property
    def resized_wh(self) -> tuple[int, int]:
        return (int(self.pixels.shape[2]), int(self.pixels.shape[1]))

    @property
    def nbytes(self) -> int:
        return int(self.pixels.numel() + self.patches.numel() * self.patches.element_size())


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
        return image if image.mode == "RGB" else image.convert("RGB")
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


def vision_inputs(images: list[ModelImage]) -> dict[str, Any]:
    """``pixel_values`` and ``image_grid_thw`` of several images, in order, as the processor stacks them."""
    import torch

    return {"pixel_values": torch.cat([image.patches for image in images]),
            "image_grid_thw": torch.cat([image.grid_thw for image in images])}


def assemble(processor: Any, texts: list[str], images: list[ModelImage], padding_side: str = "left",
             vision: dict[str, Any] | None = None) -> Any:
    """What ``processor(text=texts, images=..., do_resize=False)`` returns, from patches made before.

    The processor's own steps: its image-token replacement, its tokenizer (left padding for a
    batch), its ``mm_token_type_ids``. :meth:`InputCache.encode` checks the result against the
    processor once per processor before trusting it. ``vision``: :func:`vision_inputs` of ``images``
    when already made.
    """
    from transformers import BatchFeature

    vision = vision if vision is not None else vision_inputs(images)
    replacements = [processor.replace_image_token(vision, image_idx=i) for i in range(len(images))]
    expanded, _ = processor.get_text_with_replacements(list(texts), replacements)
    padding = {"padding": True, "padding_side": padding_side} if len(texts) > 1 else {}
    text_inputs = dict(processor.tokenizer(expanded, **padding))
    if getattr(processor, "return_mm_token_type_ids", False):
        text_inputs["mm_token_type_ids"] = processor.create_mm_token_type_ids(text_inputs["input_ids"])
    data = {k: v for k, v in {**text_inputs, **vision}.items() if k not in processor.unused_input_names}
    return BatchFeature(data, tensor_type="pt")


def _same(a: Any, b: Any) -> bool:
    import torch

    return set(a.keys()) == set(b.keys()) and all(
        torch.equal(torch.as_tensor(a[k]), torch.as_tensor(b[k])) for k in a.keys())


class InputCache:
    """Model-sized pixels and patches of recent images, stacked images and inputs of recent requests.

    ``max_bytes`` in all: half for the images, a quarter each for the rest (which mostly share the
    images' tensors). An entry larger than its share is not kept.
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

        Assembled from each image's patches (:func:`assemble`); the first time for a processor the
        result is compared with the processor's own call, and if they differ the processor is
        called every time from then on. Kept under ``key``, the stacked images under ``vision_key``
        (a new prompt on the same images stacks nothing); None: not kept.
        """
        return self.inputs(key, lambda: self._encode(processor, texts, images, vision_key))

    def _vision(self, images: list[ModelImage], key: Hashable | None) -> dict[str, Any]:
        if key is not None and (found := self._stacked.get(key)) is not None:
            return found
        vision = vision_inputs(images)
        if key is not None:
            self._stacked.put(key, vision, int(vision["pixel_values"].numel() * vision["pixel_values"].element_size()))
        return vision

    def _encode(self, processor: Any, texts: list[str], images: list[ModelImage], vision_key: Hashable | None) -> Any:
        trusted = self._assembly_checked.get(id(processor))
        if trusted is False:
            return self._call_processor(processor, texts, images)
        assembled = assemble(processor, texts, images, vision=self._vision(images, vision_key))
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
        """``image`` upright, at exactly the size ``process_size`` gives for ``family`` and ``limits``, patched."""
        import torch

        key = image_key(image)
        resample = processor.image_processor.resample
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
        pixels = torch.from_numpy(np.array(decoded)).permute(2, 0, 1).contiguous()  # as the processor lays them out
        if decoded.size != target:
            pixels = _resize(pixels, target, resample)
        patched = processor.image_processor(images=[pixels], do_resize=False, return_tensors="pt")
        made = ModelImage(pixels, patched["pixel_values"], patched["image_grid_thw"], size)
        if cache_key is not None:
            self._pixels.put(cache_key, made, made.nbytes)
        return made

    def inputs(self, key: Hashable | None, build: Callable[[], Any]) -> Any:
        """The processed inputs for ``key`` (None: not kept), built by ``build()`` when not kept yet."""
        if key is not None and (found := self._inputs.get(key)) is not None:
            self._counts["input_hits"] += 1
            return found
        self._counts["input_misses"] += 1
        built = build()
        if key is not None:
            self._inputs.put(key, built, sum(int(v.numel() * v.element_size()) for v in built.values()
                                             if hasattr(v, "element_size")))
        return built
