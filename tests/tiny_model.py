"""Tiny Qwen vision checkpoints built offline, saved, and loaded back through ``from_pretrained``.

Random weights, real architecture: the same config keys, tokenizer special tokens, chat
template and image processor as the released checkpoints, so the processor resizes and
counts visual tokens exactly as it would for ``Qwen/Qwen2.5-VL-3B-Instruct``, and
``generate`` runs the real model code. Text output is junk; tests assert on the pipeline.

Building one takes about a second (a BPE tokenizer trained on a few lines, two-layer
text and vision towers of width 32).
"""

from __future__ import annotations

import json
from pathlib import Path

QWEN_SPECIAL_TOKENS = [
    "<|endoftext|>",
    "<|im_start|>",
    "<|im_end|>",
    "<|object_ref_start|>",
    "<|object_ref_end|>",
    "<|box_start|>",
    "<|box_end|>",
    "<|quad_start|>",
    "<|quad_end|>",
    "<|vision_start|>",
    "<|vision_end|>",
    "<|vision_pad|>",
    "<|image_pad|>",
    "<|video_pad|>",
]

# The chat template shipped with Qwen2-VL and Qwen2.5-VL instruct checkpoints (``add_vision_id``
# writes "Picture N: " before each image).
QWEN_VL_CHAT_TEMPLATE = (
    "{% set image_count = namespace(value=0) %}{% set video_count = namespace(value=0) %}"
    "{% for message in messages %}{% if loop.first and message['role'] != 'system' %}"
    "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n{% endif %}"
    "<|im_start|>{{ message['role'] }}\n{% if message['content'] is string %}{{ message['content'] }}<|im_end|>\n"
    "{% else %}{% for content in message['content'] %}"
    "{% if content['type'] == 'image' or 'image' in content or 'image_url' in content %}"
    "{% set image_count.value = image_count.value + 1 %}{% if add_vision_id %}Picture {{ image_count.value }}: {% endif %}"
    "<|vision_start|><|image_pad|><|vision_end|>"
    "{% elif content['type'] == 'video' or 'video' in content %}"
    "{% set video_count.value = video_count.value + 1 %}{% if add_vision_id %}Video {{ video_count.value }}: {% endif %}"
    "<|vision_start|><|video_pad|><|vision_end|>"
    "{% elif 'text' in content %}{{ content['text'] }}{% endif %}{% endfor %}<|im_end|>\n"
    "{% endif %}{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)

_TRAINING_TEXT = [
    "Locate every cat in the image and output the bbox coordinates in JSON format.",
    '```json\n[{"bbox_2d": [12, 34, 256, 301], "label": "cat", "image": 1}]\n```',
    "Outline the position of each dog and output all the coordinates in JSON format.",
    "<points x1=\"10\" y1=\"20\" alt=\"cup\">cup</points> Picture 1: Picture 2: img1 img2",
    "You are a helpful assistant. user assistant system 0123456789 {}[]:,\" ",
]


def _tokenizer(vocab_size: int = 400):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import Qwen2Tokenizer

    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        special_tokens=["<|endoftext|>"],
        show_progress=False,
    )
    bpe.train_from_iterator(_TRAINING_TEXT * 4, trainer=trainer)
    model = json.loads(bpe.to_str())["model"]
    merges = [tuple(m.split(" ")) if isinstance(m, str) else tuple(m) for m in model["merges"]]
    tokenizer = Qwen2Tokenizer(vocab=model["vocab"], merges=merges, errors="replace")
    tokenizer.add_special_tokens({"additional_special_tokens": QWEN_SPECIAL_TOKENS[1:]})
    tokenizer.eos_token = "<|im_end|>"
    tokenizer.pad_token = "<|endoftext|>"
    tokenizer.chat_template = QWEN_VL_CHAT_TEMPLATE
    return tokenizer


