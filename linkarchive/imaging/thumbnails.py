"""Thumbnails from untrusted image bytes: verify, orient, normalise colour, resize three ways, encode.

``make_thumbnails`` is synchronous and CPU-bound. Callers run it in a worker thread behind a
capacity limiter (``linkarchive.engine.cpu.run_cpu``), never on the event loop.
Every refusal is a permanent ``ImageError``: the same bytes will fail the same way next time.
"""

from __future__ import annotations

import hashlib
import io
import struct
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from PIL import ExifTags, Image, ImageChops, ImageOps, features

from linkarchive.errors import ImageError

__all__ = ["SIZES", "Original", "Thumbnails", "Variant", "make_thumbnails"]

# Variant name -> bounding box side in pixels (seed 001).
SIZES: Mapping[str, int] = MappingProxyType({"small": 150, "medium": 300, "large": 600})

# Pillow format name -> (mime type, extension). Only these plugins are ever consulted, so the
# EPS (Ghostscript), PDF and other exotic parsers are never reached. WebP only when this build
# can decode it, so a WebP upload gets the same clear refusal as any other unsupported format.
_FORMATS: Mapping[str, tuple[str, str]] = MappingProxyType({
    "JPEG": ("image/jpeg", "jpg"),
    "PNG": ("image/png", "png"),
    "GIF": ("image/gif", "gif"),
    "BMP": ("image/bmp", "bmp"),
    "TIFF": ("image/tiff", "tiff"),
    "ICO": ("image/vnd.microsoft.icon", "ico"),
    **({"WEBP": ("image/webp", "webp")} if features.check("webp") else {}),
})
# The JPEG opener hands back multi-picture camera files as MPO; their bytes are a plain JPEG.
_ALIASES = {"MPO": "JPEG"}

# What Pillow's parsers and decoders raise on malformed input (truncated streams, bad headers,
# broken EXIF, decoders missing from this build); its UserWarnings about a damaged file raise
# too when warnings are errors, as in the test suite.
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, IndexError, KeyError, TypeError,
                  struct.error, ZeroDivisionError, UserWarning)

_ICO_SIGNATURE = b"\x00\x00\x01\x00"
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

# EXIF orientations that turn the picture a quarter: the shown width is the stored height.
_TURNED = frozenset({5, 6, 7, 8})

_JPEG_QUALITY = 82
# Resize first reduces by an integer factor (box filter) down to this multiple of the target,
# then resamples with Lanczos: Pillow's own default trade-off for ``thumbnail``.
_REDUCING_GAP = 2.0


@dataclass(frozen=True, slots=True, kw_only=True)
class Original:
    """The verified source image; width and height as displayed (EXIF orientation applied)."""

    format: str
    mime: str
    extension: str
    width: int
    height: int
    byte_size: int
    sha256: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Variant:
    """One encoded thumbnail: an RGB JPEG, or an RGBA PNG when the source has transparency."""

    data: bytes = field(repr=False)
    width: int
    height: int
    mime: str
    extension: str
    sha256: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Thumbnails:
    """The original's description and the ``small``, ``medium`` and ``large`` variants."""

    original: Original
    variants: Mapping[str, Variant]


