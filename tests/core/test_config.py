"""Settings come from the environment, with overrides for tests, and unsafe ones are refused."""

import pytest

from servers.core.config import ConfigError, load_settings

SECRET = "s" * 40


def test_environment_is_read_and_parsed():
    settings = load_settings(
        {
            "SECRET_KEY": f"{SECRET}, {'t' * 40}",
            "BCRYPT_ROUNDS": "5",
            "COOKIE_SECURE": "true",
            "SESSION_STORE": "memory",
        }
    )
    assert settings.secret_keys == (SECRET, "t" * 40)
    assert settings.secret_key == SECRET  # the first signs
    assert (settings.bcrypt_rounds, settings.cookie_secure) == (5, True)
    assert settings.session_store == "memory"


def test_overrides_win_over_the_environment():
    settings = load_settings({"SECRET_KEY": SECRET, "BCRYPT_ROUNDS": "10"}, {"bcrypt_rounds": 4})
    assert settings.bcrypt_rounds == 4


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({}, "SECRET_KEY is not set"),
        ({"SECRET_KEY": "short"}, "at least 32"),
        ({"SECRET_KEY": f"{SECRET},short"}, "at least 32"),
        ({"SECRET_KEY": SECRET, "SESSION_STORE": "disk"}, "SESSION_STORE"),
        ({"SECRET_KEY": SECRET, "JWT_MODE": "magic"}, "JWT_MODE"),
        ({"SECRET_KEY": SECRET, "BCRYPT_ROUNDS": "2"}, "BCRYPT_ROUNDS"),
        ({"SECRET_KEY": SECRET, "BCRYPT_ROUNDS": "many"}, "BCRYPT_ROUNDS"),
    ],
)
def test_unsafe_or_invalid_settings_refuse_to_start(env, message):
    with pytest.raises(ConfigError, match=message):
        load_settings(env)