def _token_ids(tokenizer) -> dict[str, int]:
    ids = {t: tokenizer.convert_tokens_to_ids(t) for t in QWEN_SPECIAL_TOKENS}
    return {
        "image_token_id": ids["<|image_pad|>"],
        "video_token_id": ids["<|video_pad|>"],
        "vision_start_token_id": ids["<|vision_start|>"],
        "vision_end_token_id": ids["<|vision_end|>"],
        "bos_token_id": ids["<|endoftext|>"],
        "eos_token_id": ids["<|im_end|>"],
        "pad_token_id": ids["<|endoftext|>"],
    }


def _text_config(tokenizer, ids: dict[str, int]) -> dict:
    return {
        "vocab_size": len(tokenizer),
        "hidden_size": 32,
        "intermediate_size": 64,
        "num_hidden_layers": 2,
        "num_attention_heads": 2,
        "num_key_value_heads": 1,
        "max_position_embeddings": 4096,
        "rope_parameters": {"rope_type": "default", "rope_theta": 1000000.0, "mrope_section": [2, 3, 3]},
        "bos_token_id": ids["bos_token_id"],
        "eos_token_id": ids["eos_token_id"],
        "pad_token_id": ids["pad_token_id"],
    }


def build_tiny_qwen2_5_vl(folder: Path, *, seed: int = 0) -> Path:
    """Save a random ~0.1 M-parameter Qwen2.5-VL (patch 14, merge 2, temporal 2) with its processor."""
    from transformers import (
        Qwen2_5_VLConfig,
        Qwen2_5_VLForConditionalGeneration,
        Qwen2_5_VLProcessor,
        Qwen2VLImageProcessor,
        Qwen2VLVideoProcessor,
    )

    tokenizer = _tokenizer()
    ids = _token_ids(tokenizer)
    config = Qwen2_5_VLConfig(
        text_config=_text_config(tokenizer, ids),
        vision_config={
            "depth": 2,
            "hidden_size": 32,
            "intermediate_size": 64,
            "num_heads": 2,
            "patch_size": 14,
            "spatial_merge_size": 2,
            "temporal_patch_size": 2,
            "window_size": 112,
            "out_hidden_size": 32,
            "fullatt_block_indexes": [1],
        },
        image_token_id=ids["image_token_id"],
        video_token_id=ids["video_token_id"],
        vision_start_token_id=ids["vision_start_token_id"],
        vision_end_token_id=ids["vision_end_token_id"],
    )
    model = _random_model(Qwen2_5_VLForConditionalGeneration, config, ids, seed)
    image_processor = Qwen2VLImageProcessor(
        patch_size=14, merge_size=2, temporal_patch_size=2,
        size={"shortest_edge": 56 * 56, "longest_edge": 16384 * 28 * 28},
    )
    video_processor = Qwen2VLVideoProcessor(patch_size=14, merge_size=2, temporal_patch_size=2)
    processor = Qwen2_5_VLProcessor(
        image_processor=image_processor, tokenizer=tokenizer, video_processor=video_processor,
        chat_template=QWEN_VL_CHAT_TEMPLATE,
    )
    return _save(folder, model, processor)


def _random_model(model_class, config, ids: dict, seed: int):
    import torch

    torch.manual_seed(seed)
    model = model_class(config).eval()
    model.generation_config.eos_token_id = ids["eos_token_id"]
    model.generation_config.pad_token_id = ids["pad_token_id"]
    return model


def _save(folder: Path, model, processor) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(folder)
    processor.save_pretrained(folder)
    return folder


