"""The headline numbers of a set of results, and what each mechanism did, in sentences.

Shared by the report (summary.json, the report's first section) and the notebooks. Every
sentence is built from measured values: nothing here knows what the answer "should" be.
"""

from __future__ import annotations

from typing import Any


def _label(server: str, mode: str) -> str:
    return f"{server} ({mode})"


def headline(results: dict[str, Any]) -> dict[str, Any]:
    """The numbers worth quoting, keyed for people (summary.json's `headline`)."""
    out: dict[str, Any] = {}
    if "revocation" in results:
        windows = results["revocation"]["windows"]
        out["revocation"] = {}
        out["revocation_window_s"] = {}
        for w in windows:
            out["revocation"].setdefault(w["config"], {})[w["action"]] = {
                "window_s": round(w["window_s"], 3),
                "still_valid": w["still_valid"],
                "watched_s": round(w["observe_s"], 3),
                "copy_worked_on_replicas": w["replicas_where_copy_worked"],
                "api_revoked": w["api_revoked"],
            }
            out["revocation_window_s"].setdefault(w["config"], {})[w["action"]] = (
                None if w["still_valid"] else round(w["window_s"], 3)
            )
        costs = results["revocation"]["costs"]
        out["store_round_trips_per_request"] = {c["config"]: c["store_round_trips"] for c in costs}
        out["auth_check_ms"] = {c["config"]: _r(c["auth_ms"]) for c in costs}
        out["p95_ms"] = {c["config"]: _r(c["p95_ms"]) for c in costs}
    if "anatomy" in results:
        a = results["anatomy"]
        out["cookie_header_bytes"] = {
            _label(c["server"], c["mode"]): c["cookie_header_bytes"] for c in a["credentials"]
        }
        out["bytes_per_session"] = {
            _label(m["server"], m["mode"]): _r(m["bytes_per_session"]) for m in a["memory"]
        }
        out["ram_gib"] = {
            _label(m["server"], m["mode"]): {
                f"{p['sessions']:,}": _r(p["gib"]) for p in m["projections"]
            }
            for m in a["memory"]
        }
    if "stolen_cookie" in results:
        out["stolen_cookie_window_s"] = {
            _label(t["server"], t["mode"]): _r(t["attacker_window_s"])
            for t in results["stolen_cookie"]
        }
    if "refresh_theft" in results:
        r = results["refresh_theft"]
        out["refresh_theft"] = {
            k: r[k] for k in ("reuse_detected", "family_revoked", "both_logged_out")
        }
    if "memory_store" in results:
        out["refused_share"] = {
            row["setup"]: _r(row["failure_rate"]) for row in results["memory_store"]
        }
    if "failures" in results:
        out["error_rate"] = {
            f["fault"]: {
                p["server"]: {
                    q["phase"]: _r(q["error_rate"])
                    for q in f["phases"]
                    if q["server"] == p["server"]
                }
                for p in f["phases"]
            }
            for f in results["failures"]
        }
    if "binding" in results:
        out["binding"] = binding_headline(results["binding"])
    if "scaling" in results:
        out["scaling"] = scaling_headline(results["scaling"])
    return out


