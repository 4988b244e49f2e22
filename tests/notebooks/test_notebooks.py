"""Every notebook runs, top to bottom, at the quick scale, on a real lab; and is stored clean.

The notebooks share one lab with the report tests (AUTHLAB_EXPERIMENT_LAB, inherited by each
kernel): each reconfigures it as it needs and none stops it.
"""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from lab import Lab
from lab.report.notebook import MIME, verdict

NOTEBOOKS_DIR = Path(__file__).resolve().parents[2] / "notebooks"
NOTEBOOKS = sorted(NOTEBOOKS_DIR.glob("[0-9][0-9]-*.ipynb"))

#: Seconds one cell may take at the quick scale (the revocation study is the longest).
CELL_TIMEOUT = 180
#: Notebooks whose outcome is a verdict built from the run (lab/report/text_verdicts.py).
WITH_VERDICTS = {"06-distance", "07-failover", "08-can-we-have-both", "09-bound-credentials"}


def verdicts_of(notebook: nbformat.NotebookNode) -> list[dict]:
    """Every verdict a notebook printed: the builder, its data, and the text it showed."""
    return [
        {**output["data"][MIME], "text": output["data"]["text/plain"]}
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.outputs
        if MIME in output.get("data", {})
    ]


def check_verdicts(notebook: nbformat.NotebookNode) -> int:
    """Build each printed verdict again from its data: text and numbers must agree."""
    found = verdicts_of(notebook)
    for shown in found:
        again = verdict(shown["builder"], shown["data"])
        assert again, f"{shown['builder']} says nothing about its own data"
        assert shown["text"] == "\n".join(again), "the notebook's verdict is not its data's"
    return len(found)


def test_every_lesson_is_there():
    names = {path.stem for path in NOTEBOOKS}
    for lesson in (
        "00-index",
        "01-anatomy",
        "02-logout-and-revocation",
        "03-stolen-cookie",
        "04-scaling",
        "05-failures",
        "06-distance",
        "07-failover",
        "08-can-we-have-both",
        "09-bound-credentials",
    ):
        assert lesson in names
    index = (NOTEBOOKS_DIR / "00-index.ipynb").read_text()
    unlinked = [p.name for p in NOTEBOOKS if p.stem != "00-index" and f"({p.name})" not in index]
    assert unlinked == [], "the index links every lesson"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_stored_without_outputs(path: Path):
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, "clear outputs first"


@pytest.mark.lab
@pytest.mark.parametrize(
    "path", [p for p in NOTEBOOKS if p.stem != "00-index"], ids=lambda p: p.stem
)
def test_notebook_runs(path: Path, experiment_lab: Lab, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("AUTHLAB_SCALE", "quick")
    assert os.environ.get("AUTHLAB_EXPERIMENT_LAB") == str(experiment_lab.state_dir)
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook,
        timeout=CELL_TIMEOUT,
        kernel_name="python3",
        resources={"metadata": {"path": str(NOTEBOOKS_DIR)}},
    )
    client.execute()  # raises CellExecutionError, naming the cell, if any cell fails
    printed = check_verdicts(notebook)
    if path.stem in WITH_VERDICTS:
        assert printed, "the notebook prints its verdict, built from its run"
    images = [
        output
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.outputs
        if "image/png" in output.get("data", {})
    ]
    assert images, "the notebook drew its plots"
