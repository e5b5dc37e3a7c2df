"""Thumbnail throughput: source images per second (three variants each), with and without JPEG
shrink-on-load, on one thread and on a pool of ``os.cpu_count()`` threads.

    .venv/bin/python bench/thumbnails.py [--rounds 5]

The photos are generated (fractal detail, gradients, noise), so runs compare across machines.
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import PIL
from PIL import Image, features

from linkarchive.imaging import make_thumbnails

RESULTS = Path(__file__).parent / "results" / "thumbnails.md"
JPEG_SIZE, JPEG_COUNT = (3000, 2000), 12
PNG_SIZE, PNG_COUNT = (1600, 1200), 4


@dataclass(frozen=True, slots=True)
class Row:
    inputs: str
    draft: str
    single: float
    pooled: float


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def photo(size: tuple[int, int], seed: int) -> Image.Image:
    """A different picture per seed: a shifted fractal, a turned gradient and noise."""
    left = -2.2 + 0.05 * seed
    red = Image.effect_mandelbrot(size, (left, -1.2, left + 3.2, 1.2), 64 + seed)
    green = Image.linear_gradient("L").rotate(15 * seed).resize(size)
    blue = Image.effect_noise(size, 8 + seed)  # sensor-like grain
    return Image.merge("RGB", (red, green, blue))


def jpegs() -> list[bytes]:
    out = []
    for seed in range(JPEG_COUNT):
        buffer = io.BytesIO()
        photo(JPEG_SIZE, seed).save(buffer, "JPEG", quality=90)
        out.append(buffer.getvalue())
    return out


def pngs() -> list[bytes]:
    """Half with real transparency (PNG variants), half opaque (JPEG variants)."""
    out = []
    for seed in range(PNG_COUNT):
        image = photo(PNG_SIZE, seed)
        if seed % 2:
            image.putalpha(Image.radial_gradient("L").resize(PNG_SIZE))
        buffer = io.BytesIO()
        image.save(buffer, "PNG")
        out.append(buffer.getvalue())
    return out


def throughput(images: Sequence[bytes], *, use_draft: bool, workers: int, rounds: int) -> float:
    """Images per second over the whole set, best of ``rounds``."""
    best = float("inf")
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for _ in range(rounds):
            started = time.perf_counter()
            list(pool.map(lambda data: make_thumbnails(data, use_draft=use_draft), images))
            best = min(best, time.perf_counter() - started)
    return len(images) / best


def table(rows: Sequence[Row], workers: int) -> str:
    lines = [f"| input | draft | 1 thread (img/s) | {workers} threads (img/s) | speed-up |",
             "|---|---|---:|---:|---:|"]
    for row in rows:
        lines.append(f"| {row.inputs} | {row.draft} | {row.single:.1f} | {row.pooled:.1f} "
                     f"| {row.pooled / row.single:.2f}x |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    rounds = parser.parse_args().rounds
    load = os.getloadavg()[0]
    workers = os.cpu_count() or 1
    width, height = JPEG_SIZE
    png_width, png_height = PNG_SIZE
    sets = [
        (f"{JPEG_COUNT} JPEG {width}x{height}", jpegs(), ("on", "off")),
        # PNG has no shrink-on-load: draft is a no-op, measured once.
        (f"{PNG_COUNT} PNG {png_width}x{png_height}", pngs(), ("n/a",)),
    ]
    rows = []
    for name, images, drafts in sets:
        for draft in drafts:
            single, pooled = (throughput(images, use_draft=draft != "off", workers=count,
                                         rounds=rounds) for count in (1, workers))
            rows.append(Row(name, draft, single, pooled))
    header = "\n".join([
        "# Thumbnails (small 150, medium 300, large 600 per image)",
        "",
        f"- CPU: {cpu_model()}, {workers} logical CPUs",
        f"- Python {platform.python_version()}, Pillow {PIL.__version__} "
        f"(libjpeg-turbo {features.version('libjpeg_turbo')}, WebP {features.check('webp')})",
        f"- load average before the run: {load:.2f} (other work skews the numbers)",
        f"- best of {rounds} rounds; `.venv/bin/python bench/thumbnails.py`",
        "",
    ])
    report = header + "\n" + table(rows, workers) + "\n"
    print(report)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(report)


if __name__ == "__main__":
    main()
