"""Bound credentials (report section 10, notebook 09): what we expected, what this run showed.

Every builder takes the results dict, whose "binding" entry holds window rows (the stolen copy:
bound ones left alone, `binding_study.copy_windows`; unbound ones from section 3's timelines or,
in the notebook, left alone too) and cost rows (`binding_study.request_costs`, with their
samples). The expectations are static, each with its reason; whether each held is read from the
rows, and a contradiction names the cause it can check.
"""

from __future__ import annotations

from typing import Any

from servers.core.config import default_of

from ..engine.configuration import default_dbsc_cookie_ttl, lifetime
from ..experiments.stats import METHOD, median_difference, say_difference
from .text_common import Results, Sentences, quiet

#: Milliseconds within which a DBSC session's auth check is "about the same" as an unbound
#: one's: a cookie signature and a hash weigh about that here, a store round trip more.
SAME_CHECK_MS = 0.25
#: Seconds a refusal may come after the moment it was due: the attacker's tries are 0.1 s apart
#: (1 s on the console), and a busy machine delays them.
LATE = 1.5


def _binding(results: Results) -> dict[str, Any]:
    return results.get("binding") or {}


# --- the stolen copy ---------------------------------------------------------------------------


def _happened(row: dict[str, Any]) -> str:
    """What the copy did, from its answers."""
    worked, refused = row["worked_s"], row["refused_after_s"]
    if refused is None:
        text = (
            f"the copy was still let in {row['watched_s']:.1f} s after the theft, when we stopped"
        )
    elif worked is None:
        text = "the copy was refused from its first try"
    else:
        text = (
            f"the copy worked until {worked:.1f} s after the theft and was refused from "
            f"{refused:.1f} s"
        )
    if row.get("acted_s") is not None:
        revoked = row.get("api_revoked")
        text += (
            f"; the victim's {row['action']} came at {row['acted_s']:.1f} s (revoked: {revoked})"
        )
    elif row["binding"] != "none":
        text += "; nobody acted"
    if row.get("victim") == "in":
        text += "; the victim, holding the key, was still let in after the refusal"
    elif row.get("victim") == "out":
        text += "; the victim was refused too"
    return text


def _bound_expected(row: dict[str, Any]) -> tuple[str, bool, str]:
    """(expectation, whether it held, the likely cause if not) for a bound copy left alone."""
    worked, refused = row["worked_s"], row["refused_after_s"]
    victim_in = row.get("victim") == "in"
    if row["binding"] == "dpop":
        expected = (
            "expected a refusal from the first try (the copy carries no proof signed by the "
            "victim's key) and the victim still in"
        )
        if refused is None or worked is not None:
            return (
                expected,
                False,
                "the server let the copy in: check that it runs JWT_BINDING=dpop",
            )
        return expected, victim_in, "the victim's own requests were refused: see its proofs"
    ttl = row.get("cookie_ttl") or 0
    expected = (
        f"expected the copy to work for about DBSC_COOKIE_TTL ({ttl:g} s; the short cookie's "
        f"timestamp is in whole seconds, so up to {ttl + 1:g} s after it was signed), then a "
        "refusal, and the victim still in (renewing with its key)"
    )
    if refused is None:
        return expected, False, "the watch ended before the cookie's life: watch longer"
    if refused < ttl - 0.5:
        return expected, False, f"a refusal before the cookie expired: {row.get('refusal')}"
    if refused > ttl + 1 + LATE:
        return (
            expected,
            False,
            (
                f"the refusal came {refused - ttl - 1:.1f} s late: the attacker's tries were "
                f"delayed ({row['tries']} tries) on a busy machine"
            ),
        )
    return expected, victim_in, "the victim's renewal failed: see its refusal"


def _unbound_expected(row: dict[str, Any]) -> tuple[str, bool, str]:
    """(expectation, whether it held, the likely cause if not) for an unbound copy."""
    worked, refused, acted = row["worked_s"], row["refused_after_s"], row.get("acted_s")
    if acted is not None and row.get("api_revoked"):
        expected = "expected the copy to work until the action and a refusal from then on"
        held = refused is not None and refused >= acted - 0.05
        return expected, held, "a copy let in after revoked: true is a broken promise"
    if acted is not None:
        expected = "expected the copy to outlive the action (revoked: false) until its own expiry"
        return expected, worked is not None and worked > acted, "it died at the action"
    if row["server"] == "jwt":
        life = (row.get("access_ttl") or 0) + (row.get("leeway") or 0)
        expected = (
            f"expected a refusal once the token expired (its lifetime and leeway: {life:g} s "
            "after the login), and not before"
        )
        held = refused is not None and refused <= life + LATE and (worked or 0) < life + LATE
        return expected, held, "the watch ended first, or the tries were delayed"
    idle = lifetime(float(default_of("session_idle_timeout")))
    expected = (
        f"expected the copy still to work when we stopped (a session lives until its idle "
        f"timeout, {idle} by default, or a revocation)"
    )
    return expected, refused is None, f"a refusal nobody asked for: {row.get('refusal')}"


def _window_verdict(row: dict[str, Any]) -> str:
    if row["binding"] == "none":
        expected, held, cause = _unbound_expected(row)
    else:
        expected, held, cause = _bound_expected(row)
    outcome = "held" if held else f"contradicted; likely cause: {cause}"
    return f"{row['configuration']}: {_happened(row)}. We {expected}: {outcome}."


