"""Image verification, thumbnails and their content-addressed object keys."""

from linkarchive.imaging.keys import original_key, thumbnail_keys, variant_key
from linkarchive.imaging.thumbnails import SIZES, Original, Thumbnails, Variant, make_thumbnails

__all__ = [
    "SIZES",
    "Original",
    "Thumbnails",
    "Variant",
    "make_thumbnails",
    "original_key",
    "thumbnail_keys",
    "variant_key",
]
