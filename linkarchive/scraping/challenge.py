"""Recognise bot walls, challenge and consent pages, so they are not saved as the link's page.

Rules look at what only a wall has (vendor markers, response headers, the wall's own title on a
short page), never at words an ordinary article may contain.
"""

from __future__ import annotations

import html as html_lib
import re
from collections.abc import Mapping
from urllib.parse import urlsplit

__all__ = ["detect_challenge"]

_TITLE = re.compile(r"<title[^>]*>(.*?)</title", re.I | re.S)
_SCAN = 64 * 1024
# A wall is a small page; an article about captchas is not.
_SHORT_PAGE = 40_000

_CONSENT_HOSTS = ("consent.google.", "consent.youtube.com", "consent.yahoo.com", "guce.yahoo.com")
# (marker found in the first 64 KB, reason); only the walls carry these, not the sites behind them.
_MARKERS = (
    ("window._cf_chl_opt", "Cloudflare challenge"),
    ("captcha-delivery.com", "DataDome captcha"),
    ('id="px-captcha"', "PerimeterX captcha"),
    ("errors.edgesuite.net", "Akamai access denied"),
    ("errors&#46;edgesuite&#46;net", "Akamai access denied"),
)
# (title pattern, reason), checked only on short pages.
_TITLES = (
    (re.compile(r"^just a moment\.*$|^attention required!? \| cloudflare$|"
                r"used cloudflare to restrict access$"), "Cloudflare challenge"),
    (re.compile(r"^access to this page has been denied\.?$"), "PerimeterX block page"),
    (re.compile(r"^before you continue\b"), "consent wall"),
    (re.compile(r"^access denied$"), "access denied page"),
    (re.compile(r"^(?:captcha|robot check|bot check|human verification|security check(?: required)?|"
                r"pardon our interruption|verify (?:that )?you are (?:a )?human|"
                r"are you a (?:robot|human)\??|checking your browser\b.*)$"), "captcha page"),
)


def _title(document: str) -> str:
    match = _TITLE.search(document)
    if not match:
        return ""
    return " ".join(html_lib.unescape(match.group(1)).split()).lower()


def detect_challenge(document: str, *, url: str = "", status: int = 200,
                     headers: Mapping[str, str] | None = None) -> str | None:
    """Name the wall ``document`` is (e.g. "Cloudflare challenge"), or None for a real page."""
    headers = headers or {}
    if headers.get("cf-mitigated", "").lower() == "challenge":
        return "Cloudflare challenge"
    host = (urlsplit(url).hostname or "").lower()
    if host.startswith(_CONSENT_HOSTS):
        return "consent wall"
    head = document[:_SCAN]
    for marker, reason in _MARKERS:
        if marker in head:
            return reason
    if len(document) > _SHORT_PAGE and status < 400:
        return None
    title = _title(head)
    return next((reason for pattern, reason in _TITLES if title and pattern.search(title)), None)
