"""What one upload, one session and one model request may cost: the resource limits, each set by a variable.

A leaf module (the environment only), so the backends, the file checks and the deployment all take their
bounds from here; :class:`workbench.deployment.Deployment` carries the limits an entry point read.

>>> ResourceLimits.from_env({"WORKBENCH_MAX_NEW_TOKENS": "256"}).max_new_tokens
256
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields

from workbench.environment import process_env

__all__ = ["MB", "ResourceLimits"]

MB = 1 << 20


@dataclass(frozen=True)
class ResourceLimits:
    """What one upload, one session and one model request may cost (0 = no limit for that item).

    Each field can be set with the environment variable named in its metadata.

    >>> ResourceLimits.from_env({"WORKBENCH_MAX_NEW_TOKENS": "256"}).max_new_tokens
    256
    >>> ResourceLimits().upload_pixels
    50000000
    """

    upload_bytes: int = field(default=50 * MB, metadata={"env": "WORKBENCH_MAX_UPLOAD_BYTES"})
    """Bytes of one uploaded file."""
    upload_pixels: int = field(default=50_000_000, metadata={"env": "WORKBENCH_MAX_UPLOAD_PIXELS"})
    """Decoded pixels (width x height) of one uploaded image, read from its header before decoding."""
    import_bytes: int = field(default=2048 * MB, metadata={"env": "WORKBENCH_MAX_IMPORT_BYTES"})
    """Uncompressed bytes of the images one zip may hold (its declared sizes, checked before unpacking)."""
    session_bytes: int = field(default=500 * MB, metadata={"env": "WORKBENCH_SESSION_BYTES"})
    """Bytes of all images one browser session keeps."""
    session_pixels: int = field(default=500_000_000, metadata={"env": "WORKBENCH_SESSION_PIXELS"})
    """Decoded pixels of all images one browser session keeps."""
    images_per_request: int = field(default=16, metadata={"env": "WORKBENCH_MAX_IMAGES"})
    prompt_chars: int = field(default=20_000, metadata={"env": "WORKBENCH_MAX_PROMPT_CHARS"})
    max_new_tokens: int = field(default=8192, metadata={"env": "WORKBENCH_MAX_NEW_TOKENS"})
    max_pixels: int = field(default=16_777_216, metadata={"env": "WORKBENCH_MAX_PIXELS"})
    """Largest min_pixels/max_pixels a request may ask for (16384 tokens of Qwen3-VL; the families' defaults fit)."""
    request_s: int = field(default=300, metadata={"env": "WORKBENCH_REQUEST_SECONDS"})
    """Wall time of one model request (a local generation or a server's whole answer)."""
    server_timeout_s: int = field(default=60, metadata={"env": "WORKBENCH_SERVER_TIMEOUT"})
    """Seconds a server may stay silent (connect, or between two pieces of its answer)."""
    server_retries: int = field(default=1, metadata={"env": "WORKBENCH_SERVER_RETRIES"})
    answer_bytes: int = field(default=16 * MB, metadata={"env": "WORKBENCH_MAX_ANSWER_BYTES"})
    """Bytes a server's answer to one request may have (an 8192-token stream is about 3 MB)."""
    visitor_upload_bytes: int = field(default=500 * MB, metadata={"env": "WORKBENCH_VISITOR_UPLOAD_BYTES"})
    """Bytes of uploads one visitor may hold on the server at once (public deployments)."""
    uploads_total_bytes: int = field(default=4096 * MB, metadata={"env": "WORKBENCH_UPLOADS_TOTAL_BYTES"})
    """Bytes of uploads all visitors together may hold on the server (public deployments)."""
    upload_keep_s: int = field(default=900, metadata={"env": "WORKBENCH_UPLOAD_KEEP_SECONDS"})
    """Seconds an upload is kept (what a page or a call uses is copied or read long before)."""
    closed_session_s: int = field(default=120, metadata={"env": "WORKBENCH_CLOSED_SESSION_SECONDS"})
    """How long a closed browser tab's session (state, working folder) is kept for a reconnect."""
    exports_kept: int = field(default=20, metadata={"env": "WORKBENCH_EXPORTS_KEPT"})
    """Export folders kept on disk (the newest); older ones are removed."""
    exports_max_age_s: int = field(default=24 * 3600, metadata={"env": "WORKBENCH_EXPORTS_MAX_AGE"})

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ResourceLimits:
        env = process_env() if env is None else env
        values: dict[str, int] = {}
        for item in fields(cls):
            raw = env.get(item.metadata["env"], "").strip()
            if not raw:
                continue
            try:
                values[item.name] = max(0, int(float(raw)))
            except ValueError:
                raise ValueError(f"{item.metadata['env']} must be a whole number, got {raw!r}") from None
        return cls(**values)

    def variables(self) -> dict[str, int]:
        """``{environment variable: value}`` of every limit."""
        return {item.metadata["env"]: getattr(self, item.name) for item in fields(self)}
