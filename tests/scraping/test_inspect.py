"""``inspect_file``: saved pages, compressed or not, in the encoding they were saved in."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from linkarchive.errors import InvalidInput
from linkarchive.scraping.extract import FIELDS
from linkarchive.scraping.inspect import inspect_file
from tests.scraping import pages
from tests.scraping.conftest import PNG


def test_inspect_saved_page_with_its_url(tmp_path: Path) -> None:
    path = tmp_path / "page.html"
    path.write_text(pages.TWITTER, encoding="utf-8")
    data = inspect_file(path, "https://Example.com/post?utm_source=feed")
    assert tuple(data) == FIELDS
    assert data["title"] == "Twitter Card Title"
    assert data["url"] == "https://example.com/post"
    assert data["image"] == "https://example.com/img/tw.png"


def test_inspect_gzipped_euc_kr_page_without_url(tmp_path: Path) -> None:
    path = tmp_path / "korean.html.gz"
    path.write_bytes(gzip.compress(pages.KOREAN.encode("cp949")))
    data = inspect_file(path)
    assert (data["title"], data["lang"], data["url"]) == ("한국어 기사 제목", "ko", None)


def test_relative_links_resolve_on_the_canonical_url_when_no_url_is_given(tmp_path: Path) -> None:
    path = tmp_path / "page.html"
    path.write_text('<link rel="canonical" href="https://site.example/a/b">'
                    '<meta property="og:image" content="/i.png">', encoding="utf-8")
    assert inspect_file(path)["image"] == "https://site.example/i.png"


def test_inspect_refuses_binary_and_missing_files(tmp_path: Path) -> None:
    image = tmp_path / "photo.png"
    image.write_bytes(PNG)
    with pytest.raises(InvalidInput, match="not an HTML document"):
        inspect_file(image)
    with pytest.raises(InvalidInput, match="cannot read"):
        inspect_file(tmp_path / "missing.html")
