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


def test_voucher_code_keys_are_read_newest_first_and_derived_when_unset(tmp_path):
    import base64

    k2, k1 = b"2" * 32, b"1" * 32
    env = {"INSTANCE_DIR": str(tmp_path),
           "VOUCHER_CODE_KEYS": f"k2:{base64.b64encode(k2).decode()}, k1:{base64.b64encode(k1).decode()}"}
    settings = load_settings(env)
    assert settings.code_keys() == [("k2", k2), ("k1", k1)]
    derived = load_settings({"INSTANCE_DIR": str(tmp_path)})
    (kid, key), = derived.code_keys()
    assert kid == "k1" and len(key) == 32
    # the lookup key is never an encryption key, and is stable for the same SECRET_KEY
    assert derived.code_lookup_key() != key
    assert load_settings({"INSTANCE_DIR": str(tmp_path)}).code_lookup_key() == derived.code_lookup_key()


@pytest.mark.parametrize("value", [
    "k1", "k1:not-base64!", "k1:" + "QUFB", "k-1:" + "MTExMTExMTExMTExMTExMTExMTExMTExMTExMTExMTE=",
    "k1:MTExMTExMTExMTExMTExMTExMTExMTExMTExMTExMTE=,k1:MjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjI=",
])
def test_a_voucher_code_key_that_is_not_32_bytes_of_base64_under_a_plain_kid_is_refused(tmp_path, value):
    with pytest.raises(ConfigError, match="VOUCHER_CODE_KEYS"):
        load_settings({"INSTANCE_DIR": str(tmp_path), "VOUCHER_CODE_KEYS": value})


def test_a_short_lookup_key_or_voucher_qr_key_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="VOUCHER_LOOKUP_KEY"):
        load_settings({"INSTANCE_DIR": str(tmp_path), "VOUCHER_LOOKUP_KEY": "short"})
    with pytest.raises(ConfigError, match="VOUCHER_QR_KEYS"):
        load_settings({"INSTANCE_DIR": str(tmp_path), "VOUCHER_QR_KEYS": "k1:short"})
