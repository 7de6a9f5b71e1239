"""A disk that fills up and a read-only data folder, on real small file systems (tmpfs in a private
mount namespace): nothing truncated is kept, errors read in words, the app starts and says why
saving is off, and the paste-and-view workflow still works.
"""

from __future__ import annotations

import json
import subprocess
import time
import urllib.parse
import urllib.request

import pytest

from tests.conftest import REPO
from tests.factories import write_image
from tests.security import small_fs
from tests.ui.conftest import browser, free_port  # noqa: F401 - the browser fixture

pytestmark = pytest.mark.slow

FILL = '''
import os
def fill(folder, leave=0):
    """Write a filler file until only ``leave`` bytes are free (0: until the disk is full)."""
    path = os.path.join(folder, "filler")
    with open(path, "wb", buffering=0) as out:
        try:
            free = os.statvfs(folder).f_bavail * os.statvfs(folder).f_frsize
            if free > leave:
                out.write(b"\\0" * (free - leave))
            while leave == 0:
                out.write(b"\\0" * 4096)
        except OSError:
            pass
    return path
'''


def run(mount, code: str, size: str = "2m") -> dict:
    done = small_fs.run_python(mount, size, FILL + code)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_an_upload_on_a_full_disk_keeps_nothing_truncated_and_the_same_file_works_later(tmp_path):
    photo = write_image(tmp_path, 700, 500, fmt="PNG", name="photo.png")  # about 1 MB of noise
    mount = tmp_path / "disk"
    result = run(mount, f'''
import json, pathlib
from workbench.uploads import UploadError, load_upload
disk = pathlib.Path({str(mount)!r})
photo = pathlib.Path({str(photo)!r})
filler = fill(str(disk), leave=200_000)
try:
    load_upload(photo, disk / "s" / "display", keep_dir=disk / "s" / "originals")
    first = "added"
except UploadError as exc:
    first = str(exc)
left = sorted(str(p.relative_to(disk)) for p in disk.rglob("*") if p.is_file() and p.name != "filler")
pathlib.Path(filler).unlink()
entry = load_upload(photo, disk / "s" / "display", keep_dir=disk / "s" / "originals")
same = pathlib.Path(entry.path).read_bytes() == photo.read_bytes()
print(json.dumps({{"first": first, "left": left, "same": same, "wh": entry.original_wh}}))
''')
    assert result["first"].startswith("photo.png: not added, the disk is full"), result
    assert result["left"] == []
    assert result["same"] and result["wh"] == [700, 500]


def test_the_store_on_a_full_disk_refuses_in_words_and_works_again_after(tmp_path):
    photo = write_image(tmp_path, 700, 500, fmt="PNG", name="photo.png")
    mount = tmp_path / "disk"
    result = run(mount, f'''
import json, pathlib
from workbench.errors import StoreError
from workbench.store import DatasetStore
disk = pathlib.Path({str(mount)!r})
photo = pathlib.Path({str(photo)!r})
store = DatasetStore(disk / "db.sqlite3", images_dir=disk / "images")
cats = store.create_dataset("cats")
filler = fill(str(disk))
errors = []
for attempt in (lambda: store.add_sample(cats, [photo], "Find the cat."),
                lambda: [store.create_dataset(f"d{{n}}-" + "x" * 200) for n in range(200)]):
    try:
        attempt()
        errors.append("saved")
    except StoreError as exc:
        errors.append(str(exc))
incoming = [p.name for p in (disk / "images").rglob(".incoming-*")]
pathlib.Path(filler).unlink()
dogs = store.create_dataset("dogs")
sample = store.add_sample(dogs, [photo], "Find the dog.")
names = [d.name for d in store.list_datasets()]
print(json.dumps({{"errors": errors, "incoming": incoming, "names": names, "images": len(sample.images)}}))
''')
    first, second = result["errors"]
    assert "the disk is full" in first and "photo.png" in first, first
    assert "the disk is full" in second and "nothing was saved" in second, second
    assert all("rollback" not in e and "None" not in e for e in result["errors"])
    assert result["incoming"] == []
    assert "cats" in result["names"] and "dogs" in result["names"] and result["images"] == 1


