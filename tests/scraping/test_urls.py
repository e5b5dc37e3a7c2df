"""URL normalisation: one canonical form per page, clear reasons for URLs that cannot be saved."""

from __future__ import annotations

import hashlib

import pytest

from linkarchive.errors import InvalidURL
from linkarchive.scraping.urls import MAX_URL_LENGTH, normalize_url, url_hash


@pytest.mark.parametrize(("raw", "normalized"), [
    ("http://한국.kr/", "http://xn--3e0b707e.kr/"),
    ("https://münchen.de/straße", "https://xn--mnchen-3ya.de/stra%C3%9Fe"),
    ("HTTP://Example.COM:80/a/./b/../c#section", "http://example.com/a/c"),
    ("https://example.com:443", "https://example.com/"),
    ("https://example.com:8443/x", "https://example.com:8443/x"),
    ("  https://example.com/page  ", "https://example.com/page"),
    ("example.com/page", "https://example.com/page"),
    ("https://example.com/?utm_source=x&b=2&a=1&fbclid=3&gclid=4", "https://example.com/?b=2&a=1"),
    ("https://example.com/?UTM_Medium=1&ref_src=twsrc&igshid=x&_ga=2", "https://example.com/"),
    ("https://example.com/p?&&q=1&", "https://example.com/p?q=1"),
    ("https://example.com/%7euser/%e2%82%ac", "https://example.com/~user/%E2%82%AC"),
    ("https://example.com/a b", "https://example.com/a%20b"),
    ("https://example.com/100%", "https://example.com/100%25"),
    ("https://example.com/search?q=a%20b&lang=ko", "https://example.com/search?q=a%20b&lang=ko"),
    ("http://[::FFFF:127.0.0.1]:8080/", "http://[::ffff:7f00:1]:8080/"),
    ("http://0x7f.1/", "http://127.0.0.1/"),
    ("http://2130706433/", "http://127.0.0.1/"),
    ("http://example.com./", "http://example.com/"),
])
def test_normalize(raw: str, normalized: str) -> None:
    assert normalize_url(raw) == normalized


def test_normalizing_twice_changes_nothing() -> None:
    once = normalize_url("HTTPS://Example.com/a/../b/%7e?utm_campaign=x&z=1#top")
    assert normalize_url(once) == once


@pytest.mark.parametrize(("raw", "reason"), [
    ("", "URL is empty"),
    ("ftp://example.com/file", "only http and https URLs can be saved"),
    ("javascript:alert(1)", "only http and https URLs can be saved"),
    ("mailto:someone@example.com", "only http and https URLs can be saved"),
    ("http:///path", "URL has no host"),
    ("http://exa mple.com/", "not a valid domain name"),
    ("http://example.com:99999/", "invalid port"),
    ("http://user:secret@example.com/", "user name or password"),
    ("http://999.1.1.1/", "not a valid IPv4 address"),
    ("http://[::zz]/", "URL cannot be parsed"),
    ("http://example.com/\x00", "control characters"),
    ("https://example.com/" + "a" * MAX_URL_LENGTH, f"longer than {MAX_URL_LENGTH}"),
])
def test_invalid(raw: str, reason: str) -> None:
    with pytest.raises(InvalidURL, match=reason):
        normalize_url(raw)


def test_invalid_url_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        normalize_url("gopher://example.com/")


def test_url_hash_is_sha256_of_the_normalized_url() -> None:
    normalized = normalize_url("https://Example.com/x?utm_source=a")
    assert url_hash(normalized) == hashlib.sha256(b"https://example.com/x").hexdigest()
    assert len(url_hash(normalized)) == 64
