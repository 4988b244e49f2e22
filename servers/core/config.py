"""Settings from the environment: defaults first, then the environment, then test overrides.

Each setting is declared once, as a field of `Settings` below: its name (the environment variable
is the name in capitals), type, default, allowed range or values, and help. The server reads it,
`.env.example` and docs/configuration.md are printed from it (`python -m
servers.core.settings_docs`, checked by tests/core/test_config.py), and the lab imports its
defaults and choices from here. Adding a setting is adding a field: see docs/configuration.md.
"""

from __future__ import annotations

import os
import socket
import typing
from collections.abc import Mapping
from dataclasses import Field, dataclass, fields, replace
from pathlib import Path
from typing import Any

from .setting import closest, env_name, parse, problem, setting

#: Repository root; the default SQLite file lives in `.lab/` under it.
REPO_ROOT = Path(__file__).resolve().parents[2]

#: RFC 2104 / RFC 8725: an HMAC key should be at least as long as the hash output (32 bytes).
MIN_SECRET_BYTES = 32

#: What to tell someone whose SECRET_KEY is missing or short.
SECRET_HINT = (
    "Set SECRET_KEY to at least 32 random bytes, for example:\n"  # noqa: S105 (a hint)
    "  export SECRET_KEY=$(python3 -c 'import secrets; print(secrets.token_urlsafe(48))')"
)

#: Allowed values, named so the lab and the servers share them (add a mode here, nowhere else).
SESSION_STORES = ("redis", "memory", "cached")
JWT_MODES = ("stateless", "denylist", "refresh", "push")
ALGORITHMS = ("HS256", "RS256", "EdDSA")
SESSION_BINDINGS = ("none", "dbsc")
JWT_BINDINGS = ("none", "dpop")

#: Sections of `.env.example` and of the table in docs/configuration.md, in order.
GROUPS = ("Both servers", "Session server", "JWT server")


class ConfigError(RuntimeError):
    """The server refuses to start: the configuration is unsafe or invalid."""


