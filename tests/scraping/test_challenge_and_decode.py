"""Bot-wall recognition, charset decoding and the per-host limiter."""

from __future__ import annotations

import codecs
import time

import pytest

from linkarchive.errors import FetchError
from linkarchive.scraping.challenge import detect_challenge
from linkarchive.scraping.decode import decode_document, looks_binary, normalize_charset
from linkarchive.scraping.politeness import TokenBucketLimiter
from tests.scraping import pages

pytestmark = pytest.mark.anyio

ARTICLE = ("<html><head><title>Why CAPTCHAs are getting harder - Example Blog</title></head><body>"
           + "<p>Security check pages, Cloudflare's 'Just a moment...' screen and reCAPTCHA boxes "
             "are everywhere. Are you a robot? Sites keep asking.</p>" * 300 + "</body></html>")


@pytest.mark.parametrize(("document", "kwargs", "reason"), [
    (pages.CHALLENGE, {"status": 403}, "Cloudflare challenge"),
    ("<html><head><title>Attention Required! | Cloudflare</title></head></html>", {"status": 403},
     "Cloudflare challenge"),
    ("<p>ok</p>", {"headers": {"cf-mitigated": "challenge"}}, "Cloudflare challenge"),
    ("<html><script src='https://geo.captcha-delivery.com/captcha/?x=1'></script></html>",
     {"status": 403}, "DataDome captcha"),
    ('<html><title>Access to this page has been denied.</title><div id="px-captcha"></div>',
     {"status": 403}, "PerimeterX captcha"),
    ("<html><head><title>Access Denied</title></head><body>You don't have permission to access"
     " this server. Reference #18.1234</body></html>", {"status": 403}, "access denied page"),
    ("<html><title>Before you continue to YouTube</title></html>", {}, "consent wall"),
    ("<html><title>x</title></html>", {"url": "https://consent.google.com/ml?continue=x"},
     "consent wall"),
    ("<html><title>Robot Check</title></html>", {}, "captcha page"),
])
def test_walls_are_recognised(document: str, kwargs: dict, reason: str) -> None:
    assert detect_challenge(document, **kwargs) == reason


@pytest.mark.parametrize("document", [
    ARTICLE,
    pages.OPEN_GRAPH,
    "<html><head><title>How to add a captcha to your form</title></head><body><p>Short.</p>",
    "<html><head><title>Security check of our API | Dev Blog</title></head></html>",
])
def test_ordinary_pages_are_not_walls(document: str) -> None:
    assert detect_challenge(document, url="https://blog.example.com/post") is None


def test_decode_prefers_bom_then_declarations_that_fit() -> None:
    korean = "<meta charset='euc-kr'><title>한글 똠방각하</title>"
    assert decode_document(korean.encode("cp949")) == (korean, "cp949")
    # The server says UTF-8 but the bytes are EUC-KR: the page's own meta tag is used.
    assert decode_document(korean.encode("cp949"), "text/html; charset=utf-8")[0] == korean
    assert decode_document(codecs.BOM_UTF8 + "é".encode(), "text/html; charset=latin-1") == (
        "é", "utf-8")
    assert decode_document("café".encode("cp1252"), "text/html; charset=ISO-8859-1") == (
        "café", "cp1252")


def test_decode_without_any_declaration_detects() -> None:
    text = "<p>" + "이 문장은 선언 없이 저장된 한국어 문서입니다. " * 20 + "</p>"
    decoded, _ = decode_document(text.encode("cp949"))
    assert decoded == text


@pytest.mark.parametrize("complete", [True, False])
def test_detection_on_a_long_undeclared_page(complete: bool) -> None:
    # Longer than the detection sample, which must not end inside a two-byte character.
    text = "<html><body>x" + "<p>똠방각하, 선언 없는 긴 한국어 문서입니다.</p>\n" * 5000
    body = text.encode("cp949")
    decoded, codec = decode_document(body if complete else body[:-1], complete=complete)
    assert codec == "cp949"
    assert decoded == (text if complete else text[:-1])


def test_decode_of_a_cut_page_drops_the_half_character() -> None:
    body = "가나다".encode()[:-1]
    assert decode_document(body, "text/html; charset=utf-8", complete=False) == ("가나", "utf-8")


@pytest.mark.parametrize(("label", "codec"), [
    ("EUC-KR", "cp949"), ("ks_c_5601-1987", "cp949"), ("x-windows-949", "cp949"),
    ("iso-8859-1", "cp1252"), ("GB2312", "gb18030"), ("Shift_JIS", "cp932"), ("utf8", "utf-8"),
    ("no-such-charset", None), ("utf-16", None),
])
def test_normalize_charset(label: str, codec: str | None) -> None:
    assert normalize_charset(label) == codec


def test_binary_sniffing() -> None:
    assert looks_binary(b"\x89PNG\r\n\x1a\n....")
    assert looks_binary(b"<html>\x00\x00\x00")
    assert not looks_binary("<html>한국어</html>".encode())
    assert not looks_binary(codecs.BOM_UTF16_LE + "<html>".encode("utf-16-le"))


async def test_limiter_spaces_requests_per_host() -> None:
    limiter = TokenBucketLimiter(rate=20, burst=1)
    started = time.monotonic()
    for _ in range(3):
        await limiter.acquire("a.example")
    await limiter.acquire("b.example")  # another host has its own bucket
    elapsed = time.monotonic() - started
    assert 0.09 <= elapsed < 0.5


async def test_limiter_refuses_long_waits() -> None:
    limiter = TokenBucketLimiter(rate=1, burst=1, max_wait=0.5)
    await limiter.acquire("slow.example")
    with pytest.raises(FetchError, match="too many requests to slow.example") as caught:
        await limiter.acquire("slow.example")  # the next token is a second away
    assert caught.value.transient and 0.5 < caught.value.retry_after <= 1
