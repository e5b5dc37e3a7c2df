"""Settings: defaults < TOML file < LINKARCHIVE_* environment."""

from linkarchive.config.settings import (
    SETTINGS,
    EngineSettings,
    FetchSettings,
    ModelSettings,
    ServerSettings,
    Settings,
    StorageSettings,
    load_settings,
)

__all__ = [
    "SETTINGS",
    "EngineSettings",
    "FetchSettings",
    "ModelSettings",
    "ServerSettings",
    "Settings",
    "StorageSettings",
    "load_settings",
]
