"""The fetcher against a real local site: metadata sources, charsets, media, and hostile servers."""

from __future__ import annotations

import time

import anyio
import pytest

from linkarchive.errors import BlockedAddress, FetchError
from linkarchive.scraping.extract import extract_metadata
from linkarchive.scraping.fetch import Fetcher
from linkarchive.scraping.inspect import inspect_url
from linkarchive.scraping.politeness import TokenBucketLimiter
from tests.scraping.conftest import HUGE_SIZE, PNG, Site, settings

pytestmark = pytest.mark.anyio


def _fetcher(**overrides: object) -> Fetcher:
    return Fetcher(settings(**overrides), limiter=TokenBucketLimiter(rate=1000, burst=1000))


async def _metadata(fetcher: Fetcher, url: str) -> dict[str, object]:
    page = await fetcher.fetch_page(url)
    return extract_metadata(page.text, page.url).as_dict()


async def test_open_graph_page(site: Site, fetcher: Fetcher) -> None:
    page = await fetcher.fetch_page(site.url + "/og")
    assert (page.status, page.content_type, page.charset, page.media) == (200, "text/html", "utf-8",
                                                                          "html")
    assert not page.truncated and page.elapsed > 0
    assert page.headers["content-type"].startswith("text/html")
    meta = extract_metadata(page.text, page.url)
    assert meta.title == "Open Graph Title"
    assert meta.description == "Described by & for Open Graph."
    assert meta.image == "https://cdn.example.com/og.jpg"
    assert (meta.publisher, meta.lang, meta.kind) == ("Example Site", "en", "article")
    assert meta.date == "2024-03-05T10:20:30+01:00"
    assert meta.keywords == ("Python", "Async")
    assert site.events["user_agents"] == ["linkarchive-tests/1.0"]


async def test_twitter_card_page(site: Site, fetcher: Fetcher) -> None:
    meta = await _metadata(fetcher, site.url + "/twitter")
    assert meta["title"] == "Twitter Card Title"
    assert meta["description"] == "Described for Twitter."
    assert meta["image"] == site.url + "/img/tw.png"


async def test_jsonld_page(site: Site, fetcher: Fetcher) -> None:
    meta = await _metadata(fetcher, site.url + "/jsonld")
    assert meta["title"] == "JSON-LD Headline"
    assert meta["author"] == "Ada Lovelace, Alan Turing"
    assert (meta["publisher"], meta["lang"], meta["kind"]) == ("LD News", "de", "article")
    assert meta["date"] == "2023-11-17T08:00:00+00:00"
    assert meta["image"] == "https://cdn.example.com/ld.jpg"
    assert meta["logo"] == site.url + "/logo.png"
    assert meta["keywords"] == ["science", "history"]


async def test_jsonld_graph_page(site: Site, fetcher: Fetcher) -> None:
    meta = await _metadata(fetcher, site.url + "/graph")
    assert meta["title"] == "Graph Headline"
    assert (meta["author"], meta["publisher"], meta["date"]) == ("Grace Hopper", "Graph Site",
                                                                 "2022-02-03")


async def test_microdata_page(site: Site, fetcher: Fetcher) -> None:
    meta = await _metadata(fetcher, site.url + "/microdata")
    assert meta["title"] == "Microdata Headline"
    assert meta["author"] == "Katherine Johnson"
    assert meta["date"] == "2021-07-20"
    assert meta["image"] == site.url + "/pics/moon.jpg"
    assert meta["description"] == "A description from microdata."


async def test_plain_title_page(site: Site, fetcher: Fetcher) -> None:
    meta = await _metadata(fetcher, site.url + "/plain")
    assert meta["title"] == 'Just a "plain" title'
    assert meta["description"].startswith("The first real paragraph of this page")
    assert meta["image"] is None and meta["kind"] == "website"


@pytest.mark.parametrize("variant", ["header", "meta", "bare"])
async def test_euc_kr_page(site: Site, fetcher: Fetcher, variant: str) -> None:
    page = await fetcher.fetch_page(f"{site.url}/korean/{variant}")
    assert page.charset == "cp949"
    meta = extract_metadata(page.text, page.url)
    assert meta.title == "한국어 기사 제목"
    assert meta.publisher == "예제 신문"
    assert meta.lang == "ko"
    # 똠 exists in CP949 but not in EUC-KR proper: decoding as plain EUC-KR would break here.
    assert "똠방각하" in page.text


