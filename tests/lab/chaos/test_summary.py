"""`python -m lab chaos --summary` on hand-written saved runs: one row per target across seeds,
the faults by kind, each promise broken, the totals, the before/after pair, and the stamp of the
runs (no lab: the histories are written here, as run.py saves them)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lab.chaos.command import BROKEN, main

from .test_chaos import REVOKED, UNAUTHORIZED, WALL_T0, login, use

STAMP = {"commit": "abc1234", "machine": "2 cores, a test CPU"}


def history(seed: int, mode: str, topology: str, records: list[dict], naive: bool = False) -> str:
    """A saved history of client 1 on jwt:<mode>, as History.write writes it."""
    name = f"jwt-{mode}{'-naive' if naive else ''}-{topology}"
    header = {
        "type": "run", "seed": seed, "target": name, "server": "jwt", "mode": mode,
        "topology": topology, "naive": naive, "wall_t0": WALL_T0, "schedule": [],
    }  # fmt: skip
    return "".join(json.dumps(line) + "\n" for line in (header, *records))


def fault(name: str, t: float, ok: bool = True) -> dict:
    return {"type": "fault", "name": name, "start": t, "end": t + 1.0, "ok": ok}


#: A logout confirmed, then its copy refused: the promise kept.
KEPT = [
    login(1, 0.0, "c1.1"),
    use(2, "logout", 1.0, "c1.1", 200, REVOKED),
    use(3, "replay", 3.0, "c1.1", 401, UNAUTHORIZED),
]
#: The same, but the store came back empty and the copy got in: a revocation undone.
UNDONE = [*KEPT[:2], use(3, "replay", 3.0, "c1.1", 200, {"user": {}})]


def saved_run(root: Path, seed: int, files: dict[str, str], naive: bool = False) -> Path:
    """A run folder as `python -m lab chaos` leaves it (run.json with its stamp)."""
    folder = root / f"20261207-0100{seed % 60:02d}-chaos-s{seed}"
    folder.mkdir(parents=True)
    for name, text in files.items():
        (folder / f"{name}.history.jsonl").write_text(text)
    flags = f"{'--naive ' if naive else ''}--seed {seed} --minutes 0.2 --results {root}"
    stamp = {"seed": seed, "naive": naive, "command": f"python -m lab chaos {flags}"}
    (folder / "run.json").write_text(json.dumps({**stamp, **STAMP, "date": f"day {seed}"}))
    return folder


@pytest.fixture
def runs(tmp_path: Path) -> Path:
    """Two guarded seeds on jwt:denylist (single, sentinel) and one naive seed that undid one."""
    for seed in (201, 202):
        saved_run(
            tmp_path / f"s{seed}", seed,
            {
                "jwt-denylist-single": history(seed, "denylist", "single",
                                               [*KEPT, fault("flush", 1.5),
                                                fault("restart-empty", 2.0, ok=seed == 201)]),
                "jwt-denylist-sentinel": history(seed, "denylist", "sentinel",
                                                 [*KEPT, fault("partition", 1.5)]),
            },
        )  # fmt: skip
    naive = history(201, "denylist", "single", [*UNDONE, fault("restart-empty", 2.0)], True)
    saved_run(tmp_path / "naive-s201", 201, {"jwt-denylist-naive-single": naive}, naive=True)
    return tmp_path


def rows(text: str) -> dict[str, list[str]]:
    """The Markdown table's lines by their first cell."""
    cells = [[c.strip() for c in line.strip("|").split("|")] for line in text.splitlines()]
    return {c[0]: c[1:] for c in cells if len(c) > 2}