@dataclass(frozen=True)
class Settings:
    """Everything a server reads from its environment, one field per variable."""

    # --- Both servers ---
    secret_keys: tuple[str, ...] = setting(
        (),
        "Signing secret(s), at least 32 bytes each. Comma-separated for rotation: the first signs"
        " new cookies/tokens, all of them verify. Required: the servers refuse to start without"
        " it. Make one: python3 -c 'import secrets; print(secrets.token_urlsafe(48))'",
        env="SECRET_KEY",
    )
    database_url: str = setting(
        f"sqlite:///{REPO_ROOT / '.lab' / 'authlab.db'}",
        "Users and notes. SQLite file by default (shared by replicas on one host); PostgreSQL by"
        " URL: postgresql+psycopg://postgres@127.0.0.1:5432/test",
        example="sqlite:///.lab/authlab.db",
    )
    redis_url: str = setting(
        "redis://127.0.0.1:6379/0",
        "Sessions, JWT denylist/refresh families and the login rate-limit counters.",
    )
    redis_sentinels: tuple[str, ...] = setting(
        (),
        "Redis Sentinel: find the primary through these sentinels (host:port,host:port,...) and"
        " follow a failover without a restart; REDIS_URL then gives only the database number."
        " Empty: REDIS_URL is the primary.",
    )
    redis_sentinel_master: str = setting(
        "authlab", "The name the sentinels monitor the primary under (with REDIS_SENTINELS)."
    )
    revocation_durability: str = setting(
        "auto",
        "none: a revocation is done once the primary has it. wait: the answer waits (Redis WAIT)"
        " for one replica to acknowledge it, and says revoked: false if none did in time. auto:"
        " wait when REDIS_SENTINELS is set (a failover could undo what only the primary had),"
        " none otherwise.",
        choices=("auto", "none", "wait"),
    )
    clock_max_skew: float = setting(
        1.0,
        "Seconds this replica's clock may differ from the store's (Redis TIME) before it serves"
        " nothing (503 clock_skew, and /health 503 so the load balancer takes it out): token"
        " times and revocation cuts compare clocks of different replicas. 0: never checked.",
        min=0,
        max=3600,
    )
    revocation_wait_timeout_ms: int = setting(
        500,
        "With REVOCATION_DURABILITY=wait (or SESSION_DURABILITY=wait): milliseconds to wait for"
        " a replica's acknowledgement.",
        min=1,
        max=60000,
    )
    bcrypt_rounds: int = setting(
        12,
        "bcrypt cost factor. 12 is realistic (~0.6 s per hash here); tests use 4.",
        min=4,
        max=31,
    )
    password_hash_slots: int = setting(
        0,
        "Threads of one process that may hash passwords at once; a register or login beyond"
        " them gets 503 hashing_busy with Retry-After (0: no limit). The lab sets its threads"
        " minus one, so a replica answers /health during a login storm.",
        min=0,
    )
    replica_id: str = setting(
        help="Shown in the X-Replica header and /health; defaults to the hostname.",
        factory=socket.gethostname,
        example="",
    )
    admin_email: str | None = setting(
        None, "The first administrator, created (or promoted) at start."
    )
    admin_password: str | None = setting(None, "The first administrator's password.")
    cookie_secure: bool = setting(
        False,
        "Send cookies with the Secure flag (set 1 behind HTTPS; the lab is plain HTTP on"
        " 127.0.0.1).",
    )
    login_rate_limit: str = setting(
        "5 per minute",
        "Failed logins allowed per email (Flask-Limiter syntax), counted in Redis by all replicas.",
    )
    login_ip_rate_limit: str = setting(
        "30 per minute",
        "Failed logins (and registrations of a taken email) allowed per client IP, counted in"
        " Redis by all replicas.",
    )
    trusted_proxies: int = setting(
        0,
        "Proxies in front that append X-Forwarded-For (1 behind the lab's HAProxy, 0 when"
        " exposed).",
        min=0,
        max=10,
    )
    max_content_length: int = setting(
        16 * 1024, "Largest request body in bytes; bigger bodies get 413.", min=1
    )
    trusted_origins: tuple[str, ...] = setting(
        (),
        "Browser origins (scheme://host:port, comma-separated) besides the server's own that may"
        " send POST/PUT/PATCH/DELETE; every other cross-origin browser request gets 403"
        " (docs/security.md).",
    )
    push_stale_after: float = setting(
        2.0,
        "JWT_MODE=push and SESSION_STORE=cached: seconds a replica trusts its memory after its"
        " last complete read of the revocation feed; past it, it reads Redis first or answers"
        " 503. A revocation is in force on every replica by then.",
        min=0.1,
        max=60,
    )
    push_ack_wait: float = setting(
        1.0,
        "JWT_MODE=push and SESSION_STORE=cached: seconds a revocation waits for every live"
        " replica to confirm before answering revoked: false with a valid_until.",
        min=0,
        max=60,
    )

    # --- Session server ---
    session_store: str = setting(
        "redis",
        "redis (shared by all replicas), memory (per process: breaks behind round-robin, on"
        " purpose) or cached (Redis plus each replica's memory, invalidated by push:"
        " docs/push.md).",
        group="Session server",
        choices=SESSION_STORES,
    )
    session_idle_timeout: int = setting(
        1800,
        "Sliding idle timeout in seconds (OWASP: 15-30 min).",
        group="Session server",
        min=1,
    )
    session_absolute_timeout: int = setting(
        43200,
        "Absolute session lifetime in seconds, however active (OWASP: 4-8 h).",
        group="Session server",
        min=1,
    )
    session_binding: str = setting(
        "none",
        "none (a bearer cookie) or dbsc (Device Bound Session Credentials: at login the server"
        " asks the client to register a key; a short-lived cookie is then renewed only with a"
        " signature by that key; clients without support stay unbound; docs/binding.md).",
        group="Session server",
        choices=SESSION_BINDINGS,
    )
    session_durability: str = setting(
        "auto",
        "none: a login is done once the primary holds the new session. wait: the login waits"
        " (Redis WAIT, up to REVOCATION_WAIT_TIMEOUT_MS) for one replica to hold it too, and"
        " answers 503 session_not_durable, handing out no cookie, if none did: a failover cannot"
        " then lose a session the server handed out. auto: wait when REDIS_SENTINELS is set,"
        " none otherwise.",
        group="Session server",
        choices=("auto", "none", "wait"),
    )
    dbsc_cookie_ttl: int = setting(
        60,
        "SESSION_BINDING=dbsc: seconds the short-lived bound cookie lives; a stolen copy works"
        " this long at most.",
        group="Session server",
        min=1,
        max=3600,
    )
    session_max_per_user: int = setting(
        0,
        "Keep at most this many sessions per user, evicting the oldest (0 = no limit).",
        group="Session server",
        min=0,
    )

    # --- JWT server ---
    jwt_mode: str = setting(
        "stateless",
        "stateless (nothing on the server; logout cannot revoke), denylist (one Redis check per"
        " request), refresh (short access token + rotating refresh token with reuse detection),"
        " push (revocations pushed into every replica's memory: no Redis check per request;"
        " docs/push.md).",
        group="JWT server",
        choices=JWT_MODES,
    )
    jwt_algorithm: str = setting(
        "HS256",
        "HS256 (key = SECRET_KEY), RS256 or EdDSA (keys from the files below).",
        group="JWT server",
        choices=ALGORITHMS,
    )
    access_token_ttl: int | None = setting(
        None,
        "Access-token lifetime in seconds (empty: 900; 60 in refresh mode).",
        group="JWT server",
        min=1,
    )
    refresh_token_ttl: int = setting(
        14 * 24 * 3600,
        "Refresh-token lifetime in seconds (refresh mode; default 14 days).",
        group="JWT server",
        min=1,
    )
    jwt_private_key_file: str | None = setting(
        None,
        "PEM private key for RS256/EdDSA (all replicas must share it). Without the key files a"
        " development key pair is generated in memory, which only works with one replica.",
        group="JWT server",
    )
    jwt_public_key_file: str | None = setting(
        None, "PEM public key matching JWT_PRIVATE_KEY_FILE.", group="JWT server"
    )
    jwt_previous_public_key_files: tuple[str, ...] = setting(
        (),
        "Public keys of retired signing keys, comma-separated: they verify until their tokens"
        " expire.",
        group="JWT server",
    )
    jwt_leeway: float = setting(
        5.0,
        "Seconds a token is still accepted past its exp / before its nbf (clock skew between"
        " hosts); it lengthens every token's life.",
        group="JWT server",
        min=0,
        max=300,
    )
    jwt_revocation_guard: str = setting(
        "on",
        "on: the denylist, push and refresh modes notice when Redis lost its data (restarted"
        " empty, flushed: an epoch marker, docs/security.md) and refuse every token issued"
        " before with 401 revocation_state_lost. off: the naive denylist, for the lesson: a"
        " store that restarts empty un-revokes every logged-out token.",
        group="JWT server",
        choices=("on", "off"),
    )
    jwt_refresh_grace: float = setting(
        5.0,
        "Refresh mode: seconds in which a second refresh with the same token is forgiven (two"
        " tabs at once).",
        group="JWT server",
        min=0,
        max=300,
    )
    jwt_binding: str = setting(
        "none",
        "none (bearer tokens) or dpop (RFC 9449: each token bound to the client's key; every"
        " request carries a fresh signed proof; docs/binding.md).",
        group="JWT server",
        choices=JWT_BINDINGS,
    )
    dpop_proof_window: float = setting(
        60.0,
        "JWT_BINDING=dpop: seconds a proof is accepted after its iat (plus JWT_LEEWAY ahead);"
        " its jti is remembered that long.",
        group="JWT server",
        min=1,
        max=600,
    )
    dpop_replay_store: str = setting(
        "redis",
        "JWT_BINDING=dpop: where proof ids are remembered: redis (one round trip per request,"
        " a replay refused on every replica) or memory (no round trip; a replay to another"
        " replica gets in once).",
        group="JWT server",
        choices=("redis", "memory"),
    )
    jwt_issuer: str = setting(
        "authlab", "The iss claim tokens carry and require.", group="JWT server"
    )
    jwt_audience: str = setting(
        "authlab-api", "The aud claim tokens carry and require.", group="JWT server"
    )

    @property
    def secret_key(self) -> str:
        """The secret that signs new credentials."""
        return self.secret_keys[0]

    def validate(self) -> None:
        """Refuse to start with a missing or short secret, or a value outside its range."""
        if not self.secret_keys:
            raise ConfigError("SECRET_KEY is not set.\n" + SECRET_HINT)
        for key in self.secret_keys:
            if len(key.encode()) < MIN_SECRET_BYTES:
                raise ConfigError(
                    f"SECRET_KEY holds a secret of {len(key.encode())} bytes; "
                    f"at least {MIN_SECRET_BYTES} are required.\n" + SECRET_HINT
                )
        for f in fields(self):
            check_value(f, getattr(self, f.name))


