"""The verdicts the notebooks and the report print: built from the data, never against it.

Each case is a run the lab really produced (the numbers of issue 19) or its opposite: a builder
that called a contradicted expectation "held" fails here.
"""

from __future__ import annotations

import pytest

from lab.experiments.distance import effects, ping_effect
from lab.report.html import refresh_event_rows
from lab.report.text_credentials import refresh_reading, session_lifetimes
from lab.report.text_verdicts import (
    binding_verdict,
    distance_verdict,
    failover_verdict,
    outage_verdict,
)


def trial(server: str, mode: str, ms: float, auth: float, p50: float, trips: int) -> dict:
    return {"server": server, "mode": mode, "distance_ms": ms, "auth_p50_ms": auth,
            "p50_ms": p50, "rps": 1000 / p50, "store_round_trips": trips}  # fmt: skip


def distance_of(per_trial: list[dict]) -> dict:
    return {"distance": {"effects": effects(per_trial), "trials": 3, "load_average": 3.1}}


def test_distance_verdict_held_when_the_auth_check_pays_the_round_trip():
    rows = [trial("jwt", "denylist", ms, 0.2 + ms + i / 100, 5 + ms, 1)
            for i in range(3) for ms in (0.0, 1.0)]  # fmt: skip
    [sentence] = distance_verdict(distance_of(rows))[1:]
    assert "expected about +1 ms" in sentence and ": held." in sentence


def test_distance_verdict_says_when_an_effect_is_more_than_the_distance():
    rows = [trial("jwt", "denylist", ms, 0.2 + 6 * ms + i / 100, 5 + ms, 1)
            for i in range(3) for ms in (0.0, 1.0)]  # fmt: skip
    [sentence] = distance_verdict(distance_of(rows))[1:]
    assert "held in direction, but more than the distance alone explains" in sentence


def test_distance_verdict_says_contradicted_when_denylist_got_faster():
    # Issue 19's run: +1 ms made the denylist server *faster*.
    rows = [trial("jwt", "denylist", ms, 1.3 - ms / 2 + i / 100, 5.27 - ms / 4, 1)
            for i in range(3) for ms in (0.0, 1.0)]  # fmt: skip
    [sentence] = distance_verdict(distance_of(rows))[1:]
    assert "contradicted" in sentence and "held" not in sentence


def test_distance_verdict_flags_a_stateless_server_that_moved():
    rows = [trial("jwt", "stateless", ms, 0.1 + ms * 0.9 + i / 100, 5, 0)
            for i in range(3) for ms in (0.0, 1.0)]  # fmt: skip
    [sentence] = distance_verdict(distance_of(rows))[1:]
    assert "expected no change" in sentence and "contradicted: likely cause: noise" in sentence


def run(lag: str, durability: str, lost: int, in_sync: bool, behind: int, logins=28) -> dict:
    row = {"revocations_lost": lost, "revocations_confirmed": 141, "logins_lost": logins,
           "error_window_s": 2.0}  # fmt: skip
    sync = {"in_sync": in_sync, "behind_bytes": behind, "primary_offset": 1000 + behind,
            "replica_offset": 1000, "waited_s": 0.0}  # fmt: skip
    return {"replication_lag": lag, "durability": durability, "sync": sync, "rows": [row]}


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        (run("off", "none", 0, True, 0, logins=0), "expected almost nothing lost (the replica"),
        (run("off", "none", 29, False, 5120), "lacked 5120 bytes of the primary's writes"),
        (run("off", "none", 29, True, 0), "contradicted"),
        (run("off", "none", 0, True, 0), "contradicted"),  # 28 logins lost, in sync
        (run("200ms", "wait", 3, False, 900), "contradicted"),
    ],
)
def test_failover_verdict_explains_losses_by_the_offsets(case, expected):
    [sentence] = failover_verdict({"failover": {"runs": [case]}})
    assert expected in sentence
    assert f"{case['rows'][0]['revocations_lost']} of 141" in sentence
    if "contradicted" in expected:
        assert ": held" not in sentence


def test_outage_verdict_never_says_served_again_when_every_request_was_refused():
    rows = [{"config": "jwt push", "last 200 after stop (s)": 2.1, "after restart": {401: 60}},
            {"config": "jwt stateless", "last 200 after stop (s)": 3.0,
             "after restart": {200: 60}}]  # fmt: skip
    said = outage_verdict({"push_outage": rows})
    assert "jwt push: after Redis returned it served 0% (60 x 401): Redis came back empty" in (
        " ".join(said)
    )
    assert "jwt stateless: after Redis returned it served again" in " ".join(said)


