"""The project is a real package: every import is pinned, and nothing edits sys.path by hand."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ("servers", "lab", "loadtests", "tests", "notebooks")
OURS = {"servers", "lab", "loadtests", "tests"}


def normalise(name: str) -> str:
    """PEP 503: `Flask_Limiter`, `flask-limiter` and `Flask.Limiter` are one project."""
    return re.sub(r"[-_.]+", "-", name).lower()


def pinned() -> dict[str, str]:
    """requirements.txt as {project: version}."""
    pins = {}
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            name, _, version = line.partition("==")
            assert version, f"{line!r} is not pinned with =="
            pins[normalise(name.split("[")[0])] = version
    return pins


def imported_modules() -> set[str]:
    """Top-level names imported anywhere in our Python files."""
    names = set()
    for folder in SOURCES:
        for path in (ROOT / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Import):
                    names |= {alias.name.split(".")[0] for alias in node.names}
                elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                    names.add(node.module.split(".")[0])
    return names - OURS - set(sys.stdlib_module_names)


def test_every_imported_package_is_pinned():
    owners = packages_distributions()
    pins = pinned()
    unpinned = {
        module: owners.get(module)
        for module in imported_modules()
        if not any(normalise(dist) in pins for dist in owners.get(module, [module]))
    }
    assert unpinned == {}, "pin these in requirements.txt (and pyproject.toml)"


def test_pyproject_declares_only_pinned_packages():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    groups = [project["dependencies"], *project["optional-dependencies"].values()]
    names = {normalise(re.split(r"[\[<>=!~ ]", req)[0]) for group in groups for req in group}
    assert names - {"authlab"} <= set(pinned())


def test_no_module_edits_the_import_path():
    offenders = [
        str(path.relative_to(ROOT))
        for folder in ("servers", "lab", "loadtests", "notebooks")
        for path in (ROOT / folder).rglob("*.py")
        if "sys.path" in path.read_text()
    ]
    assert offenders == []
