"""The configured model and server: what the environment names (read through :mod:`workbench.environment`),
with the project's defaults, and which family a model name belongs to.

=====================  ==========================================  ==================================
variable               meaning                                     default
=====================  ==========================================  ==================================
``WORKBENCH_MODEL``    checkpoint (local) or model name (server)   ``Qwen/Qwen3.5-4B``
``WORKBENCH_BASE_URL`` OpenAI-compatible server                    ``OPENAI_BASE_URL``, else none
``WORKBENCH_API_KEY``  its API key                                 ``OPENAI_API_KEY``, else ``EMPTY``
``WORKBENCH_LIMITS_    how the server takes pixel limits: ``vllm`` ``vllm``
STYLE``                (``mm_processor_kwargs``), ``transformers``
                       (``transformers serve``), ``dashscope``
                       (per image), ``none`` (its own)
=====================  ==========================================  ==================================

The data folder (``WORKBENCH_DATA_DIR``) is the store's (:mod:`workbench.store.datadir`); what a public
deployment allows and costs (``WORKBENCH_PUBLIC``, the allowlists, the limits) is
:mod:`workbench.deployment`'s; which model a run asks, and how, is :class:`workbench.run_settings.ModelSource`.
A page offers the configured server *as shown* (without password or query,
:attr:`workbench.deployment.Deployment.shown_base_url`); the deployment maps it back to the configured URL.

>>> default_model({})
'Qwen/Qwen3.5-4B'
>>> default_model({"WORKBENCH_MODEL": "Qwen/Qwen3-VL-4B-Instruct"})
'Qwen/Qwen3-VL-4B-Instruct'
>>> default_limits_style({"WORKBENCH_LIMITS_STYLE": "Transformers"})
'transformers'
>>> guess_family("qwen3-vl-plus").name, guess_family("Qwen/Qwen2-VL-7B-Instruct").name
('qwen3-vl', 'qwen2-vl')
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from grounding import (
    QWEN2_5_OMNI,
    QWEN2_5_VL,
    QWEN2_VL,
    QWEN3_5,
    QWEN3_5_MOE,
    QWEN3_OMNI,
    QWEN3_VL,
    QWEN3_VL_MOE,
    ModelFamily,
)
from grounding.families import QWEN4_EXP
from workbench.environment import BASE_URL, LIMITS_STYLE, MODEL, process_env
from workbench.errors import BackendError
from workbench.run_settings import LIMITS_STYLES
from workbench.urls import key_for

__all__ = ["BACKEND_LABELS", "DEFAULT_MODEL", "LIMITS_STYLES", "default_api_key",
           "default_base_url", "default_limits_style", "default_model", "guess_family"]

DEFAULT_MODEL = "Qwen/Qwen3.5-4B"
"""A current small Qwen vision checkpoint (Qwen3.5, released February-March 2026; registered in LLaMA-Factory's
``extras/constants.py`` and ms-swift's model registry with the ``qwen3_5`` template). It thinks by default; the
workbench turns thinking off for grounding (its chat template takes ``enable_thinking``)."""


def default_model(env: Mapping[str, str] | None = None) -> str:
    return (process_env() if env is None else env).get(MODEL) or DEFAULT_MODEL


def default_base_url(env: Mapping[str, str] | None = None) -> str | None:
    env = process_env() if env is None else env
    return env.get(BASE_URL) or env.get("OPENAI_BASE_URL") or None


def configured_key_for(url: str, env: Mapping[str, str] | None = None) -> str:
    """The configured API key for ``url`` (:func:`workbench.urls.key_for`: the configured server only), for a
    backend made without a deployment (the command line, a script).

    >>> configured_key_for("http://10.0.0.3/v1", {"WORKBENCH_BASE_URL": "http://10.0.0.2/v1", "WORKBENCH_API_KEY": "sk"})
    'EMPTY'
    """
    return key_for(url, default_base_url(env), default_api_key(env))


def require_server(backend: str, base_url: str | None, env: Mapping[str, str] | None = None) -> None:
    """A server backend needs a URL: the one given or the configured one; else an error that says how.

    >>> require_server("openai", None, {})
    Traceback (most recent call last):
    ...
    workbench.errors.BackendError: no server URL: give one, or set WORKBENCH_BASE_URL (e.g. http://127.0.0.1:8000/v1)
    """
    if backend == "openai" and not base_url and not default_base_url(env):
        raise BackendError("no server URL: give one, or set WORKBENCH_BASE_URL (e.g. http://127.0.0.1:8000/v1)")


def default_api_key(env: Mapping[str, str] | None = None) -> str:
    """The key, or ``EMPTY`` (what vLLM and ``transformers serve`` accept when they check none)."""
    env = process_env() if env is None else env
    return env.get("WORKBENCH_API_KEY") or env.get("OPENAI_API_KEY") or "EMPTY"


_SEP = r"[-_ ]?"
_MOE = r".*[-_]a\d+(\.\d+)?b"  # an active-parameter count: Qwen3-VL-30B-A3B, Qwen3.5-35B-A3B
_NAME_PATTERNS = (
    (QWEN3_OMNI, re.compile(rf"qwen{_SEP}3{_SEP}omni")),
    (QWEN2_5_OMNI, re.compile(rf"qwen{_SEP}2[._]5{_SEP}omni")),
    (QWEN4_EXP, re.compile(rf"qwen{_SEP}4{_SEP}exp")),
    (QWEN3_VL_MOE, re.compile(rf"qwen{_SEP}3{_SEP}vl{_MOE}")),
    (QWEN3_VL, re.compile(rf"qwen{_SEP}3{_SEP}vl")),
    (QWEN3_5_MOE, re.compile(rf"qwen{_SEP}3[._][5-9]{_MOE}")),
    (QWEN3_5, re.compile(rf"qwen{_SEP}3[._][5-9](?!\d)")),
    (QWEN2_5_VL, re.compile(rf"qwen{_SEP}2[._]5{_SEP}vl|qwen{_SEP}vl{_SEP}(max|plus)")),
    (QWEN2_VL, re.compile(rf"qwen{_SEP}2{_SEP}vl")),
)


def guess_family(model_name: str) -> ModelFamily:
    """Family from a served model's name (servers do not say); raise when the name does not tell.

    DashScope's ``qwen-vl-max``/``qwen-vl-plus`` are Qwen2.5-VL generation models. Qwen3.6 and Qwen3.8
    checkpoints are of Qwen3.5's model types (``qwen3_5``, ``qwen3_5_moe``); a name with an active-parameter
    count (``-A3B``) is a MoE checkpoint.

    >>> [guess_family(n).name for n in ("Qwen/Qwen3.5-4B", "Qwen/Qwen3.6-35B-A3B", "Qwen3-VL-30B-A3B-Instruct",
    ...                                 "qwen3-omni-30b-a3b-instruct", "Qwen2.5-Omni-7B")]
    ['qwen3.5', 'qwen3.5-moe', 'qwen3-vl-moe', 'qwen3-omni', 'qwen2.5-omni']
    """
    name = model_name.lower()
    for family, pattern in _NAME_PATTERNS:
        if pattern.search(name):
            return family
    raise ValueError(f"cannot tell the model family from the name {model_name!r}; give the family explicitly")


BACKEND_LABELS = {
    "paste": "Paste a model's output",
    "local": "Local model (transformers)",
    "openai": "OpenAI-compatible server (vLLM, SGLang, DashScope…)",
}


def default_limits_style(env: Mapping[str, str] | None = None) -> str:
    """How the configured server takes pixel limits (``WORKBENCH_LIMITS_STYLE``, else ``vllm``); the backend
    refuses a value that is not one of :data:`LIMITS_STYLES`, in words."""
    return ((process_env() if env is None else env).get(LIMITS_STYLE) or "vllm").strip().lower()


