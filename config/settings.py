"""The settings object and how it is read from the environment."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Mapping

from config.values import (  # noqa: F401 (ConfigError and MIN_SECRET_BYTES are imported from here too)
    MIN_SECRET_BYTES, ConfigError, _code_keys, _csv, _hours, _lookup_key, _pem_files, _qr_keys,
    _readable_file, _service_account,
)

PROJECT_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Settings:
    app_env: str = "development"
    database_url: str = ""
    # The owner's connection, for `flask db upgrade` only; the app connects as DATABASE_URL's
    # role, which owns nothing (README, "Security"). Empty: migrations use DATABASE_URL.
    migration_database_url: str | None = None
    secret_key: str = ""
    jwt_secret: str = ""
    redis_url: str | None = None
    upload_dir: Path = PROJECT_ROOT / "instance" / "uploads"
    instance_dir: Path = PROJECT_ROOT / "instance"
    # Where this API is reached from outside (links in passes, signed file URLs).
    public_url: str = "http://localhost:8000"
    # Uploads: empty -> a folder (upload_dir); s3://bucket/prefix -> an S3-compatible bucket.
    file_store_url: str | None = None
    s3_endpoint: str | None = None
    s3_region: str | None = None
    s3_access_key: str | None = None
    s3_secret_key: str | None = None

    # Tokens. Access tokens are short so that a stolen one is worth little; the
    # refresh token is what keeps a partner signed in on the phone.
    access_token_seconds: int = 15 * 60
    refresh_token_days: int = 60

    # Rate limits, in Flask-Limiter's notation.
    login_limit: str = "10 per minute"
    register_limit: str = "20 per hour"
    refresh_limit: str = "30 per minute"
    # A till scans a customer every few seconds; a script trying payloads scans faster.
    scan_limit: str = "60 per minute"
    # A busy till books a sale every ten seconds or so; a script booking member numbers, faster.
    purchase_limit: str = "120 per minute"
    # Photos of receipts per partner: a shop's week of invoices in one sitting, not a script.
    receipt_limit: str = "30 per hour"

    # How many reverse proxies in front set X-Forwarded-For; 0 trusts none of it, so
    # a client cannot choose the address its rate limit is counted under.
    proxy_hops: int = 0

    # How often a process looks whether programs, tiers and bonus rules changed (infra.cache):
    # an admin's change reaches the other processes within this many seconds.
    cache_check_seconds: float = 1.0

    # Largest JSON body accepted; uploads set their own, larger limit.
    max_json_bytes: int = 64 * 1024

    # The countries the program runs in, and the languages the app speaks.
    countries: tuple[str, ...] = ("AE", "SA", "QA", "KW", "BH", "OM", "PL")
    languages: tuple[str, ...] = ("en", "ar", "pl")

    # Member QR signing keys, newest first: "kid:secret,kid:secret". Empty: one key
    # derived from SECRET_KEY.
    member_qr_keys: tuple[tuple[str, str], ...] = ()

    # Voucher codes at rest: AES-256-GCM keys, newest first ("kid:base64 of 32 bytes,...");
    # empty: one key derived from SECRET_KEY. The lookup key makes the keyed hash a till finds
    # a typed code by; it never rotates (every stored hash depends on it). Empty: derived.
    voucher_code_keys: tuple[tuple[str, bytes], ...] = ()
    voucher_lookup_key: bytes | None = None
    # Voucher QR signing keys, newest first, like member_qr_keys. Empty: derived from SECRET_KEY.
    voucher_qr_keys: tuple[tuple[str, str], ...] = ()
    # A vendor's CSV of codes: at most this many bytes and rows per upload.
    code_upload_max_bytes: int = 20 * 1024 * 1024
    code_upload_max_rows: int = 200_000
    # A till tries a handful of vouchers a minute; a script guessing codes, far more.
    voucher_redeem_limit: str = "30 per minute"
    # A partner redeems a few rewards at a time; a script draining a pool, faster.
    redemption_limit: str = "30 per minute"
    # Apple's PassKit web service, per address: Wallet's error reports (no token, by Apple's
    # design), and calls with a wrong pass token (a phone's own token never fails).
    passkit_log_limit: str = "60 per hour"
    passkit_token_failure_limit: str = "20 per minute"

    # Campaign pushes: quiet hours in each member's own clock, and a weekly cap.
    quiet_hours: tuple[int, int] = (21, 8)
    push_cap: int = 3
    push_cap_days: int = 7

    # The Celery queue the API enqueues on and the worker consumes, and how many tasks
    # share one campaign's fan-out (each claims its own batches; one per worker core).
    job_queue: str = "partner-wallet"
    fanout_tasks: int = 2

    # Keys receipts' fiscal codes are checked with: the Indian e-invoice portals' public keys and
    # the KSeF offline certificates (PEM), read from the files FISCAL_GST_KEYS and
    # FISCAL_KSEF_CERTIFICATES name (comma-separated). Without them those signatures are
    # "unverifiable" and such receipts go to review.
    fiscal_gst_keys: tuple[bytes, ...] = ()
    fiscal_ksef_certificates: tuple[bytes, ...] = ()

    fcm_credentials: str | None = None
    fcm_endpoint: str | None = None
    fcm_ca_file: str | None = None
    apns_endpoint: str | None = None
    google_wallet_endpoint: str | None = None

    # Apple Wallet: the Pass Type ID certificate, its key (and the key's password) and Apple's WWDR
    # intermediate, as PEM files. Without the certificate and key, a development identity is made
    # once into instance/apple-pass-dev and every pass says it is a development pass.
    apple_pass_certificate: str | None = None
    apple_pass_key: str | None = None
    apple_pass_key_password: str | None = None
    apple_pass_wwdr: str | None = None
    apple_pass_type_id: str = "pass.com.example.partnerwallet"
    apple_pass_team_id: str = "ABCDE12345"
    apple_pass_organization: str = "Partner Wallet"
    # APNs token auth for pass updates: the key id, team id and the .p8 key (a file); the topic
    # is the pass type id unless set. Without them, updates are only logged (and the pass is
    # still current when the phone next asks). APNS_CA_FILE: a CA bundle (tests' local server).
    apns_key_id: str | None = None
    apns_team_id: str | None = None
    apns_key: str | None = None
    apns_topic: str | None = None
    apns_ca_file: str | None = None
    # Google Wallet: the issuer id Google gave and the service account (its JSON or a file).
    # Without both, GET /me/passes/google answers 503 "not configured".
    google_wallet_issuer_id: str | None = None
    google_wallet_credentials: str | None = None
    google_wallet_class_suffix: str = "partner-wallet"
    # An https URL of the program's logo for the loyalty class (Google fetches it); without it
    # the save link carries only the object, and the class must already exist.
    google_wallet_logo_url: str | None = None
    # The web origins that may show a "Save to Google Wallet" button with our links.
    google_wallet_origins: tuple[str, ...] = ()

    def qr_keys(self) -> list[tuple[str, bytes]]:
        if self.member_qr_keys:
            return [(kid, secret.encode()) for kid, secret in self.member_qr_keys]
        derived = hmac.new(self.secret_key.encode(), b"member-qr", hashlib.sha256).digest()
        return [("k1", derived)]

    def voucher_qr_signing_keys(self) -> list[tuple[str, bytes]]:
        if self.voucher_qr_keys:
            return [(kid, secret.encode()) for kid, secret in self.voucher_qr_keys]
        derived = hmac.new(self.secret_key.encode(), b"voucher-qr", hashlib.sha256).digest()
        return [("k1", derived)]

    def pass_token_key(self) -> bytes:
        """The key Apple passes' authentication tokens are derived from (HMAC of the serial number):
        a token is never stored, and changing SECRET_KEY invalidates every token in the field."""
        return hmac.new(self.secret_key.encode(), b"apple-pass-token", hashlib.sha256).digest()

    @property
    def apns_configured(self) -> bool:
        return bool(self.apns_key_id and self.apns_team_id and self.apns_key)

    @property
    def google_wallet_configured(self) -> bool:
        return bool(self.google_wallet_issuer_id and self.google_wallet_credentials)

    def code_keys(self) -> list[tuple[str, bytes]]:
        """The voucher-code encryption keys, newest first (the first encrypts; all decrypt)."""
        if self.voucher_code_keys:
            return list(self.voucher_code_keys)
        return [("k1", hmac.new(self.secret_key.encode(), b"voucher-codes", hashlib.sha256).digest())]

    def code_lookup_key(self) -> bytes:
        """The key of the voucher codes' lookup hash (HMAC-SHA256), never one of the encryption keys."""
        if self.voucher_lookup_key:
            return self.voucher_lookup_key
        return hmac.new(self.secret_key.encode(), b"voucher-code-lookup", hashlib.sha256).digest()

    @property
    def is_production(self) -> bool:
        return self.app_env == "production"

    def with_overrides(self, **changes: Any) -> "Settings":
        return replace(self, **changes)


