"""The package's structure: no import circle inside autograder/, and the worker side (the code
that runs next to student code) imports nothing of the trusted side.

The import graph is read with ast from autograder/**/*.py and counts every import that can
run: at module level and inside functions alike (a circle closed by a function-level import
still breaks once that function runs at import time, and hides a layering problem). Imports
under ``if TYPE_CHECKING:`` never run and are not counted. Importing ``a.b.c`` from outside
package ``a.b`` also runs ``a/b/__init__.py``, so it counts as importing ``a.b`` too.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

from paths import AUTOGRADER, REPO

# The worker side: loaded by file path inside the sandbox, next to student code.
WORKER_SIDE = [*sorted((AUTOGRADER / "worker").glob("*.py")), AUTOGRADER / "wire.py"]
WORKER_ALLOWED = set(sys.stdlib_module_names) | {"numpy"}

Graph = dict[str, set[str]]


def module_name(path: Path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def runtime_imports(tree: ast.AST) -> list[ast.Import | ast.ImportFrom]:
    """Every import statement of ``tree`` outside ``if TYPE_CHECKING:`` blocks."""
    found: list[ast.Import | ast.ImportFrom] = []
    pending: list[ast.AST] = [tree]
    while pending:
        node = pending.pop()
        if isinstance(node, ast.Import | ast.ImportFrom):
            found.append(node)
        elif isinstance(node, ast.If) and _is_type_checking(node.test):
            pending.extend(node.orelse)
            continue
        pending.extend(ast.iter_child_nodes(node))
    return found


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or \
        (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def imported_names(node: ast.Import | ast.ImportFrom, module: str, package: bool) -> list[str]:
    """The dotted names an import statement of ``module`` may load (relative ones resolved)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    base = node.module or ""
    if node.level:
        parts = module.split(".")
        anchor = parts if package else parts[:-1]
        anchor = anchor[:len(anchor) - (node.level - 1)]
        base = ".".join([*anchor, *([base] if base else [])])
    return [base, *(f"{base}.{alias.name}" for alias in node.names)]


def import_graph(root: Path = AUTOGRADER) -> Graph:
    """Module -> the modules of the same package tree it imports."""
    paths = {module_name(p): p for p in root.rglob("*.py")}
    graph: Graph = {}
    for module, path in paths.items():
        package = path.name == "__init__.py"
        edges = set()
        for node in runtime_imports(ast.parse(path.read_text(), str(path))):
            names = imported_names(node, module, package)
            if isinstance(node, ast.ImportFrom):
                # ``from pkg import name``: the submodule if it is one, else the package.
                submodules = [n for n in names[1:] if n in paths]
                names = submodules or names[:1]
            targets = [n for n in names if n in paths]
            edges.update(targets, *([p for p in _outer_packages(t, module) if p in paths]
                                    for t in targets))
        edges.discard(module)
        graph[module] = edges
    return graph


def _outer_packages(target: str, module: str) -> list[str]:
    """The packages whose ``__init__`` importing ``target`` runs first, except those that
    contain ``module`` (a package importing its own submodules is no circle)."""
    parts = target.split(".")
    packages = [".".join(parts[:i]) for i in range(1, len(parts))]
    return [p for p in packages if not module.startswith(p + ".")]


def cycles(graph: Graph) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for succ in sorted(graph.get(node, ())):
            if succ not in index:
                visit(succ)
                low[node] = min(low[node], low[succ])
            elif succ in on_stack:
                low[node] = min(low[node], index[succ])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(found)


# -- the helpers on small graphs ---------------------------------------------------------------


def test_cycles_finds_circles_and_only_circles():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": set()}) == []
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": {"a"}, "c": {"d"}, "d": {"c"}}) == [["a", "b"], ["c", "d"]]


def test_imports_inside_functions_count_and_type_checking_ones_do_not():
    tree = ast.parse("import os\ndef f():\n    from a.b import c\n"
                     "if TYPE_CHECKING:\n    import never\nelse:\n    import other\n")
    names = [imported_names(n, "pkg.mod", False)[0] for n in runtime_imports(tree)]
    assert sorted(names) == ["a.b", "os", "other"]


def test_relative_imports_resolve_from_the_module_or_package():
    node = ast.parse("from ..checks import tolerance").body[0]
    assert imported_names(node, "autograder.kinds.base", False)[0] == "autograder.checks"
    assert imported_names(node, "autograder.kinds", True)[0] == "autograder.checks"


# -- the package -------------------------------------------------------------------------------


def test_the_graph_covers_the_package():
    graph = import_graph()
    assert len(graph) > 50
    assert "autograder.spec" in graph["autograder.grade"]
    assert "autograder.solution_source" in graph["autograder.spec"]


def test_no_import_circle_inside_autograder():
    found = cycles(import_graph())
    assert found == [], "import circles: " + "; ".join(", ".join(c) for c in found)


def test_worker_side_imports_only_the_stdlib_and_numpy():
    """autograder/worker/*.py and autograder/wire.py run next to student code; they load
    each other by file path, never through the trusted ``autograder`` package."""
    offenders = []
    for path in WORKER_SIDE:
        for node in runtime_imports(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ImportFrom) and node.level:
                offenders.append(f"{path.name}: relative import (breaks loading by path)")
                continue
            names = [a.name for a in node.names] if isinstance(node, ast.Import) \
                else [node.module]
            offenders += [f"{path.name}: {name}" for name in names
                          if name.split(".")[0] not in WORKER_ALLOWED]
    assert offenders == []
