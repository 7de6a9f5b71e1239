"""A font that can draw CJK labels: the Noto CJK fonts (Debian ``fonts-noto-cjk``, listed in packages.txt).

Looked up in this order: the ``WORKBENCH_FONT`` environment variable, the usual install paths of
Noto Sans CJK on Linux and macOS, then fontconfig (``fc-list :lang=zh``). ``None`` when none is found;
the caller then falls back to Pillow's default font, which has no CJK glyphs.

>>> path = cjk_font_path()
>>> path is None or path.endswith((".ttc", ".otf", ".ttf"))
True
"""

from __future__ import annotations

import os
import shutil
import subprocess
from functools import lru_cache

__all__ = ["FONT_ENV", "KNOWN_CJK_FONTS", "cjk_font_path"]

FONT_ENV = "WORKBENCH_FONT"
KNOWN_CJK_FONTS = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",  # Debian/Ubuntu fonts-noto-cjk
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",  # Arch
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",  # Fedora
    "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
    "/System/Library/Fonts/PingFang.ttc",  # macOS
    "/System/Library/Fonts/Hiragino Sans GB.ttc",
)


@lru_cache(maxsize=1)
def cjk_font_path() -> str | None:
    """Path of a font file with CJK glyphs, or ``None``."""
    configured = os.environ.get(FONT_ENV)
    if configured and os.path.isfile(configured):
        return configured
    for path in KNOWN_CJK_FONTS:
        if os.path.isfile(path):
            return path
    if shutil.which("fc-list"):
        try:
            out = subprocess.run(["fc-list", ":lang=zh", "file"], capture_output=True, text=True, timeout=10,
                                 check=False).stdout
        except (OSError, subprocess.SubprocessError):
            return None
        files = sorted({line.strip().rstrip(":") for line in out.splitlines() if line.strip()},
                       key=lambda path: ("sans" not in path.lower(), path))
        return next((path for path in files if os.path.isfile(path)), None)
    return None