def _fit(size: tuple[int, int], box: int) -> tuple[int, int]:
    """``size`` scaled to fit inside ``box``×``box`` keeping its aspect ratio; never enlarged."""
    width, height = size
    if width <= box and height <= box:
        return size
    # Integer arithmetic, rounding half up, so the result does not depend on float error.
    if width >= height:
        return box, max(1, (2 * height * box + width) // (2 * width))
    return max(1, (2 * width * box + height) // (2 * height)), box


def _refuse(width: int, height: int, max_pixels: int) -> None:
    if width * height > max_pixels:
        raise ImageError(f"image is {width}x{height} = {width * height:,} pixels, "
                         f"over the limit of {max_pixels:,}")


def _check_icon_frames(data: bytes, max_pixels: int) -> None:
    """Pillow decodes an icon while opening it, and each frame (a PNG, or a DIB whose height
    counts its mask twice) has a header of its own: check those first."""
    count = int.from_bytes(data[4:6], "little")
    for entry in range(6, min(6 + 16 * count, len(data) - 15), 16):
        offset = int.from_bytes(data[entry + 12:entry + 16], "little")
        frame = data[offset:offset + 24]
        if len(frame) < 24:
            continue  # Pillow refuses the frame as truncated
        if frame.startswith(_PNG_SIGNATURE):
            width, height = struct.unpack(">II", frame[16:24])
        else:
            width, height = struct.unpack("<ii", frame[4:12])
            height //= 2
        _refuse(abs(width), abs(height), max_pixels)


def _open(data: bytes, max_pixels: int) -> Image.Image:
    """Identify the format from the header and refuse oversized images before any pixel decode."""
    if data.startswith(_ICO_SIGNATURE):
        _check_icon_frames(data, max_pixels)
    try:
        image = Image.open(io.BytesIO(data), formats=tuple(_FORMATS))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        # Pillow's own global guard fired first; with warnings as errors the warning raises.
        raise ImageError(f"image refused as a decompression bomb: {exc}") from exc
    except _DECODE_ERRORS as exc:
        allowed = ", ".join(_FORMATS)
        raise ImageError(f"not an image in a supported format ({allowed})") from exc
    try:
        _refuse(*image.size, max_pixels)
    except ImageError:
        image.close()
        raise
    return image


def _decode(image: Image.Image, draft_to: tuple[int, int] | None) -> Image.Image:
    """Decode the first frame, upright, with CMYK polarity fixed; shrink JPEGs on load."""
    if draft_to is not None:
        # JPEG only (other formats ignore it): libjpeg's scaled IDCT decodes at 1/2, 1/4 or 1/8
        # size, never below ``draft_to``, the size of the largest variant.
        image.draft("RGB", draft_to)
    image.load()
    if image.mode == "CMYK" and image.format in ("JPEG", "MPO") and "adobe" not in image.info:
        # Pillow assumes Adobe's inverted CMYK for every JPEG; without the APP14 Adobe marker
        # the ink values are stored as-is (the libjpeg and browser convention), so undo it.
        image = ImageChops.invert(image)
    ImageOps.exif_transpose(image, in_place=True)
    return image


def _normalise(image: Image.Image) -> Image.Image:
    """RGB, or RGBA when some pixel is actually transparent."""
    if image.mode.startswith("I;16"):
        # 16-bit grey: keep the top byte (Pillow's own I;16 -> L conversion clips at 255).
        image = image.convert("I").point(lambda v: v / 256).convert("L")
    elif image.mode in ("I", "F"):
        # 32-bit integer or float samples have no fixed range: stretch what is there.
        low, high = image.getextrema()
        scale = 255 / (high - low) if high > low else 0
        image = image.point(lambda v: (v - low) * scale).convert("L")
    has_alpha = "A" in image.getbands() or "a" in image.getbands() or "transparency" in image.info
    if has_alpha:
        image = image.convert("RGBA")
        if image.getchannel("A").getextrema()[0] < 255:
            return image
    return image if image.mode == "RGB" else image.convert("RGB")


def _rgb_icc_profile(image: Image.Image) -> bytes | None:
    """The embedded ICC profile when it describes RGB data: kept so wide-gamut photos (Display P3)
    keep their colours. Profiles for CMYK or grey no longer match the converted pixels."""
    profile = image.info.get("icc_profile")
    return profile if profile and profile[16:20] == b"RGB " else None


def _encode(image: Image.Image, icc_profile: bytes | None) -> Variant:
    """PNG keeps real transparency; JPEG is far smaller for everything else. No EXIF is written."""
    buffer = io.BytesIO()
    if image.mode == "RGBA":
        # zlib's default level: level 9 takes about ten times as long on photographic alpha
        # images for files a few percent smaller.
        image.save(buffer, "PNG", compress_level=6, icc_profile=icc_profile)
        mime, extension = "image/png", "png"
    else:
        image.save(buffer, "JPEG", quality=_JPEG_QUALITY, optimize=True, progressive=True,
                   icc_profile=icc_profile)
        mime, extension = "image/jpeg", "jpg"
    data = buffer.getvalue()
    return Variant(data=data, width=image.width, height=image.height, mime=mime,
                   extension=extension, sha256=hashlib.sha256(data).hexdigest())


def _render(work: Image.Image, shown: tuple[int, int]) -> Mapping[str, Variant]:
    """Every variant of ``work``, sized from the full-resolution ``shown`` size."""
    icc_profile = _rgb_icc_profile(work)
    work.info.clear()  # nothing else of the source's metadata reaches the encoders
    variants: dict[str, Variant] = {}
    # Largest first, each from the one before: every step is a small, cheap reduction.
    for name, box in sorted(SIZES.items(), key=lambda item: -item[1]):
        size = _fit(shown, box)
        if work.size != size:
            work = work.resize(size, Image.Resampling.LANCZOS, reducing_gap=_REDUCING_GAP)
        variants[name] = _encode(work, icc_profile)
    return MappingProxyType({name: variants[name] for name in SIZES})


def make_thumbnails(data: bytes, *, max_pixels: int = 50_000_000,
                    use_draft: bool = True) -> Thumbnails:
    """Verify ``data`` as an image and render the ``SIZES`` variants.

    Blocking and CPU-bound: call it from a worker thread, never on the event loop. Raises
    ImageError (``transient=False``) for non-images, disallowed formats, truncated or corrupt
    files and images over ``max_pixels`` (refused from the header, before decoding).
    """
    with _open(data, max_pixels) as image:
        format_name = _ALIASES.get(image.format or "", image.format or "")
        mime, extension = _FORMATS[format_name]
        width, height = image.size
        try:
            if image.getexif().get(ExifTags.Base.Orientation) in _TURNED:
                width, height = height, width
            draft_to = _fit(image.size, max(SIZES.values())) if use_draft else None
            work = _normalise(_decode(image, draft_to))
        except _DECODE_ERRORS as exc:
            raise ImageError(f"could not decode the image: {exc}") from exc
        variants = _render(work, (width, height))
    original = Original(format=format_name, mime=mime, extension=extension, width=width,
                        height=height, byte_size=len(data),
                        sha256=hashlib.sha256(data).hexdigest())
    return Thumbnails(original=original, variants=variants)
