"""The replicas: gunicorn processes of each server, their environment and their health.

Every replica of both servers shares the same secret, Redis and user database, exactly as
production replicas would; only REPLICA_ID (`session-1`, `jwt-2`, ...) and the port differ.
"""

from __future__ import annotations

import json
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from .state import LabConfig, LabError, LabState

#: The app factory of each server, served by gunicorn.
FACTORIES = {
    "session": "servers.session_server:create_app()",
    "jwt": "servers.jwt_server:create_app()",
}


def replica_id(server: str, index: int) -> str:
    """The name a replica reports in X-Replica and /health: `session-1`, `jwt-3`, ..."""
    return f"{server}-{index}"


def database_url(config: LabConfig, state_dir: Path) -> str:
    """The user database: the configured URL, else one SQLite file shared by all replicas."""
    return config.database_url or f"sqlite:///{state_dir / 'users.db'}"


def environment(
    server: str, index: int, state: LabState, state_dir: Path, redis_url: str
) -> dict[str, str]:
    """The settings one replica runs with (names declared in servers/core/config.py)."""
    config = state.config
    env = {
        "SECRET_KEY": state.secret_key,
        "DATABASE_URL": database_url(config, state_dir),
        "REDIS_URL": redis_url,
        "BCRYPT_ROUNDS": str(config.bcrypt_rounds),
        # One thread per worker never hashes: it answers HAProxy's /health during a login storm.
        "PASSWORD_HASH_SLOTS": str(max(1, config.threads - 1)),
        "REPLICA_ID": replica_id(server, index),
        "ADMIN_EMAIL": state.admin_email,
        "ADMIN_PASSWORD": state.admin_password,
        # Plain http on 127.0.0.1: a Secure cookie would never be sent back.
        "COOKIE_SECURE": "0",
        "LOGIN_RATE_LIMIT": config.login_rate_limit,
        "LOGIN_IP_RATE_LIMIT": config.login_rate_limit,
        # HAProxy adds X-Forwarded-For (option forwardfor): trust exactly that one proxy.
        "TRUSTED_PROXIES": "1",
        "PYTHONUNBUFFERED": "1",
    }
    if server == "session":
        env["SESSION_STORE"] = config.session_store
        env["SESSION_BINDING"] = config.session_binding
    else:
        env["JWT_MODE"] = config.jwt_mode
        env["JWT_BINDING"] = config.jwt_binding
        env["JWT_ALGORITHM"] = config.algorithm
        if config.access_ttl is not None:
            env["ACCESS_TOKEN_TTL"] = str(config.access_ttl)
        if state.jwt_keys:
            env["JWT_PRIVATE_KEY_FILE"] = state.jwt_keys["private"]
            env["JWT_PUBLIC_KEY_FILE"] = state.jwt_keys["public"]
    env.update(config.env)
    return env


def argv(server: str, port: int, config: LabConfig) -> list[str]:
    """gunicorn with threads, bound to loopback."""
    return [
        sys.executable, "-m", "gunicorn",
        "-k", "gthread", "--threads", str(config.threads), "-w", str(config.workers),
        "-b", f"127.0.0.1:{port}",
        # Keep idle connections longer than HAProxy does, so HAProxy never reuses a
        # connection the replica is closing (the classic keep-alive race behind a proxy).
        "--keep-alive", "30",
        "--graceful-timeout", "3",
        "--log-level", "warning",
        FACTORIES[server],
    ]  # fmt: skip


def generate_jwt_keys(algorithm: str, directory: Path) -> dict[str, str]:
    """A key pair for RS256/EdDSA, shared by every JWT replica (the JWT server writes it)."""
    try:
        from servers.jwt_server.keys import generate_keypair
    except ImportError as exc:
        raise LabError(
            f"--algorithm {algorithm} needs servers.jwt_server.keys.generate_keypair ({exc})"
        ) from exc
    directory.mkdir(parents=True, exist_ok=True)
    private, public = generate_keypair(algorithm, directory)
    return {"algorithm": algorithm, "private": str(private), "public": str(public)}


def health(port: int, timeout: float = 1.0) -> dict[str, Any] | None:
    """GET /health on one replica directly (not through HAProxy); None if it does not answer."""
    try:
        with urllib.request.urlopen(  # noqa: S310 (a fixed http://127.0.0.1 URL)
            f"http://127.0.0.1:{port}/health", timeout=timeout
        ) as response:
            return json.loads(response.read())
    except urllib.error.HTTPError as error:  # a 503 clock_skew still says who answers, in JSON
        try:
            return json.loads(error.read())
        except ValueError:
            return None
    except (OSError, ValueError, urllib.error.URLError):
        return None


def is_healthy(server: str, index: int, port: int) -> bool:
    """The replica answers /health as itself (not some other process that took the port).

    A replica whose clock is off the store's answers too (503 `clock_skew`): it is up, and it
    refuses everything on purpose; HAProxy keeps it out until its clock is right."""
    body = health(port)
    return (
        bool(body)
        and body.get("status") in ("ok", "clock_skew")
        and body.get("replica") == replica_id(server, index)
    )
