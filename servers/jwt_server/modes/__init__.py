"""The four JWT modes: what a logout can revoke, how soon, and what each request costs.

| mode      | logout                         | revocation takes effect      | Redis per request |
|-----------|--------------------------------|------------------------------|-------------------|
| stateless | expires the cookie, no more    | when the token expires       | 0                 |
| denylist  | puts the token's jti on a list | at once                      | 1 (one MGET)      |
| refresh   | revokes the refresh family     | at the next refresh (<=60 s) | 0                 |
| push      | pushes the jti to every replica | once every replica confirms | 0                 |

Each answer reports what really happened: `revoked: true` only when a copy of the credential is
refused from now on; otherwise `valid_until`, the moment the last copy stops working.
"""

from __future__ import annotations

from .base import Mode, iso
from .denylist import DenylistMode
from .push import PushMode
from .refresh import DEFAULT_REFRESH_GRACE, RefreshMode
from .stateless import StatelessMode

#: JWT_MODE -> mode.
MODES: dict[str, type[Mode]] = {
    mode.name: mode for mode in (StatelessMode, DenylistMode, RefreshMode, PushMode)
}

__all__ = [
    "DEFAULT_REFRESH_GRACE",
    "MODES",
    "DenylistMode",
    "Mode",
    "PushMode",
    "RefreshMode",
    "StatelessMode",
    "iso",
]
