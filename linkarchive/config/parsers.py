"""Parsers for setting values: each takes a string (or a TOML value) and returns the typed value."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

__all__ = [
    "boolean",
    "choice",
    "host_list",
    "network_list",
    "integer",
    "number",
    "path",
    "text",
    "text_list",
    "url",
]

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def text(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError("expected a string")
    return value.strip()


def boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    lowered = str(value).strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ValueError("expected true or false")


def integer(minimum: int = 0, maximum: int | None = None) -> Callable[[Any], int]:
    expected = (f"expected a whole number between {minimum} and {maximum}" if maximum is not None
                else f"expected a whole number of at least {minimum}")

    def parse(value: Any) -> int:
        if isinstance(value, bool):
            raise ValueError(expected)
        try:
            number_ = value if isinstance(value, int) else int(str(value).strip())
        except ValueError:
            raise ValueError(expected) from None
        if number_ < minimum or (maximum is not None and number_ > maximum):
            raise ValueError(expected)
        return number_

    return parse


def number(minimum: float = 0.0) -> Callable[[Any], float]:
    def parse(value: Any) -> float:
        try:
            result = float(str(value).strip()) if not isinstance(value, (int, float)) else float(value)
        except ValueError:
            raise ValueError("expected a number") from None
        if isinstance(value, bool) or result != result or result < minimum:
            raise ValueError(f"expected a number of at least {minimum:g}")
        return result

    return parse


def path(value: Any) -> Path:
    return Path(text(value)).expanduser()


def url(*schemes: str) -> Callable[[Any], str]:
    def parse(value: Any) -> str:
        raw = text(value)
        if not raw:
            return ""
        parts = urlsplit(raw)
        if parts.scheme not in schemes:
            raise ValueError(f"expected a URL starting with {' or '.join(s + '://' for s in schemes)}")
        return raw

    return parse


def choice(*options: str) -> Callable[[Any], str]:
    def parse(value: Any) -> str:
        raw = text(value).lower()
        if raw not in options:
            raise ValueError(f"expected one of: {', '.join(o or '(empty)' for o in options)}")
        return raw

    return parse


def text_list(value: Any) -> tuple[str, ...]:
    items = value if isinstance(value, list) else str(value).split(",")
    return tuple(item.strip() for item in map(str, items) if item.strip())


def host_list(value: Any) -> tuple[str, ...]:
    """Hosts or CIDR blocks, comma-separated; CIDRs are checked here so a typo fails at start-up."""
    items = text_list(value)
    for item in items:
        if "/" in item:
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError:
                raise ValueError(f"{item!r} is not a valid CIDR block") from None
        elif not item or any(c in item for c in " /?#@"):
            raise ValueError(f"{item!r} is not a host name or address")
    return tuple(item.lower() for item in items)


def network_list(value: Any) -> tuple[str, ...]:
    """Addresses or CIDR blocks, comma-separated; host names are not accepted here."""
    items = text_list(value)
    for item in items:
        try:
            ipaddress.ip_network(item, strict=False)
        except ValueError:
            raise ValueError(f"{item!r} is not an address or CIDR block") from None
    return items
