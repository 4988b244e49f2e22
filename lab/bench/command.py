"""`python -m lab bench`: the command, its flags, and which mode prints what.

python -m lab bench            # one auth check, in process (lab/bench/checks.py says how)
python -m lab bench --quick    # 200 checks per case, a few seconds (the tests run this)
python -m lab bench --http     # whole requests under wrk (lab/bench/http.py)
python -m lab bench --memory   # Redis bytes per live session (lab/bench/memory.py)
python -m lab bench --profile  # where /auth/me spends its time (lab/bench_profile.py)
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence

from .checks import print_table, run


def add_http_flags(parser: argparse.ArgumentParser) -> None:
    """Flags of `--http` (whole requests under gunicorn, see lab/bench/http.py)."""
    http = parser.add_argument_group("whole requests (--http)")
    http.add_argument("--http", action="store_true", help="wrk on /auth/me of every contestant")
    http.add_argument("--rounds", type=int, default=3, help="interleaved rounds (default 3)")
    http.add_argument(
        "--duration", type=float, default=5.0, help="seconds per contestant per round (default 5)"
    )
    http.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2)")
    http.add_argument("--threads", type=int, default=4, help="threads per worker (default 4)")
    http.add_argument("--markdown", action="store_true", help="print a stamped Markdown table")
    parser.add_argument(
        "--profile", action="store_true", help="pyinstrument profile of /auth/me, in process"
    )
    memory = parser.add_argument_group("memory per session (--memory)")
    memory.add_argument("--memory", action="store_true", help="Redis bytes per live session")
    memory.add_argument(
        "--sessions", type=int, default=10_000, help="sessions per case (default 10000)"
    )


def run_http(args: argparse.Namespace, say: Callable[[str], None]) -> int:
    """`bench --http`: print the table, the JSON or the Markdown."""
    from . import http as bench_http
    from . import tables as bench_report

    try:
        report = bench_http.run(args.rounds, args.duration, args.workers, args.threads, say)
    except bench_http.BenchError as exc:
        print(f"lab bench: {exc}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(report, indent=2))
    elif args.markdown:
        print(bench_report.http_markdown(report, "python -m lab bench --http --markdown"))
    else:
        bench_report.print_http(report)
    return 0


def run_memory(args: argparse.Namespace, say: Callable[[str], None]) -> int:
    """`bench --memory`: bytes per session, as lines, JSON or Markdown."""
    from . import memory as bench_memory

    report = bench_memory.run(args.sessions, say)
    if args.json:
        print(json.dumps(report, indent=2))
    elif args.markdown:
        print(bench_memory.markdown(report, "python -m lab bench --memory --markdown"))
    else:
        print("\n".join(bench_memory.lines(report)))
    return 0


def run_profile(args: argparse.Namespace, say: Callable[[str], None]) -> int:
    """`bench --profile`: CPU per request and the profile of /auth/me, per server."""
    from . import profiling as bench_profile
    from .tables import stamp

    requests = args.calls or (300 if args.quick else 3000)
    results = bench_profile.run(requests, say)
    if args.json:
        print(json.dumps({"stamp": stamp(), "requests": requests, "results": results}, indent=2))
        return 0
    s = stamp()
    print(f"Printed by `python -m lab bench --profile` at commit {s['commit']}, {s['date']}, ")
    print(f"on {s['machine']}. {requests} requests per server, in process (no HTTP parsing).")
    for row in results:
        print(f"\n== {row['name']}: {row['cpu_us_per_request']:.0f} us CPU per /auth/me ==")
        print(row["profile"])
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `python -m lab bench`."""
    parser = argparse.ArgumentParser(
        prog="python -m lab bench", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--quick", action="store_true", help="200 checks per case (tests)")
    parser.add_argument("--calls", type=int, help="checks per case (default 2000)")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    add_http_flags(parser)
    args = parser.parse_args(list(sys.argv[1:] if argv is None else argv))
    calls = args.calls or (200 if args.quick else 2000)

    def say(message: str) -> None:
        quiet = args.json or args.markdown or args.profile
        print(message, file=sys.stderr if quiet else sys.stdout, flush=True)

    if args.http:
        return run_http(args, say)
    if args.memory:
        return run_memory(args, say)
    if args.profile:
        return run_profile(args, say)
    report = run(calls, say)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print_table(report)
    return 0
