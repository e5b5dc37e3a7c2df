"""What ``linkarchive inspect`` shows: the metadata of a saved page file or of a live URL."""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import Any

from linkarchive.engine.cpu import run_cpu
from linkarchive.errors import InvalidInput
from linkarchive.scraping.decode import decode_document, looks_binary
from linkarchive.scraping.extract import extract_metadata, media_metadata
from linkarchive.scraping.fetch import Fetcher, Page
from linkarchive.scraping.urls import normalize_url

__all__ = ["inspect_file", "inspect_url", "page_metadata"]


def inspect_file(path: str | Path, url: str | None = None) -> dict[str, Any]:
    """Metadata of a saved page (``.gz`` is unpacked); ``url`` is where it came from, if known."""
    path = Path(path)
    try:
        raw = path.read_bytes()
        if raw[:2] == b"\x1f\x8b":
            raw = gzip.decompress(raw)
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise InvalidInput(f"cannot read {path}: {exc}") from None
    if looks_binary(raw):
        raise InvalidInput(f"{path} is not an HTML document")
    text, _ = decode_document(raw)
    return extract_metadata(text, normalize_url(url) if url else "").as_dict()


async def page_metadata(page: Page) -> dict[str, Any]:
    """What a fetched page says about itself; a file (image, video, …) is described by its URL."""
    if page.media in ("html", "text") and page.text:
        found = (await run_cpu(extract_metadata, page.text, page.url)).as_dict()
        found["url"] = found.get("url") or page.url
        return found
    return media_metadata(page.url, page.content_type).as_dict()


async def inspect_url(url: str, fetcher: Fetcher) -> dict[str, Any]:
    """Fetch ``url`` the way the pipeline does and return its metadata."""
    return await page_metadata(await fetcher.fetch_page(normalize_url(url)))
