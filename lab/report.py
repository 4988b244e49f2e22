"""`python -m lab report [--quick]`: run the experiments, write one self-contained HTML report.

    python -m lab report --quick      # a minute or two: small sizes, short windows
    python -m lab report              # the full study, about six minutes: 3 replicas

The report starts its own lab in a temporary directory (your `.lab/` lab, if one runs, is left
alone), reconfigures it between experiments, stops it at the end, and writes
`reports/<timestamp>/index.html` (plots embedded as PNG, tables, and a summary of what each
mechanism did) and `summary.json` (the headline numbers). Every plot comes from this run.
"""

from __future__ import annotations

import argparse
import base64
import html
import io
import json
import os
import platform
import subprocess
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from matplotlib.figure import Figure

from .experiments import (
    CONFIGURATIONS,
    LabPool,
    Scale,
    bytes_per_session,
    credential_anatomy,
    distance,
    failover,
    fault_timeline,
    get_scale,
    memory_store_refusals,
    plots,
    refresh_token_theft,
    stolen_cookie_timeline,
    store_footprint,
    throughput_by_replicas,
)
from .experiments.display import html_table as table
from .experiments.revocation import measure_configuration
from .experiments.summary import headline, mechanism_summary
from .state import REPO_ROOT

#: Where reports go unless `--out` says otherwise.
DEFAULT_REPORTS_DIR = REPO_ROOT / "reports"


class Progress:
    """Progress lines with the time since the start: `[  12.3s] revocation: jwt stateless`."""

    def __init__(self, stream=None):
        self.started = time.perf_counter()
        self.stream = stream or sys.stdout

    def __call__(self, message: str) -> None:
        elapsed = time.perf_counter() - self.started
        print(f"[{elapsed:6.1f}s] {message}", file=self.stream, flush=True)


class Results:
    """What the experiments returned, gathered piece by piece; a failed piece is recorded
    (with its traceback) and the others still run."""

    def __init__(self, say: Callable[[str], None]):
        self.say = say
        self.parts: dict[str, list[Any]] = {}
        self.errors: list[dict[str, str]] = []

    def run(
        self, name: str, fn: Callable[[], Any], *, detail: str = "", many: bool = False
    ) -> None:
        """Run one piece of an experiment and keep what it returned under `name`."""
        label = f"{name} ({detail})" if detail else name
        started = time.perf_counter()
        try:
            value = fn()
        except Exception as exc:  # noqa: BLE001 (the report must say what failed, and go on)
            self.say(f"{label} FAILED: {type(exc).__name__}: {exc}")
            self.errors.append(
                {
                    "experiment": name,
                    "error": f"{type(exc).__name__}: {exc}",
                    "traceback": traceback.format_exc(),
                }
            )
            return
        self.parts.setdefault(name, []).extend(value if many else [value])
        self.say(f"{label}: {time.perf_counter() - started:.1f} s")

    def get(self, name: str) -> list[Any]:
        """Everything kept under `name`, in the order it came."""
        return self.parts.get(name, [])


