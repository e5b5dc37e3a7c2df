"""Settings: precedence, validation messages, and the README's table kept in step."""

from __future__ import annotations

from pathlib import Path

import pytest

from linkarchive.config import load_settings
from linkarchive.config.settings import settings_table
from linkarchive.errors import ConfigError


def test_defaults_are_embedded() -> None:
    settings = load_settings(environ={})
    assert settings.server.host == "127.0.0.1" and settings.server.port == 8080
    assert settings.database_url == "sqlite:///data/linkarchive.db"
    assert settings.mailbox_backend == "sqlite"
    assert settings.fetch.fetch_allow_hosts == ()
    assert settings.server.open_registration is False


def test_file_then_environment_precedence(tmp_path: Path) -> None:
    config = tmp_path / "linkarchive.toml"
    config.write_text('port = 9000\n[engine]\nscrape_concurrency = 3\n'
                      '[fetch]\nfetch_allow_hosts = ["127.0.0.1", "10.0.0.0/8"]\n')
    settings = load_settings(config, environ={"LINKARCHIVE_SCRAPE_CONCURRENCY": "5"})
    assert settings.server.port == 9000
    assert settings.engine.scrape_concurrency == 5
    assert settings.fetch.fetch_allow_hosts == ("127.0.0.1", "10.0.0.0/8")
    via_env = load_settings(environ={"LINKARCHIVE_CONFIG": str(config)})
    assert via_env.server.port == 9000


def test_redis_url_switches_the_mailbox_and_openai_key_is_honoured() -> None:
    settings = load_settings(environ={"LINKARCHIVE_REDIS_URL": "redis://127.0.0.1:6379/0",
                                      "OPENAI_API_KEY": "sk-test"})
    assert settings.mailbox_backend == "redis"
    assert settings.model.openai_api_key == "sk-test"
    assert "sk-test" not in repr(settings)


@pytest.mark.parametrize(("env", "expected"), [
    ({"LINKARCHIVE_PORT": "eighty"}, "LINKARCHIVE_PORT is invalid: expected a whole number"),
    ({"LINKARCHIVE_PORT": "70000"}, "between 0 and 65535"),
    ({"LINKARCHIVE_OPEN_REGISTRATION": "maybe"}, "expected true or false"),
    ({"LINKARCHIVE_DATABASE_URL": "mysql://x"}, "LINKARCHIVE_DATABASE_URL is invalid"),
    ({"LINKARCHIVE_FETCH_ALLOW_HOSTS": "10.0.0.0/33"}, "not a valid CIDR block"),
    ({"LINKARCHIVE_MAILBOX": "kafka"}, "expected one of"),
    ({"LINKARCHIVE_VISIBILITY_TIMEOUT": "0"}, "at least 1"),
])
def test_bad_values_name_the_setting(env: dict[str, str], expected: str) -> None:
    with pytest.raises(ConfigError, match=expected):
        load_settings(environ=env)


def test_bad_config_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(tmp_path / "missing.toml", environ={})
    broken = tmp_path / "broken.toml"
    broken.write_text("port = = 1")
    with pytest.raises(ConfigError, match="cannot be read"):
        load_settings(broken, environ={})
    unknown = tmp_path / "unknown.toml"
    unknown.write_text("prot = 1")
    with pytest.raises(ConfigError, match="unknown setting"):
        load_settings(unknown, environ={})


def test_readme_lists_every_setting() -> None:
    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    assert settings_table() in readme
