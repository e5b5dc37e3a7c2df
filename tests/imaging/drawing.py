"""Images drawn with Pillow for the imaging tests: no binary fixtures are kept in the tree."""

from __future__ import annotations

import io

from PIL import Image


def encode(image: Image.Image, fmt: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def photo(size: tuple[int, int]) -> Image.Image:
    """Gradients, fractal detail and noise: compresses and resamples like a real photo."""
    red = Image.effect_mandelbrot(size, (-2.2, -1.2, 1.0, 1.2), 64)
    green = Image.linear_gradient("L").resize(size)
    blue = Image.effect_noise(size, 40)
    return Image.merge("RGB", (red, green, blue))
