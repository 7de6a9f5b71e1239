"""Header-only image sizes: EXIF orientation, sniffed formats, clear errors for bad files."""

from __future__ import annotations

import io

import pytest
from PIL import Image, ImageOps

from grounding import ImageReadError, read_image_size
from tests.factories import write_image


@pytest.mark.parametrize("orientation", range(1, 9))
@pytest.mark.parametrize("fmt", ["JPEG", "WEBP", "PNG"])
def test_each_exif_orientation_gives_the_displayed_size(tmp_path, orientation, fmt):
    path = write_image(tmp_path, 60, 40, fmt=fmt, orientation=orientation)
    size = read_image_size(path)
    with Image.open(path) as image:
        displayed = ImageOps.exif_transpose(image).size  # decodes and transposes: the reference
    assert size.wh == displayed
    assert size.orientation == orientation
    assert size.wh == ((40, 60) if orientation >= 5 else (60, 40))


def test_header_is_enough_for_a_truncated_jpeg(tmp_path):
    path = write_image(tmp_path, 800, 600, fmt="JPEG")
    data = path.read_bytes()
    truncated = tmp_path / "cut.jpg"
    truncated.write_bytes(data[: len(data) // 3])
    assert read_image_size(truncated).wh == (800, 600)


def test_format_is_sniffed_not_taken_from_the_name(tmp_path):
    path = write_image(tmp_path, 33, 21, fmt="WEBP", name="actually_webp.jpeg")
    size = read_image_size(path)
    assert (size.wh, size.format) == ((33, 21), "WEBP")


def test_bytes_and_streams(tmp_path):
    path = write_image(tmp_path, 10, 7, fmt="PNG")
    assert read_image_size(path.read_bytes()).wh == (10, 7)
    with path.open("rb") as stream:
        assert read_image_size(stream).wh == (10, 7)


def test_huge_declared_size_is_refused_clearly():
    # A real PNG header declaring 100000 x 100000 pixels (10 gigapixels) with no pixel data behind it.
    buffer = io.BytesIO()
    Image.new("L", (1, 1)).save(buffer, "PNG")
    data = bytearray(buffer.getvalue())
    import struct
    import zlib

    data[16:24] = struct.pack(">II", 100000, 100000)
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])))
    with pytest.raises(ImageReadError, match="too large"):
        read_image_size(bytes(data))


@pytest.mark.parametrize(
    ("content", "message"),
    [
        pytest.param(b"", "not an image", id="empty"),
        pytest.param(b"hello, I am text", "not an image", id="text"),
        pytest.param(b"\x89PNG\r\n\x1a\n\x00\x00", "unreadable|not an image", id="broken-png-header"),
    ],
)
def test_bad_files_give_clear_errors(tmp_path, content, message):
    path = tmp_path / "bad.png"
    path.write_bytes(content)
    with pytest.raises(ImageReadError, match=message):
        read_image_size(path)


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(ImageReadError, match="no such file"):
        read_image_size(tmp_path / "nope.jpg")
    with pytest.raises(ImageReadError, match="folder"):
        read_image_size(tmp_path)


@pytest.mark.parametrize("orientation", [1, 6, 8])
def test_png_with_xmp_orientation_matches_exif_transpose(tmp_path, orientation):
    from PIL import PngImagePlugin

    from tests.factories import make_image

    xmp = ('<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
           f'<rdf:Description xmlns:tiff="http://ns.adobe.com/tiff/1.0/" tiff:Orientation="{orientation}"/>'
           "</rdf:RDF></x:xmpmeta>")
    info = PngImagePlugin.PngInfo()
    info.add_itxt("XML:com.adobe.xmp", xmp)
    path = tmp_path / "xmp.png"
    make_image(64, 32).save(path, "PNG", pnginfo=info)
    with Image.open(path) as image:
        displayed = ImageOps.exif_transpose(image).size
    assert read_image_size(path).wh == displayed == ((32, 64) if orientation >= 5 else (64, 32))


def _variants(tmp_path):
    """JPEG and PNG files in every shape the header fast path must agree with Pillow on."""
    from PIL import ExifTags

    from tests.factories import make_image

    base = make_image(97, 61)
    yield "baseline.jpg", lambda p: base.save(p, "JPEG")
    yield "progressive.jpg", lambda p: base.save(p, "JPEG", progressive=True)
    yield "gray.jpg", lambda p: base.convert("L").save(p, "JPEG")
    yield "cmyk.jpg", lambda p: base.convert("CMYK").save(p, "JPEG")
    yield "icc.jpg", lambda p: base.save(p, "JPEG", icc_profile=b"\0" * 70000)  # SOF beyond the first 64 KB
    for orientation in (1, 3, 6):
        exif = Image.Exif()
        exif[ExifTags.Base.Orientation] = orientation
        yield f"exif{orientation}.jpg", lambda p, e=exif: base.save(p, "JPEG", exif=e.tobytes())
        yield f"exif{orientation}.png", lambda p, e=exif: base.save(p, "PNG", exif=e.tobytes())
    yield "mpo.jpg", lambda p: base.save(p, "MPO", save_all=True, append_images=[base.resize((9, 6))])
    yield "palette.png", lambda p: base.convert("P").save(p, "PNG")
    yield "sixteen.png", lambda p: base.convert("I;16").save(p, "PNG")
    yield "rgba.png", lambda p: base.convert("RGBA").save(p, "PNG")


def test_the_header_fast_path_agrees_with_pillow(tmp_path):
    from grounding.image_size import _plain_header

    fast = 0
    for name, save in _variants(tmp_path):
        path = tmp_path / name
        save(path)
        with Image.open(path) as image:
            expected = ImageOps.exif_transpose(image).size
            fmt = image.format
        size = read_image_size(path)
        assert (size.wh, size.format) == (expected, fmt), name
        assert read_image_size(path.read_bytes()) == size, name
        fast += _plain_header(path.read_bytes()[:1 << 16]) is not None
    assert fast >= 6  # the plain files took the fast path
