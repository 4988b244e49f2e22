"""Locust scenarios for AuthLab: the same task mix against either server.

Each scenario is one locustfile (`browse.py`, `login_storm.py`, `revocation.py`, `scaling.py`);
the shared users, checks and command-line options live in `common.py`. Run them through
`python -m lab loadtest SCENARIO --server session|jwt`, or with the `locust` command from the
repository root (see the README, "Benchmarking").

Never import a module that imports locust into pytest or the lab: `import locust` patches the
standard library with gevent for the whole process, and Locust runs in its own process. The
modules without it (`answers.py`, `bound.py`, `phases.py`) are shared with the lab's own clients.
"""
