"""Count what Redis really did: the lab's claims about round trips are checked, not trusted."""

from __future__ import annotations

from collections.abc import Callable

import redis


def command_calls(client: redis.Redis) -> dict[str, int]:
    """Calls per command name since the server started (INFO commandstats)."""
    stats = client.info("commandstats")
    return {name.removeprefix("cmdstat_"): row["calls"] for name, row in stats.items()}


def count_commands(client: redis.Redis, action: Callable[[], object]) -> dict[str, int]:
    """The commands Redis executed while `action` ran (the INFO call itself excluded).

    Commands run inside a Lua script are counted too, under their own names, so a script
    call shows as `evalsha` plus the commands it ran.
    """
    before = command_calls(client)
    action()
    after = command_calls(client)
    delta = {k: v - before.get(k, 0) for k, v in after.items() if v - before.get(k, 0)}
    delta["info"] = delta.get("info", 0) - 1
    return {k: v for k, v in delta.items() if v}
