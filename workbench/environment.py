"""The process environment, read in this module only: every variable the workbench understands, named once.

Entry points (the app's start, a CLI command, a batch job) read what they need here once and pass it on as
plain values (:class:`workbench.deployment.Deployment`, :class:`workbench.deployment.ResourceLimits`, a data
folder); the code below them never looks at ``os.environ`` itself, so a test or a second app in one process
gives its own values instead of patching the process. ``tests/test_layers.py`` checks that no other module of
``workbench/`` or ``ui/`` reads or writes ``os.environ``.

>>> env = {"SPACE_ID": "me/app", "SPACES_ZERO_GPU": "true", "WORKBENCH_JPEGTRAN": ""}
>>> on_space(env), on_zero_gpu(env), jpegtran_setting(env), oauth_configured(env)
(True, True, '', False)
>>> sorted(VARIABLES)[:3]
['GRADIO_ANALYTICS_ENABLED', 'GRADIO_SERVER_NAME', 'GRADIO_SERVER_PORT']
"""

from __future__ import annotations

import os
from collections.abc import Mapping

__all__ = ["BASE_URL", "DATA_DIR", "JPEGTRAN", "LIMITS_STYLE", "MODEL", "PUBLIC", "VARIABLES", "gradio_analytics",
           "jpegtran_setting", "listen_address", "malloc_arenas_set", "oauth_configured", "on_space", "on_zero_gpu",
           "process_env", "ray_setup"]

MODEL = "WORKBENCH_MODEL"
BASE_URL = "WORKBENCH_BASE_URL"
DATA_DIR = "WORKBENCH_DATA_DIR"
LIMITS_STYLE = "WORKBENCH_LIMITS_STYLE"
PUBLIC = "WORKBENCH_PUBLIC"
JPEGTRAN = "WORKBENCH_JPEGTRAN"

VARIABLES: dict[str, str] = {
    MODEL: "the model (checkpoint or served name) every page and command starts with",
    BASE_URL: "the OpenAI-compatible server (also OPENAI_BASE_URL); may carry a password, never shown",
    "WORKBENCH_API_KEY": "the server's key (also OPENAI_API_KEY), sent to the configured server only",
    LIMITS_STYLE: "how the server takes pixel limits: vllm, transformers, dashscope or none",
    DATA_DIR: "the datasets, images and exports folder",
    PUBLIC: "1/true/yes: a public deployment (visitors own their datasets, use the configured model only)",
    "WORKBENCH_ALLOWED_BASE_URLS": "more servers visitors may use (comma separated)",
    "WORKBENCH_ALLOWED_MODELS": "more models visitors may use (comma separated)",
    "WORKBENCH_PROXY_HOPS": "proxies in front of the app whose X-Forwarded-For names the client",
    JPEGTRAN: "the jpegtran program for lossless turns ('' turns the lossless path off)",
    "WORKBENCH_FONT": "a font file with CJK glyphs for drawn labels (read by grounding.fonts)",
    "SPACE_ID": "set by Hugging Face Spaces: the deployment is public; /data is used when mounted",
    "SPACES_ZERO_GPU": "set by a ZeroGPU Space: the model is loaded at start, generation runs under spaces.GPU",
    "OAUTH_CLIENT_ID": "set by a Space with hf_oauth: the page offers Hugging Face sign-in",
    "XDG_DATA_HOME": "where the default data folder lives (else ~/.local/share)",
    "RAY_ADDRESS": "a Ray cluster for --engine ray (else a local one)",
    "GRADIO_SERVER_NAME": "the address the app listens on",
    "GRADIO_SERVER_PORT": "the port the app listens on",
    "GRADIO_ANALYTICS_ENABLED": "True: the app's Blocks send Gradio's usage analytics (off unless set)",
    "MALLOC_ARENA_MAX": "glibc's malloc arenas (the app asks for two when unset)",
    "HF_HUB_OFFLINE": "1: checkpoints are read from the local cache only",
}
"""Every variable the workbench reads, with what it means; the resource limits' own variables are listed by
:meth:`workbench.deployment.ResourceLimits.variables`."""


def process_env() -> Mapping[str, str]:
    """The process's environment (the one place it is read)."""
    return os.environ


def on_space(env: Mapping[str, str] | None = None) -> bool:
    """On a Hugging Face Space (``SPACE_ID``)."""
    return bool((process_env() if env is None else env).get("SPACE_ID"))


def on_zero_gpu(env: Mapping[str, str] | None = None) -> bool:
    """On a ZeroGPU Space (the platform sets ``SPACES_ZERO_GPU``)."""
    return bool((process_env() if env is None else env).get("SPACES_ZERO_GPU"))


def oauth_configured(env: Mapping[str, str] | None = None) -> bool:
    """A Space with ``hf_oauth: true`` (the platform sets ``OAUTH_CLIENT_ID``): sign-in can be offered."""
    return bool((process_env() if env is None else env).get("OAUTH_CLIENT_ID"))


def listen_address(env: Mapping[str, str] | None = None) -> tuple[str, int]:
    """Where the app listens: ``GRADIO_SERVER_NAME`` and ``GRADIO_SERVER_PORT``, else 127.0.0.1:7860."""
    env = process_env() if env is None else env
    port = env.get("GRADIO_SERVER_PORT", "").strip()
    return env.get("GRADIO_SERVER_NAME") or "127.0.0.1", int(port) if port.isdigit() else 7860


def malloc_arenas_set(env: Mapping[str, str] | None = None) -> bool:
    """Whether the operator chose glibc's malloc arenas (``MALLOC_ARENA_MAX``)."""
    return bool((process_env() if env is None else env).get("MALLOC_ARENA_MAX"))


def gradio_analytics(env: Mapping[str, str] | None = None) -> bool:
    """Whether the app's Blocks send Gradio's usage analytics: only when the operator set
    ``GRADIO_ANALYTICS_ENABLED=True`` (Gradio's own default is on; the workbench's is off)."""
    return (process_env() if env is None else env).get("GRADIO_ANALYTICS_ENABLED", "False") == "True"


def ray_setup(package_root: str) -> tuple[str | None, dict[str, str]]:
    """The Ray cluster to join (``RAY_ADDRESS``; None: start a local one) and the variables local workers need to
    import this package from where the driver does; Ray's usage statistics stay off unless asked for. The one
    write to the process environment: Ray reads that switch from it and offers no argument for it."""
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    paths = [package_root, *[p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]]
    return (os.environ.get("RAY_ADDRESS") or None,
            {"PYTHONPATH": os.pathsep.join(dict.fromkeys(paths)), "RAY_USAGE_STATS_ENABLED": "0"})


def jpegtran_setting(env: Mapping[str, str] | None = None) -> str | None:
    """``WORKBENCH_JPEGTRAN`` as set (None when unset; ``""`` turns the lossless path off)."""
    return (process_env() if env is None else env).get(JPEGTRAN)