def run_experiments(scale: Scale, say: Callable[[str], None]) -> dict[str, Any]:
    """Every experiment of the report, grouped by the lab configuration it needs, in the order
    that needs the fewest restarts (each phase changes one or two settings of the last)."""
    got = Results(say)
    configs = {c.name: c for c in CONFIGURATIONS}

    def revocation(lab, name: str) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        return measure_configuration(
            lab,
            configs[name],
            observe=None,
            max_observe=scale.max_watch,
            latency_seconds=scale.load_seconds,
            threads=scale.load_threads,
        )

    def memory_store(store: str, policy: str) -> list[dict[str, Any]]:
        return memory_store_refusals(pool, ((store, policy),), clients=4, probes=scale.probes)

    with LabPool(scale, log=say) as pool:
        say(f"scale {scale.name}: {scale.replicas} replicas, JWT access TTL {scale.access_ttl} s")
        # Phase 1: sessions in Redis, stateless JWT, round-robin (the defaults).
        lab = pool.get()
        for server in ("session", "jwt"):
            got.run("credential", lambda s=server: credential_anatomy(lab, s), detail=server)
            got.run("footprint", lambda s=server: store_footprint(lab, s), detail=server)
        got.run(
            "bytes", lambda: bytes_per_session(lab, "session", scale.sessions), detail="session"
        )
        for name in ("session+redis", "jwt stateless"):
            got.run("revocation", lambda n=name: revocation(lab, n), detail=name)
        for server in ("session", "jwt"):
            got.run("stolen_cookie", lambda s=server: stolen_cookie_timeline(lab, s), detail=server)
        got.run(
            "memory_store", lambda: memory_store("redis", "roundrobin"), detail="redis", many=True
        )
        # Phase 2: the JWT server with refresh tokens.
        lab = pool.get("jwt", jwt_mode="refresh")
        got.run("credential", lambda: credential_anatomy(lab, "jwt"), detail="jwt refresh")
        got.run("footprint", lambda: store_footprint(lab, "jwt"), detail="jwt refresh")
        got.run(
            "bytes", lambda: bytes_per_session(lab, "jwt", scale.sessions), detail="jwt refresh"
        )
        got.run("revocation", lambda: revocation(lab, "jwt refresh"), detail="jwt refresh")
        got.run("refresh_theft", lambda: refresh_token_theft(lab))
        # Phase 3: the JWT server with a denylist.
        lab = pool.get("jwt", jwt_mode="denylist")
        got.run("revocation", lambda: revocation(lab, "jwt denylist"), detail="jwt denylist")
        # Phase 4 and 5: sessions in each replica's memory, sticky then round-robin.
        lab = pool.get("session", session_store="memory", lb_policy="sticky")
        name = "session+memory (sticky)"
        got.run("revocation", lambda: revocation(lab, name), detail=name)
        for policy in ("sticky", "roundrobin"):
            got.run(
                "memory_store",
                lambda p=policy: memory_store("memory", p),
                detail=f"memory, {policy}",
                many=True,
            )
        # Phase 6: faults. Redis keeps its data across the stop (append-only file), as in
        # production, so the plot shows the outage, not a mass logout after it; and the JWTs
        # live the server's default lifetime, so none expires during a run.
        for fault in ("redis", "replica"):
            faulty = pool.get(redis_persist=True, access_ttl=None)
            got.run(
                "failures",
                detail=fault,
                fn=lambda f=fault, lab=faulty: fault_timeline(
                    lab,
                    f,
                    before=scale.fault_before,
                    duration=scale.fault_seconds,
                    after=scale.fault_after,
                ),
            )
        # Phase 7: throughput, from the most replicas to the fewest.
        got.run(
            "scaling",
            lambda: throughput_by_replicas(
                pool,
                tuple(sorted(scale.scaling_replicas, reverse=True)),
                seconds=scale.load_seconds,
                threads=scale.load_threads,
                access_ttl=None,
                redis_persist=True,
                progress=say,
            ),
            many=True,
        )
        # Phase 8 and 9: the store far away (latency proxy), then a store that fails over.
        got.run(
            "distance",
            lambda: distance.distance_sweep(
                pool,
                distance.QUICK_DISTANCES_MS if scale.name == "quick" else distance.DISTANCES_MS,
                seconds=scale.load_seconds,
                threads=scale.load_threads,
            ),
        )
        got.run("failover", lambda: failover.failover_study(pool))
        setup_seconds = pool.setup_seconds
    return assemble(got, setup_seconds)


