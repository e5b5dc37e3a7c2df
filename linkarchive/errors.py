"""The exception tree. Driver errors are wrapped at the boundary; the HTTP edge maps these once.

LinkArchiveError
├── ConfigError            a setting is missing or malformed
├── UnavailableError       a backend (database, Redis, S3, model) cannot be reached right now
│   ├── DatabaseUnavailable
│   └── MailboxUnavailable
├── NotFound               the thing does not exist, or belongs to someone else
├── Conflict               a version check or uniqueness rule failed
├── InvalidInput           the caller sent something we will not take (also a ValueError)
│   └── InvalidURL
├── Unauthorized           missing, expired or bad credentials
├── Forbidden              authenticated, but not allowed
├── RateLimited            too many requests; carries retry_after seconds
└── ProcessingError        a pipeline stage gave up on a link for a stated reason
    ├── FetchError
    │   └── BlockedAddress
    └── ImageError
"""

from __future__ import annotations

__all__ = [
    "BlockedAddress",
    "ConfigError",
    "Conflict",
    "DatabaseUnavailable",
    "FetchError",
    "Forbidden",
    "ImageError",
    "InvalidInput",
    "InvalidURL",
    "LinkArchiveError",
    "MailboxUnavailable",
    "NotFound",
    "ProcessingError",
    "RateLimited",
    "Unauthorized",
    "UnavailableError",
]


class LinkArchiveError(Exception):
    """Something went wrong in linkarchive."""

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or (self.__doc__ or "").strip())

    @property
    def message(self) -> str:
        return str(self)


class ConfigError(LinkArchiveError):
    """A setting is missing or malformed."""


class UnavailableError(LinkArchiveError):
    """A backend cannot be reached right now."""


class DatabaseUnavailable(UnavailableError):
    """The database cannot be reached right now."""


class MailboxUnavailable(UnavailableError):
    """The mailbox backend cannot be reached right now."""


class NotFound(LinkArchiveError):
    """Not found."""


class Conflict(LinkArchiveError):
    """The request conflicts with the current state."""


class InvalidInput(LinkArchiveError, ValueError):
    """The input is not valid."""


class InvalidURL(InvalidInput):
    """The URL is not valid."""


class Unauthorized(LinkArchiveError):
    """Authentication is required."""


class Forbidden(LinkArchiveError):
    """Not allowed."""


class RateLimited(LinkArchiveError):
    """Too many requests."""

    def __init__(self, message: str | None = None, *, retry_after: float = 1.0) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ProcessingError(LinkArchiveError):
    """A pipeline stage failed."""

    def __init__(self, message: str | None = None, *, transient: bool = False,
                 retry_after: float | None = None) -> None:
        super().__init__(message)
        self.transient = transient
        self.retry_after = retry_after


class FetchError(ProcessingError):
    """The page could not be fetched."""


class BlockedAddress(FetchError):
    """The address is not allowed to be fetched."""


class ImageError(ProcessingError):
    """The image could not be processed."""
