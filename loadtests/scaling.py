"""scaling: the browse mix under a step shape, for throughput and latency curves.

The shape holds each user count for `--stage-seconds`, stepping through `--stage-users`, and stops
after the last stage. Users pause `--think-time` (default 0: each user is a closed loop that sends
its next request as soon as the previous one answers, so throughput saturates and latency
climbs). The lab runs it at 1, 2 and 3 replicas; the per-stage numbers are in the
`*_stats_history.csv` file (`--csv-full-history`). `-u` and `-r` are ignored: the shape decides.

Usage:
    python -m lab loadtest scaling --server jwt --replicas 3
    locust -f loadtests/scaling.py --headless --host <lab url> \\
        --stage-users 5,10,20,40 --stage-seconds 20
"""

from __future__ import annotations

from locust import LoadTestShape, events

from loadtests.common import BrowsingUser

#: User counts of the stages, in order, when `--stage-users` is not given.
DEFAULT_STAGE_USERS = "5,10,20,40"


@events.init_command_line_parser.add_listener
def add_scaling_arguments(parser) -> None:
    """The step shape's knobs."""
    parser.add_argument(
        "--stage-users",
        env_var="AUTHLAB_STAGE_USERS",
        default=DEFAULT_STAGE_USERS,
        help="Comma-separated user counts, one stage each.",
    )
    parser.add_argument(
        "--stage-seconds",
        env_var="AUTHLAB_STAGE_SECONDS",
        type=float,
        default=20.0,
        help="How long each stage lasts, in seconds.",
    )


def stages_from(users: str, seconds: float) -> list[dict[str, float]]:
    """'5,10' and 20 -> [{"duration": 20, "users": 5, ...}, {"duration": 40, "users": 10, ...}].

    `duration` is the run time at which a stage ends (Locust's own example uses the same form);
    each step is spawned within about one second.
    """
    counts = [int(u) for u in users.split(",") if u.strip()]
    return [
        {"duration": seconds * (i + 1), "users": n, "spawn_rate": max(n, 1)}
        for i, n in enumerate(counts)
    ]


class ScalingUser(BrowsingUser):
    """The browse mix with no think time (closed loop) unless `--think-time` says otherwise."""

    think_time = (0.0, 0.0)


class StepShape(LoadTestShape):
    """Hold each user count of `--stage-users` for `--stage-seconds`, then stop."""

    stages: list[dict[str, float]] | None = None

    def tick(self) -> tuple[int, float] | None:
        """(users, spawn rate) for the current run time, or None to end the test."""
        if self.stages is None:
            options = self.runner.environment.parsed_options
            self.stages = stages_from(options.stage_users, options.stage_seconds)
        run_time = self.get_run_time()
        for stage in self.stages:
            if run_time < stage["duration"]:
                return int(stage["users"]), stage["spawn_rate"]
        return None
