"""The guarded HTTP client: pages for metadata, bytes for images, every hop through the SSRF guard.

Redirects are followed here rather than by aiohttp so that each hop is checked, rate limited and
counted; names resolve through ``GuardedResolver``, so a hop only ever connects to an address the
guard accepted. aiohttp errors become FetchError at this boundary.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from types import MappingProxyType, TracebackType
from typing import TypeVar

import aiohttp
import anyio
from yarl import URL

from linkarchive.config.settings import FetchSettings
from linkarchive.engine.cpu import run_cpu
from linkarchive.errors import FetchError
from linkarchive.scraping.body import media_type, read_capped, read_page_bytes, status_error
from linkarchive.scraping.challenge import detect_challenge
from linkarchive.scraping.decode import decode_document, looks_binary
from linkarchive.scraping.guard import AddressGuard, GuardedResolver
from linkarchive.scraping.politeness import HostLimiter, TokenBucketLimiter

__all__ = ["IMAGE_ACCEPT", "PAGE_ACCEPT", "Fetcher", "Page", "Resource"]

T = TypeVar("T")

PAGE_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
IMAGE_ACCEPT = "image/avif,image/webp,image/png,image/jpeg,image/*;q=0.8,*/*;q=0.5"
ACCEPT_LANGUAGE = "ko,en;q=0.8,*;q=0.5"
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_KEPT_HEADERS = ("content-type", "content-language", "content-length", "last-modified", "etag",
                 "link", "x-robots-tag")
_HTML_TYPES = frozenset({"text/html", "application/xhtml+xml", ""})
_TEXT_TYPES = frozenset({"application/json", "application/xml", "application/ld+json"})
# Enough of an error page to recognise a bot wall in it.
_ERROR_PAGE_BYTES = 64 * 1024
_DNS_TIMEOUT = 5.0
_MAX_HEADER_LINE = 32 * 1024


def _kept_headers(response: aiohttp.ClientResponse) -> Mapping[str, str]:
    return MappingProxyType({name: response.headers[name] for name in _KEPT_HEADERS
                             if name in response.headers})


@dataclass(frozen=True, kw_only=True)
class Page:
    """A fetched page. ``text`` is empty for media (image, video, …), whose body is not read."""

    url: str
    status: int
    content_type: str
    charset: str | None
    text: str
    headers: Mapping[str, str]
    truncated: bool
    elapsed: float

    @property
    def media(self) -> str:
        """What the URL is: "html", "text", "image", "video", "audio" or "other"."""
        if self.content_type in _HTML_TYPES:
            return "html"
        major = self.content_type.split("/", 1)[0]
        if major in ("image", "video", "audio"):
            return major
        return "text" if major == "text" or self.content_type in _TEXT_TYPES else "other"


@dataclass(frozen=True, kw_only=True)
class Resource:
    """Fetched bytes (an image, usually), read whole and within the size cap."""

    url: str
    status: int
    content_type: str
    body: bytes
    headers: Mapping[str, str]
    elapsed: float


def _parse_url(value: str) -> URL:
    try:
        return URL(value)
    except (ValueError, TypeError):
        raise FetchError(f"cannot fetch {value!r}: not a valid URL") from None


def _refuse_wall(text: str, response: aiohttp.ClientResponse) -> None:
    wall = detect_challenge(text, url=str(response.url), status=response.status,
                            headers=response.headers)
    if wall:
        raise FetchError(f"{response.url} is behind a bot wall ({wall})")


@contextmanager
def _translate_errors(url: str) -> Iterator[None]:
    """aiohttp's and the socket layer's errors, as FetchError with a reason a person can read."""
    try:
        yield
    except TimeoutError:
        raise FetchError(f"timed out fetching {url}", transient=True) from None
    except aiohttp.ClientConnectorDNSError as exc:
        if getattr(exc.os_error, "errno", None) == socket.EAI_NONAME:
            raise FetchError(f"{exc.host} does not exist (DNS)") from exc
        raise FetchError(f"could not resolve {exc.host}", transient=True) from exc
    except (aiohttp.ClientConnectorCertificateError, aiohttp.ClientSSLError) as exc:
        raise FetchError(f"TLS failed for {url}: {exc}") from exc
    except aiohttp.ClientConnectorError as exc:
        raise FetchError(f"could not connect to {exc.host}:{exc.port}", transient=True) from exc
    except aiohttp.InvalidURL as exc:
        raise FetchError(f"invalid URL {exc.url}") from exc
    except aiohttp.ClientPayloadError as exc:
        raise FetchError(f"the response body from {url} was malformed or cut off: {exc}",
                         transient=True) from exc
    except aiohttp.ClientResponseError as exc:
        raise FetchError(f"malformed response from {url}: {exc.message}") from exc
    except aiohttp.ClientError as exc:
        raise FetchError(f"fetching {url} failed: {exc or type(exc).__name__}",
                         transient=True) from exc


class Fetcher:
    """One aiohttp session behind the SSRF guard; use ``async with Fetcher(settings) as f``."""

    def __init__(self, settings: FetchSettings, *, limiter: HostLimiter | None = None) -> None:
        self._settings = settings
        self._guard = AddressGuard(settings.fetch_allow_hosts)
        self._limiter = limiter or TokenBucketLimiter(rate=settings.fetch_host_rate,
                                                      burst=settings.fetch_host_burst)
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> Fetcher:
        total = self._settings.fetch_timeout
        resolver = GuardedResolver(self._guard, timeout=min(total, _DNS_TIMEOUT))
        connector = aiohttp.TCPConnector(resolver=resolver, limit=100, limit_per_host=4)
        self._session = aiohttp.ClientSession(
            connector=connector,
            timeout=aiohttp.ClientTimeout(total=total, connect=min(total, 10.0),
                                          sock_read=min(total, 10.0)),
            headers={"User-Agent": self._settings.user_agent, "Accept-Language": ACCEPT_LANGUAGE},
            # Cookies live per fetch (see _request), never shared between links.
            cookie_jar=aiohttp.DummyCookieJar(),
            trust_env=False,
            max_line_size=_MAX_HEADER_LINE,
            max_field_size=_MAX_HEADER_LINE,
        )
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def fetch_page(self, url: str) -> Page:
        """Fetch a page for its metadata; raise FetchError (``transient`` when worth retrying)."""
        return await self._request(url, PAGE_ACCEPT, self._read_page)

    async def fetch_bytes(self, url: str, *, max_bytes: int | None = None,
                          accept: str = IMAGE_ACCEPT) -> Resource:
        """Fetch a whole file of at most ``max_bytes`` (default ``image_max_bytes``)."""
        limit = max_bytes or self._settings.image_max_bytes

        async def read(response: aiohttp.ClientResponse, started: float) -> Resource:
            if response.status >= 300:
                raise status_error(response)
            if (response.content_length or 0) > limit:
                raise FetchError(f"{response.url} is larger than {limit} bytes")
            body, more = await read_capped(response, limit)
            if more:
                raise FetchError(f"{response.url} is larger than {limit} bytes")
            return Resource(url=str(response.url), status=response.status,
                            content_type=media_type(response), body=body,
                            headers=_kept_headers(response), elapsed=time.monotonic() - started)

        return await self._request(url, accept, read)

    async def _request(self, url: str, accept: str,
                       read: Callable[[aiohttp.ClientResponse, float], Awaitable[T]]) -> T:
        """Follow redirects hop by hop (each guarded and rate limited) and read the final answer."""
        if self._session is None:
            raise RuntimeError("use the Fetcher as an async context manager")
        started = time.monotonic()
        target = _parse_url(url)
        jar = aiohttp.CookieJar()
        seen: set[tuple[str, int]] = set()
        with _translate_errors(url), anyio.fail_after(self._settings.fetch_timeout):
            for _hop in range(self._settings.fetch_max_redirects + 1):
                if target.scheme not in ("http", "https") or not target.raw_host:
                    raise FetchError(f"cannot fetch {target}: only http and https URLs")
                # A repeat is a loop only if no cookie arrived since, which could change the answer.
                visit = (str(target), len(jar))
                if visit in seen:
                    raise FetchError(f"redirect loop: {target} redirects back to itself")
                seen.add(visit)
                self._guard.check_host(target.raw_host)
                await self._limiter.acquire(target.raw_host)
                async with self._session.get(target, allow_redirects=False,
                                             headers={"Accept": accept},
                                             cookies=jar.filter_cookies(target)) as response:
                    location = response.headers.get("Location")
                    if response.status not in _REDIRECTS or not location:
                        return await read(response, started)
                    jar.update_cookies(response.cookies, response.url)
                    target = response.url.join(_parse_url(location))
            raise FetchError(f"too many redirects (more than {self._settings.fetch_max_redirects})"
                             f" starting at {url}")

    async def _read_page(self, response: aiohttp.ClientResponse, started: float) -> Page:
        final_url = str(response.url)
        kind = media_type(response)
        if response.status >= 300:
            body, _ = await read_capped(response, _ERROR_PAGE_BYTES)
            text, _ = decode_document(body, response.headers.get("Content-Type"), complete=False)
            _refuse_wall(text, response)
            raise status_error(response)
        text, charset, truncated = "", None, False
        if kind in _HTML_TYPES or kind.startswith("text/") or kind in _TEXT_TYPES:
            limit = self._settings.fetch_max_bytes
            if kind in _HTML_TYPES:
                body, truncated = await read_page_bytes(response, limit)
            else:
                body, truncated = await read_capped(response, limit)
            if looks_binary(body):
                raise FetchError(f"{final_url} claims to be {kind or 'a page'} but is binary data")
            # Decoding megabytes (and charset detection) is CPU work: keep it off the loop.
            decode = partial(decode_document, body, response.headers.get("Content-Type"),
                             complete=not truncated)
            text, charset = await run_cpu(decode)
            _refuse_wall(text, response)
        return Page(url=final_url, status=response.status, content_type=kind or "text/html",
                    charset=charset, text=text, headers=_kept_headers(response),
                    truncated=truncated, elapsed=time.monotonic() - started)
