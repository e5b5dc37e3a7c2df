"""What make_thumbnails refuses, and that it refuses it from the headers, before decoding."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from PIL import Image, ImageFile

from linkarchive.errors import ImageError
from linkarchive.imaging import make_thumbnails
from tests.imaging.drawing import encode, photo


def png_chunk(kind: bytes, payload: bytes) -> bytes:
    return (struct.pack(">I", len(payload)) + kind + payload
            + struct.pack(">I", zlib.crc32(kind + payload)))


def png_header_only(width: int, height: int) -> bytes:
    """A well-formed PNG whose IHDR claims ``width``×``height`` but carries a few bytes of data."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr)
            + png_chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + png_chunk(b"IEND", b""))


@pytest.fixture
def no_pixel_decoding(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(self: ImageFile.ImageFile) -> None:
        raise AssertionError("pixels were decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", refuse)


@pytest.mark.usefixtures("no_pixel_decoding")
@pytest.mark.parametrize(("width", "height"), [(30000, 30000), (8000, 8000)])
def test_decompression_bomb_refused_from_the_header(width: int, height: int) -> None:
    with pytest.raises(ImageError, match="pixels") as caught:
        make_thumbnails(png_header_only(width, height))
    assert caught.value.transient is False


def icon(frame: bytes) -> bytes:
    """An icon file holding ``frame`` behind a one-entry directory that claims 256x256."""
    entry = struct.pack("<BBBBHHII", 0, 0, 0, 0, 1, 32, len(frame), 22)
    return struct.pack("<HHH", 0, 1, 1) + entry + frame


@pytest.mark.usefixtures("no_pixel_decoding")
@pytest.mark.parametrize("frame", [
    png_header_only(8000, 8000),
    struct.pack("<IiiHHII", 40, 8000, 2 * 8000, 1, 32, 0, 0) + bytes(16),
], ids=["png-frame", "dib-frame"])
def test_icon_frame_bomb_refused_before_decoding(frame: bytes) -> None:
    with pytest.raises(ImageError, match="8000x8000"):
        make_thumbnails(icon(frame))


def test_pixel_limit_is_inclusive() -> None:
    data = encode(Image.new("RGB", (100, 100)), "PNG")
    assert make_thumbnails(data, max_pixels=10_000).original.width == 100
    with pytest.raises(ImageError, match="over the limit of 9,999"):
        make_thumbnails(data, max_pixels=9_999)


def test_truncated_jpeg() -> None:
    data = encode(photo((400, 300)), "JPEG")
    with pytest.raises(ImageError, match="truncated") as caught:
        make_thumbnails(data[: len(data) // 2])
    assert caught.value.transient is False


@pytest.mark.parametrize("data", [
    b"Definitely a JPEG, trust me.\n" * 20,
    b"\xff\xd8\xff" + b"text behind a JPEG signature " * 20,
    b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect/></svg>',
    b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n",
    b"",
], ids=["text", "jpeg-signature-then-text", "svg", "pdf", "empty"])
def test_not_an_image(data: bytes) -> None:
    with pytest.raises(ImageError) as caught:
        make_thumbnails(data)
    assert caught.value.transient is False


def test_eps_parser_is_never_reached(monkeypatch: pytest.MonkeyPatch) -> None:
    eps = b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\nshowpage\n%%EOF\n"
    reached: list[bytes] = []

    def opener(fp: object, filename: object = None) -> Image.Image:
        reached.append(eps)
        raise SyntaxError("EPS opener reached")

    Image.init()
    monkeypatch.setitem(Image.OPEN, "EPS", (opener, lambda prefix: True))
    with pytest.raises(Image.UnidentifiedImageError):
        Image.open(io.BytesIO(eps))
    assert reached  # unrestricted, Pillow does hand these bytes to the EPS plugin
    reached.clear()
    with pytest.raises(ImageError, match="not an image in a supported format"):
        make_thumbnails(eps)
    assert reached == []
