"""Content-addressed object keys for originals and their variants."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from linkarchive.imaging import make_thumbnails, original_key, thumbnail_keys, variant_key

DIGEST = "ab" + "0123456789abcdef" * 3 + "0123456789abcd"


def test_layout() -> None:
    assert original_key(DIGEST, "png") == f"thumbnails/original/ab/{DIGEST}.png"
    assert variant_key("medium", DIGEST, "jpg") == f"thumbnails/resized/medium/ab/{DIGEST}.jpg"


@pytest.mark.parametrize(("digest", "extension"), [
    (DIGEST.upper(), "jpg"), (DIGEST[:-1], "jpg"), ("../" + DIGEST[3:], "jpg"),
    (DIGEST, "jp/g"), (DIGEST, ""), (DIGEST, "JPG"),
])
def test_refuses_what_could_escape_or_split_a_key(digest: str, extension: str) -> None:
    with pytest.raises(ValueError):
        original_key(digest, extension)


def test_unknown_variant() -> None:
    with pytest.raises(ValueError, match="huge"):
        variant_key("huge", DIGEST, "jpg")


def test_same_image_same_keys_all_under_the_original_hash() -> None:
    buffer = io.BytesIO()
    Image.new("RGBA", (700, 350), (10, 20, 30, 128)).save(buffer, "PNG")
    first = thumbnail_keys(make_thumbnails(buffer.getvalue()))
    second = thumbnail_keys(make_thumbnails(buffer.getvalue()))
    assert first == second
    digest = make_thumbnails(buffer.getvalue()).original.sha256
    assert first == {
        "original": f"thumbnails/original/{digest[:2]}/{digest}.png",
        "small": f"thumbnails/resized/small/{digest[:2]}/{digest}.png",
        "medium": f"thumbnails/resized/medium/{digest[:2]}/{digest}.png",
        "large": f"thumbnails/resized/large/{digest[:2]}/{digest}.png",
    }