def build_tiny_qwen3_vl(folder: Path, *, seed: int = 0) -> Path:
    """Save a random tiny Qwen3-VL (patch 16, merge 2: factor 32) with its processor.

    It reuses the Qwen2.5-VL chat template. Qwen3-VL's own template differs in its system and tool
    parts, not in the image placeholders or the ``Picture N:`` labels that matter here.
    """
    from transformers import (
        Qwen2VLImageProcessor,
        Qwen3VLConfig,
        Qwen3VLForConditionalGeneration,
        Qwen3VLProcessor,
        Qwen3VLVideoProcessor,
    )

    tokenizer = _tokenizer()
    ids = _token_ids(tokenizer)
    text = _text_config(tokenizer, ids) | {
        "head_dim": 16,
        "rope_parameters": {"rope_type": "default", "rope_theta": 5000000.0, "mrope_section": [2, 3, 3],
                            "mrope_interleaved": True},
    }
    config = Qwen3VLConfig(
        text_config=text,
        vision_config={
            "depth": 2,
            "hidden_size": 32,
            "intermediate_size": 64,
            "num_heads": 2,
            "patch_size": 16,
            "spatial_merge_size": 2,
            "temporal_patch_size": 2,
            "out_hidden_size": 32,
            "num_position_embeddings": 144,
            "deepstack_visual_indexes": [1],
        },
        image_token_id=ids["image_token_id"],
        video_token_id=ids["video_token_id"],
        vision_start_token_id=ids["vision_start_token_id"],
        vision_end_token_id=ids["vision_end_token_id"],
    )
    model = _random_model(Qwen3VLForConditionalGeneration, config, ids, seed)
    image_processor = Qwen2VLImageProcessor(
        patch_size=16, merge_size=2, temporal_patch_size=2,
        size={"shortest_edge": 64 * 32 * 32, "longest_edge": 16384 * 32 * 32},
        image_mean=[0.5, 0.5, 0.5], image_std=[0.5, 0.5, 0.5],
    )
    video_processor = Qwen3VLVideoProcessor(patch_size=16, merge_size=2, temporal_patch_size=2)
    processor = Qwen3VLProcessor(
        image_processor=image_processor, tokenizer=tokenizer, video_processor=video_processor,
        chat_template=QWEN_VL_CHAT_TEMPLATE,
    )
    return _save(folder, model, processor)


# Qwen3.5's chat template opens "<think>\n" in the generation prompt unless enable_thinking is false, when it
# writes an empty "<think>\n\n</think>\n\n" (what the released template does; see docs/families.md).
QWEN3_5_CHAT_TEMPLATE = QWEN_VL_CHAT_TEMPLATE.replace(
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}",
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% if enable_thinking is defined and enable_thinking is false %}"
    "<think>\n\n</think>\n\n{% else %}<think>\n{% endif %}{% endif %}",
)
THINK_TOKENS = ["<think>", "</think>"]


def _qwen3_vision(patch: int = 16, **more) -> dict:
    return {"depth": 2, "hidden_size": 32, "intermediate_size": 64, "num_heads": 2, "patch_size": patch,
            "spatial_merge_size": 2, "temporal_patch_size": 2, "out_hidden_size": 32, "num_position_embeddings": 144,
            **more}


def _qwen3_processor(processor_class, tokenizer, template: str, pixels: tuple[int, int] = (64 * 32 * 32, 16384 * 32 * 32)):
    from transformers import Qwen2VLImageProcessor, Qwen3VLVideoProcessor

    image_processor = Qwen2VLImageProcessor(
        patch_size=16, merge_size=2, temporal_patch_size=2, size={"shortest_edge": pixels[0], "longest_edge": pixels[1]},
        image_mean=[0.5, 0.5, 0.5], image_std=[0.5, 0.5, 0.5],
    )
    video_processor = Qwen3VLVideoProcessor(patch_size=16, merge_size=2, temporal_patch_size=2)
    return processor_class(image_processor=image_processor, tokenizer=tokenizer, video_processor=video_processor,
                           chat_template=template)


def _vl_config(config_class, text: dict, vision: dict, ids: dict):
    return config_class(text_config=text, vision_config=vision, image_token_id=ids["image_token_id"],
                        video_token_id=ids["video_token_id"], vision_start_token_id=ids["vision_start_token_id"],
                        vision_end_token_id=ids["vision_end_token_id"])


