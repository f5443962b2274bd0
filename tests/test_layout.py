"""The package's layout holds: parts import only the parts below them, no module imports itself
round a loop, and only the command line imports Click (issue 19).

Read from the source with ``ast``, so an import inside a function counts as much as one at the top.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "inviter"

# Each part of the package, lowest first: a module may import its own part and those before it.
PARTS = [
    ("errors", "text", "addresses", "cells", "domain", "translation", "toml_reasons"),
    ("settings", "config"),
    ("locale",),
    ("store",),
    ("contacts",),
    ("compose",),
    ("deliver",),
    ("replies", "reports", "season"),
    ("cli", "__main__"),
]
RANK = {name: rank for rank, names in enumerate(PARTS) for name in names}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> set[str]:
    """Every inviter module ``path`` imports, wherever in the file the import stands."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            # "from inviter.store import models" imports the module inviter.store.models.
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}
GRAPH = {
    name: {i for i in imports_of(path) if i in MODULES and i != name and i != "inviter"}
    for name, path in MODULES.items()
}


def part_of(module: str) -> str:
    return module.split(".")[1] if module.count(".") else "__init__"


def test_every_part_has_a_rank() -> None:
    unranked = {part_of(m) for m in MODULES} - set(RANK) - {"__init__"}
    assert not unranked, f"add these to PARTS: {sorted(unranked)}"


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_import_reaches_a_higher_part(module: str) -> None:
    if part_of(module) == "__init__":
        return
    rank = RANK[part_of(module)]
    upward = sorted(i for i in GRAPH[module] if RANK.get(part_of(i), -1) > rank)
    assert not upward, f"{module} imports {upward}, above it"


def test_no_import_circle() -> None:
    # Depth-first search with colours: a grey node met again closes a loop.
    colour: dict[str, int] = {}
    path: list[str] = []

    def visit(node: str) -> None:
        colour[node] = 1
        path.append(node)
        for nxt in sorted(GRAPH[node]):
            if colour.get(nxt) == 1:
                loop = [*path[path.index(nxt) :], nxt]
                pytest.fail("import circle: " + " -> ".join(loop))
            if nxt not in colour:
                visit(nxt)
        path.pop()
        colour[node] = 2

    for node in sorted(GRAPH):
        if node not in colour:
            visit(node)


def test_only_the_command_line_imports_click() -> None:
    users = sorted(
        name
        for name, path in MODULES.items()
        if any(i == "click" or i.startswith("click.") for i in imports_of(path))
    )
    assert users, "the command line imports Click"
    assert all(name.startswith("inviter.cli.") for name in users), users


def test_the_checks_see_a_circle_and_an_upward_import(tmp_path: Path) -> None:
    """The reader itself: an import inside a function is found like one at the top."""
    source = tmp_path / "m.py"
    source.write_text("def f():\n    from inviter.store import models\n    import click\n")
    assert imports_of(source) == {"inviter.store", "inviter.store.models", "click"}
