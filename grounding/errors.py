"""The one error root of ``grounding``: every error it raises for a bad argument is a :class:`GroundingError`.

``grounding`` never raises on model text (the parser reports what it could not read as warnings);
it raises for arguments that cannot work — an unknown family, impossible pixel limits, a file that
is not an image. ``GroundingError`` is a ``ValueError``, so code that caught ``ValueError`` still does.

    GroundingError (ValueError)
     ├── UnknownFamilyError   a family name or config model_type that is not Qwen-VL
     ├── GeometryError        pixel limits or sizes the resize rule cannot take
     └── ImageReadError       a file or bytes that are not a readable image

The application core has its own root, :class:`workbench.errors.WorkbenchError`; boundaries that
speak to a person catch both through ``workbench.errors.USER_ERRORS``.

>>> issubclass(GeometryError, GroundingError) and issubclass(GroundingError, ValueError)
True
"""

from __future__ import annotations

__all__ = ["GeometryError", "GroundingError", "ImageReadError", "UnknownFamilyError"]


class GroundingError(ValueError):
    """A bad argument to a ``grounding`` function; the message says what is wrong in words."""


class UnknownFamilyError(GroundingError):
    """A family name or a config ``model_type`` that is not a supported Qwen-VL family."""


class GeometryError(GroundingError):
    """Pixel limits or image sizes that the resize rule cannot take."""


class ImageReadError(GroundingError):
    """A file or bytes that are not a readable image (missing, truncated, not an image, too large)."""
