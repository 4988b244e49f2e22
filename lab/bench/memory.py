"""`python -m lab bench --memory`: Redis bytes per live session, the per-user index included.

Each case starts its own redis-server, reads INFO's `used_memory`, creates N sessions of N
distinct users through the real code (the session server's RedisStore; the usual Flask stack's
login view), reads `used_memory` again and divides. That counts everything a session costs:
key names, values, expiry entries, index entries and the growth of Redis's hash tables.

    python -m lab bench --memory                    # 10,000 sessions per case
    python -m lab bench --memory --sessions 500     # a quick look
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from ..store.redis_server import RedisProcess
from .wrk import USER_AGENT

#: Issue 10's target for the session server, index included.
TARGET_BYTES = 300


def used_memory(redis_proc: RedisProcess) -> int:
    """Bytes Redis has allocated for data and overhead (INFO memory)."""
    return int(redis_proc.client().info("memory")["used_memory"])


def session_server_sessions(redis_proc: RedisProcess, count: int, distinct_ua: bool) -> None:
    """`count` logins of distinct users, stored by the session server's own RedisStore."""
    from servers.core.config import Settings
    from servers.core.redis_client import make_redis
    from servers.session_server.cookies import new_session_id, store_key
    from servers.session_server.stores import RedisStore, SessionRecord

    defaults = Settings()
    store = RedisStore(make_redis(redis_proc.url))
    now = time.time()
    for i in range(1, count + 1):
        record = SessionRecord(
            user={
                "id": i,
                "email": f"student{i}@example.com",
                "name": f"Student {i}",
                "role": "user",
            },
            created=now,
            expires_at=now + defaults.session_absolute_timeout,
            user_agent=USER_AGENT + (f" build/{i}" if distinct_ua else ""),
            ip="203.0.113.7",
        )
        store.create(store_key(new_session_id()), record, defaults.session_idle_timeout, 0)
    store.client.close()


def usual_stack_sessions(redis_proc: RedisProcess, count: int) -> None:
    """`count` logins of distinct users through Flask-Session + Flask-Login (their defaults)."""
    import secrets

    from .contestants import usual

    app = usual.create_app(redis_url=redis_proc.url, secret_key=secrets.token_urlsafe(48))
    client = app.test_client()
    for i in range(1, count + 1):
        client.delete_cookie("session")
        answer = client.post(
            "/auth/login",
            json={"id": i, "email": f"student{i}@example.com"},
            headers={"User-Agent": USER_AGENT},
        )
        if answer.status_code != 200:
            raise RuntimeError(f"the usual stack's login failed: {answer.status_code}")


def measure(fill: Callable[[RedisProcess], None], count: int) -> dict[str, Any]:
    """Bytes per session for one way of storing `count` sessions, on a fresh Redis."""
    redis_proc = RedisProcess()
    try:
        redis_proc.start()
        before = used_memory(redis_proc)
        fill(redis_proc)
        grown = used_memory(redis_proc) - before
        keys = int(redis_proc.client().dbsize())
    finally:
        redis_proc.close()
    return {"sessions": count, "bytes_per_session": round(grown / count, 1), "redis_keys": keys}


def run(count: int, progress: Callable[[str], None] = print) -> dict[str, Any]:
    """The session server (one shared browser User-Agent, then one per session) and the usual
    stack, each on its own Redis."""
    from .tables import stamp

    cases = [
        (
            "session server",
            "every session with the same browser User-Agent",
            lambda r: session_server_sessions(r, count, distinct_ua=False),
        ),
        (
            "session server",
            "worst case: a different User-Agent per session",
            lambda r: session_server_sessions(r, count, distinct_ua=True),
        ),
        (
            "usual stack (Flask-Session + Flask-Login) [reference]",
            "keeps no per-user index and no User-Agent",
            lambda r: usual_stack_sessions(r, count),
        ),
    ]
    rows = []
    for name, note, fill in cases:
        progress(f"bench --memory: {name}, {note} ({count} sessions)")
        rows.append({"name": name, "note": note, **measure(fill, count)})
    return {
        "stamp": stamp(),
        "sessions": count,
        "target_bytes": TARGET_BYTES,
        "target_met": rows[0]["bytes_per_session"] <= TARGET_BYTES,
        "results": rows,
    }


def lines(report: dict[str, Any]) -> list[str]:
    """The --memory results, one line per case, then the target."""
    out = [
        f"{r['name']}: {r['bytes_per_session']:.0f} B per session ({r['note']}; "
        f"{r['redis_keys']} Redis keys for {r['sessions']} sessions)"
        for r in report["results"]
    ]
    met = "met" if report["target_met"] else "NOT met"
    out.append(
        f"Target: at most {report['target_bytes']} B per session, index included: {met} "
        f"({report['results'][0]['bytes_per_session']:.0f} B)."
    )
    return out


def markdown(report: dict[str, Any], command: str) -> str:
    """The --memory results as Markdown, stamped."""
    s = report["stamp"]
    rows = [
        f"| {r['name']} | {r['note']} | {r['bytes_per_session']:.0f} | {r['redis_keys']} |"
        for r in report["results"]
    ]
    return "\n".join(
        [
            f"Printed by `{command}` at commit {s['commit']}, {s['date']}, on {s['machine']}.",
            "",
            f"Growth of Redis's `used_memory` over {report['sessions']} sessions of distinct "
            "users, divided by the number of sessions.",
            "",
            "| store | case | bytes per session | Redis keys |",
            "|---|---|---|---|",
            *rows,
            "",
            lines(report)[-1],
        ]
    )
