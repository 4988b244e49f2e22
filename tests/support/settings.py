"""Settings every test app starts from: a known secret, a fast bcrypt cost, an admin account."""

from __future__ import annotations

#: The test apps' signing secret (long enough for HS256); tests that forge tokens sign with it.
TEST_SECRET = "test-secret-that-is-long-enough-for-hs256-0123456789"


def base_config(redis_url: str, database_url: str, **extra) -> dict:
    """Test settings: a fast bcrypt cost, the private Redis, an admin account."""
    config = {
        "secret_keys": (TEST_SECRET,),
        "redis_url": redis_url,
        "database_url": database_url,
        "bcrypt_rounds": 4,
        "replica_id": "test-1",
        "admin_email": "admin@example.com",
        "admin_password": "admin-password-123",
        "login_rate_limit": "5 per minute",
        "login_ip_rate_limit": "1000 per minute",
    }
    config.update(extra)
    return config