def assemble(got: Results, setup_seconds: float) -> dict[str, Any]:
    """The pieces as the plots and the summary read them, in the lesson's order."""
    results: dict[str, Any] = {"errors": got.errors, "setup_seconds": setup_seconds}
    if got.get("credential") or got.get("bytes"):
        results["anatomy"] = {
            "credentials": got.get("credential"),
            "footprints": got.get("footprint"),
            "memory": got.get("bytes"),
        }
    if got.get("revocation"):
        order = {c.name: i for i, c in enumerate(CONFIGURATIONS)}
        measured = sorted(got.get("revocation"), key=lambda r: order[r[1]["config"]])
        results["revocation"] = {
            "windows": [w for windows, _ in measured for w in windows],
            "costs": [cost for _, cost in measured],
        }
    for name in ("stolen_cookie", "failures", "scaling"):
        if got.get(name):
            results[name] = got.get(name)
    if got.get("memory_store"):
        # Measured in pairs (the session server, then the JWT server as a control), in the
        # order of the restarts; shown in the lesson's order: the failure first.
        rows = got.get("memory_store")
        pairs = [rows[i : i + 2] for i in range(0, len(rows), 2)]
        lesson = [("memory", "roundrobin"), ("memory", "sticky"), ("redis", "roundrobin")]
        pairs.sort(key=lambda p: lesson.index((p[0]["store"], p[0]["policy"])))
        results["memory_store"] = [row for pair in pairs for row in pair]
    if got.get("refresh_theft"):
        results["refresh_theft"] = got.get("refresh_theft")[0]
    for name in ("distance", "failover"):
        if got.get(name):
            results[name] = got.get(name)[0]
    return results


def png(fig: Figure) -> str:
    """A figure as a base64 PNG data URI (the report is one file, no images beside it)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def figures(results: dict[str, Any]) -> dict[str, str]:
    """Every plot of the report, drawn from this run's results."""
    drawn: dict[str, Callable[[], Figure]] = {}
    if "anatomy" in results:
        drawn["credential_sizes"] = lambda: plots.credential_sizes(
            results["anatomy"]["credentials"]
        )
        drawn["session_memory"] = lambda: plots.session_memory(results["anatomy"]["memory"])
    if "revocation" in results:
        rev = results["revocation"]
        drawn["revocation_windows"] = lambda: plots.revocation_windows(rev["windows"])
        drawn["tradeoff"] = lambda: plots.tradeoff(rev["windows"], rev["costs"])
    if "stolen_cookie" in results:
        drawn["stolen_timeline"] = lambda: plots.stolen_timeline(results["stolen_cookie"])
    if "refresh_theft" in results:
        drawn["refresh_theft"] = lambda: plots.refresh_theft(results["refresh_theft"])
    if "memory_store" in results:
        drawn["memory_refusals"] = lambda: plots.memory_refusals(results["memory_store"])
    for result in results.get("failures", []):
        drawn[f"fault_{result['fault']}"] = lambda r=result: plots.fault(r)
    if "scaling" in results:
        drawn["scaling"] = lambda: plots.scaling(results["scaling"])
    if "distance" in results:
        drawn["distance"] = lambda: distance.plot(results["distance"])
    if "failover" in results:
        drawn["failover"] = lambda: failover.plot(results["failover"])
    return {name: png(make()) for name, make in drawn.items()}


# -- HTML ------------------------------------------------------------------------------------

CSS = """
body { font-family: system-ui, sans-serif; max-width: 1100px; margin: 2em auto; padding: 0 1em;
       color: #222; line-height: 1.45; }
h1 { margin-bottom: 0.2em; } h2 { border-bottom: 1px solid #ddd; padding-bottom: 0.2em;
       margin-top: 2em; }
table { border-collapse: collapse; margin: 0.8em 0; font-size: 0.9em; }
th, td { border: 1px solid #ddd; padding: 0.25em 0.6em; text-align: left; vertical-align: top; }
th { background: #f5f5f5; } img { max-width: 100%; }
.meta { color: #666; font-size: 0.9em; } .error { background: #fee; padding: 0.5em; }
code, pre { background: #f6f6f6; } pre { padding: 0.6em; overflow-x: auto; font-size: 0.85em; }
li { margin: 0.2em 0; }
"""


def _img(images: dict[str, str], name: str, alt: str) -> str:
    if name not in images:
        return ""
    return f'<p><img src="{images[name]}" alt="{html.escape(alt)}"></p>'


def _section(title: str, *parts: str) -> str:
    return f"<h2>{html.escape(title)}</h2>\n" + "\n".join(p for p in parts if p)


def _p(text: str) -> str:
    return f"<p>{text}</p>"


