"""Settings, read from the environment in one place.

Everything the program needs from outside (database, secrets, Redis, provider
credentials) is named here and nowhere else. Development needs no set-up: a SQLite
file and secrets generated once under ``instance/``. Production refuses to start
with anything made up.
"""

from config.settings import ConfigError, Settings, load_settings

__all__ = ["ConfigError", "Settings", "load_settings"]