async def test_relative_urls_resolve_against_base(site: Site, fetcher: Fetcher) -> None:
    meta = await _metadata(fetcher, site.url + "/relative")
    assert meta["image"] == "https://static.example.net/images/card.png"
    assert meta["logo"] == "https://static.example.net/assets/touch.png"
    assert meta["url"] == "https://static.example.net/articles/42"


async def test_image_url_is_its_own_thumbnail(site: Site, fetcher: Fetcher) -> None:
    page = await fetcher.fetch_page(site.url + "/photo.png")
    assert (page.media, page.content_type, page.text) == ("image", "image/png", "")
    meta = await inspect_url(site.url + "/photo.png", fetcher)
    assert meta["kind"] == "image" and meta["image"] == site.url + "/photo.png"
    resource = await fetcher.fetch_bytes(site.url + "/photo.png")
    assert resource.body == PNG and resource.content_type == "image/png"


async def test_image_over_the_cap_is_refused(site: Site, fetcher: Fetcher) -> None:
    with pytest.raises(FetchError, match="larger than 16 bytes"):
        await fetcher.fetch_bytes(site.url + "/photo.png", max_bytes=16)


async def test_video_page(site: Site, fetcher: Fetcher) -> None:
    meta = await _metadata(fetcher, site.url + "/video")
    assert (meta["kind"], meta["title"]) == ("video", "A Video")
    assert meta["image"] == "https://video.example.com/poster.jpg"


async def test_huge_page_stops_after_the_head(site: Site, fetcher: Fetcher) -> None:
    started = time.monotonic()
    page = await fetcher.fetch_page(site.url + "/huge")
    assert page.truncated
    assert len(page.text) < 1024 * 1024
    assert extract_metadata(page.text, page.url).title == "Open Graph Title"
    with anyio.fail_after(5):  # the server sees the client hang up long before the end
        while "huge" not in site.events:
            await anyio.sleep(0.02)
    outcome, sent = site.events["huge"]
    assert outcome == "aborted" and sent < HUGE_SIZE
    assert time.monotonic() - started < 5


async def test_gzip_bomb_is_cut_at_the_cap(site: Site) -> None:
    async with _fetcher(fetch_max_bytes=1024 * 1024) as fetcher:
        page = await fetcher.fetch_page(site.url + "/bomb")
        assert page.truncated and len(page.text) <= 1024 * 1024
        with pytest.raises(FetchError, match="larger than"):
            await fetcher.fetch_bytes(site.url + "/bomb", max_bytes=1024 * 1024)
    assert site.events["bomb_wire_bytes"] < 1024 * 1024


async def test_compressed_page_is_inflated(site: Site, fetcher: Fetcher) -> None:
    page = await fetcher.fetch_page(site.url + "/small.gz")
    assert "Open Graph Title" in page.text and not page.truncated


async def test_slow_drip_times_out_in_bounded_time(site: Site) -> None:
    started = time.monotonic()
    async with _fetcher(fetch_timeout=1.0) as fetcher:
        with pytest.raises(FetchError, match="timed out") as caught:
            await fetcher.fetch_page(site.url + "/drip")
    assert caught.value.transient
    assert time.monotonic() - started < 3


async def test_redirects_are_followed(site: Site, fetcher: Fetcher) -> None:
    page = await fetcher.fetch_page(site.url + "/hop")
    assert page.url == site.url + "/og"


async def test_redirect_loop(site: Site, fetcher: Fetcher) -> None:
    with pytest.raises(FetchError, match="redirect loop") as caught:
        await fetcher.fetch_page(site.url + "/loop/a")
    assert not caught.value.transient
    assert site.hits["/loop/a"] == 1 and site.hits["/loop/b"] == 1


async def test_redirect_cap(site: Site) -> None:
    async with _fetcher(fetch_max_redirects=3) as fetcher:
        with pytest.raises(FetchError, match=r"too many redirects \(more than 3\)"):
            await fetcher.fetch_page(site.url + "/chain/0")
    assert sorted(site.hits) == ["/chain/0", "/chain/1", "/chain/2", "/chain/3"]


