"""The report's page comes from a template and row builders: escaped, and only what was measured."""

from __future__ import annotations

import re

from lab.report.html import fault_rows, render_html
from lab.report.ranking import aggregate, compare
from lab.report.text import BUILDERS as SENTENCES
from lab.report.text import default_access_ttl, default_leeway, lifetime

RUN = {
    "generated": "2026-12-01T08:00:00+00:00",
    "scale": "quick",
    "replicas": 2,
    "access_ttl": 5,
    "cpus": 2,
    "python": "3.11",
    "commit": "abc1234",
    "duration_s": 3.0,
}


def test_page_escapes_what_it_shows_and_skips_what_was_not_run():
    results = {
        "errors": [{"experiment": "scaling", "error": "<boom>", "traceback": "Trace <x>"}],
        "failures": [{"fault": "redis", "phases": [{"phase": "during", "errors": 7}]}],
    }
    summary = {"run": RUN, "mechanisms": ["a <script>"], "headline": {"k": "<&>"}}
    page = render_html(results, summary, {"fault_redis": "data:image/png;base64,AAAA"})
    assert "<script>" not in page and "a &lt;script&gt;" in page
    assert "scaling failed:</b> &lt;boom&gt;" in page
    assert "6. Failures" in page and '<img src="data:image/png;base64,AAAA"' in page
    assert "<td>during</td><td>7</td>" in page
    assert "1. Anatomy" not in page and "7. Scaling" not in page
    assert "commit abc1234" in page


def test_fault_rows_name_their_fault():
    failures = [{"fault": "replica", "phases": [{"phase": "before"}, {"phase": "after"}]}]
    assert fault_rows(failures) == [
        {"fault": "replica", "phase": "before"},
        {"fault": "replica", "phase": "after"},
    ]


# --- The report teaches: questions and readings built from the run's numbers ------------------

SUMMARY = {"run": RUN, "mechanisms": [], "headline": {"k": 1}}


def window(config, server, mode, action="logout", *, seconds=0.0, revoked=True, message=None,
           still_valid=False, worked=2):  # fmt: skip
    """One measured window, shaped as revocation.measure_window returns it."""
    return {
        "config": config, "server": server, "mode": mode, "action": action,
        "acted_on": f"{server}-1", "api_revoked": revoked, "api_valid_until": None,
        "api_message": message, "observe_s": 6.0 if still_valid else 3.0,
        "replicas": [{"replica": f"{server}-{i}"} for i in (1, 2)],
        "replicas_where_copy_worked": worked, "window_s": seconds, "still_valid": still_valid,
    }  # fmt: skip


def cost(config, server, trips, p95):
    return {"config": config, "server": server, "store_round_trips": trips, "auth_ms": 0.1,
            "p50_ms": p95 / 2, "p95_ms": p95, "requests": 100, "errors": 0}  # fmt: skip


#: A revocation section as a quick run leaves it: the API's own words where it could not revoke.
STATELESS_SAYS = "Stateless tokens cannot be revoked: a copy keeps working until it expires."
MEMORY_SAYS = "Ended 0 session(s) held by this replica only: the memory store is per process."
REVOCATION = {
    "windows": [
        window("session+redis", "session", "redis"),
        window("session+memory (sticky)", "session", "memory", worked=1),
        window("session+memory (sticky)", "session", "memory", "revoke", revoked=False,
               message=MEMORY_SAYS, still_valid=True, worked=1),
        window("jwt stateless", "jwt", "stateless", seconds=1.93, revoked=False,
               message=STATELESS_SAYS),
        window("session+cached", "session", "cached"),
        window("jwt push", "jwt", "push"),
    ],
    "costs": [
        cost("session+redis", "session", 1, 8.0),
        cost("session+memory (sticky)", "session", 0, 6.0),
        cost("jwt stateless", "jwt", 0, 7.0),
        cost("session+cached", "session", 0, 7.5),
        cost("jwt push", "jwt", 0, 8.5),
    ],
}  # fmt: skip
SCALE = {"name": "quick", "replicas": 2, "access_ttl": 2, "jwt_leeway": 1.0}


def page(results):
    return render_html({"errors": [], **results}, SUMMARY, {})


def test_every_sentence_builder_says_nothing_without_results():
    for name, build in SENTENCES.items():
        assert build({}) == [], name
        assert build({"revocation": None, "scaling": None, "anatomy": None}) == [], name


def test_a_builder_does_not_crash_on_missing_or_none_values():
    broken = {
        "revocation": {"windows": [{"config": None, "action": "logout", "still_valid": None,
                                    "window_s": None, "replicas": None}], "costs": [{}]},
        "scaling": [{"replicas": 1, "server": "jwt", "rps": None}],
        "memory_store": [{"setup": "memory + roundrobin", "replica_count": None}],
        "failures": [{"fault": "redis", "phases": None}],
    }  # fmt: skip
    for name, build in SENTENCES.items():
        assert isinstance(build(broken), list), name


