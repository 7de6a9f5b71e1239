"""``manifest.json``, written next to the data: what the coordinates mean and for which trainer setup.

>>> from workbench.export.settings import ExportSettings
>>> caveats_for("qwen_finetune", ExportSettings.create("qwen2.5-vl"))[0][:40]
'qwen-vl-finetune ignores --min_pixels/--'
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from grounding import PixelLimits
from workbench import __version__
from workbench.export.base import ExportFormat, FormatOutput
from workbench.export.samples import Carried, ExportSample
from workbench.export.settings import ExportSettings

__all__ = ["QWEN_FINETUNE_TRANSFORMERS_CAVEAT", "build_manifest", "caveats_for", "limits_warning"]

QWEN_FINETUNE_TRANSFORMERS_CAVEAT = (
    "qwen-vl-finetune ignores --min_pixels/--max_pixels with transformers 5.x: its pixel update writes a plain "
    "dict that the 5.x processor no longer reads, so training silently uses the checkpoint's own limits "
    "(preprocessor_config.json). Qwen2.5-VL targets here are absolute on the image resized with the limits "
    "below: export with the limits the trainer really applies (the checkpoint's, under transformers 5.x), or set "
    "them in the checkpoint's preprocessor config."
)
_SWIFT_CAVEAT = ("ms-swift fills <bbox> as cookbook JSON for Qwen2.5-VL/Qwen3-VL only with QWENVL_BBOX_FORMAT=new "
                 "(Qwen2-VL: the default, legacy); it rescales bbox_type 'real' boxes to the resized image itself. "
                 "Refs are JSON-escaped for the JSON answer.")
_VLMR1_CAVEAT = ("VLM-R1's Qwen module cannot train multi-image samples, and its REC reward rescales from the first "
                 "image's model input size only. OVD ground truth is in model coordinates under the limits below, "
                 "because its odLength reward compares raw outputs; train OVD with "
                 "--is_reward_customized_from_vlm_module False --reward_method odLength.")
_XCOMPOSER2_CAVEAT = ("XComposer2's finetune.py resizes every image to --img_size x --img_size (490 in its "
                      "finetune.sh) whatever its aspect: targets are on that square (Qwen2.5-VL: its pixels; "
                      "Qwen2-VL/Qwen3-VL: 0-1000), for --img_size 490 --hd_num -1 (not 4KHD tiling). data.txt "
                      "holds the sample count in thousands for --given_num True (as its finetune.sh passes); "
                      "without it the number is read as a ratio.")
_ABSOLUTE_PATHS = ("Image paths are absolute (this machine): the trainer finds them from any working directory; "
                   "export with paths='relative' (--paths relative) to move the folder elsewhere.")
_ABSOLUTE_CAVEAT = ("Qwen2.5-VL targets are absolute pixels of the RESIZED image: they are right only if the trainer "
                    "resizes with exactly these pixel limits.")

PATH_FORMATS = ("swift", "xcomposer2")
"""The formats whose image paths follow ``ExportSettings.paths`` (the others are always relative to the export)."""


def _transformers_major(version: str | None) -> int | None:
    try:
        return int(version.split(".")[0]) if version else None
    except ValueError:
        return None


def limits_warning(settings: ExportSettings) -> str | None:
    """A warning when qwen-vl-finetune would not apply the chosen limits (transformers 5.x or unknown)."""
    if settings.family.is_relative or settings.limits == PixelLimits.default_for(settings.family):
        return None
    major = _transformers_major(settings.transformers_version)
    if major is not None and major < 5:
        return None
    return (f"limits {settings.limits.min_pixels}/{settings.limits.max_pixels} differ from the checkpoint's; "
            f"qwen-vl-finetune under transformers {settings.transformers_version or '5.x (assumed)'} ignores "
            "--min_pixels/--max_pixels, so these targets would not match what it trains on")


def caveats_for(format_name: str, settings: ExportSettings) -> list[str]:
    caveats = []
    if format_name == "qwen_finetune":
        caveats.append(QWEN_FINETUNE_TRANSFORMERS_CAVEAT)
    if format_name in ("qwen_finetune", "llamafactory") and not settings.family.is_relative:
        caveats.append(_ABSOLUTE_CAVEAT)
    if format_name == "xcomposer2":
        caveats.append(_XCOMPOSER2_CAVEAT)
    if format_name == "swift":
        caveats.append(_SWIFT_CAVEAT)
    if format_name == "vlmr1":
        caveats.append(_VLMR1_CAVEAT)
    if format_name in PATH_FORMATS and settings.paths == "absolute":
        caveats.append(_ABSOLUTE_PATHS)
    return caveats


def build_manifest(fmt: ExportFormat, dataset: str, settings: ExportSettings, samples: Sequence[ExportSample],
                   output: FormatOutput, warnings: Sequence[str], created_at: str,
                   carried: Carried | None = None) -> dict[str, Any]:
    images = [image for sample in samples for image in sample.images]
    manifest: dict[str, Any] = {
        "format": fmt.name,
        "title": fmt.title,
        "dataset": dataset,
        "created_at": created_at,
        "workbench_version": __version__,
        "family": settings.family.name,
        "coordinates": fmt.coordinates,
        "trainer_pixel_limits": {"min_pixels": settings.limits.min_pixels, "max_pixels": settings.limits.max_pixels},
        "transformers_version": settings.transformers_version,
        "review_statuses": list(settings.statuses),
        "counts": {
            "samples": len(samples),
            "entries": output.entries,
            "images": len(images),
            "distinct_images": len({image.file for image in images}),
            "boxes": sum(len(image.boxes) for image in images),
            "points": sum(len(image.points) for image in images),
        },
        "skipped": {
            "without_annotations": carried.skipped_empty if carried else 0,
            "all_annotations_left_out": carried.skipped_dropped if carried else 0,
            "annotations_left_out": dict(carried.left_out) if carried else {},
        },
        "negatives": settings.negatives,
        "paths": settings.paths if fmt.name in PATH_FORMATS else "relative",  # the others always write relative
        "files": list(output.files),
        "usage": output.usage,
        "caveats": caveats_for(fmt.name, settings),
        "warnings": list(warnings),
        **output.details,
    }
    if fmt.name == "llamafactory":
        manifest["llamafactory"] = {"image_max_pixels": settings.image_max_pixels,
                                    "image_min_pixels": settings.image_min_pixels}
    if fmt.name == "vlmr1":
        manifest["vlmr1_task"] = settings.vlmr1_task
    return manifest
