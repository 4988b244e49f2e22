"""What an authenticated request costs in Redis, counted by Redis itself (INFO commandstats)."""

import pytest

from tests.support.redis_stats import count_commands
from tests.support.tokens import authenticated_mix

N = 25


@pytest.mark.parametrize(
    ("mode", "expected", "store"),
    [
        ("stateless", {}, 0),  # nothing: the signature is the whole check
        ("denylist", {"mget": N}, 1),  # one MGET: deny:<jti> and revoked-before:<user>
        ("refresh", {}, 0),  # access tokens are checked alone; Redis only at refresh
    ],
)
def test_round_trips_per_authenticated_request(
    make_app, login, redis_server, mode, expected, store
):
    app = make_app(mode)
    client, body = login(app)
    client.get("/auth/me")  # the first request may open the connection (HELLO)
    responses = []

    def requests():
        responses.extend(authenticated_mix(app, client, body["access_token"], N))

    calls = count_commands(redis_server.client(), requests)
    assert calls == expected
    assert all(r.status_code == 200 for r in responses)
    assert all(r.headers["Server-Timing"].endswith(f'desc="store={store}"') for r in responses)


def test_a_refresh_costs_one_round_trip(make_app, login, redis_server):
    app = make_app("refresh")
    client, _ = login(app)
    client.post("/auth/refresh")  # the first call may load the script
    calls = count_commands(redis_server.client(), lambda: client.post("/auth/refresh"))
    # One EVALSHA (one network round trip); the commands it ran inside Redis are listed too.
    assert calls.pop("evalsha") == 1
    # ...the family's record, and its user's index (re-scored, pruned, its expiry reset).
    family = {"get", "set", "exists", "hget", "hset", "expire"}
    index = {"zadd", "zremrangebyscore", "zrange", "pexpireat"}
    assert set(calls) <= family | index