def build_tiny_qwen3_vl_moe(folder: Path, *, seed: int = 0) -> Path:
    """Save a random tiny Qwen3-VL-MoE (Qwen3-VL's vision tower, a 4-expert text model)."""
    from transformers import Qwen3VLMoeConfig, Qwen3VLMoeForConditionalGeneration, Qwen3VLProcessor

    tokenizer = _tokenizer()
    ids = _token_ids(tokenizer)
    text = _text_config(tokenizer, ids) | {
        "head_dim": 16, "num_experts": 4, "num_experts_per_tok": 2, "moe_intermediate_size": 32,
        "rope_parameters": {"rope_type": "default", "rope_theta": 5000000.0, "mrope_section": [2, 3, 3],
                            "mrope_interleaved": True},
    }
    config = _vl_config(Qwen3VLMoeConfig, text, _qwen3_vision(deepstack_visual_indexes=[1]), ids)
    model = _random_model(Qwen3VLMoeForConditionalGeneration, config, ids, seed)
    return _save(folder, model, _qwen3_processor(Qwen3VLProcessor, tokenizer, QWEN_VL_CHAT_TEMPLATE))


def _qwen3_5_text(tokenizer, ids: dict, **more) -> dict:
    return _text_config(tokenizer, ids) | {
        "head_dim": 32, "layer_types": ["linear_attention", "full_attention"], "linear_key_head_dim": 8,
        "linear_value_head_dim": 8, "linear_num_key_heads": 2, "linear_num_value_heads": 2,
        "rope_parameters": {"rope_type": "default", "rope_theta": 10000000.0, "mrope_section": [2, 1, 1],
                            "mrope_interleaved": True, "partial_rotary_factor": 0.25},
        **more,
    }


def _thinking_tokenizer():
    tokenizer = _tokenizer()
    tokenizer.add_special_tokens({"additional_special_tokens": QWEN_SPECIAL_TOKENS[1:] + THINK_TOKENS})
    tokenizer.chat_template = QWEN3_5_CHAT_TEMPLATE
    return tokenizer


def build_tiny_qwen3_5(folder: Path, *, seed: int = 0) -> Path:
    """Save a random tiny Qwen3.5 (one Gated DeltaNet and one attention layer) with a thinking chat template."""
    from transformers import Qwen3_5Config, Qwen3_5ForConditionalGeneration, Qwen3VLProcessor

    tokenizer = _thinking_tokenizer()
    ids = _token_ids(tokenizer)
    config = _vl_config(Qwen3_5Config, _qwen3_5_text(tokenizer, ids), _qwen3_vision(), ids)
    model = _random_model(Qwen3_5ForConditionalGeneration, config, ids, seed)
    return _save(folder, model, _qwen3_processor(Qwen3VLProcessor, tokenizer, QWEN3_5_CHAT_TEMPLATE))


def build_tiny_qwen3_5_moe(folder: Path, *, seed: int = 0) -> Path:
    """Save a random tiny Qwen3.5-MoE (4 experts) with a thinking chat template."""
    from transformers import Qwen3_5MoeConfig, Qwen3_5MoeForConditionalGeneration, Qwen3VLProcessor

    tokenizer = _thinking_tokenizer()
    ids = _token_ids(tokenizer)
    text = _qwen3_5_text(tokenizer, ids, num_experts=4, num_experts_per_tok=2, moe_intermediate_size=32,
                         shared_expert_intermediate_size=32)
    config = _vl_config(Qwen3_5MoeConfig, text, _qwen3_vision(), ids)
    model = _random_model(Qwen3_5MoeForConditionalGeneration, config, ids, seed)
    return _save(folder, model, _qwen3_processor(Qwen3VLProcessor, tokenizer, QWEN3_5_CHAT_TEMPLATE))


# Qwen2.5-Omni names its placeholders otherwise (<|IMAGE|> between <|vision_bos|> and <|vision_eos|>)
OMNI2_TOKENS = {"image_token": "<|IMAGE|>", "video_token": "<|VIDEO|>", "audio_token": "<|AUDIO|>",
                "vision_bos_token": "<|vision_bos|>", "vision_eos_token": "<|vision_eos|>",
                "audio_bos_token": "<|audio_bos|>", "audio_eos_token": "<|audio_eos|>"}
OMNI3_TOKENS = {"image_token": "<|image_pad|>", "video_token": "<|video_pad|>", "audio_token": "<|audio_pad|>",
                "vision_bos_token": "<|vision_start|>", "vision_eos_token": "<|vision_end|>",
                "audio_bos_token": "<|audio_start|>", "audio_eos_token": "<|audio_end|>"}


