"""`python -m lab loadtest SCENARIO --server session|jwt|both`: a Locust scenario on the lab.

    python -m lab loadtest browse --server session -u 20 -t 30s --replicas 2
    python -m lab loadtest browse --server both --trials 3 -u 20 -t 30s
    python -m lab loadtest revocation --server jwt --action logout -u 4 -t 30s
    python -m lab loadtest scaling --server jwt --replicas 3 --stage-users 5,10,20,40
    python -m lab loadtest scaling --server session --sweep-replicas 1,2,3

The runner brings the lab up as asked (or uses the running one, changing only what the flags
change), runs Locust headless in its own process (`import locust` patches the standard library
with gevent, so it never runs inside this one), prints progress while it runs, and writes
`results/<timestamp>-<scenario>-<server>/`:

    locust_stats.csv, locust_stats_history.csv, locust_failures.csv, locust_exceptions.csv
    report.html        Locust's HTML report
    locust.log         everything Locust printed
    lab.json           the lab's configuration and replicas (no secrets)
    revocation.jsonl   one line per trial and replica (revocation scenario)
    phases-<pid>.json  each Locust process's rows by phase (setup, ramp, steady)
    summary.json       the steady state's req/s and p50/p95/p99 (the headline), every row,
                       whether to trust it and why not, who saturated, HAProxy's rotation,
                       the revocation window (docs/benchmarking.md reads it line by line)

The package's modules, one job each: `cli` (flags, one run, dispatch), `locust_process`
(Locust's command line and process), `phases` (the rows, merged), `watch` (HAProxy and CPU
while it runs), `summary` (summary.json and its verdicts), `revocation`, `compare`
(`--server both`), `locust_csv`.
"""

from __future__ import annotations

from .command import main

__all__ = ["main"]