def test_refresh_reading_counts_what_the_access_tokens_did_after_reuse():
    events = [
        {"t": 0.1, "who": "attacker", "event": "refresh (reused token)", "status": 401},
        {"t": 0.2, "who": "victim", "event": "GET /auth/me", "status": 401},
        {"t": 0.3, "who": "attacker", "event": "GET /auth/me", "status": 401},
    ]
    theft = {"events": events, "reuse_detected": True, "family_revoked": True,
             "access_ttl_s": 2}  # fmt: skip
    text = " ".join(refresh_reading({"refresh_theft": theft}))
    assert "still worked" not in text and "refused from then on" in text
    events.insert(1, {"t": 0.15, "who": "victim", "event": "GET /auth/me", "status": 200})
    text = " ".join(refresh_reading({"refresh_theft": theft}))
    assert "the victim's access token was still accepted 1 time(s)" in text


def test_the_event_table_keeps_accepted_checks_as_counted_rows():
    events = [{"t": t / 10, "who": who, "event": "GET /auth/me", "status": 200}
              for t, who in enumerate(["victim", "attacker", "victim"])]  # fmt: skip
    [row] = refresh_event_rows({"events": events})
    assert row["event"] == "GET /auth/me x 3" and row["who"] == "victim, attacker"


def test_cookie_max_age_and_redis_ttl_are_explained_as_two_timeouts():
    anatomy = {
        "credentials": [{"server": "session", "cookies": [
            {"name": "sid", "attributes": ["Path=/", "Max-Age=43200", "HttpOnly"]}]}],
        "footprints": [{"server": "session", "keys": [
            {"type": "string", "ttl_s": 1800}, {"type": "zset", "ttl_s": 43200}]}],
    }  # fmt: skip
    [sentence] = session_lifetimes(anatomy)
    assert "lives 12 h (Max-Age) but its Redis key 30 min (TTL)" in sentence
    assert "SESSION_IDLE_TIMEOUT" in sentence and "SESSION_ABSOLUTE_TIMEOUT" in sentence


def test_the_distance_itself_is_measured_where_nothing_else_runs():
    near = {"distance_ms": 0.0, "store_rtt_samples_us": [100.0 + i % 7 for i in range(50)]}
    far = {"distance_ms": 1.0, "store_rtt_samples_us": [1100.0 + i % 9 for i in range(50)]}
    ping = ping_effect([near, far])
    assert ping is not None and ping["distinguishable"] and 990 < ping["difference"] < 1010
    said = distance_verdict({"distance": {"effects": [], "ping_effect": ping}})
    assert said == [], "no server effects: the section has nothing to compare"
    rows = [trial("jwt", "stateless", ms, 0.1, 5, 0) for _ in range(3) for ms in (0.0, 1.0)]
    said = distance_verdict({"distance": {**distance_of(rows)["distance"], "ping_effect": ping}})
    assert "The distance itself" in said[1] and ": held." in said[1]


def window(binding: str, worked: float | None, refused: float | None, victim="in") -> dict:
    server = "jwt" if binding == "dpop" else "session"
    return {"configuration": f"{server} + {binding}", "server": server, "binding": binding,
            "worked_s": worked, "refused_after_s": refused, "watched_s": refused or 5.0,
            "victim": victim, "cookie_ttl": 2.0, "tries": 30, "refusal": None}  # fmt: skip


@pytest.mark.parametrize(
    ("row", "held"),
    [
        (window("dpop", None, 0.01), True),
        (window("dpop", 0.5, 0.6), False),  # a copy without the key got in: not bound
        (window("dbsc", 2.4, 2.5), True),
        (window("dbsc", 0.4, 0.5), False),  # refused before its short cookie expired
        (window("dbsc", None, None), False),  # never refused within the watch
        (window("dbsc", 2.4, 2.5, victim="out"), False),  # the victim lost the session too
    ],
)
def test_binding_verdict_holds_only_when_the_copy_died_as_expected(row: dict, held: bool):
    [sentence] = binding_verdict({"binding": {"windows": [row]}})
    assert sentence.endswith(": held.") == held, sentence
    assert ("contradicted; likely cause" in sentence) != held


def cost(binding: str, server: str, auth: list[float], trips: float) -> dict:
    return {"configuration": f"{server} {binding}", "server": server, "binding": binding,
            "requests": len(auth), "store_round_trips": trips, "auth_p50_ms": sorted(auth)[1],
            "samples": {"auth_ms": auth, "wall_ms": [a + 1 for a in auth]}}  # fmt: skip


def test_binding_verdict_wants_dpop_dearer_and_dbsc_the_same():
    dearer = [cost("none", "jwt", [0.2, 0.21, 0.22], 0), cost("dpop", "jwt", [0.9, 1.0, 1.1], 1)]
    assert binding_verdict({"binding": {"costs": dearer}})[-1].endswith(": held.")
    cheaper = [cost("none", "jwt", [0.9, 1.0, 1.1], 0), cost("dpop", "jwt", [0.2, 0.21, 0.2], 1)]
    assert "contradicted" in binding_verdict({"binding": {"costs": cheaper}})[-1]
    same = [cost("none", "session", [0.3, 0.31, 0.32], 1),
            cost("dbsc", "session", [0.3, 0.32, 0.31], 1)]  # fmt: skip
    assert binding_verdict({"binding": {"costs": same}})[-1].endswith(": held.")
