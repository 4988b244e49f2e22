"""The half both servers share: settings, users in SQL, passwords, errors, the API blueprints,
the AuthBackend interface, rate limits and the OpenAPI contract."""

from .app import build_app
from .backend import AuthBackend, AuthCheck, Principal, Revocation
from .config import ConfigError, Settings, load_settings
from .errors import ApiError, StoreUnavailable

__all__ = [
    "ApiError",
    "AuthBackend",
    "AuthCheck",
    "ConfigError",
    "Principal",
    "Revocation",
    "Settings",
    "StoreUnavailable",
    "build_app",
    "load_settings",
]