def render_html(results: dict[str, Any], summary: dict[str, Any], images: dict[str, str]) -> str:
    """The whole report as one HTML page."""
    meta = summary["run"]
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        "<title>AuthLab report</title>",
        f"<style>{CSS}</style></head><body>",
        "<h1>AuthLab report: sessions vs JWT, measured</h1>",
        f"<p class='meta'>{html.escape(meta['generated'])} &middot; scale "
        f"<b>{html.escape(meta['scale'])}</b> &middot; {meta['replicas']} replicas per server "
        f"&middot; JWT access TTL {meta['access_ttl']} s &middot; {meta['cpus']} CPUs &middot; "
        f"Python {html.escape(meta['python'])} &middot; commit {html.escape(meta['commit'])} "
        f"&middot; {meta['duration_s']:.0f} s</p>",
        "<p>Every number and plot below comes from this run, on this machine: the lab's "
        "replicas, HAProxy, Redis and the load generator share its cores, so latencies and "
        "throughput are this machine's, and only the comparisons carry over.</p>",
    ]
    for error in results.get("errors", []):
        parts.append(
            f"<div class='error'><b>{html.escape(error['experiment'])} failed:</b> "
            f"{html.escape(error['error'])}<pre>{html.escape(error['traceback'])}</pre></div>"
        )
    parts.append(
        _section(
            "What each mechanism did",
            "<ul>" + "".join(f"<li>{html.escape(s)}</li>" for s in summary["mechanisms"]) + "</ul>",
        )
    )
    if "anatomy" in results:
        a = results["anatomy"]
        rows = []
        for cred in a["credentials"]:
            for c in cred["cookies"]:
                rows.append(
                    {
                        "server": f"{cred['server']} ({cred['mode']})",
                        "cookie": c["name"],
                        "value bytes": c["value_bytes"],
                        "Set-Cookie bytes": c["set_cookie_bytes"],
                        "attributes": c["attributes"],
                    }
                )
        decoded = [
            {
                "cookie": f"{cred['server']} ({cred['mode']}) {c['name']}",
                "header": c["jwt"]["header"],
                "payload": c["jwt"]["payload"],
            }
            for cred in a["credentials"]
            for c in cred["cookies"]
            if "jwt" in c
        ]
        keys = [
            {
                "server": f"{f['server']} ({f['mode']})",
                "key": k["key"],
                "type": k["type"],
                "ttl s": k["ttl_s"],
                "MEMORY USAGE": k["memory_usage"],
            }
            for f in a["footprints"]
            for k in f["keys"]
        ]
        memory = [
            {
                "server": f"{m['server']} ({m['mode']})",
                "sessions": m["sessions"],
                "bytes/session (MEMORY USAGE)": m["bytes_per_session"],
                "by key prefix": m["bytes_per_session_by_prefix"],
                "used_memory rise/session": m["used_memory_per_session"],
                "GiB for 1M": m["projections"][0]["gib"],
                "GiB for 10M": m["projections"][1]["gib"],
            }
            for m in a["memory"]
        ]
        parts.append(
            _section(
                "1. Anatomy: the credential and what the server keeps",
                _p(
                    "The session cookie is an opaque random id with a signature: it says "
                    "nothing. The JWT carries the user, base64url-encoded and signed, <b>not "
                    "encrypted</b>: the table of decoded tokens below needed no key."
                ),
                _img(images, "credential_sizes", "credential sizes"),
                table(rows),
                "<h3>JWTs, decoded without any key</h3>",
                table(decoded),
                "<h3>Redis keys one login creates</h3>",
                table(keys),
                _img(images, "session_memory", "bytes per session"),
                table(memory),
                _p(
                    "MEMORY USAGE counts each key exactly; the rise of INFO's used_memory also "
                    "counts hash-table growth and buffers, so it is noisier at small sizes."
                ),
            )
        )
    if "revocation" in results:
        rev = results["revocation"]
        wrows = [
            {
                "configuration": w["config"],
                "action": w["action"],
                "window s": None if w["still_valid"] else w["window_s"],
                "still valid at end": w["still_valid"],
                "watched s": w["observe_s"],
                "copy worked on": f"{w['replicas_where_copy_worked']} of {len(w['replicas'])}",
                "handled by": w["acted_on"],
                "API: revoked": w["api_revoked"],
                "API: valid until": w["api_valid_until"],
            }
            for w in rev["windows"]
        ]
        crows = [
            {
                "configuration": c["config"],
                "store round trips/request": c["store_round_trips"],
                "auth check ms": c["auth_ms"],
                "p50 ms": c["p50_ms"],
                "p95 ms": c["p95_ms"],
                "requests": c["requests"],
                "errors": c["errors"],
            }
            for c in rev["costs"]
        ]
        parts.append(
            _section(
                "2. Logout and revocation: how long does a stolen copy keep working?",
                _p(
                    "For each configuration and action, a victim logs in, an attacker copies "
                    "the cookies, the victim (or an admin) acts, and the attacker asks every "
                    "replica directly until each refuses. The window is the time from the "
                    "action's answer to the last request a replica still let in."
                ),
                _img(images, "revocation_windows", "revocation windows"),
                table(wrows),
                _img(images, "tradeoff", "trade-off"),
                table(crows),
            )
        )
    if "stolen_cookie" in results:
        srows = [
            {
                "server": f"{t['server']} ({t['mode']})",
                "action": t["action"],
                "copy worked after it, s": t["attacker_window_s"],
                "refused from, s": t["attacker_refused_from_s"],
                "API said": {k: v for k, v in t["api"].items() if k in ("revoked", "valid_until")},
            }
            for t in results["stolen_cookie"]
        ]
        parts.append(
            _section(
                "3. The stolen cookie, as a timeline",
                _img(images, "stolen_timeline", "stolen cookie timeline"),
                table(srows),
            )
        )
    if "refresh_theft" in results:
        r = results["refresh_theft"]
        parts.append(
            _section(
                "4. A stolen refresh token: reuse detection",
                _img(images, "refresh_theft", "refresh token theft"),
                _p(
                    f"Reuse detected: <b>{r['reuse_detected']}</b>; family revoked: "
                    f"<b>{r['family_revoked']}</b>; both logged out: "
                    f"<b>{r['both_logged_out']}</b>."
                ),
                table(
                    [
                        {k: e.get(k) for k in ("t", "who", "event", "status", "error")}
                        for e in r["events"]
                        if e["event"] != "GET /auth/me" or e["status"] != 200
                    ]
                ),
            )
        )
    if "memory_store" in results:
        parts.append(
            _section(
                "5. Sessions in a replica's memory, behind a balancer",
                _img(images, "memory_refusals", "memory store refusals"),
                table(
                    results["memory_store"],
                    [
                        "setup",
                        "server",
                        "replica_count",
                        "requests",
                        "refused",
                        "failure_rate",
                        "replicas_seen",
                    ],
                ),
            )
        )
    if "failures" in results:
        parts.append(
            _section(
                "6. Failures: Redis stopped, a replica killed",
                *[_img(images, f"fault_{f['fault']}", f["fault"]) for f in results["failures"]],
                table(
                    [{"fault": f["fault"], **p} for f in results["failures"] for p in f["phases"]]
                ),
            )
        )
    if "scaling" in results:
        parts.append(
            _section(
                "7. Scaling: throughput and p95 by replica count",
                _img(images, "scaling", "scaling"),
                table(
                    results["scaling"],
                    [
                        "replicas",
                        "server",
                        "mode",
                        "rps",
                        "p50_ms",
                        "p95_ms",
                        "errors",
                        "generator_cpu",
                        "replicas",
                    ],
                ),
                _p(
                    "generator_cpu is the load generator's CPU time over wall time (1.0 = one "
                    "core): near 1, the generator, not the servers, sets the ceiling. For "
                    "benchmarks, use <code>python -m lab loadtest</code> (Locust)."
                ),
            )
        )
    parts += store_sections(results, images)
    parts.append(
        _section(
            "Headline numbers (summary.json)",
            f"<pre>{html.escape(json.dumps(summary['headline'], indent=2))}</pre>",
        )
    )
    parts.append("</body></html>")
    return "\n".join(parts)