def check_value(f: Field, value: Any) -> None:
    """Raise ConfigError if `value` is outside the field's declared choices or range."""
    message = problem(f, value)
    if message:
        raise ConfigError(message)


# --- Reading the declarations ---------------------------------------------------------------


def check_setting(name: str, value: Any) -> None:
    """Raise ConfigError if `value` is not allowed for the setting `name` (a field name)."""
    check_value(next(f for f in declared() if f.name == name), value)


def declared() -> tuple[Field, ...]:
    """Every setting, in declaration order."""
    return fields(Settings)


def default_of(name: str) -> Any:
    """The declared default of a setting, by field name (the lab starts from these)."""
    f = next(f for f in declared() if f.name == name)
    return f.default_factory() if callable(f.default_factory) else f.default


#: Each setting's type annotation, resolved (how its variable is parsed).
HINTS = typing.get_type_hints(Settings)

#: Environment variable -> field, for every setting.
ENV_VARS: dict[str, Field] = {env_name(f): f for f in declared()}

#: Prefixes of our variables: an unknown variable that starts with one and looks like one of
#: ours is a typo (SESSION_IDLE_TIMOUT), not someone else's variable (SESSION_MANAGER).
NAMESPACES = tuple({name.split("_")[0] + "_" for name in ENV_VARS})