def _omni_tokenizer(tokens: dict[str, str]):
    tokenizer = _tokenizer()
    new = [t for t in tokens.values() if t not in QWEN_SPECIAL_TOKENS]
    tokenizer.add_special_tokens({"additional_special_tokens": QWEN_SPECIAL_TOKENS[1:] + new})
    tokenizer._set_model_specific_special_tokens(special_tokens=dict(tokens))  # saved as named tokens, as Qwen's are
    template = QWEN_VL_CHAT_TEMPLATE.replace("<|vision_start|><|image_pad|><|vision_end|>",
                                             tokens["vision_bos_token"] + tokens["image_token"] + tokens["vision_eos_token"])
    tokenizer.chat_template = template
    return tokenizer, template


def _omni_ids(tokenizer, tokens: dict[str, str]) -> dict[str, int]:
    ids = _token_ids(tokenizer)
    convert = tokenizer.convert_tokens_to_ids
    return ids | {"image_token_id": convert(tokens["image_token"]), "video_token_id": convert(tokens["video_token"]),
                  "audio_token_id": convert(tokens["audio_token"]),
                  "vision_start_token_id": convert(tokens["vision_bos_token"]),
                  "vision_end_token_id": convert(tokens["vision_eos_token"]),
                  "audio_start_token_id": convert(tokens["audio_bos_token"]),
                  "audio_end_token_id": convert(tokens["audio_eos_token"])}


_AUDIO = {"num_mel_bins": 128, "encoder_layers": 1, "encoder_attention_heads": 2, "encoder_ffn_dim": 32, "d_model": 16,
          "output_dim": 32, "n_window": 50}


def _omni_processor(processor_class, tokenizer, template: str, patch: int, pixels: tuple[int, int], video_class):
    from transformers import Qwen2VLImageProcessor, WhisperFeatureExtractor

    mean = {} if patch == 14 else {"image_mean": [0.5, 0.5, 0.5], "image_std": [0.5, 0.5, 0.5]}
    image_processor = Qwen2VLImageProcessor(patch_size=patch, merge_size=2, temporal_patch_size=2,
                                            size={"shortest_edge": pixels[0], "longest_edge": pixels[1]}, **mean)
    return processor_class(image_processor=image_processor, video_processor=video_class(patch_size=patch),
                           feature_extractor=WhisperFeatureExtractor(feature_size=128), tokenizer=tokenizer,
                           chat_template=template)


def build_tiny_qwen2_5_omni(folder: Path, *, seed: int = 0) -> Path:
    """Save a random tiny Qwen2.5-Omni (thinker only: ``enable_audio_output`` off) with its processor."""
    from transformers import (
        Qwen2_5OmniConfig,
        Qwen2_5OmniForConditionalGeneration,
        Qwen2_5OmniProcessor,
        Qwen2VLVideoProcessor,
    )

    tokenizer, template = _omni_tokenizer(OMNI2_TOKENS)
    ids = _omni_ids(tokenizer, OMNI2_TOKENS)
    vision = {"depth": 2, "hidden_size": 32, "intermediate_size": 64, "num_heads": 2, "patch_size": 14,
              "spatial_merge_size": 2, "temporal_patch_size": 2, "window_size": 112, "out_hidden_size": 32,
              "fullatt_block_indexes": [1]}
    thinker = {"text_config": _text_config(tokenizer, ids), "vision_config": vision, "audio_config": _AUDIO,
               "image_token_index": ids["image_token_id"], "video_token_index": ids["video_token_id"],
               "audio_token_index": ids["audio_token_id"], "vision_start_token_id": ids["vision_start_token_id"],
               "vision_end_token_id": ids["vision_end_token_id"], "audio_start_token_id": ids["audio_start_token_id"],
               "audio_end_token_id": ids["audio_end_token_id"]}
    config = Qwen2_5OmniConfig(thinker_config=thinker, enable_audio_output=False)
    model = _random_model(Qwen2_5OmniForConditionalGeneration, config, ids, seed)
    processor = _omni_processor(Qwen2_5OmniProcessor, tokenizer, template, 14, (56 * 56, 16384 * 28 * 28),
                                Qwen2VLVideoProcessor)
    _save(folder, model, processor)
    import torch

    torch.save({}, folder / "spk_dict.pt")  # from_pretrained requires the speakers file; no speech here, none in it
    return folder


