"""The cookie's signature, secret rotation, and refusing to start without a real secret."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from servers.core import ConfigError
from servers.session_server import create_app
from tests.support.sessions import sid

OLD = "old-secret-old-secret-old-secret-old-secret"
NEW = "new-secret-new-secret-new-secret-new-secret"


def test_a_tampered_cookie_is_refused_without_asking_redis(make_app, login):
    client = login(make_app())
    value = sid(client)
    forged = value[:-2] + ("AA" if not value.endswith("AA") else "BB")
    client.set_cookie("sid", forged)
    assert client.get("/auth/me").headers["Server-Timing"].endswith('desc="store=0"')
    assert client.get("/auth/me").status_code == 401


def test_secret_rotation_first_signs_all_verify(make_app, login):
    old_app = make_app(secret_keys=(OLD,))
    client = login(old_app)
    rotated = make_app(secret_keys=(NEW, OLD))
    other = rotated.test_client()
    other.set_cookie("sid", sid(client))
    assert other.get("/auth/me").status_code == 200  # old cookies still verify
    retired = make_app(secret_keys=(NEW,))
    third = retired.test_client()
    third.set_cookie("sid", sid(client))
    assert third.get("/auth/me").status_code == 401  # until the old secret is removed


@pytest.mark.parametrize("secret", [(), ("too-short",)])
def test_refuses_to_start_without_a_strong_secret(secret, redis_server, sqlite_url):
    with pytest.raises(ConfigError, match="token_urlsafe"):
        create_app(
            {"secret_keys": secret, "redis_url": redis_server.url, "database_url": sqlite_url}
        )


def test_gunicorn_style_start_fails_loudly_with_a_short_secret(tmp_path):
    env = {**os.environ, "SECRET_KEY": "short", "DATABASE_URL": f"sqlite:///{tmp_path}/x.db"}
    result = subprocess.run(
        [sys.executable, "-c", "from servers.session_server import create_app; create_app()"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=Path(__file__).parents[2],
    )
    assert result.returncode != 0
    assert "at least 32 are required" in result.stderr