def _from_environ(environ: Mapping[str, str]) -> dict[str, Any]:
    """Our variables, parsed; a near miss of one of them (SESSION_IDLE_TIMOUT) is an error."""
    for name in environ:
        if name not in ENV_VARS and name.startswith(NAMESPACES):
            match = closest(name, list(ENV_VARS), cutoff=0.85)
            if match:
                raise ConfigError(f"Unknown setting {name}: did you mean {match}?")
    values: dict[str, Any] = {}
    for name, f in ENV_VARS.items():
        raw = environ.get(name)
        if raw is not None and raw != "":
            try:
                values[f.name] = parse(HINTS[f.name], raw)
            except ValueError as exc:
                raise ConfigError(f"{name}={raw!r} is not valid: {exc}") from exc
    return values


def _from_overrides(overrides: Mapping[str, Any]) -> dict[str, Any]:
    """Field-named overrides; UPPERCASE keys are Flask config and are left to the app."""
    known = [f.name for f in declared()]
    values = {}
    for key, value in overrides.items():
        if key.isupper():
            continue
        if key not in known:
            hint = closest(key, known)
            raise ConfigError(
                f"Unknown setting {key!r}" + (f": did you mean {hint!r}?" if hint else ".")
            )
        values[key] = value
    if isinstance(values.get("secret_keys"), str):
        values["secret_keys"] = (values["secret_keys"],)
    return values


def load_settings(
    environ: Mapping[str, str] | None = None, overrides: Mapping[str, Any] | None = None
) -> Settings:
    """Build Settings: defaults, then the environment, then explicit overrides (tests)."""
    environ = os.environ if environ is None else environ
    settings = replace(Settings(), **_from_environ(environ))
    settings = replace(settings, **_from_overrides(overrides or {}))
    settings.validate()
    return settings
