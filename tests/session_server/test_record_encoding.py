"""The packed session record: small in Redis, and nothing a session needs is lost on the way."""

import time
from dataclasses import replace

import pytest

from servers.core.redis_client import make_redis
from servers.session_server.cookies import new_session_id, store_key
from servers.session_server.stores import RedisStore, SessionRecord
from servers.session_server.stores.redis import SESSION_PREFIX, pack, unpack

BROWSER = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Safari/537.36"
)
#: Times with millisecond precision: what the packed record keeps.
NOW = round(time.time(), 3)


def record(**changes) -> SessionRecord:
    """A typical record, with some fields changed."""
    fields = {
        "user": {"id": 42, "email": "ada@example.com", "name": "Ada", "role": "user"},
        "created": NOW,
        "expires_at": NOW + 43200,
        "user_agent": BROWSER,
        "ip": "203.0.113.7",
    }
    fields.update(changes)
    return SessionRecord(**fields)


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"ip": "2001:db8::1"},
        {"ip": ""},
        {"user_agent": ""},
        {"user": {"id": 1, "email": "root@example.com", "name": "Root", "role": "admin"}},
        # The name comes last in the packed record: a separator inside it is harmless.
        {"user": {"id": 7, "email": "z@example.com", "name": "Zoë \x1f Ünal", "role": "user"}},
        {"expires_at": NOW + 0.5},
    ],
)
def test_a_packed_record_round_trips(changes):
    original = record(**changes)
    assert unpack(pack(original), original.user_agent) == original


def test_a_typical_record_packs_small():
    # The JSON it replaced was 235 bytes; 80 is Redis's allocation size for up to 76 bytes.
    assert len(pack(record()).encode()) <= 76


def test_the_store_gives_back_what_it_was_given(redis_server):
    store = RedisStore(make_redis(redis_server.url))
    key = store_key(new_session_id())
    original = record()
    store.create(key, original, idle=1800, max_per_user=0)
    # A read (every authenticated request) is one GET: it leaves out the User-Agent string,
    # which only the session list shows, and reads there.
    assert store.read(key, time.time(), idle=1800) == replace(original, user_agent="")
    (listed,) = store.list_user(42, time.time(), idle=1800)
    assert listed.key == key  # the full hash: the API's session id
    assert listed.record == original
    # Redis holds no cookie and no hex id: only a shortened hash names the record.
    (name,) = redis_server.client().keys(SESSION_PREFIX + "*")
    assert key not in name and len(name) == len(SESSION_PREFIX) + 18
