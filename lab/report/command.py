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
import io
import json
import os
import platform
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

from matplotlib.figure import Figure

from ..engine.stamp import git
from ..engine.state import REPO_ROOT
from ..experiments import (
    LabPool,
    Scale,
    binding_plots,
    binding_study,
    distance,
    failover,
    get_scale,
    plots,
)
from ..experiments.revocation import ALL_CONFIGURATIONS
from ..experiments.summary import headline, mechanism_summary
from .html import render_html
from .phases import PHASES, Run
from .ranking import aggregate
from .text import BUILDERS as SENTENCES

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


#: The memory-store setups as the report shows them: the failure first, then its two cures.
MEMORY_STORE_LESSON = (("memory", "roundrobin"), ("memory", "sticky"), ("redis", "roundrobin"))


def run_experiments(scale: Scale, say: Callable[[str], None]) -> dict[str, Any]:
    """Every phase of `PHASES` in turn; a failed step is recorded and the others still run."""
    got = Results(say)
    with LabPool(scale, log=say) as pool:
        say(f"scale {scale.name}: {scale.replicas} replicas, JWT access TTL {scale.access_ttl} s")
        for phase in PHASES:
            say(f"phase: {phase.title}")
            run = Run(pool.get(phase.server, **phase.changes), pool, scale)
            for step in phase.steps:
                got.run(step.part, partial(step.run, run), detail=step.detail, many=step.many)
        setup_seconds = pool.setup_seconds
    return assemble(got, setup_seconds, scale)


def memory_store_in_order(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Measured in pairs (the session server, then the JWT server as a control), in the order
    of the restarts; shown in the lesson's order: the failure first."""
    pairs = [rows[i : i + 2] for i in range(0, len(rows), 2)]
    pairs.sort(key=lambda p: MEMORY_STORE_LESSON.index((p[0]["store"], p[0]["policy"])))
    return [row for pair in pairs for row in pair]


def scale_facts(scale: Scale | None) -> dict[str, Any]:
    """What the sentences need of the scale: they state quick-scale windows at the default
    lifetimes too, so they must know the lifetimes this run used."""
    if scale is None:
        return {}
    return {
        "name": scale.name,
        "replicas": scale.replicas,
        "access_ttl": scale.access_ttl,
        "jwt_leeway": scale.jwt_leeway,
    }


def assemble(got: Results, setup_seconds: float, scale: Scale | None = None) -> dict[str, Any]:
    """The pieces as the plots and the summary read them, in the lesson's order."""
    results: dict[str, Any] = {
        "errors": got.errors,
        "setup_seconds": setup_seconds,
        "scale": scale_facts(scale),
    }
    if got.get("credential") or got.get("bytes"):
        results["anatomy"] = {
            "credentials": got.get("credential"),
            "footprints": got.get("footprint"),
            "memory": got.get("bytes"),
        }
    if got.get("revocation"):
        order = {c.name: i for i, c in enumerate(ALL_CONFIGURATIONS)}
        measured = sorted(got.get("revocation"), key=lambda r: order[r[1]["config"]])
        results["revocation"] = {
            "windows": [w for windows, _ in measured for w in windows],
            "costs": [cost for _, cost in measured],
        }
    for name in ("stolen_cookie", "failures"):
        if got.get(name):
            results[name] = got.get(name)
    if got.get("scaling"):
        # One row per point (the median of its trials, and their range); the trials kept too.
        results["scaling"] = aggregate(got.get("scaling"))
        results["scaling_trials"] = got.get("scaling")
    if got.get("memory_store"):
        results["memory_store"] = memory_store_in_order(got.get("memory_store"))
    # The experiments that return one result, not rows.
    results.update(
        {n: got.get(n)[0] for n in ("refresh_theft", "distance", "failover") if got.get(n)}
    )
    if got.get("binding_window") or got.get("binding_cost"):
        results["binding"] = bound_credentials(got)
    return results


def bound_credentials(got: Results) -> dict[str, Any]:
    """Section 10: section 3's unbound copies beside the bound ones, and each server's cost
    unbound then bound, in the lesson's order (session, then jwt)."""
    unbound = [binding_study.timeline_window(t) for t in got.get("stolen_cookie")]
    return {
        "windows": binding_study.in_lesson_order(unbound + got.get("binding_window")),
        "costs": binding_study.in_lesson_order(got.get("binding_cost")),
        "measured": dict(got.get("binding_measured")),
    }


def png(fig: Figure) -> str:
    """A figure as a base64 PNG data URI (the report is one file, no images beside it)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


#: The results drawn by one plot each: result key -> (image name, plot).
ONE_PLOT: dict[str, tuple[str, Callable[[Any], Figure]]] = {
    "stolen_cookie": ("stolen_timeline", plots.stolen_timeline),
    "refresh_theft": ("refresh_theft", plots.refresh_theft),
    "memory_store": ("memory_refusals", plots.memory_refusals),
    "scaling": ("scaling", plots.scaling),
    "distance": ("distance", distance.plot),
    "failover": ("failover", failover.plot),
}


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
    for result in results.get("failures", []):
        drawn[f"fault_{result['fault']}"] = lambda r=result: plots.fault(r)
    for key, (name, draw) in ONE_PLOT.items():
        if key in results:
            drawn[name] = lambda draw=draw, key=key: draw(results[key])
    for part in ("windows", "costs"):
        if results.get("binding", {}).get(part):
            draw = getattr(binding_plots, part)
            drawn[f"binding_{part}"] = lambda draw=draw, p=part: draw(results["binding"][p])
    return {name: png(make()) for name, make in drawn.items()}


def build_summary(results: dict[str, Any], scale: Scale, duration: float) -> dict[str, Any]:
    """summary.json: the run, the headline numbers, every sentence of the page, what failed."""
    return {
        "run": {
            "generated": datetime.now(UTC).isoformat(timespec="seconds"),
            "scale": scale.name,
            "replicas": scale.replicas,
            "access_ttl": scale.access_ttl,
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "commit": git("rev-parse", "--short", "HEAD") or "unknown",
            "duration_s": duration,
            "lab_setup_s": results.get("setup_seconds"),
        },
        "headline": headline(results),
        "store": {
            **distance.headline(results.get("distance")),
            **failover.headline(results.get("failover")),
        },
        "mechanisms": mechanism_summary(results),
        # Each section's question and reading, as the page prints them.
        "sections": {name: build(results) for name, build in SENTENCES.items()},
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