def build_tiny_qwen3_omni(folder: Path, *, seed: int = 0) -> Path:
    """Save a random tiny Qwen3-Omni (MoE thinker only: ``enable_audio_output`` off) with its processor."""
    from transformers import Qwen3OmniMoeConfig, Qwen3OmniMoeForConditionalGeneration, Qwen3OmniMoeProcessor
    from transformers import Qwen3VLVideoProcessor as VideoProcessor

    tokenizer, template = _omni_tokenizer(OMNI3_TOKENS)
    ids = _omni_ids(tokenizer, OMNI3_TOKENS)
    text = _text_config(tokenizer, ids) | {
        "head_dim": 16, "num_experts": 4, "num_experts_per_tok": 2, "moe_intermediate_size": 32,
        "rope_parameters": {"rope_type": "default", "rope_theta": 1000000.0, "mrope_section": [2, 3, 3],
                            "mrope_interleaved": True},
    }
    audio = _AUDIO | {"downsample_hidden_size": 16, "n_window_infer": 100, "conv_chunksize": 100}
    thinker = {"text_config": text, "vision_config": _qwen3_vision(deepstack_visual_indexes=[1]), "audio_config": audio,
               "image_token_id": ids["image_token_id"], "video_token_id": ids["video_token_id"],
               "audio_token_id": ids["audio_token_id"], "vision_start_token_id": ids["vision_start_token_id"],
               "vision_end_token_id": ids["vision_end_token_id"], "audio_start_token_id": ids["audio_start_token_id"],
               "audio_end_token_id": ids["audio_end_token_id"]}
    config = Qwen3OmniMoeConfig(thinker_config=thinker, enable_audio_output=False)
    model = _random_model(Qwen3OmniMoeForConditionalGeneration, config, ids, seed)
    processor = _omni_processor(Qwen3OmniMoeProcessor, tokenizer, template, 16, (64 * 32 * 32, 16384 * 32 * 32),
                                VideoProcessor)
    return _save(folder, model, processor)


def build_tiny_qwen4_exp(folder: Path, *, seed: int = 0) -> Path:
    """Save a random tiny Qwen4-Exp (one linear and one indexed attention layer, 4 experts), Qwen3.5's template."""
    from transformers import Qwen3VLProcessor, Qwen4ExpConfig, Qwen4ExpForConditionalGeneration

    tokenizer = _thinking_tokenizer()
    ids = _token_ids(tokenizer)
    text = _qwen3_5_text(tokenizer, ids, layer_types=["linear_attention", "indexed_attention"], num_experts=4,
                         num_experts_per_tok=2, moe_intermediate_size=32, shared_expert_intermediate_size=32,
                         hc_count=2, hc_lowrank=8, indexer_n_heads=2, indexer_kv_heads=1, indexer_head_dim=16,
                         indexer_budget=64, indexer_compress_ratio=4)
    config = _vl_config(Qwen4ExpConfig, text, _qwen3_vision(), ids)
    model = _random_model(Qwen4ExpForConditionalGeneration, config, ids, seed)
    return _save(folder, model, _qwen3_processor(Qwen3VLProcessor, tokenizer, QWEN3_5_CHAT_TEMPLATE))


TINY_BUILDERS = {
    "qwen2.5-vl": build_tiny_qwen2_5_vl,
    "qwen3-vl": build_tiny_qwen3_vl,
    "qwen3-vl-moe": build_tiny_qwen3_vl_moe,
    "qwen3.5": build_tiny_qwen3_5,
    "qwen3.5-moe": build_tiny_qwen3_5_moe,
    "qwen2.5-omni": build_tiny_qwen2_5_omni,
    "qwen3-omni": build_tiny_qwen3_omni,
    "qwen4-exp": build_tiny_qwen4_exp,
}
"""A tiny checkpoint builder per family name (the other makers' model types have none: see docs/families.md)."""
