"""Typed, frozen settings built from one table of name, default and help.

Precedence: built-in defaults < TOML file (``--config`` or ``LINKARCHIVE_CONFIG``) < environment
(``LINKARCHIVE_<NAME>``). A bad value raises ConfigError naming the setting and what it accepts.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from linkarchive.config import parsers as p
from linkarchive.errors import ConfigError

__all__ = [
    "SETTINGS",
    "EngineSettings",
    "FetchSettings",
    "ModelSettings",
    "ServerSettings",
    "Setting",
    "Settings",
    "StorageSettings",
    "load_settings",
]

ENV_PREFIX = "LINKARCHIVE_"


@dataclass(frozen=True)
class Setting:
    area: str
    name: str
    default: Any
    parse: Callable[[Any], Any]
    help: str
    env_aliases: tuple[str, ...] = ()

    @property
    def env(self) -> str:
        return ENV_PREFIX + self.name.upper()


SETTINGS: tuple[Setting, ...] = (
    Setting("server", "host", "127.0.0.1", p.text, "Address the HTTP API listens on."),
    Setting("server", "port", 8080, p.integer(0, 65535), "Port the HTTP API listens on."),
    Setting("server", "open_registration", False, p.boolean,
            "Let anyone register; when false only the first user may register."),
    Setting("server", "secret_key", "", p.text,
            "Key for tokens and signed file URLs; generated into the data directory when empty."),
    Setting("server", "public_url", "", p.url("http", "https"),
            "Public base URL of this server for signed file links; empty means relative links."),
    Setting("server", "trusted_proxies", (), p.network_list,
            "Reverse proxies (addresses or CIDRs) whose X-Forwarded-For names the client."),
    Setting("server", "cors_origins", (), p.text_list, "Origins allowed by CORS, comma-separated."),
    Setting("server", "access_token_ttl", 900, p.integer(30), "Access token lifetime, seconds."),
    Setting("server", "refresh_token_ttl", 30 * 86400, p.integer(60),
            "Refresh token lifetime, seconds."),
    Setting("server", "rate_limit", 120, p.integer(1),
            "Requests per minute per user before 429."),
    Setting("storage", "data_dir", Path("./data"), p.path,
            "Directory for the embedded database and local images."),
    Setting("storage", "database_url", "", p.url("sqlite", "postgresql", "postgres"),
            "sqlite:///path or postgresql://…; empty means SQLite in the data directory."),
    Setting("storage", "redis_url", "", p.url("redis", "rediss", "unix"),
            "Redis for mailboxes, cache, rate limits and events; empty means in-process."),
    Setting("storage", "redis_prefix", "linkarchive:", p.text, "Prefix for every Redis key."),
    Setting("storage", "s3_endpoint_url", "", p.url("http", "https"),
            "S3-compatible endpoint; empty means AWS."),
    Setting("storage", "s3_bucket", "", p.text, "S3 bucket for images; empty means local disk."),
    Setting("storage", "s3_access_key", "", p.text, "S3 access key id."),
    Setting("storage", "s3_secret_key", "", p.text, "S3 secret access key."),
    Setting("storage", "s3_region", "us-east-1", p.text, "S3 region."),
    Setting("engine", "mailbox", "", p.choice("", "sqlite", "redis", "memory"),
            "Durable mailbox backend; empty picks redis when redis_url is set, else sqlite."),
    Setting("engine", "scrape_concurrency", 8, p.integer(1, 256), "Concurrent scrape actors."),
    Setting("engine", "image_concurrency", 2, p.integer(1, 64), "Concurrent image actors."),
    Setting("engine", "tag_concurrency", 4, p.integer(1, 64), "Concurrent tag actors."),
    Setting("engine", "max_deliveries", 3, p.integer(1, 100),
            "Deliveries of one message before it is dead-lettered."),
    Setting("engine", "visibility_timeout", 60.0, p.number(1.0),
            "Seconds before an unacknowledged message is delivered again."),
    Setting("engine", "shutdown_grace", 10.0, p.number(0.0),
            "Seconds in-flight work may take to finish on shutdown."),
    Setting("engine", "max_restarts", 10, p.integer(0),
            "Actor crashes tolerated within restart_window before the process exits."),
    Setting("engine", "restart_window", 60.0, p.number(1.0), "Window for max_restarts, seconds."),
    Setting("fetch", "fetch_allow_hosts", (), p.host_list,
            "Hosts or CIDRs the SSRF guard lets through, comma-separated."),
    Setting("fetch", "fetch_timeout", 20.0, p.number(0.1), "Total seconds for one page fetch."),
    Setting("fetch", "fetch_max_bytes", 5 * 1024 * 1024, p.integer(1024),
            "Largest page body read, bytes."),
    Setting("fetch", "image_max_bytes", 20 * 1024 * 1024, p.integer(1024),
            "Largest image downloaded, bytes."),
    Setting("fetch", "fetch_max_redirects", 5, p.integer(0, 30), "Redirects followed."),
    Setting("fetch", "fetch_host_rate", 2.0, p.number(0.01),
            "Requests a second to one host (politeness), with bursts of fetch_host_burst."),
    Setting("fetch", "fetch_host_burst", 4, p.integer(1, 1000), "Burst allowed per host."),
    Setting("fetch", "user_agent",
            "Mozilla/5.0 (compatible; linkarchive/0.1; +https://github.com/linkarchive)",
            p.text, "User-Agent sent when fetching."),
    Setting("model", "openai_base_url", "", p.url("http", "https"),
            "OpenAI-compatible base URL; empty means OpenAI."),
    Setting("model", "openai_api_key", "", p.text,
            "Model API key; empty means the built-in offline tagger.", ("OPENAI_API_KEY",)),
    Setting("model", "openai_model", "gpt-4o-mini", p.text, "Model name for tagging."),
    Setting("model", "openai_timeout", 30.0, p.number(0.1), "Seconds per model call."),
    Setting("server", "log_level", "info", p.choice("debug", "info", "warning", "error"),
            "Log level."),
)


@dataclass(frozen=True, kw_only=True)
class ServerSettings:
    host: str
    port: int
    open_registration: bool
    secret_key: str
    public_url: str
    trusted_proxies: tuple[str, ...]
    cors_origins: tuple[str, ...]
    access_token_ttl: int
    refresh_token_ttl: int
    rate_limit: int
    log_level: str


@dataclass(frozen=True, kw_only=True)
class StorageSettings:
    data_dir: Path
    database_url: str
    redis_url: str
    redis_prefix: str
    s3_endpoint_url: str
    s3_bucket: str
    s3_access_key: str
    s3_secret_key: str
    s3_region: str


@dataclass(frozen=True, kw_only=True)
class EngineSettings:
    mailbox: str
    scrape_concurrency: int
    image_concurrency: int
    tag_concurrency: int
    max_deliveries: int
    visibility_timeout: float
    shutdown_grace: float
    max_restarts: int
    restart_window: float


@dataclass(frozen=True, kw_only=True)
class FetchSettings:
    fetch_allow_hosts: tuple[str, ...]
    fetch_timeout: float
    fetch_max_bytes: int
    image_max_bytes: int
    fetch_max_redirects: int
    fetch_host_rate: float
    fetch_host_burst: int
    user_agent: str


@dataclass(frozen=True, kw_only=True)
class ModelSettings:
    openai_base_url: str
    openai_api_key: str = field(repr=False)
    openai_model: str
    openai_timeout: float


_AREAS = {
    "server": ServerSettings,
    "storage": StorageSettings,
    "engine": EngineSettings,
    "fetch": FetchSettings,
    "model": ModelSettings,
}


@dataclass(frozen=True, kw_only=True)
class Settings:
    server: ServerSettings
    storage: StorageSettings
    engine: EngineSettings
    fetch: FetchSettings
    model: ModelSettings

    @property
    def database_url(self) -> str:
        """The effective database URL: SQLite in the data directory unless one is set."""
        if self.storage.database_url:
            return self.storage.database_url
        return f"sqlite:///{(self.storage.data_dir / 'linkarchive.db').as_posix()}"

    @property
    def mailbox_backend(self) -> str:
        if self.engine.mailbox:
            return self.engine.mailbox
        return "redis" if self.storage.redis_url else "sqlite"

    def replace(self, **areas: Mapping[str, Any]) -> Settings:
        """A copy with some fields changed, e.g. ``replace(server={"port": 0})``."""
        changed = {name: dataclasses.replace(getattr(self, name), **values)
                   for name, values in areas.items()}
        return dataclasses.replace(self, **changed)


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            document = tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist") from None
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"config file {path} cannot be read: {exc}") from None
    flat: dict[str, Any] = {}
    for key, value in document.items():
        if key in _AREAS and isinstance(value, dict):
            flat.update(value)
        else:
            flat[key] = value
    known = {s.name for s in SETTINGS}
    unknown = sorted(set(flat) - known)
    if unknown:
        raise ConfigError(f"config file {path}: unknown setting(s) {', '.join(unknown)}")
    return flat


def load_settings(config_file: str | Path | None = None,
                  environ: Mapping[str, str] | None = None) -> Settings:
    """Build the settings; raise ConfigError naming the first bad setting."""
    env = os.environ if environ is None else environ
    config_file = config_file or env.get(ENV_PREFIX + "CONFIG") or None
    from_file = _read_toml(Path(config_file)) if config_file else {}
    values: dict[str, dict[str, Any]] = {area: {} for area in _AREAS}
    for setting in SETTINGS:
        source, raw = "default", setting.default
        if setting.name in from_file:
            source, raw = f"config file {config_file}", from_file[setting.name]
        for alias in setting.env_aliases:
            if alias in env:
                source, raw = alias, env[alias]
        if setting.env in env:
            source, raw = setting.env, env[setting.env]
        try:
            value = raw if source == "default" else setting.parse(raw)
        except ValueError as exc:
            origin = "" if source == setting.env else f" (from {source})"
            raise ConfigError(f"{setting.env}{origin} is invalid: {exc}. "
                              f"{setting.env} sets: {setting.help}") from None
        values[setting.area][setting.name] = value
    return Settings(**{area: cls(**values[area]) for area, cls in _AREAS.items()})


def settings_table() -> str:
    """The settings as a markdown table (the README's configuration section)."""
    rows = ["| environment variable | default | what it sets |", "| --- | --- | --- |"]
    for s in SETTINGS:
        default = s.default
        if isinstance(default, tuple):
            default = ",".join(default)
        elif isinstance(default, bool):
            default = str(default).lower()
        elif isinstance(default, Path):
            default = f"./{default.as_posix()}"
        shown = f"`{default}`" if default not in ("", ()) else "(empty)"
        aliases = "".join(f" (or `{alias}`)" for alias in s.env_aliases)
        rows.append(f"| `{s.env}`{aliases} | {shown} | {s.help} |")
    return "\n".join(rows)