def store_sections(results: dict[str, Any], images: dict[str, str]) -> list[str]:
    """Sections 8 and 9: how far away the store is, and what a failover undoes (issue 12)."""
    parts = []
    if "distance" in results:
        found = results["distance"]
        parts.append(
            _section(
                "8. How far away is your Redis?",
                _img(images, "distance", "latency and throughput against store distance"),
                table(distance.distance_table(found)),
                table(found["round_trips"]),
                _p(
                    f"Crossover: {html.escape(found['crossover']['note'])}. Shaded: where real "
                    "deployments sit (same zone 0.2-0.5 ms, across zones 0.5-1.5 ms; sources in "
                    "docs/distance-and-failover.md). Every point goes through the latency proxy; "
                    "its own cost is the 0 ms store round trip minus the direct one. Load "
                    f"average during the run: {found['load_average']} on this machine."
                ),
            )
        )
    if "failover" in results:
        parts.append(
            _section(
                "9. What does a failover undo?",
                _img(images, "failover", "failover outcomes"),
                table(failover.failover_table(results["failover"])),
                _p(
                    "The Redis primary is killed (SIGKILL) under login/logout load; Sentinel "
                    "promotes the replica. A revocation is lost when a logout answered "
                    "<code>revoked: true</code> and the credential works again afterwards. "
                    "With REVOCATION_DURABILITY=wait, <code>true</code> waits for a replica "
                    "(WAIT 1); without a replica the answer is <code>false</code>, with why."
                ),
            )
        )
    return parts


