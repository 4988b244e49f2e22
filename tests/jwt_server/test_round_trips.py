"""What an authenticated request costs in Redis, counted by Redis itself (INFO commandstats)."""

import pytest

from tests.support.bound import DPoPClient
from tests.support.redis_stats import count_commands
from tests.support.tokens import authenticated_mix, unverified

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


@pytest.mark.parametrize(
    ("mode", "expected", "store"),
    [
        ("stateless", {"set": N}, 1),  # the proof's jti, remembered once (SET NX)
        ("denylist", {"mget": N, "set": N}, 2),  # the MGET (with the epoch) and the jti's SET NX
        ("refresh", {"set": N}, 1),
    ],
)
def test_dpop_adds_one_round_trip_beside_the_modes_own(
    make_app, login, redis_server, mode, expected, store
):
    """JWT_BINDING=dpop: the replay check is a round trip of its own, beside the mode's MGET
    (which still reads the store's epoch: the token carries `sep` and `cnf` alike)."""
    app = make_app(mode, jwt_binding="dpop")
    app.test_client_class = DPoPClient  # signs a proof per request (Bearer becomes DPoP)
    client, body = login(app)
    _, claims = unverified(body["access_token"])
    assert "jkt" in claims["cnf"] and ("sep" in claims) == (mode != "stateless")
    client.get("/auth/me")
    responses = []

    def requests():
        for i in range(N):
            auth = {"Authorization": f"Bearer {body['access_token']}"} if i % 2 else {}
            responses.append(client.get("/notes" if i % 2 else "/auth/me", headers=auth))

    calls = count_commands(redis_server.client(), requests)
    assert calls == expected
    assert all(r.status_code == 200 for r in responses)
    assert all(r.headers["Server-Timing"].endswith(f'desc="store={store}"') for r in responses)
