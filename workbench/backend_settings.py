"""Which backend a user picked in the UI, as plain data.

The server URL offered by default is the configured one *as shown* (without password or
query: :func:`workbench.urls.shown_url`), so it can sit in the page; the deployment maps it
back to the configured URL when a run asks for it. The API key never shows in ``repr``.

>>> BackendSettings(kind="openai", model="qwen2.5-vl-7b-instruct", base_url="http://127.0.0.1:8000/v1").options()
{'model': 'qwen2.5-vl-7b-instruct', 'base_url': 'http://127.0.0.1:8000/v1', 'limits_style': 'vllm'}
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from workbench.urls import shown_url

__all__ = ["BACKEND_LABELS", "BackendSettings"]

BACKEND_LABELS = {
    "paste": "Paste a model's output",
    "local": "Local model (transformers)",
    "openai": "OpenAI-compatible server (vLLM, SGLang, DashScope…)",
}


def _env_model() -> str:
    return os.environ.get("WORKBENCH_MODEL") or "Qwen/Qwen2.5-VL-3B-Instruct"


@dataclass(frozen=True)
class BackendSettings:
    kind: str = "paste"
    model: str = field(default_factory=_env_model)
    base_url: str | None = field(default_factory=lambda: shown_url(os.environ.get("WORKBENCH_BASE_URL")) or None)
    api_key: str | None = field(default=None, repr=False)
    limits_style: str = "vllm"

    def options(self) -> dict[str, object]:
        """Constructor options for :func:`workbench.backends.create_backend` (the API key only when given)."""
        if self.kind == "local":
            return {"model": self.model}
        options: dict[str, object] = {"model": self.model, "base_url": self.base_url, "limits_style": self.limits_style}
        if self.api_key:
            options["api_key"] = self.api_key
        return options
