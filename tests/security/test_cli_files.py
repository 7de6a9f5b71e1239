"""Issue 20, item 13: the command line reads regular files only, and reads them bounded.

``workbench geometry fifo.png`` used to block in ``open()`` for ever; ``workbench parse … /dev/zero`` took
gigabytes. Each runs in a child process with its address space capped (so a regression fails with a
MemoryError instead of eating the machine) and a generous timeout that only guards against a hang.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import REPO

pytestmark = pytest.mark.slow  # each test starts the command in a process of its own

HANG_GUARD_S = 300
CAP = """
import resource, sys
resource.setrlimit(resource.RLIMIT_AS, (3 << 30, 3 << 30))
sys.argv = ["workbench", *sys.argv[1:]]
from workbench.cli import main
main()
"""


def workbench(*args: str, stdin=None) -> subprocess.CompletedProcess:
    env = os.environ | {"PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
                        "HF_HUB_OFFLINE": "1"}
    return subprocess.run([sys.executable, "-c", CAP, *args], cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=HANG_GUARD_S, stdin=stdin)


def test_geometry_of_a_fifo_answers_instead_of_blocking(tmp_path):
    fifo = tmp_path / "fifo.png"
    os.mkfifo(fifo)
    done = workbench("geometry", str(fifo))
    assert done.returncode == 1
    assert json.loads(done.stdout) == [{"file": str(fifo), "error": f"{fifo}: not a regular file (a device, pipe or "
                                                                    "socket)"}]


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom"])
def test_parse_of_a_device_is_refused_without_reading_it(device):
    done = workbench("parse", "--original", "640", "480", device)
    assert done.returncode == 1
    assert done.stderr.strip() == f"cannot read {device}: not a regular file", done.stderr[-2000:]


def test_parse_from_an_endless_stdin_stops_at_its_bound():
    with open("/dev/zero", "rb") as endless:
        done = workbench("parse", "--original", "640", "480", "-", stdin=endless)
    assert done.returncode == 1
    assert "stdin: more than 16 MB" in done.stderr, done.stderr[-2000:]


def test_parse_still_reads_a_file_and_stdin(tmp_path):
    answer = tmp_path / "answer.txt"
    answer.write_text('[{"bbox_2d": [10, 20, 30, 40], "label": "cat"}]')
    from_file = workbench("parse", "--original", "640", "480", str(answer))
    with answer.open("rb") as stream:
        from_stdin = workbench("parse", "--original", "640", "480", "-", stdin=stream)
    assert from_file.returncode == from_stdin.returncode == 0, from_file.stderr
    assert json.loads(from_file.stdout) == json.loads(from_stdin.stdout)
    assert json.loads(from_file.stdout)["detections"][0]["label"] == "cat"
