"""Backend settings from flags and environment variables, with the project's defaults.

=====================  ==========================================  ==================================
variable               meaning                                     default
=====================  ==========================================  ==================================
``WORKBENCH_MODEL``    checkpoint (local) or model name (server)   ``Qwen/Qwen2.5-VL-3B-Instruct``
``WORKBENCH_BASE_URL`` OpenAI-compatible server                    ``OPENAI_BASE_URL``, else none
``WORKBENCH_API_KEY``  its API key                                 ``OPENAI_API_KEY``, else ``EMPTY``
=====================  ==========================================  ==================================

>>> default_model({})
'Qwen/Qwen2.5-VL-3B-Instruct'
>>> default_model({"WORKBENCH_MODEL": "Qwen/Qwen3-VL-4B-Instruct"})
'Qwen/Qwen3-VL-4B-Instruct'
>>> guess_family("qwen3-vl-plus").name, guess_family("Qwen/Qwen2-VL-7B-Instruct").name
('qwen3-vl', 'qwen2-vl')
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping

from grounding import QWEN2_5_VL, QWEN2_VL, QWEN3_VL, ModelFamily

__all__ = ["DEFAULT_MODEL", "default_model", "default_base_url", "default_api_key", "guess_family"]

DEFAULT_MODEL = "Qwen/Qwen2.5-VL-3B-Instruct"


def default_model(env: Mapping[str, str] = os.environ) -> str:
    return env.get("WORKBENCH_MODEL") or DEFAULT_MODEL


def default_base_url(env: Mapping[str, str] = os.environ) -> str | None:
    return env.get("WORKBENCH_BASE_URL") or env.get("OPENAI_BASE_URL") or None


def default_api_key(env: Mapping[str, str] = os.environ) -> str:
    """The key, or ``EMPTY`` (what vLLM and ``transformers serve`` accept when they check none)."""
    return env.get("WORKBENCH_API_KEY") or env.get("OPENAI_API_KEY") or "EMPTY"


_NAME_PATTERNS = (
    (QWEN3_VL, re.compile(r"qwen[-_ ]?3[-_ ]?(\.\d+)?[-_ ]?vl")),
    (QWEN2_5_VL, re.compile(r"qwen[-_ ]?2[._]5[-_ ]?vl|qwen[-_ ]?vl[-_ ]?(max|plus)")),
    (QWEN2_VL, re.compile(r"qwen[-_ ]?2[-_ ]?vl")),
)


def guess_family(model_name: str) -> ModelFamily:
    """Family from a served model's name (servers do not say); raise when the name does not tell.

    DashScope's ``qwen-vl-max``/``qwen-vl-plus`` are Qwen2.5-VL generation models.
    """
    name = model_name.lower()
    for family, pattern in _NAME_PATTERNS:
        if pattern.search(name):
            return family
    raise ValueError(f"cannot tell the model family from the name {model_name!r}; give the family explicitly")