def scaling_headline(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Per server and replica count: throughput, p95 and the load generator's CPU."""
    out: dict[str, Any] = {}
    for row in rows:
        out.setdefault(row["server"], {})[str(row["replicas"])] = {
            "rps": _r(row["rps"]),
            "p95_ms": _r(row["p95_ms"]),
            "generator_cpu": _r(row["generator_cpu"]),
        }
    return out


def binding_headline(binding: dict[str, Any]) -> dict[str, Any]:
    """Per configuration: how long a stolen copy worked and when it was refused (after the
    theft), whether the victim was in after that, and what a request cost."""
    windows, costs = binding.get("windows") or [], binding.get("costs") or []
    return {
        "copy_worked_s": {w["configuration"]: _r(w["worked_s"]) for w in windows},
        "copy_refused_after_s": {w["configuration"]: _r(w["refused_after_s"]) for w in windows},
        "victim_after_refusal": {
            w["configuration"]: w["victim"] for w in windows if w["binding"] != "none"
        },
        "auth_p50_ms": {c["configuration"]: _r(c["auth_p50_ms"]) for c in costs},
        "wall_p50_ms": {c["configuration"]: _r(c["wall_p50_ms"]) for c in costs},
        "store_round_trips_per_request": {
            c["configuration"]: _r(c["store_round_trips"]) for c in costs
        },
        "dbsc_renewal_p50_ms": {
            c["configuration"]: _r(c["renewal_p50_ms"]) for c in costs if c["binding"] == "dbsc"
        },
    }


def _r(value: float | None, digits: int = 3) -> float | None:
    return None if value is None else round(value, digits)


def _join(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def revocation_sentence(config: str, windows: list[dict], cost: dict | None) -> str:
    """What one configuration did with a stolen copy, from its measured windows."""
    at_once = [w["action"] for w in windows if not w["still_valid"] and w["window_s"] == 0]
    later = [w for w in windows if not w["still_valid"] and w["window_s"] > 0]
    never = [w for w in windows if w["still_valid"]]
    parts = []
    worked = max((w.get("replicas_where_copy_worked", 0) for w in windows), default=0)
    total = max((len(w.get("replicas", [])) for w in windows), default=0)
    if at_once and 0 < worked < total:
        parts.append(
            f"the copy only ever worked on the replica holding the session ({worked} of "
            f"{total}); after {_join(at_once)} it was refused there at once"
        )
    elif at_once:
        parts.append(f"after {_join(at_once)} the copy was refused at once on every replica")
    for w in later:
        parts.append(f"after {w['action']} it kept working {w['window_s']:.1f} s")
    for w in never:
        where = f" (handled by {w['acted_on']})" if w["config"].startswith("session+memory") else ""
        parts.append(
            f"after {w['action']}{where} it still worked when we stopped watching "
            f"{w['observe_s']:.1f} s later"
        )
    sentence = f"{config}: " + "; ".join(parts) + "."
    if cost:
        trips = cost["store_round_trips"] or 0
        # A cache misses now and then: 0.0065 trips reads as "about one in 150 requests".
        said = f"{trips:g}" if trips == round(trips) else f"{trips:.2g}"
        sentence += (
            f" An authenticated request cost {said} store round "
            f"trip(s), p95 {cost['p95_ms'] or 0:.1f} ms here."
        )
    return sentence


def mechanism_summary(results: dict[str, Any]) -> list[str]:
    """Sentences, one per finding, for the top of the report."""
    out: list[str] = []
    if "revocation" in results:
        windows = results["revocation"]["windows"]
        costs = {c["config"]: c for c in results["revocation"]["costs"]}
        for config in dict.fromkeys(w["config"] for w in windows):
            mine = [w for w in windows if w["config"] == config]
            out.append(revocation_sentence(config, mine, costs.get(config)))
    if "anatomy" in results:
        for m in results["anatomy"]["memory"]:
            gib = ", ".join(f"{p['gib']:.2f} GiB for {p['sessions']:,}" for p in m["projections"])
            one = next(
                (f["bytes"] for f in results["anatomy"].get("footprints", [])
                 if (f["server"], f["mode"]) == (m["server"], m["mode"])),
                None,
            )  # fmt: skip
            first = f"; the key table's single login: {one} bytes" if one is not None else ""
            out.append(
                f"{_label(m['server'], m['mode'])} keeps {m['bytes_per_session']:.0f} bytes of "
                f"Redis per login (MEMORY USAGE, the mean over {m['sessions']} logins, "
                f"{m.get('sessions_per_user', 1)} per user{first}): {gib}."
            )
        for c in results["anatomy"]["credentials"]:
            out.append(
                f"{_label(c['server'], c['mode'])}: the browser sends "
                f"{c['cookie_header_bytes']} bytes of Cookie header with every request."
            )
    if "refresh_theft" in results:
        r = results["refresh_theft"]
        out.append(
            "jwt (refresh): a stolen refresh token presented after the victim's rotation was "
            + ("refused as reuse" if r["reuse_detected"] else "ACCEPTED")
            + "; the family was "
            + ("revoked" if r["family_revoked"] else "NOT revoked")
            + "; victim and attacker were "
            + ("both logged out" if r["both_logged_out"] else "NOT both logged out")
            + f" once their {r['access_ttl_s']} s access tokens expired."
        )
    binding = results.get("binding") or {}
    out += [
        binding_sentence(w, binding.get("costs") or [])
        for w in binding.get("windows") or []
        if w["binding"] != "none"
    ]
    if "memory_store" in results:
        rates = ", ".join(
            f"{row['setup']} {100 * (row['failure_rate'] or 0):.0f}%"
            for row in results["memory_store"]
        )
        out.append(f"Requests of a logged-in client refused behind the balancer: {rates}.")
    for f in results.get("failures", []):
        during = {p["server"]: p for p in f["phases"] if p["phase"] == "during"}
        after = {p["server"]: p for p in f["phases"] if p["phase"] == "after"}
        rates = "; ".join(
            f"{s} {100 * (during[s]['error_rate'] or 0):.0f}% errors during, "
            f"{100 * (after[s]['error_rate'] or 0):.0f}% after"
            for s in f["servers"]
            if s in during and s in after
        )
        what = {"redis": "Redis stopped", "replica": "one replica of each server killed"}
        out.append(f"{what.get(f['fault'], f['fault'])}: {rates}.")
    return out


def binding_sentence(window: dict[str, Any], costs: list[dict[str, Any]]) -> str:
    """What a bound configuration did with a stolen copy nobody revoked, and its price."""
    if window["refused_after_s"] is None:
        copy = f"a stolen copy still worked {window['watched_s']:.1f} s after the theft"
    elif window["worked_s"] is None:
        copy = "a stolen copy (everything but the key) was refused from its first try"
    else:
        copy = (
            f"a stolen copy (everything but the key) worked {window['worked_s']:.1f} s with "
            "nobody acting, then was refused"
        )
    victim = {"in": "the victim stayed in", "out": "the victim was refused too"}.get(
        window.get("victim") or "", "the victim was not checked"
    )
    cost = next((c for c in costs if c["configuration"] == window["configuration"]), None)
    plain = next(
        (c for c in costs if c["server"] == window["server"] and c["binding"] == "none"), None
    )
    price = ""
    if cost and plain:
        price = (
            f" Its auth check took {cost['auth_p50_ms']:.3f} ms at the median with "
            f"{cost['store_round_trips']:.2g} store round trip(s) ({plain['configuration']}: "
            f"{plain['auth_p50_ms']:.3f} ms, {plain['store_round_trips']:.2g})."
        )
    return f"{window['configuration']}: {copy}; {victim}.{price}"