@pytest.mark.parametrize(("where", "reason"), [
    ("private", "10.0.0.1: a private address"),
    ("metadata", "169.254.169.254: a cloud metadata address"),
    ("metadata-name", "metadata.google.internal: it is a cloud metadata host"),
])
async def test_redirect_to_internal_address_is_refused(site: Site, fetcher: Fetcher, where: str,
                                                       reason: str) -> None:
    started = time.monotonic()
    with pytest.raises(BlockedAddress, match=reason):
        await fetcher.fetch_page(f"{site.url}/to/{where}")
    assert time.monotonic() - started < 1  # refused up front, not after a connect timeout


async def test_redirect_to_unlisted_loopback_is_refused_before_connecting(
        site: Site, elsewhere: Site, fetcher: Fetcher) -> None:
    # 127.0.0.2 is listening, so any connection attempt would have reached it.
    with pytest.raises(BlockedAddress, match="127.0.0.2: a loopback address"):
        await fetcher.fetch_page(site.url + "/to/loopback")
    assert elsewhere.hits == {}


async def test_names_are_checked_after_resolution(site: Site) -> None:
    port = site.url.rsplit(":", 1)[1]
    async with _fetcher(fetch_allow_hosts=()) as fetcher:
        with pytest.raises(BlockedAddress, match=r"localhost \(127\.0\.0\.1\): a loopback"):
            await fetcher.fetch_page(f"http://localhost:{port}/og")
    assert site.hits == {}


async def test_redirect_to_other_scheme_is_refused(site: Site, fetcher: Fetcher) -> None:
    with pytest.raises(FetchError, match="only http and https"):
        await fetcher.fetch_page(site.url + "/to/file")


async def test_malformed_redirect_target(site: Site, fetcher: Fetcher) -> None:
    with pytest.raises(FetchError, match="not a valid URL"):
        await fetcher.fetch_page(site.url + "/bad-redirect")


async def test_binary_served_as_html_is_refused(site: Site, fetcher: Fetcher) -> None:
    with pytest.raises(FetchError, match="claims to be text/html but is binary") as caught:
        await fetcher.fetch_page(site.url + "/binary")
    assert not caught.value.transient


async def test_429_carries_retry_after_seconds(site: Site, fetcher: Fetcher) -> None:
    with pytest.raises(FetchError, match="429") as caught:
        await fetcher.fetch_page(site.url + "/busy")
    assert caught.value.transient and caught.value.retry_after == 7


async def test_503_carries_retry_after_http_date(site: Site, fetcher: Fetcher) -> None:
    with pytest.raises(FetchError, match="503") as caught:
        await fetcher.fetch_page(site.url + "/down")
    assert caught.value.transient
    assert caught.value.retry_after is not None and 100 < caught.value.retry_after <= 120


async def test_server_errors_are_transient_client_errors_are_not(site: Site,
                                                                 fetcher: Fetcher) -> None:
    with pytest.raises(FetchError, match="500") as server_error:
        await fetcher.fetch_page(site.url + "/broken")
    with pytest.raises(FetchError, match="404 Not Found") as client_error:
        await fetcher.fetch_page(site.url + "/missing")
    assert server_error.value.transient and not client_error.value.transient


async def test_cloudflare_challenge_is_recognised(site: Site, fetcher: Fetcher) -> None:
    with pytest.raises(FetchError, match=r"bot wall \(Cloudflare challenge\)") as caught:
        await fetcher.fetch_page(site.url + "/challenge")
    assert not caught.value.transient


async def test_refused_connection_is_transient(site: Site) -> None:
    from tests.conftest import free_port

    async with _fetcher() as fetcher:
        with pytest.raises(FetchError, match="could not connect") as caught:
            await fetcher.fetch_page(f"http://127.0.0.1:{free_port()}/")
    assert caught.value.transient


async def test_fetcher_must_be_entered() -> None:
    with pytest.raises(RuntimeError, match="async context manager"):
        await Fetcher(settings()).fetch_page("http://127.0.0.1/")