def test_the_stateless_window_is_also_said_at_the_default_lifetime():
    html = page({"revocation": REVOCATION, "scale": SCALE})
    assert "how long does a stolen copy of the cookie keep working" in html
    full = default_access_ttl("stateless") + default_leeway()
    assert (
        "The jwt stateless copy kept working 1.9 s after logout on every replica: its 2-second "
        "quick-scale token (plus 1 s leeway) lived on. At the default "
        f"{default_access_ttl('stateless')}-second ACCESS_TOKEN_TTL"
    ) in html
    assert f"that is up to {lifetime(full)}." in html


def test_revoked_false_rows_show_the_apis_message():
    html = page({"revocation": REVOCATION, "scale": SCALE})
    rows = re.findall(r"<tr>(.*?)</tr>", html)
    stateless = next(r for r in rows if "<td>jwt stateless</td><td>logout</td>" in r)
    assert "<td>False</td>" in stateless and "Stateless tokens cannot be revoked" in stateless
    sticky = next(r for r in rows if "<td>session+memory (sticky)</td><td>revoke</td>" in r)
    assert "the memory store is per process" in sticky
    redis = next(r for r in rows if "<td>session+redis</td><td>logout</td>" in r)
    assert "cannot be revoked" not in redis and "per process" not in redis


def test_push_and_cached_are_in_the_windows_table_and_the_tradeoff():
    html = page({"revocation": REVOCATION, "scale": SCALE})
    assert "<td>jwt push</td><td>logout</td>" in html
    assert "<td>session+cached</td><td>logout</td>" in html
    assert "jwt push (0 round trip(s), p95 8.5 ms)" in html
    assert "session+memory (sticky) (0 round trip(s), p95 6.0 ms; but not after revoke)" in html


def test_no_json_dump_but_a_link_to_summary_json():
    html = page({"revocation": REVOCATION, "scale": SCALE})
    assert "<pre>" not in html
    assert '<a href="summary.json">summary.json</a>' in html


def test_a_section_without_results_says_nothing():
    html = page({"revocation": REVOCATION})
    assert "1. Anatomy" not in html and "What does a login leave" not in html
    assert "7. Scaling" not in html and "not distinguishable" not in html


def trials(server, replicas, *rps):
    return [{"replicas": replicas, "server": server, "mode": "m", "rps": r, "p50_ms": 1.0,
             "p95_ms": 2.0, "errors": 0, "generator_cpu": 0.1, "trial": i}
            for i, r in enumerate(rps, 1)]  # fmt: skip


def test_scaling_ranks_only_what_the_trials_separate():
    apart = aggregate(trials("session", 1, 400, 410, 405) + trials("jwt", 1, 600, 590, 610))
    assert compare(*apart).distinguishable
    assert compare(*apart).ahead["server"] == "jwt"
    overlap = aggregate(trials("session", 1, 400, 700, 500) + trials("jwt", 1, 600, 450, 650))
    assert not compare(*overlap).distinguishable
    # Separated, but by less than one of them varied: not a ranking either.
    close = aggregate(trials("session", 1, 400, 500, 450) + trials("jwt", 1, 520, 530, 525))
    assert not compare(*close).distinguishable


def test_the_scaling_section_says_plainly_when_it_cannot_rank():
    rows = aggregate(trials("session", 1, 400, 700, 500) + trials("jwt", 1, 600, 450, 650))
    html = page({"scaling": rows})
    assert "not distinguishable at this scale" in html
    assert "jwt with 1 replica(s) 600 requests/s (trials 450-650)" in html
    apart = aggregate(trials("session", 1, 400, 410, 405) + trials("jwt", 1, 600, 590, 610))
    html = page({"scaling": apart})
    assert "not distinguishable" not in html
    assert "ahead by 195 requests/s" in html


def test_lifetimes_read_like_a_person_would_say_them():
    assert lifetime(905) == "15 min 5 s"
    assert lifetime(43200) == "12 h"
    assert lifetime(3) == "3 s"
    assert lifetime(None) == "an unknown time"


def test_summary_json_holds_the_sentences_the_page_prints():
    from markupsafe import escape

    from lab.experiments import QUICK
    from lab.report.command import build_summary

    results = {"errors": [], "revocation": REVOCATION, "scale": SCALE}
    summary = build_summary(results, QUICK, 1.0)
    reading = summary["sections"]["revocation_reading"]
    assert reading and summary["sections"]["scaling_reading"] == []
    html = render_html(results, {**summary, "run": RUN}, {})
    assert all(escape(sentence) in html for sentence in reading)


def test_the_stolen_cookie_table_shows_why_the_api_could_not_revoke():
    from lab.report.html import stolen_rows

    def timeline(mode, api):
        return {"server": "jwt", "mode": mode, "action": "logout", "attacker_window_s": 1.0,
                "attacker_refused_from_s": 1.1, "api": api}  # fmt: skip

    said = {"revoked": False, "valid_until": "later", "message": STATELESS_SAYS}
    (row,) = stolen_rows([timeline("stateless", said)])
    assert row["API: message (when not revoked)"] == STATELESS_SAYS
    (row,) = stolen_rows([timeline("denylist", {"revoked": True, "message": "Gone."})])
    assert row["API: message (when not revoked)"] == ""
