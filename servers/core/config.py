"""Settings from the environment: defaults first, then the environment, then test overrides.

Every name here is documented in `.env.example`. Defaults live in one place, this module, so the
two servers cannot drift apart.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

#: Repository root; the default SQLite file lives in `.lab/` under it.
REPO_ROOT = Path(__file__).resolve().parents[2]

#: RFC 2104 / RFC 8725: an HMAC key should be at least as long as the hash output (32 bytes).
MIN_SECRET_BYTES = 32

#: What to tell someone whose SECRET_KEY is missing or short.
SECRET_HINT = (
    "Set SECRET_KEY to at least 32 random bytes, for example:\n"  # noqa: S105 (a hint)
    "  export SECRET_KEY=$(python3 -c 'import secrets; print(secrets.token_urlsafe(48))')"
)


class ConfigError(RuntimeError):
    """The server refuses to start: the configuration is unsafe or invalid."""


def _bool(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _sentinels(value: str) -> tuple[tuple[str, int], ...]:
    from .redis_client import parse_sentinels

    return parse_sentinels(value)


@dataclass(frozen=True)
class Settings:
    """Everything a server reads from its environment."""

    #: Signing secrets, newest first: the first signs, all of them verify (rotation).
    secret_keys: tuple[str, ...] = ()
    database_url: str = f"sqlite:///{REPO_ROOT / '.lab' / 'authlab.db'}"
    redis_url: str = "redis://127.0.0.1:6379/0"
    #: Sentinels to ask for the primary (host:port, ...); empty: REDIS_URL is the primary.
    redis_sentinels: tuple[tuple[str, int], ...] = ()
    redis_sentinel_master: str = "authlab"
    #: "wait": a revocation is reported done only once a replica acknowledged it (WAIT).
    revocation_durability: str = "none"
    revocation_wait_timeout_ms: int = 500
    bcrypt_rounds: int = 12
    replica_id: str = field(default_factory=socket.gethostname)
    admin_email: str | None = None
    admin_password: str | None = None
    cookie_secure: bool = False
    #: Failed logins allowed per email, and per client IP, shared by all replicas through Redis.
    login_rate_limit: str = "5 per minute"
    login_ip_rate_limit: str = "30 per minute"
    #: How many proxies in front of us set X-Forwarded-For (1 behind the lab's HAProxy).
    trusted_proxies: int = 0
    max_content_length: int = 16 * 1024
    # Session server
    session_store: str = "redis"
    session_idle_timeout: int = 1800
    session_absolute_timeout: int = 43200
    session_max_per_user: int = 0
    # JWT server
    jwt_mode: str = "stateless"
    jwt_algorithm: str = "HS256"
    access_token_ttl: int | None = None
    refresh_token_ttl: int = 14 * 24 * 3600
    jwt_private_key_file: str | None = None
    jwt_public_key_file: str | None = None
    jwt_previous_public_key_files: tuple[str, ...] = ()
    #: Seconds a token is still accepted past `exp` / before `nbf` (clock skew between hosts).
    jwt_leeway: float = 5.0
    #: Seconds in which a second refresh with the same token is forgiven (two tabs at once).
    jwt_refresh_grace: float = 5.0
    jwt_issuer: str = "authlab"
    jwt_audience: str = "authlab-api"

    @property
    def secret_key(self) -> str:
        """The secret that signs new credentials."""
        return self.secret_keys[0]

    def validate(self) -> None:
        """Refuse to start with a missing or short secret, or an unknown store or mode."""
        if not self.secret_keys:
            raise ConfigError("SECRET_KEY is not set.\n" + SECRET_HINT)
        for key in self.secret_keys:
            if len(key.encode()) < MIN_SECRET_BYTES:
                raise ConfigError(
                    f"SECRET_KEY holds a secret of {len(key.encode())} bytes; "
                    f"at least {MIN_SECRET_BYTES} are required.\n" + SECRET_HINT
                )
        if self.session_store not in {"redis", "memory"}:
            raise ConfigError("SESSION_STORE must be 'redis' or 'memory'.")
        if self.jwt_mode not in {"stateless", "denylist", "refresh"}:
            raise ConfigError("JWT_MODE must be 'stateless', 'denylist' or 'refresh'.")
        for name, value in (
            ("JWT_LEEWAY", self.jwt_leeway),
            ("JWT_REFRESH_GRACE", self.jwt_refresh_grace),
        ):
            if not 0 <= value <= 300:
                raise ConfigError(f"{name} must be between 0 and 300 seconds.")
        if not 4 <= self.bcrypt_rounds <= 31:
            raise ConfigError("BCRYPT_ROUNDS must be between 4 and 31.")
        if self.revocation_durability not in {"none", "wait"}:
            raise ConfigError("REVOCATION_DURABILITY must be 'none' or 'wait'.")
        if not 1 <= self.revocation_wait_timeout_ms <= 60000:
            raise ConfigError("REVOCATION_WAIT_TIMEOUT_MS must be between 1 and 60000.")


#: Environment variable -> Settings field, and how to parse it.
ENV_VARS: dict[str, tuple[str, Any]] = {
    "SECRET_KEY": ("secret_keys", lambda v: tuple(s.strip() for s in v.split(",") if s.strip())),
    "DATABASE_URL": ("database_url", str),
    "REDIS_URL": ("redis_url", str),
    "REDIS_SENTINELS": ("redis_sentinels", _sentinels),
    "REDIS_SENTINEL_MASTER": ("redis_sentinel_master", str),
    "REVOCATION_DURABILITY": ("revocation_durability", str),
    "REVOCATION_WAIT_TIMEOUT_MS": ("revocation_wait_timeout_ms", int),
    "BCRYPT_ROUNDS": ("bcrypt_rounds", int),
    "REPLICA_ID": ("replica_id", str),
    "ADMIN_EMAIL": ("admin_email", str),
    "ADMIN_PASSWORD": ("admin_password", str),
    "COOKIE_SECURE": ("cookie_secure", _bool),
    "LOGIN_RATE_LIMIT": ("login_rate_limit", str),
    "LOGIN_IP_RATE_LIMIT": ("login_ip_rate_limit", str),
    "TRUSTED_PROXIES": ("trusted_proxies", int),
    "MAX_CONTENT_LENGTH": ("max_content_length", int),
    "SESSION_STORE": ("session_store", str),
    "SESSION_IDLE_TIMEOUT": ("session_idle_timeout", int),
    "SESSION_ABSOLUTE_TIMEOUT": ("session_absolute_timeout", int),
    "SESSION_MAX_PER_USER": ("session_max_per_user", int),
    "JWT_MODE": ("jwt_mode", str),
    "JWT_ALGORITHM": ("jwt_algorithm", str),
    "ACCESS_TOKEN_TTL": ("access_token_ttl", int),
    "REFRESH_TOKEN_TTL": ("refresh_token_ttl", int),
    "JWT_PRIVATE_KEY_FILE": ("jwt_private_key_file", str),
    "JWT_PUBLIC_KEY_FILE": ("jwt_public_key_file", str),
    "JWT_PREVIOUS_PUBLIC_KEY_FILES": (
        "jwt_previous_public_key_files",
        lambda v: tuple(s.strip() for s in v.split(",") if s.strip()),
    ),
    "JWT_LEEWAY": ("jwt_leeway", float),
    "JWT_REFRESH_GRACE": ("jwt_refresh_grace", float),
    "JWT_ISSUER": ("jwt_issuer", str),
    "JWT_AUDIENCE": ("jwt_audience", str),
}


def load_settings(
    environ: Mapping[str, str] | None = None, overrides: Mapping[str, Any] | None = None
) -> Settings:
    """Build Settings: defaults, then the environment, then explicit overrides (tests)."""
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    for name, (attr, parse) in ENV_VARS.items():
        raw = environ.get(name)
        if raw is not None and raw != "":
            try:
                values[attr] = parse(raw)
            except ValueError as exc:
                raise ConfigError(f"{name}={raw!r} is not valid: {exc}") from exc
    settings = replace(Settings(), **values)
    if overrides:
        known = {f.name for f in fields(Settings)}
        extra = {k: v for k, v in overrides.items() if k in known}
        if isinstance(extra.get("secret_keys"), str):
            extra["secret_keys"] = (extra["secret_keys"],)
        settings = replace(settings, **extra)
    settings.validate()
    return settings
