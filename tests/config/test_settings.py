"""Development needs nothing set; production refuses to start with anything made up."""

from __future__ import annotations

import stat

import pytest

from config import ConfigError, load_settings

STRONG = "s" * 40


def test_development_generates_secrets_once_and_reuses_them(tmp_path):
    first = load_settings({"INSTANCE_DIR": str(tmp_path)})
    second = load_settings({"INSTANCE_DIR": str(tmp_path)})
    assert first.jwt_secret == second.jwt_secret
    assert len(first.jwt_secret) >= 32 and first.secret_key != first.jwt_secret
    assert stat.S_IMODE((tmp_path / "secrets.json").stat().st_mode) == 0o600
    assert first.database_url == f"sqlite:///{tmp_path / 'partner_wallet.sqlite3'}"


@pytest.mark.parametrize(
    "env, missing",
    [
        ({}, "SECRET_KEY"),
        ({"SECRET_KEY": STRONG, "DATABASE_URL": "postgresql://db/pw"}, "JWT_SECRET"),
        ({"SECRET_KEY": STRONG, "JWT_SECRET": STRONG}, "DATABASE_URL"),
        ({"SECRET_KEY": STRONG, "JWT_SECRET": "short", "DATABASE_URL": "postgresql://db/pw"}, "JWT_SECRET"),
        ({"SECRET_KEY": STRONG, "JWT_SECRET": STRONG, "DATABASE_URL": "postgresql://db/pw"}, "REDIS_URL"),
    ],
)
def test_production_refuses_missing_or_weak_settings(tmp_path, env, missing):
    with pytest.raises(ConfigError, match=missing):
        load_settings({"APP_ENV": "production", "INSTANCE_DIR": str(tmp_path), **env})
    assert not (tmp_path / "secrets.json").exists()


def test_production_with_everything_set_starts():
    settings = load_settings(
        {"APP_ENV": "production", "SECRET_KEY": STRONG, "JWT_SECRET": STRONG, "DATABASE_URL": "postgresql://db/pw",
         "REDIS_URL": "redis://cache:6379/0"}
    )
    assert settings.is_production and settings.redis_url == "redis://cache:6379/0"


def test_an_unknown_app_env_is_refused():
    with pytest.raises(ConfigError, match="APP_ENV"):
        load_settings({"APP_ENV": "prod"})


def test_a_push_ca_file_that_is_not_there_is_refused_at_start(tmp_path):
    """A typo in FCM_CA_FILE would otherwise show up as every push failing its TLS check."""
    with pytest.raises(ConfigError, match="FCM_CA_FILE"):
        load_settings({"INSTANCE_DIR": str(tmp_path), "FCM_CA_FILE": str(tmp_path / "nope.pem")})
    bundle = tmp_path / "ca.pem"
    bundle.write_text("-----BEGIN CERTIFICATE-----\n")
    assert load_settings({"INSTANCE_DIR": str(tmp_path), "FCM_CA_FILE": str(bundle)}).fcm_ca_file == str(bundle)
