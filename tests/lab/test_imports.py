"""The layout's promises, read from the source: no import circle, and the servers stand alone.

Every `import` under lab/ and servers/ is read with `ast` (late imports inside functions
count too: a circle broken only by a late import is still a circle). Two graphs are built:
modules, and the lab's packages (its root and each top-level subpackage: engine, store, cli,
...). Neither may have a cycle. `lab/__main__.py` is left out: it is the entry point, which
nothing imports.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

from lab.engine.state import REPO_ROOT

#: The servers' tests: they must run with the servers' dependencies alone, without the lab.
SERVER_TESTS = ("contract", "core", "jwt_server", "session_server", "security")


def module_name(path: Path) -> str:
    """`lab/engine/state.py` -> `lab.engine.state`; a package's `__init__` is the package."""
    parts = list(path.relative_to(REPO_ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules_under(*folders: str) -> dict[str, Path]:
    """Every module under the folders, by dotted name (without entry points)."""
    found = {}
    for folder in folders:
        for path in sorted((REPO_ROOT / folder).rglob("*.py")):
            if path.name != "__main__.py":
                found[module_name(path)] = path
    return found


def imported(path: Path, known: dict[str, Path]) -> Iterator[str]:
    """The modules `path` imports, resolved to the names in `known` (or their top package)."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")[: len(package.split(".")) - node.level + 1]
            target = ".".join(base + [node.module or ""]).strip(".") if node.level else node.module
            for alias in node.names:
                submodule = f"{target}.{alias.name}"
                yield submodule if submodule in known else target


def graph(folders: tuple[str, ...]) -> dict[str, set[str]]:
    """Module -> the modules it imports, among the modules under `folders`."""
    known = modules_under(*folders)
    return {
        name: {dep for dep in imported(path, known) if dep in known and dep != name}
        for name, path in known.items()
    }


def package_of(module: str) -> str:
    """The lab's package a module belongs to: `lab` (the root) or `lab.<subpackage>`."""
    parts = module.split(".")
    if parts[0] != "lab" or len(parts) == 1:
        return parts[0]
    path = REPO_ROOT.joinpath(*parts[:2])
    return ".".join(parts[:2]) if path.is_dir() else "lab"


def cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """One cycle of the directed graph, as a path, or None (depth-first search)."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                return path[path.index(nxt) :] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        state[node] = 2
        path.pop()
        return None

    for start in sorted(edges):
        if start not in state and (found := visit(start)):
            return found
    return None


def test_no_module_of_the_lab_imports_itself_through_others():
    modules = graph(("lab",))
    assert len(modules) > 50  # the walk found the code
    assert cycle(modules) is None, " -> ".join(cycle(modules) or [])


def test_no_module_of_the_servers_imports_itself_through_others():
    modules = graph(("servers",))
    assert len(modules) > 20
    assert cycle(modules) is None, " -> ".join(cycle(modules) or [])


def test_every_import_of_the_lab_names_a_module_that_exists():
    # A late import left at a module's old path fails only when its function runs: find it now.
    known = modules_under("lab")
    broken = [
        f"{name} imports {dep}"
        for name, path in known.items()
        for dep in imported(path, known)
        if (dep == "lab" or dep.startswith("lab.")) and dep not in known
    ]
    assert broken == []


def test_no_package_of_the_lab_imports_itself_through_others():
    packages: dict[str, set[str]] = {}
    for module, deps in graph(("lab",)).items():
        mine = package_of(module)
        packages.setdefault(mine, set()).update({package_of(d) for d in deps} - {mine})
    assert {"lab", "lab.engine", "lab.store", "lab.cli"} <= set(packages)
    assert cycle(packages) is None, " -> ".join(cycle(packages) or [])


def test_the_cycle_finder_finds_a_cycle():
    assert cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert cycle({"a": {"b"}, "b": set()}) is None


@pytest.mark.parametrize("folder", ["servers", *(f"tests/{t}" for t in SERVER_TESTS)])
def test_the_servers_and_their_tests_never_import_the_lab(folder):
    # What the servers' tests import from tests/ counts too (tests/conftest.py, tests/support).
    known = modules_under("tests", "servers")
    todo = [module_name(p) for p in (REPO_ROOT / folder).rglob("*.py")]
    todo += ["tests.conftest"] if folder.startswith("tests") else []
    seen: set[str] = set()
    while todo:
        name = todo.pop()
        if name in seen or name not in known:
            continue
        seen.add(name)
        deps = set(imported(known[name], known))
        assert not {d for d in deps if d == "lab" or d.startswith("lab.")}, name
        todo += [d for d in deps if d.startswith("tests")]