def test_the_summary_sums_each_target_over_its_seeds(runs, capsys):
    code = main(["--summary", str(runs / "s201"), str(runs / "s202"), "--markdown"])
    out = capsys.readouterr().out
    assert code == 0  # no promise broken with the guard on
    table = rows(out)
    header = table["target"]
    single = dict(zip(header, table["jwt:denylist × single"], strict=True))
    assert single["seeds"] == "2" and single["ops"] == "6" and single["confirmed"] == "2"
    assert single["flush"] == "2" and single["restart-empty"] == "1+1!"  # one failed
    assert single["partition"] == "-" and single["undone"] == "0"
    sentinel = dict(zip(header, table["jwt:denylist × sentinel"], strict=True))
    assert sentinel["partition"] == "2" and sentinel["restart-empty"] == "-"
    total = dict(zip(header, table["total"], strict=True))
    assert total["ops"] == "12" and total["confirmed"] == "4" and total["flush"] == "2"
    # The stamp: the runs' commit and machine, their command once with the seed written S.
    assert "Seeds 201, 202: 2 run(s), 4 histories." in out
    assert "Commit abc1234, day 201 to day 202, 2 cores, a test CPU." in out
    assert (
        f"Each run: `python -m lab chaos --seed S --minutes 0.2 --results {runs}/sS` (S: 201, 202)."
        in out
    )


def test_the_naive_runs_give_the_before_beside_the_after(runs, capsys):
    code = main(["--summary", str(runs)])  # the parent: every run folder in it
    out = capsys.readouterr().out
    assert code == BROKEN  # the naive run undid a confirmed revocation
    lines = {line.split("  ")[0]: line for line in out.splitlines()}
    naive = lines["jwt:denylist naive × single"].split()
    assert naive[-4:] == ["1", "0", "0", "0"]  # undone, dishonest, unclear, no-answer
    # The totals keep the naive apart: the guarded total still says 0 undone.
    assert lines["total"].split()[-4:] == ["0", "0", "0", "0"]
    assert lines["total naive"].split()[-4:] == ["1", "0", "0", "0"]
    before_after = next(line for line in out.splitlines() if "1 undone, 1 confirmed" in line)
    assert before_after.startswith("jwt:denylist × single")
    assert "1 undone, 1 confirmed (seeds 201)" in before_after
    assert "0 undone, 2 confirmed (seeds 201, 202)" in before_after
    # Each shape of command once: the naive run as it ran, the guarded ones with S.
    assert (
        f"`python -m lab chaos --naive --seed 201 --minutes 0.2 --results {runs}/naive-s201`" in out
    )
    assert f"`python -m lab chaos --seed S --minutes 0.2 --results {runs}/sS` (S: 201, 202)" in out


def test_a_summary_of_nothing_says_so(tmp_path, capsys):
    assert main(["--summary", str(tmp_path / "nowhere")]) == 1
    assert "no such folder" in capsys.readouterr().err
    assert main(["--summary", str(tmp_path)]) == 1
    assert "no history" in capsys.readouterr().err


def test_a_seed_run_twice_counts_as_one_seed_and_two_runs(tmp_path, capsys):
    for again in ("v1", "v2"):
        text = history(201, "denylist", "single", KEPT)
        saved_run(tmp_path / again, 201, {"jwt-denylist-single": text})
    assert main(["--summary", str(tmp_path)]) == 0
    lines = {line.split("  ")[0]: line for line in capsys.readouterr().out.splitlines()}
    assert lines["jwt:denylist × single"].split()[3:6] == ["1", "(2", "runs)"]
    assert lines["total"].split()[1:3] == ["1", "6"]  # one seed; 2 runs x 3 operations


def test_markdown_without_summary_is_refused(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--markdown"])
    assert exit_.value.code == 2 and "--markdown goes with --summary" in capsys.readouterr().err


def test_servers_and_topologies_pick_the_rows(runs, capsys):
    assert main(["--summary", str(runs), "--topologies", "sentinel"]) == 0  # no naive row left
    out = capsys.readouterr().out
    assert "jwt:denylist × sentinel" in out and "× single" not in out
    assert "--naive" not in out  # the naive run kept no history: its command is not stamped
    assert main(["--summary", str(runs), "--servers", "session:redis"]) == 1
    assert "no history there" in capsys.readouterr().err