def _commit() -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=5,
        )
        return out.stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def build_summary(results: dict[str, Any], scale: Scale, duration: float) -> dict[str, Any]:
    """summary.json: the run, the headline numbers, the sentences, and what failed."""
    return {
        "run": {
            "generated": datetime.now(UTC).isoformat(timespec="seconds"),
            "scale": scale.name,
            "replicas": scale.replicas,
            "access_ttl": scale.access_ttl,
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "commit": _commit(),
            "duration_s": duration,
            "lab_setup_s": results.get("setup_seconds"),
        },
        "headline": headline(results),
        "store": {
            **distance.headline(results.get("distance")),
            **failover.headline(results.get("failover")),
        },
        "mechanisms": mechanism_summary(results),
        "errors": [{k: e[k] for k in ("experiment", "error")} for e in results.get("errors", [])],
    }


def write_report(results: dict[str, Any], scale: Scale, duration: float, out_dir: Path) -> Path:
    """Write index.html and summary.json into a new timestamped directory; return its path."""
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    target = out_dir / stamp
    n = 1
    while target.exists():
        n += 1
        target = out_dir / f"{stamp}-{n}"
    target.mkdir(parents=True)
    summary = build_summary(results, scale, duration)
    images = figures(results)
    (target / "index.html").write_text(render_html(results, summary, images))
    (target / "summary.json").write_text(json.dumps(summary, indent=2, default=str))
    return target


def build_parser() -> argparse.ArgumentParser:
    """`python -m lab report` flags."""
    parser = argparse.ArgumentParser(
        prog="python -m lab report",
        description="Run the experiments on a private lab and write reports/<timestamp>/.",
    )
    parser.add_argument(
        "--quick", action="store_true", help="small sizes and short windows (a minute or two)"
    )
    parser.add_argument("--scale", choices=("quick", "full"), help="same as --quick for 'quick'")
    parser.add_argument(
        "--out", type=Path, default=DEFAULT_REPORTS_DIR, help="parent directory (default reports/)"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the report; print the path of index.html. Exit 1 if an experiment failed."""
    args = build_parser().parse_args(argv)
    scale = get_scale("quick" if args.quick else (args.scale or "full"))
    say = Progress()
    say(f"AuthLab report, {scale.name} scale: starting a private lab")
    started = time.perf_counter()
    results = run_experiments(scale, say)
    duration = time.perf_counter() - started
    say("drawing the plots and writing the report")
    target = write_report(results, scale, duration, args.out)
    print(f"report: {target / 'index.html'}")
    print(f"summary: {target / 'summary.json'}")
    if results["errors"]:
        print(f"{len(results['errors'])} experiment(s) failed; see the report.", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
