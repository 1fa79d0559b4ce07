"""One typed settings object, read from the environment (prefix-free names).

Outside development a secret must be given explicitly: the app refuses to start
with the development default, so a forgotten SECRET_KEY can never reach production.
"""

from __future__ import annotations

import os
import secrets
from enum import StrEnum
from functools import lru_cache

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# The file, in the local cluster's state directory, that keeps this installation's own
# secret when SECRET_KEY is not set (development and test only; production requires it).
INSTALLATION_SECRET_FILE = "secret_key"


class Environment(StrEnum):
    development = "development"
    test = "test"
    production = "production"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=None, extra="ignore", case_sensitive=False)

    environment: Environment = Field(default=Environment.development, alias="FIELDFORCE_ENV")
    # Unset: the project-local cluster under .fieldforce/ (see server/localdb.py).
    database_url: str | None = Field(default=None, alias="DATABASE_URL")
    # Unset outside production: a random secret made on first run and kept with the local
    # cluster's state (never a constant in the code: that would let anyone mint tokens).
    secret_key: str = Field(default="", alias="SECRET_KEY", repr=False)
    access_token_minutes: int = Field(default=15, alias="ACCESS_TOKEN_MINUTES", ge=1, le=24 * 60)
    refresh_token_days: int = Field(default=30, alias="REFRESH_TOKEN_DAYS", ge=1, le=365)
    # Failed logins allowed per window, per account and per client address.
    login_max_failures: int = Field(default=5, alias="LOGIN_MAX_FAILURES", ge=1)
    login_failure_window_seconds: int = Field(default=300, alias="LOGIN_FAILURE_WINDOW_SECONDS", ge=1)
    max_body_bytes: int = Field(default=1024 * 1024, alias="MAX_BODY_BYTES", ge=1024)
    db_pool_size: int = Field(default=10, alias="DB_POOL_SIZE", ge=1)
    db_max_overflow: int = Field(default=20, alias="DB_MAX_OVERFLOW", ge=0)
    log_level: str = Field(default="info", alias="LOG_LEVEL")
    # "json" (one object per line) or "text"; unset: json in production, text elsewhere.
    log_format: str | None = Field(default=None, alias="LOG_FORMAT", pattern="^(json|text)$")
    # A bearer token for /metrics; in production /metrics answers 404 without one set.
    metrics_token: str | None = Field(default=None, alias="METRICS_TOKEN", repr=False)
    position_retention_days: int = Field(default=180, alias="POSITION_RETENTION_DAYS", ge=1)
    # An OSRM (or Valhalla with format=osrm) server's base URL: planning takes road
    # times and distances from its /table service instead of haversine x circuity.
    routing_osrm_url: str | None = Field(default=None, alias="ROUTING_OSRM_URL")
    # Server connections end a transaction idle this long (it would hold back sync pulls).
    # The caller resolved from an access token is reused this many seconds (0: never).
    actor_cache_seconds: float = Field(default=5.0, alias="ACTOR_CACHE_SECONDS", ge=0, le=60)
    idle_in_transaction_ms: int = Field(default=60_000, alias="DB_IDLE_IN_TRANSACTION_MS", ge=1_000)
    # One SQL statement of an API request may run this long (0: no limit); jobs have none.
    statement_timeout_ms: int = Field(default=15_000, alias="DB_STATEMENT_TIMEOUT_MS", ge=0)
    # Where this server is reached from outside: calendar-feed links, and a webhook may not
    # point back at it.
    public_url: str = Field(default="http://127.0.0.1:8000", alias="PUBLIC_URL")
    # Webhooks to loopback and private addresses (unset: allowed only outside production).
    webhook_allow_private_networks: bool | None = Field(default=None, alias="WEBHOOK_ALLOW_PRIVATE_NETWORKS")
    webhook_timeout_seconds: float = Field(default=10, alias="WEBHOOK_TIMEOUT_SECONDS", gt=0, le=60)
    # A delivery is tried this often, waiting base x 4^n between tries (30 s, 2 min, 8 min, ...).
    webhook_max_attempts: int = Field(default=6, alias="WEBHOOK_MAX_ATTEMPTS", ge=1, le=20)
    webhook_retry_base_seconds: float = Field(default=30, alias="WEBHOOK_RETRY_BASE_SECONDS", ge=0)
    # After this many deliveries in a row gave up, the webhook is switched off and the admins told.
    webhook_disable_after: int = Field(default=3, alias="WEBHOOK_DISABLE_AFTER", ge=1)
    # smtp://user:password@host:587?starttls=true or smtps://host:465; unset: email is not sent.
    # A Nominatim or Photon server for addresses without coordinates (imports); unset: none.
    geocoder_url: str | None = Field(default=None, alias="GEOCODER_URL")
    geocoder_kind: str = Field(default="nominatim", alias="GEOCODER_KIND", pattern="^(nominatim|photon)$")
    # Seconds between requests (the public Nominatim asks for 1); 0 for a server of your own.
    geocoder_min_interval_s: float = Field(default=0.0, alias="GEOCODER_MIN_INTERVAL_S", ge=0, le=10)
    smtp_url: str | None = Field(default=None, alias="SMTP_URL")
    smtp_from: str = Field(default="FieldForce <fieldforce@localhost>", alias="SMTP_FROM")
    email_max_attempts: int = Field(default=5, alias="EMAIL_MAX_ATTEMPTS", ge=1, le=20)

    @property
    def resolved_log_format(self) -> str:
        return self.log_format or ("json" if self.environment is Environment.production else "text")

    @property
    def allows_private_webhooks(self) -> bool:
        if self.webhook_allow_private_networks is not None:
            return self.webhook_allow_private_networks
        return self.environment is not Environment.production

    @model_validator(mode="after")
    def _refuse_default_secret(self) -> Settings:
        if self.environment is Environment.production:
            if len(self.secret_key) < 32:
                raise ValueError(
                    "SECRET_KEY must be set to a random value of at least 32 characters when FIELDFORCE_ENV=production"
                )
            if not self.database_url:
                raise ValueError("DATABASE_URL must be set when FIELDFORCE_ENV=production")
        elif not self.secret_key:
            self.secret_key = installation_secret()
        return self

    def resolved_database_url(self) -> str:
        """DATABASE_URL, or the project-local cluster's (which must be started)."""
        if self.database_url:
            return normalise_database_url(self.database_url)
        from server import localdb

        return localdb.url()


def installation_secret() -> str:
    """This installation's random secret: read from the state directory, or made there on
    first use (readable by its owner only). Every process of the installation (server
    workers, job workers, the CLI) reads the same file, so their tokens agree."""
    from server import localdb

    path = localdb.state_dir() / INSTALLATION_SECRET_FILE
    try:
        return path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first: use theirs
        return path.read_text(encoding="ascii").strip()
    with os.fdopen(descriptor, "w", encoding="ascii") as handle:
        handle.write(secrets.token_urlsafe(48))
    return path.read_text(encoding="ascii").strip()


def normalise_database_url(url: str) -> str:
    """Accept the common postgres:// spellings and route them through psycopg 3."""
    for prefix in ("postgres://", "postgresql://", "postgresql+psycopg2://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


@lru_cache
def get_settings() -> Settings:
    return Settings()