# --- the cost per request ----------------------------------------------------------------------


def _pairs(costs: list[dict[str, Any]]) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(unbound, bound) rows of the same server."""
    out = []
    for bound in (c for c in costs if c["binding"] != "none"):
        unbound = next(
            (c for c in costs if c["server"] == bound["server"] and c["binding"] == "none"), None
        )
        if unbound is not None:
            out.append((unbound, bound))
    return out


def _effect(unbound: dict[str, Any], bound: dict[str, Any], key: str) -> dict[str, Any]:
    return median_difference(unbound["samples"][key], bound["samples"][key])


def _cost_verdict(unbound: dict[str, Any], bound: dict[str, Any]) -> Sentences:
    auth = _effect(unbound, bound, "auth_ms")
    wall = _effect(unbound, bound, "wall_ms")
    trips = (unbound["store_round_trips"], bound["store_round_trips"])
    head = (
        f"{bound['configuration']} against {unbound['configuration']}, "
        f"{bound['requests']} requests each: the auth check changed by "
        f"{say_difference(auth, 'ms')}, store round trips per request {trips[0]:.2g} -> "
        f"{trips[1]:.2g}, the whole request by {say_difference(wall, 'ms')}"
    )
    if bound["binding"] == "dbsc":
        small = abs(auth["difference"] or 0) <= SAME_CHECK_MS
        held = (not auth["distinguishable"] or small) and abs(trips[1] - trips[0]) < 0.1
        expected = (
            f"expected about the same check, within {SAME_CHECK_MS:g} ms either way (the same "
            "one Redis read per request; only the cookie whose signature is checked differs, "
            "and the bound one carries the store key, so the session id is not hashed)"
        )
        cause = (
            "the two were measured in different phases on a machine shared with other work "
            "(compare the p90s)"
        )
    else:
        raised = auth["distinguishable"] and (auth["difference"] or 0) > 0
        held = raised and trips[0] == 0 and trips[1] >= 1
        expected = (
            "expected a dearer check (a proof's signature verified with the key it carries, "
            "and one round trip to the replay store, Redis by default: 0 -> 1)"
        )
        cause = (
            "the interval covers zero at this noise (more requests would tell)"
            if not auth["distinguishable"]
            else "the replay store is not Redis (DPOP_REPLAY_STORE), or noise between phases"
        )
    outcome = "held" if held else f"contradicted; likely cause: {cause}"
    return [f"{head}. We {expected}: {outcome}."]


def _renewal(costs: list[dict[str, Any]]) -> Sentences:
    out = []
    for row in costs:
        if row["binding"] == "dbsc" and row.get("renewal_p50_ms") is not None:
            out.append(
                f"{row['configuration']}: a renewal (a challenge, then an answer signed with the "
                f"key: two requests) took {row['renewal_p50_ms']:.2f} ms at the median (p90 "
                f"{row['renewal_p90_ms']:.2f} ms, {row['renewals']} renewals): one per "
                "DBSC_COOKIE_TTL per browser, not per request. The login with its key "
                f"registration took {row['login_ms']:.1f} ms (one login: a rough figure)."
            )
    return out


@quiet
def binding_verdict(results: Results) -> Sentences:
    """Each window against its expectation, then each binding's cost against its server's."""
    b = _binding(results)
    windows, costs = b.get("windows") or [], b.get("costs") or []
    if not windows and not costs:
        return []
    out = [_window_verdict(row) for row in windows]
    pairs = _pairs(costs)
    if pairs:
        out.append(f"Each cost difference is a {METHOD}, over single requests.")
    for unbound, bound in pairs:
        out += _cost_verdict(unbound, bound)
    return out + _renewal(costs)


# --- the report's section ----------------------------------------------------------------------


@quiet
def binding_question(results: Results) -> Sentences:
    """Section 10's question."""
    if not _binding(results):
        return []
    return [
        "Can a stolen copy be useless in the first place? Bound to a key the victim's browser "
        "never hands out (DBSC for sessions, DPoP for JWTs), how long does a copy of everything "
        "else work, with nobody acting, and what does the binding cost per request?"
    ]


@quiet
def binding_reading(results: Results) -> Sentences:
    """How to read the section, with the lifetimes this run used and the defaults."""
    b = _binding(results)
    windows = b.get("windows") or []
    out = []
    if any(w.get("acted_s") is not None for w in windows):
        out.append(
            "In the first plot the unbound rows are section 3's timelines: there the copy lived "
            "until the victim acted (the bar across the row) and, for a stateless token, on "
            "until its expiry. The bound rows had nobody act: the missing key alone decided."
        )
    for w in windows:
        if w["binding"] == "dbsc" and w.get("cookie_ttl"):
            default = default_dbsc_cookie_ttl()
            out.append(
                f"This run's DBSC cookie lived {w['cookie_ttl']:g} s, to keep the run short; at "
                f"the default DBSC_COOKIE_TTL ({lifetime(default)}) a copy of it works about "
                f"{lifetime(default)}, then dies whatever the thief does, while the victim's "
                "browser renews it with its key."
            )
    if b.get("costs"):
        out.append(
            "The second plot is one client asking GET /auth/me in a row, bound where the "
            "server binds: on the left the server's own auth check (Server-Timing, with its "
            "store round trips), on the right the whole request, the client's signature "
            "included. Bars are medians, whiskers p90s; the verdict below compares each "
            "binding with its server unbound."
        )
    return out
