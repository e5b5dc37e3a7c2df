"""make_thumbnails on images drawn with Pillow: formats, modes, orientation, sizes, metadata."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import struct

import pytest
from PIL import Image, ImageChops, ImageStat, JpegImagePlugin

from linkarchive.imaging import SIZES, Thumbnails, make_thumbnails
from tests.imaging.drawing import encode, photo

RED, GREEN, BLUE = (255, 0, 0), (0, 255, 0), (0, 0, 255)


def decoded(thumbnails: Thumbnails) -> dict[str, Image.Image]:
    """Every variant decoded back, after checking it is exactly what it claims to be."""
    images = {}
    for name, variant in thumbnails.variants.items():
        image = Image.open(io.BytesIO(variant.data))
        image.load()
        assert image.size == (variant.width, variant.height)
        assert variant.sha256 == hashlib.sha256(variant.data).hexdigest()
        if variant.mime == "image/jpeg":
            assert (image.format, image.mode, variant.extension) == ("JPEG", "RGB", "jpg")
        else:
            assert (variant.mime, image.format, variant.extension) == ("image/png", "PNG", "png")
            assert image.mode == "RGBA"
        assert "exif" not in image.info and "comment" not in image.info
        images[name] = image
    return images


def sizes(thumbnails: Thumbnails) -> dict[str, tuple[int, int]]:
    return {name: (v.width, v.height) for name, v in thumbnails.variants.items()}


def close(pixel: tuple[int, ...], expected: tuple[int, ...], tolerance: int = 16) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(pixel, expected, strict=True))


def without_adobe_marker(jpeg: bytes) -> bytes:
    """``jpeg`` with its APP14 "Adobe" segment cut out (segments up to start-of-scan)."""
    position, out = 2, bytearray(jpeg[:2])
    while jpeg[position + 1] != 0xDA:
        length = struct.unpack(">H", jpeg[position + 2:position + 4])[0]
        if jpeg[position + 1] != 0xEE:
            out += jpeg[position:position + 2 + length]
        position += 2 + length
    return bytes(out + jpeg[position:])


@pytest.fixture(scope="module")
def big_jpeg() -> bytes:
    exif = Image.Exif()
    exif[0x013B] = "Someone Private"  # Artist
    return encode(photo((4000, 3000)), "JPEG", quality=90, exif=exif)


def test_large_photo_original_and_variants(big_jpeg: bytes) -> None:
    thumbnails = make_thumbnails(big_jpeg)
    original = thumbnails.original
    assert (original.format, original.mime, original.extension) == ("JPEG", "image/jpeg", "jpg")
    assert (original.width, original.height, original.byte_size) == (4000, 3000, len(big_jpeg))
    assert original.sha256 == hashlib.sha256(big_jpeg).hexdigest()
    assert list(thumbnails.variants) == ["small", "medium", "large"]
    assert sizes(thumbnails) == {"small": (150, 113), "medium": (300, 225), "large": (600, 450)}
    for image in decoded(thumbnails).values():
        assert not image.getexif()


def test_draft_decodes_jpeg_at_reduced_scale_with_same_result(
        big_jpeg: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    drafted: list[tuple[int, int]] = []
    real_draft = JpegImagePlugin.JpegImageFile.draft

    def spy(self: JpegImagePlugin.JpegImageFile, mode: str | None,
            size: tuple[int, int] | None) -> object:
        result = real_draft(self, mode, size)
        drafted.append(self.size)
        return result

    monkeypatch.setattr(JpegImagePlugin.JpegImageFile, "draft", spy)
    fast = make_thumbnails(big_jpeg, use_draft=True)
    assert drafted == [(1000, 750)]  # 1/4 scale: the smallest DCT scale still >= 600x450
    slow = make_thumbnails(big_jpeg, use_draft=False)
    assert drafted == [(1000, 750)]
    assert sizes(fast) == sizes(slow)
    large_fast, large_slow = decoded(fast)["large"], decoded(slow)["large"]
    difference = ImageStat.Stat(ImageChops.difference(large_fast, large_slow)).mean
    assert max(difference) < 4  # same picture; only resampling noise differs


@pytest.mark.parametrize("use_draft", [True, False])
def test_exif_orientation_6_turns_the_picture(use_draft: bool) -> None:
    stored = Image.new("RGB", (1200, 600), BLUE)
    stored.paste(RED, (0, 0, 300, 150))  # the stored top-left corner
    exif = Image.Exif()
    exif[0x0112] = 6  # shown rotated 90 degrees clockwise
    thumbnails = make_thumbnails(encode(stored, "JPEG", exif=exif), use_draft=use_draft)
    assert (thumbnails.original.width, thumbnails.original.height) == (600, 1200)
    assert sizes(thumbnails) == {"small": (75, 150), "medium": (150, 300), "large": (300, 600)}
    large = decoded(thumbnails)["large"]
    assert close(large.getpixel((290, 10)), RED)  # stored top-left is now top-right
    assert close(large.getpixel((10, 10)), BLUE)
    assert close(large.getpixel((290, 590)), BLUE)


def test_cmyk_jpeg_with_adobe_marker() -> None:
    data = encode(Image.new("CMYK", (64, 48), (0, 255, 255, 0)), "JPEG")
    assert "adobe" in Image.open(io.BytesIO(data)).info
    for image in decoded(make_thumbnails(data)).values():
        assert close(image.getpixel((32, 24)), RED)


def test_cmyk_jpeg_without_adobe_marker_is_not_inverted() -> None:
    # Pillow writes inverted (Adobe) ink values; pre-invert so the file holds plain values.
    ink = ImageChops.invert(Image.new("CMYK", (64, 48), (0, 255, 255, 0)))
    data = without_adobe_marker(encode(ink, "JPEG"))
    plain = Image.open(io.BytesIO(data))
    assert plain.mode == "CMYK" and "adobe" not in plain.info
    assert not close(plain.convert("RGB").getpixel((32, 24)), RED)  # Pillow alone gets it wrong
    for image in decoded(make_thumbnails(data)).values():
        assert close(image.getpixel((32, 24)), RED)


def test_png_with_alpha_stays_transparent() -> None:
    source = Image.new("RGBA", (800, 400), (0, 0, 0, 0))
    source.paste((*GREEN, 255), (400, 0, 800, 400))
    thumbnails = make_thumbnails(encode(source, "PNG"))
    assert sizes(thumbnails) == {"small": (150, 75), "medium": (300, 150), "large": (600, 300)}
    for image in decoded(thumbnails).values():
        width, height = image.size
        assert image.getpixel((2, height // 2))[3] == 0
        assert image.getpixel((width - 3, height // 2)) == (*GREEN, 255)


def test_opaque_alpha_channel_becomes_jpeg() -> None:
    thumbnails = make_thumbnails(encode(Image.new("RGBA", (200, 100), (*BLUE, 255)), "PNG"))
    assert {v.mime for v in thumbnails.variants.values()} == {"image/jpeg"}
    assert close(decoded(thumbnails)["large"].getpixel((100, 50)), BLUE)


def test_palette_gif_transparent_index() -> None:
    source = Image.new("P", (300, 300), 1)
    source.putpalette([*RED, *BLUE] + [0, 0, 0] * 254)
    source.paste(0, (0, 0, 150, 300))
    data = encode(source, "GIF", transparency=0)
    thumbnails = make_thumbnails(data)
    assert (thumbnails.original.format, thumbnails.original.mime) == ("GIF", "image/gif")
    assert sizes(thumbnails) == {"small": (150, 150), "medium": (300, 300), "large": (300, 300)}
    for image in decoded(thumbnails).values():
        width, height = image.size
        assert image.getpixel((2, height // 2))[3] == 0
        assert image.getpixel((width - 3, height // 2)) == (*BLUE, 255)


def test_animated_gif_uses_first_frame() -> None:
    frames = [Image.new("RGB", (120, 80), colour) for colour in (RED, GREEN, BLUE)]
    data = encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100)
    assert Image.open(io.BytesIO(data)).n_frames == 3
    for image in decoded(make_thumbnails(data)).values():
        assert image.size == (120, 80)
        assert close(image.getpixel((60, 40)), RED, tolerance=2)


def test_sixteen_bit_grey_is_scaled_not_clipped() -> None:
    ramp = Image.linear_gradient("L").transpose(Image.Transpose.ROTATE_90).resize((512, 64))
    wide = ramp.convert("I").point(lambda v: v * 257).convert("I;16")  # 0..65535, dark to light
    data = encode(wide, "PNG")
    assert Image.open(io.BytesIO(data)).mode == "I;16"
    large = decoded(make_thumbnails(data))["large"]
    left, middle, right = (large.getpixel((x, 32))[0] for x in (2, 256, 509))
    assert left < 16 and 100 < middle < 156 and right > 240


@pytest.mark.parametrize(("mode", "top"), [("I", 4095), ("F", 1.0)])
def test_wide_range_samples_are_stretched(mode: str, top: float) -> None:
    ramp = Image.linear_gradient("L").transpose(Image.Transpose.ROTATE_90).resize((256, 32))
    source = ramp.convert("F").point(lambda v: v * top / 255).convert(mode)
    large = decoded(make_thumbnails(encode(source, "TIFF")))["large"]
    left, middle, right = (large.getpixel((x, 16))[0] for x in (2, 128, 253))
    assert left < 16 and 100 < middle < 156 and right > 240


@pytest.mark.parametrize(("mode", "fmt", "expected"), [
    ("1", "PNG", "RGB"), ("L", "PNG", "RGB"), ("LA", "PNG", "RGBA"), ("RGB", "BMP", "RGB"),
    ("CMYK", "TIFF", "RGB"), ("I", "TIFF", "RGB"), ("F", "TIFF", "RGB"), ("RGBA", "TIFF", "RGBA"),
])
def test_source_modes(mode: str, fmt: str, expected: str) -> None:
    source = Image.linear_gradient("L").resize((160, 120)).convert(mode)
    if "A" in mode:
        source.putalpha(Image.linear_gradient("L").resize((160, 120)))
    thumbnails = make_thumbnails(encode(source, fmt))
    for image in decoded(thumbnails).values():
        assert image.mode == expected


def test_mpo_is_stored_as_jpeg() -> None:
    first, second = Image.new("RGB", (50, 40), RED), Image.new("RGB", (50, 40), BLUE)
    data = encode(first, "MPO", save_all=True, append_images=[second])
    assert Image.open(io.BytesIO(data)).format == "MPO"
    thumbnails = make_thumbnails(data)
    assert (thumbnails.original.format, thumbnails.original.extension) == ("JPEG", "jpg")
    assert close(decoded(thumbnails)["small"].getpixel((25, 20)), RED)


def test_icon() -> None:
    data = encode(Image.new("RGBA", (64, 64), (*GREEN, 255)), "ICO", sizes=[(64, 64)])
    thumbnails = make_thumbnails(data)
    assert (thumbnails.original.format, thumbnails.original.extension) == ("ICO", "ico")
    assert sizes(thumbnails)["large"] == (64, 64)
    assert close(decoded(thumbnails)["large"].getpixel((32, 32)), GREEN)


def test_tiny_image_is_never_upscaled() -> None:
    thumbnails = make_thumbnails(encode(Image.new("RGB", (10, 10), GREEN), "PNG"))
    assert set(sizes(thumbnails).values()) == {(10, 10)}
    assert (thumbnails.original.width, thumbnails.original.height) == (10, 10)
    decoded(thumbnails)


def test_output_is_stable_and_hashes_the_original_bytes() -> None:
    data = encode(photo((900, 700)), "JPEG")
    first, second = make_thumbnails(data), make_thumbnails(data)
    assert first == second
    assert first.original.sha256 == hashlib.sha256(data).hexdigest()


def test_rgb_colour_profile_kept_other_metadata_dropped() -> None:
    rgb_profile = bytes(16) + b"RGB XYZ " + bytes(104)
    cmyk_profile = bytes(16) + b"CMYKLab " + bytes(104)
    rgb = make_thumbnails(encode(photo((300, 200)), "JPEG", icc_profile=rgb_profile,
                                 comment=b"taken at home"))
    cmyk = make_thumbnails(encode(Image.new("CMYK", (300, 200)), "JPEG", icc_profile=cmyk_profile))
    assert decoded(rgb)["large"].info.get("icc_profile") == rgb_profile
    assert "icc_profile" not in decoded(cmyk)["large"].info


def test_results_are_frozen() -> None:
    thumbnails = make_thumbnails(encode(Image.new("RGB", (20, 20)), "PNG"))
    with pytest.raises(dataclasses.FrozenInstanceError):
        thumbnails.original.width = 1  # type: ignore[misc]
    with pytest.raises(TypeError):
        thumbnails.variants["small"] = thumbnails.variants["large"]  # type: ignore[index]
    assert set(thumbnails.variants) == set(SIZES)