class NamespacedApp:
    """The app (``ui.launch.launch``) with its data folder on a small tmpfs, possibly read-only.

    ``setup`` is a shell step run after the mount (``{mount}`` is the tmpfs folder).
    """

    def __init__(self, folder, *, size: str, setup: str = "", read_only: bool = False) -> None:
        self.mount = folder / "disk"
        self.mount.mkdir(parents=True)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        env = small_fs.env() | {"WORKBENCH_DATA_DIR": str(self.mount / "data"), "GRADIO_SERVER_PORT": str(self.port),
                                "GRADIO_TEMP_DIR": str(folder / "gradio")}
        command = small_fs.shell_command(self.mount, size, small_fs.python_command(
            "from ui.launch import launch; launch()"), setup=setup.format(mount=self.mount), read_only=read_only)
        self.log = folder / "app.log"
        with self.log.open("w") as out:
            self.process = subprocess.Popen(command, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"the app exited with {self.process.returncode}:\n{self.log.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(self.url, timeout=2):
                    return
            except OSError:
                time.sleep(0.3)
        self.stop()
        raise AssertionError(f"the app did not start:\n{self.log.read_text()[-3000:]}")

    def config(self) -> str:
        with urllib.request.urlopen(self.url + "config", timeout=30) as response:
            return response.read().decode()

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=30)


@pytest.fixture
def namespaced_app(tmp_path):
    small_fs.needs_small_fs()
    apps: list[NamespacedApp] = []

    def start(**kwargs) -> NamespacedApp:
        apps.append(NamespacedApp(tmp_path / f"app{len(apps)}", **kwargs))
        return apps[-1]

    yield start
    for app in apps:
        app.stop()


def test_the_app_starts_on_a_full_disk_and_says_saving_is_off(namespaced_app):
    app = namespaced_app(size="1m", setup="mkdir -p {mount}/data/sessions/old && "
                                           "(dd if=/dev/zero of={mount}/filler bs=64k >/dev/null 2>&1; true)")
    config = app.config()
    assert "Saving is off: the disk is full" in config
    assert '"storage-banner"' in config


def test_the_app_starts_on_a_read_only_data_folder(namespaced_app):
    app = namespaced_app(size="1m", setup="mkdir -p {mount}/data", read_only=True)
    assert "Saving is off: the data folder is read-only" in app.config()


def test_paste_and_view_work_on_a_read_only_data_folder_in_the_browser(namespaced_app, browser, tmp_path):
    app = namespaced_app(size="1m", setup="mkdir -p {mount}/data", read_only=True)
    photo = write_image(tmp_path, 640, 480, fmt="JPEG", name="kitchen.jpg")
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        page = context.new_page()
        page.set_default_timeout(60_000)
        page.goto(app.url)
        banner = page.locator("#storage-banner")
        banner.wait_for(state="visible")
        assert "Saving is off: the data folder is read-only" in banner.inner_text()
        page.locator("#upload input[type=file]").set_input_files([str(photo)])
        _wait_text(page, "#geometry-table", "kitchen.jpg")
        page.get_by_role("tab", name="2 · Ground").click()
        page.locator("#model-output textarea").fill('[{"bbox_2d": [322, 238, 644, 476], "label": "cat"}]')
        page.locator("#parse").click()
        _wait_text(page, "#detections", "cat")
        assert "[320, 240, 640, 480]" in " ".join(page.inner_text("#detections").split())
        page.wait_for_function("document.querySelectorAll('#drawn img').length >= 1")
        source = page.locator("#drawn img").first.get_attribute("src")
        with urllib.request.urlopen(urllib.parse.urljoin(app.url, source), timeout=30) as response:
            assert response.status == 200 and response.read(3) == b"\xff\xd8\xff"  # the drawn JPEG is served
    finally:
        context.close()


def _wait_text(page, selector: str, text: str, timeout: int = 60_000) -> None:
    page.wait_for_function(
        "([sel, text]) => { const el = document.querySelector(sel); return el && el.innerText.includes(text); }",
        arg=[selector, text], timeout=timeout,
    )
