"""model_inputs: what identifies an image, and the byte budget of what is kept."""

from __future__ import annotations

import os

from tests.factories import write_image
from workbench.backends import model_inputs
from workbench.backends.model_inputs import _Lru, image_key


def test_least_recently_used_entries_go_first_and_oversized_ones_are_not_kept():
    kept = _Lru(max_bytes=100)
    kept.put("a", 1, 40)
    kept.put("b", 2, 40)
    assert kept.get("a") == 1  # now "b" is the least recently used
    kept.put("c", 3, 40)
    assert (kept.get("a"), kept.get("b"), kept.get("c")) == (1, None, 3)
    kept.put("huge", 4, 101)
    assert kept.get("huge") is None and kept.get("a") == 1
    kept.put("a", 5, 60)  # replacing counts the new size only
    assert (kept.get("a"), kept.get("c")) == (5, 3)


def test_a_file_is_known_by_path_size_and_mtime(tmp_path):
    path = write_image(tmp_path, 64, 48)
    first = image_key(path)
    assert image_key(str(path)) == first
    os.utime(path, ns=(os.stat(path).st_atime_ns, os.stat(path).st_mtime_ns + 10**9))
    assert image_key(path) != first
    assert image_key(tmp_path / "missing.png") is None
    assert image_key(path.read_bytes()) == image_key(bytearray(path.read_bytes()))


class _Processor:
    """What _Patching reads of an image processor."""

    do_rescale = do_normalize = True
    rescale_factor = 1 / 255
    image_mean = image_std = (0.5, 0.5, 0.5)
    merge_size = temporal_patch_size = 2

    def __init__(self, patch_size: int) -> None:
        self.patch_size = patch_size


def test_an_image_processor_is_never_given_another_ones_patching_under_a_reused_id():
    qwen25, qwen3 = _Processor(14), _Processor(16)
    assert model_inputs._patching(qwen25).patch == 14
    # as if qwen25 were gone and qwen3 had been given its id
    model_inputs._PATCHING[id(qwen3)] = model_inputs._PATCHING[id(qwen25)]
    assert model_inputs._patching(qwen3).patch == 16
    assert model_inputs._patching(qwen3).patch == 16  # and now cached as its own
