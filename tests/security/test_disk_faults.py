"""A disk that fills up and a read-only data folder, on real small file systems (tmpfs in a private
mount namespace): nothing truncated is kept, errors read in words, the app starts and says why
saving is off, and the paste-and-view workflow still works.
"""

from __future__ import annotations

import json

import pytest

from tests.factories import write_image
from tests.security import small_fs
from tests.security.live import NamespacedApp

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
from workbench.tryit.uploads import UploadError, load_upload
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
for attempt in (lambda: store.add_item(cats, [photo], "Find the cat."),
                lambda: [store.create_dataset(f"d{{n}}-" + "x" * 90) for n in range(400)]):
    try:
        attempt()
        errors.append("saved")
    except StoreError as exc:
        errors.append(str(exc))
incoming = [p.name for p in (disk / "images").rglob(".incoming-*")]
pathlib.Path(filler).unlink()
dogs = store.create_dataset("dogs")
sample = store.add_item(dogs, [photo], "Find the dog.")
names = [d.name for d in store.list_datasets()]
print(json.dumps({{"errors": errors, "incoming": incoming, "names": names, "images": len(sample.images)}}))
''')
    first, second = result["errors"]
    assert "the disk is full" in first and "photo.png" in first, first
    assert "the disk is full" in second and "nothing was saved" in second, second
    assert all("rollback" not in e and "None" not in e for e in result["errors"])
    assert result["incoming"] == []
    assert "cats" in result["names"] and "dogs" in result["names"] and result["images"] == 1


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