def _dev_secrets(instance_dir: Path) -> dict[str, str]:
    """Secrets made once for a development install and kept, so tokens survive a restart."""
    path = instance_dir / "secrets.json"
    if path.exists():
        return json.loads(path.read_text())
    instance_dir.mkdir(parents=True, exist_ok=True)
    values = {
        "SECRET_KEY": secrets.token_urlsafe(48),
        "JWT_SECRET": secrets.token_urlsafe(48),
    }
    # Written with owner-only permissions from the start, not chmod-ed afterwards.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(values, fh)
    return values


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Read the settings from ``environ`` (default ``os.environ``).

    Raises ``ConfigError`` in production when a secret or the database is missing
    or weak, and for an unknown ``APP_ENV``.
    """
    env = os.environ if environ is None else environ
    app_env = env.get("APP_ENV", "development")
    if app_env not in ("development", "production", "test"):
        raise ConfigError(f"APP_ENV must be development or production, not {app_env!r}")
    instance_dir = Path(env.get("INSTANCE_DIR", PROJECT_ROOT / "instance"))

    secret_key = env.get("SECRET_KEY", "")
    jwt_secret = env.get("JWT_SECRET", "")
    database_url = env.get("DATABASE_URL", "")
    if app_env == "production":
        missing = [
            name
            for name, value in (
                ("SECRET_KEY", secret_key),
                ("JWT_SECRET", jwt_secret),
                ("DATABASE_URL", database_url),
            )
            if not value
        ]
        if missing:
            raise ConfigError(f"production needs {', '.join(missing)} in the environment")
        for name, value in (("SECRET_KEY", secret_key), ("JWT_SECRET", jwt_secret)):
            if len(value.encode()) < MIN_SECRET_BYTES:
                raise ConfigError(f"{name} must be at least {MIN_SECRET_BYTES} bytes")
        if not env.get("REDIS_URL"):
            # Without Redis every worker process counts rate limits on its own (a login limit of
            # 10 a minute becomes 10 per process), and jobs wait in the database.
            raise ConfigError("production needs REDIS_URL: rate limits are shared through it, and jobs run on Celery")
    else:
        if not (secret_key and jwt_secret):
            generated = _dev_secrets(instance_dir)
            secret_key = secret_key or generated["SECRET_KEY"]
            jwt_secret = jwt_secret or generated["JWT_SECRET"]
        if not database_url:
            instance_dir.mkdir(parents=True, exist_ok=True)
            database_url = f"sqlite:///{instance_dir / 'partner_wallet.sqlite3'}"

    return Settings(
        app_env=app_env,
        database_url=database_url,
        secret_key=secret_key,
        jwt_secret=jwt_secret,
        migration_database_url=env.get("MIGRATION_DATABASE_URL") or None,
        redis_url=env.get("REDIS_URL") or None,
        upload_dir=Path(env.get("UPLOAD_DIR", instance_dir / "uploads")),
        instance_dir=instance_dir,
        public_url=env.get("PUBLIC_URL", Settings.public_url),
        file_store_url=env.get("FILE_STORE_URL") or None,
        s3_endpoint=env.get("S3_ENDPOINT") or None,
        s3_region=env.get("S3_REGION") or None,
        s3_access_key=env.get("AWS_ACCESS_KEY_ID") or None,
        s3_secret_key=env.get("AWS_SECRET_ACCESS_KEY") or None,
        access_token_seconds=int(env.get("ACCESS_TOKEN_SECONDS", 15 * 60)),
        refresh_token_days=int(env.get("REFRESH_TOKEN_DAYS", 60)),
        login_limit=env.get("RATE_LIMIT_LOGIN", "10 per minute"),
        register_limit=env.get("RATE_LIMIT_REGISTER", "20 per hour"),
        refresh_limit=env.get("RATE_LIMIT_REFRESH", "30 per minute"),
        scan_limit=env.get("RATE_LIMIT_SCAN", "60 per minute"),
        purchase_limit=env.get("RATE_LIMIT_PURCHASE", "120 per minute"),
        receipt_limit=env.get("RATE_LIMIT_RECEIPTS", "30 per hour"),
        proxy_hops=int(env.get("PROXY_HOPS", 0)),
        cache_check_seconds=float(env.get("CACHE_CHECK_SECONDS", 1.0)),
        countries=_csv(env.get("PROGRAM_COUNTRIES"), Settings.countries),
        languages=_csv(env.get("PROGRAM_LANGUAGES"), Settings.languages),
        member_qr_keys=_qr_keys(env.get("MEMBER_QR_KEYS"), "MEMBER_QR_KEYS"),
        voucher_qr_keys=_qr_keys(env.get("VOUCHER_QR_KEYS"), "VOUCHER_QR_KEYS"),
        voucher_code_keys=_code_keys(env.get("VOUCHER_CODE_KEYS")),
        voucher_lookup_key=_lookup_key(env.get("VOUCHER_LOOKUP_KEY")),
        code_upload_max_bytes=int(env.get("VOUCHER_CODES_MAX_BYTES", 20 * 1024 * 1024)),
        code_upload_max_rows=int(env.get("VOUCHER_CODES_MAX_ROWS", 200_000)),
        voucher_redeem_limit=env.get("RATE_LIMIT_VOUCHER_REDEEM", "30 per minute"),
        redemption_limit=env.get("RATE_LIMIT_REDEMPTION", "30 per minute"),
        passkit_log_limit=env.get("RATE_LIMIT_PASSKIT_LOG", "60 per hour"),
        passkit_token_failure_limit=env.get("RATE_LIMIT_PASSKIT_TOKEN_FAILURES", "20 per minute"),
        quiet_hours=_hours(env.get("QUIET_HOURS", "21-8")),
        push_cap=int(env.get("PUSH_CAP", 3)),
        push_cap_days=int(env.get("PUSH_CAP_DAYS", 7)),
        job_queue=env.get("JOB_QUEUE", "partner-wallet"),
        fanout_tasks=int(env.get("FANOUT_TASKS", 2)),
        fiscal_gst_keys=_pem_files("FISCAL_GST_KEYS", env.get("FISCAL_GST_KEYS")),
        fiscal_ksef_certificates=_pem_files("FISCAL_KSEF_CERTIFICATES", env.get("FISCAL_KSEF_CERTIFICATES")),
        fcm_credentials=_service_account("FCM_CREDENTIALS", env.get("FCM_CREDENTIALS")),
        fcm_endpoint=env.get("FCM_ENDPOINT") or None,
        fcm_ca_file=_readable_file("FCM_CA_FILE", env.get("FCM_CA_FILE")),
        apns_endpoint=env.get("APNS_ENDPOINT") or None,
        google_wallet_endpoint=env.get("GOOGLE_WALLET_ENDPOINT") or None,
        apple_pass_certificate=_readable_file("APPLE_PASS_CERTIFICATE", env.get("APPLE_PASS_CERTIFICATE")),
        apple_pass_key=_readable_file("APPLE_PASS_KEY", env.get("APPLE_PASS_KEY")),
        apple_pass_key_password=env.get("APPLE_PASS_KEY_PASSWORD") or None,
        apple_pass_wwdr=_readable_file("APPLE_PASS_WWDR", env.get("APPLE_PASS_WWDR")),
        apple_pass_type_id=env.get("APPLE_PASS_TYPE_ID") or Settings.apple_pass_type_id,
        apple_pass_team_id=env.get("APPLE_PASS_TEAM_ID") or Settings.apple_pass_team_id,
        apple_pass_organization=env.get("APPLE_PASS_ORGANIZATION") or Settings.apple_pass_organization,
        apns_key_id=env.get("APNS_KEY_ID") or None,
        apns_team_id=env.get("APNS_TEAM_ID") or None,
        apns_key=_readable_file("APNS_KEY", env.get("APNS_KEY")),
        apns_topic=env.get("APNS_TOPIC") or None,
        apns_ca_file=_readable_file("APNS_CA_FILE", env.get("APNS_CA_FILE")),
        google_wallet_issuer_id=env.get("GOOGLE_WALLET_ISSUER_ID") or None,
        google_wallet_credentials=_service_account("GOOGLE_WALLET_CREDENTIALS", env.get("GOOGLE_WALLET_CREDENTIALS")),
        google_wallet_class_suffix=env.get("GOOGLE_WALLET_CLASS_SUFFIX") or Settings.google_wallet_class_suffix,
        google_wallet_logo_url=env.get("GOOGLE_WALLET_LOGO_URL") or None,
        google_wallet_origins=_csv(env.get("GOOGLE_WALLET_ORIGINS"), ()),
    )
