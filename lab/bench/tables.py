"""How `python -m lab bench` results are printed: a stamp, a text table, a Markdown table.

Every measured table in the docs is pasted from `--markdown` output, never typed: the stamp
says which commit, when and on what machine it was measured.
"""

from __future__ import annotations

from typing import Any

from ..engine.stamp import cpu_model, git, stamp

__all__ = ["cpu_model", "git", "stamp"]


def span(figure: dict[str, float], digits: int = 2) -> str:
    """'median (min-max)'."""
    return f"{figure['median']:.{digits}f} ({figure['min']:.{digits}f}-{figure['max']:.{digits}f})"


#: How a row's kind shows in its label.
LABELS = {"reference": " [reference]", "limit": " [limit]"}


def http_rows(report: dict[str, Any]) -> list[list[str]]:
    """The cells of the --http table, one row per contestant."""
    rows = []
    for row in report["contestants"]:
        ratio = row["ratio_to_floor"]
        # Reports from before issue 21 have no limits: their rows show "-".
        limit = row.get("ratio_to_limit")
        label = row["name"] + LABELS.get(row["kind"], "")
        rows.append(
            [
                label,
                span(row["rps"], 0),
                span(ratio["rps"]),
                span(limit["rps"]) if limit else "-",
                f"{row['p50_ms']['median']:.2f}",
                f"{ratio['p50']['median']:.2f}",
                f"{row['p99_ms']['median']:.2f}",
                f"{ratio['p99']['median']:.2f}",
                f"{row['cpu_us']['median']:.0f}",
                span(ratio["cpu"]),
                span(limit["cpu"]) if limit else "-",
                str(row["errors"]),
            ]
        )
    return rows


HTTP_HEAD = [
    "contestant",
    "req/s median (range)",
    "x floor (range)",
    "x its limit (range)",
    "p50 ms",
    "p50 x floor",
    "p99 ms",
    "p99 x floor",
    "CPU us/req",
    "floor CPU / CPU",
    "limit CPU / CPU",
    "errors",
]


def target_lines(report: dict[str, Any]) -> list[str]:
    """'met' / 'NOT met' per target."""

    def verdict(met: bool) -> str:
        return "met" if met else "NOT met"

    return [
        f"{t['target']}: by req/s {t['measured']:.2f} (goal {t['goal']:.2f}) "
        f"{verdict(t['met'])}; by CPU {t['measured_by_cpu']:.2f} "
        f"(goal {t['goal_by_cpu']:.2f}) {verdict(t['met_by_cpu'])}"
        for t in report["targets"]
    ]


def print_http(report: dict[str, Any]) -> None:
    """The --http results for people, in a terminal."""
    rows = [HTTP_HEAD, *http_rows(report)]
    widths = [max(len(r[i]) for r in rows) for i in range(len(HTTP_HEAD))]
    print()
    for r in rows:
        print(
            "  ".join(
                c.ljust(w) if i == 0 else c.rjust(w)
                for i, (c, w) in enumerate(zip(r, widths, strict=True))
            )
        )
    settings = report["settings"]
    print(
        f"\n{settings['path']}, gunicorn {settings['gunicorn']}, wrk {settings['wrk']}, "
        f"{settings['rounds']} interleaved rounds of {settings['seconds_per_run']} s."
        "\nRatios: each round's figure divided by the floor's in the same round (median, range);"
        "\n'its limit': by its own mechanism's minimal app's (sessions: one Redis GET; JWTs: one"
        "\nPyJWT decode), in the same round. CPU us/req: the contestant's gunicorn and Redis CPU"
        "\ntime per request; the floor's (or the limit's) over it is the req/s ratio the machine"
        "\nwould give if nothing else ran on it."
    )
    print("\nTargets (issue 21):")
    for line in target_lines(report):
        print("  " + line)
    print("\nTrust:" if report["trust"] else "\nTrust: nothing stood out.")
    for note in report["trust"]:
        print("  - " + note)
    s = report["stamp"]
    print(f"\nMeasured at {s['commit']}, {s['date']}, on {s['machine']}.")


def markdown_stamp(report: dict[str, Any], command: str) -> list[str]:
    """The lines that say what printed the table, and where."""
    s = report["stamp"]
    return [
        f"Printed by `{command}` at commit {s['commit']}, {s['date']}, on {s['machine']}.",
        "",
    ]


def http_markdown(report: dict[str, Any], command: str) -> str:
    """The --http results as Markdown, stamped, for docs/benchmarks.md."""
    settings = report["settings"]
    lines = markdown_stamp(report, command)
    lines.append(
        f"{settings['path']}; gunicorn {settings['gunicorn']}; wrk {settings['wrk']}; "
        f"{settings['rounds']} interleaved rounds of {settings['seconds_per_run']} s; ratios to "
        "the floor, and to the contestant's own mechanism's limit (the minimal session app: "
        "one Redis GET; the minimal JWT app: one PyJWT decode), measured in the same round "
        "(median, range). CPU us/req: the contestant's gunicorn and Redis CPU time per "
        "request; the floor's (or the limit's) over it is the req/s ratio a machine with "
        "nothing else running would give."
    )
    lines += ["", "| " + " | ".join(HTTP_HEAD) + " |", "|" + "---|" * len(HTTP_HEAD)]
    lines += ["| " + " | ".join(r) + " |" for r in http_rows(report)]
    lines += ["", "Targets:", ""]
    lines += [f"- {line.strip()}" for line in target_lines(report)]
    lines += ["", "Trust: " + (" ".join(report["trust"]) or "nothing stood out.")]
    return "\n".join(lines)
