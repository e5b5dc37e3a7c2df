"""URL normalisation and hashing: one saved link per normalised URL per user.

``normalize_url`` keeps what identifies a page and drops what does not: scheme and host case,
default ports, fragments, tracking parameters and needless percent-encoding. The remaining query
keeps its order, because some sites give parameter order meaning.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
import socket
from urllib.parse import SplitResult, unquote, urlsplit, urlunsplit

import idna

from linkarchive.errors import InvalidURL

__all__ = ["MAX_URL_LENGTH", "TRACKING_PARAMETERS", "TRACKING_PREFIXES", "normalize_url", "url_hash"]

MAX_URL_LENGTH = 2048

# Parameters that only say where a click came from; they never change the page.
TRACKING_PARAMETERS = frozenset({
    "fbclid", "gclid", "gclsrc", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "twclid",
    "ttclid", "igshid", "igsh", "mc_cid", "mc_eid", "_ga", "_gl", "_hsenc", "_hsmi", "mkt_tok",
    "ref_src", "ref_url", "li_fat_id", "vero_id", "vero_conv", "oly_anon_id", "oly_enc_id",
    "wickedid", "rb_clickid", "s_cid", "__s",
})
TRACKING_PREFIXES = ("utm_", "pk_", "mtm_")

_DEFAULT_PORTS = {"http": 80, "https": 443}
_UNRESERVED = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
# Characters kept literally in a path or query: unreserved, sub-delims, ':' '@' '/' '?' and '%'.
_KEEP = _UNRESERVED | frozenset(b"!$&'()*+,;=:@/?%")
_PERCENT = re.compile(rb"%([0-9A-Fa-f]{2})")
_SCHEMELESS_HOST = re.compile(r"^[^/:?#\s]+\.[^/:?#\s]+(?:[:/?#]|$)")
_LABEL = re.compile(r"^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$")
_NUMERIC_HOST = re.compile(r"^[0-9a-fx.]+$")
_NUMERIC_LABEL = re.compile(r"^(?:[0-9]+|0x[0-9a-f]*)$")


def _quote(part: str) -> str:
    """Percent-encode what must be, decode what need not be, and upper-case the escapes."""
    raw = part.encode("utf-8", "surrogatepass")

    def unescape(match: re.Match[bytes]) -> bytes:
        byte = int(match.group(1), 16)
        return bytes([byte]) if byte in _UNRESERVED else b"%" + match.group(1).upper()

    raw = _PERCENT.sub(unescape, raw)
    out = []
    for index, byte in enumerate(raw):
        if byte == 0x25 and not _PERCENT.match(raw, index):  # a stray '%' is data
            out.append("%25")
        elif byte in _KEEP:
            out.append(chr(byte))
        else:
            out.append(f"%{byte:02X}")
    return "".join(out)


def _remove_dot_segments(path: str) -> str:
    """RFC 3986 section 5.2.4, so ``/a/./b/../c`` and ``/a/c`` are one page."""
    if "." not in path:
        return path
    output: list[str] = []
    segments = path.split("/")
    for index, segment in enumerate(segments):
        last = index == len(segments) - 1
        if segment == "..":
            if len(output) > 1:
                output.pop()
            if last:
                output.append("")
        elif segment == ".":
            if last:
                output.append("")
        else:
            output.append(segment)
    result = "/".join(output)
    return result if result.startswith("/") else "/" + result


def _is_tracking(name: str) -> bool:
    key = name.lower()
    return key in TRACKING_PARAMETERS or key.startswith(TRACKING_PREFIXES)


def _normalize_query(query: str) -> str:
    kept = []
    for pair in query.split("&"):
        if not pair:
            continue
        if not _is_tracking(unquote(pair.split("=", 1)[0])):
            kept.append(_quote(pair))
    return "&".join(kept)


def _normalize_host(host: str) -> str:
    host = host.strip().rstrip(".").lower()
    if not host:
        raise InvalidURL("URL has no host")
    if ":" in host:
        try:
            address = ipaddress.IPv6Address(host.split("%", 1)[0])
        except ValueError:
            raise InvalidURL("URL host is not a valid IPv6 address") from None
        return f"[{address.compressed}]"
    if _NUMERIC_HOST.match(host) and _NUMERIC_LABEL.match(host.rsplit(".", 1)[-1]):
        try:  # 0x7f.1 and 2130706433 name 127.0.0.1, as browsers read them
            return str(ipaddress.IPv4Address(socket.inet_aton(host)))
        except OSError:
            raise InvalidURL("URL host is not a valid IPv4 address") from None
    try:
        ascii_host = idna.encode(host, uts46=True).decode("ascii")
    except idna.IDNAError:
        # Underscores and similar are refused by IDNA but used by real hosts.
        if not host.isascii():
            raise InvalidURL("URL host is not a valid domain name") from None
        ascii_host = host
    if len(ascii_host) > 253 or not all(_LABEL.match(label) for label in ascii_host.split(".")):
        raise InvalidURL("URL host is not a valid domain name")
    return ascii_host


def _split(raw: str) -> SplitResult:
    if "://" not in raw:
        # A shared "example.com/page" means the web page, as a browser's address bar reads it.
        if raw.startswith("//"):
            raw = "https:" + raw
        elif _SCHEMELESS_HOST.match(raw):
            raw = "https://" + raw
    try:
        return urlsplit(raw)
    except ValueError as exc:
        raise InvalidURL(f"URL cannot be parsed: {exc}") from None


def normalize_url(raw: str) -> str:
    """The canonical form of ``raw``; raise InvalidURL saying what is wrong with it."""
    if not isinstance(raw, str) or not raw.strip():
        raise InvalidURL("URL is empty")
    raw = raw.strip()
    if len(raw) > MAX_URL_LENGTH:
        raise InvalidURL(f"URL is longer than {MAX_URL_LENGTH} characters")
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in raw):
        raise InvalidURL("URL contains control characters")
    parts = _split(raw)
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        raise InvalidURL("only http and https URLs can be saved")
    if parts.username is not None or parts.password is not None:
        raise InvalidURL("URLs with a user name or password cannot be saved")
    host = _normalize_host(parts.hostname or "")
    try:
        port = parts.port
    except ValueError:
        raise InvalidURL("URL has an invalid port") from None
    netloc = host if port in (None, _DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    path = _remove_dot_segments(_quote(parts.path)) or "/"
    query = _normalize_query(parts.query)
    result = urlunsplit((scheme, netloc, path, query, ""))
    if len(result) > MAX_URL_LENGTH:
        raise InvalidURL(f"URL is longer than {MAX_URL_LENGTH} characters")
    return result


def url_hash(normalized: str) -> str:
    """SHA-256 of the normalised URL, hex: the per-user uniqueness key."""
    return hashlib.sha256(normalized.encode("utf-8")).hexdigest()
