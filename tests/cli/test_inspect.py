"""``linkarchive inspect``: the scraper's view of a saved page or a live URL, as JSON."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

from tests.cli.conftest import one_line_error

PAGE = """<!doctype html><html lang="ko"><head><meta charset="utf-8">
<title>김치찌개 끓이는 법 | 맛집</title>
<meta property="og:title" content="김치찌개 끓이는 법">
<meta property="og:image" content="/img/kimchi.jpg">
<meta property="og:site_name" content="맛집">
</head><body><p>묵은지로 만듭니다.</p></body></html>"""


def test_a_saved_page_resolves_against_its_url(cli, tmp_path: Path) -> None:
    saved = tmp_path / "page.html.gz"
    saved.write_bytes(gzip.compress(PAGE.encode()))
    found = json.loads(cli("inspect", str(saved), "--url", "https://food.example.kr/a").stdout)
    assert found["title"] == "김치찌개 끓이는 법"
    assert found["image"] == "https://food.example.kr/img/kimchi.jpg"
    assert found["lang"] == "ko"


def test_a_live_url_is_fetched_through_the_guard(cli, cli_env, local_site) -> None:
    base = local_site({"/a": (200, "text/html; charset=utf-8", PAGE.encode())})
    blocked = cli("inspect", f"{base}/a", check=False)
    assert "127.0.0.1" in one_line_error(blocked)
    cli_env["LINKARCHIVE_FETCH_ALLOW_HOSTS"] = "127.0.0.1"
    found = json.loads(cli("inspect", f"{base}/a").stdout)
    assert found["title"] == "김치찌개 끓이는 법" and found["image"] == f"{base}/img/kimchi.jpg"
    missing = cli("inspect", f"{base}/nope", check=False)
    assert "404" in one_line_error(missing)


def test_neither_file_nor_url(cli, tmp_path: Path) -> None:
    result = cli("inspect", str(tmp_path / "nothing.html"), check=False)
    assert one_line_error(result) == (
        f"{tmp_path / 'nothing.html'} is neither a file nor an http(s) URL")
