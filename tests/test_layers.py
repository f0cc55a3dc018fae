"""The house's layers, checked on the source of every module (no import is executed).

From the bottom: core (``preflens`` settings, errors, statistics) <- ``db`` <- ``training``
<- ``backend`` and ``dashboard`` (peers that never import each other) <- the command line
(``preflens.cli``), which nothing imports. Every import counts, the ones inside functions
too, and no import cycle may exist among the project's modules. The store, the dashboard
and the API's read routes never import torch.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import REPO

PACKAGES = ("preflens", "db", "training", "backend", "dashboard")
LAYER = {"core": 0, "db": 1, "training": 2, "backend": 3, "dashboard": 3, "cli": 4}
HEAVY = ("torch", "transformers", "trl", "accelerate", "datasets")
TORCH_FREE = (
    "db",
    "dashboard",
    "backend.routes.data",
    "backend.routes.cases",
    "backend.routes.health",
    "backend.routes.diagnostics",
)


def module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def project_modules() -> dict[str, Path]:
    modules = {}
    for package in PACKAGES:
        for path in sorted((REPO / package).rglob("*.py")):
            modules[module_name(path)] = path
    return modules


def layer_of(module: str) -> str:
    if module == "preflens.__main__" or module.startswith("preflens.cli"):
        return "cli"
    top = module.split(".")[0]
    return "core" if top == "preflens" else top


def _type_checking(node: ast.AST) -> bool:
    test = getattr(node, "test", None)
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(test)


def imports(path: Path, module: str, top_level_only: bool = False) -> Iterator[tuple[str, int]]:
    """(imported name, line) for every import in the file; ``from a import b`` yields
    ``a.b`` (a module or a name in ``a``). ``top_level_only``: what runs at import time
    (module body, not functions, not ``if TYPE_CHECKING``)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]

    def visit(node: ast.AST) -> Iterator[tuple[str, int]]:
        for child in ast.iter_child_nodes(node):
            if top_level_only and (
                isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef) or _type_checking(child)
            ):
                continue
            if isinstance(child, ast.Import):
                for alias in child.names:
                    yield alias.name, child.lineno
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    anchor = package.split(".")[: len(package.split(".")) - child.level + 1]
                    base = ".".join([*anchor, base] if base else anchor)
                for alias in child.names:
                    yield f"{base}.{alias.name}", child.lineno
            yield from visit(child)

    yield from visit(tree)


def resolve(name: str, modules: dict[str, Path]) -> str | None:
    """The project module an imported name refers to (``db.read.histogram`` -> ``db.read``)."""
    while name:
        if name in modules:
            return name
        name = name.rpartition(".")[0]
    return None


def test_no_upward_import_and_peers_stay_apart():
    modules = project_modules()
    bad = []
    for module, path in modules.items():
        mine = layer_of(module)
        for name, line in imports(path, module):
            target = resolve(name, modules)
            if target is None:
                continue
            theirs = layer_of(target)
            upward = LAYER[theirs] > LAYER[mine]
            peers = {mine, theirs} == {"backend", "dashboard"}
            if upward or peers:
                bad.append(f"{path.relative_to(REPO)}:{line} ({mine}) imports {target} ({theirs})")
    assert not bad, "imports against the layers:\n" + "\n".join(bad)


def test_no_import_cycle():
    modules = project_modules()
    graph = {
        m: {t for n, _ in imports(p, m) if (t := resolve(n, modules)) and t != m}
        for m, p in modules.items()
    }
    for m in graph:
        # Importing a.b.c runs a/__init__ and a/b/__init__ first: those are edges too,
        # except the packages ``m`` itself lives in (already being imported).
        parents = {".".join(t.split(".")[:k]) for t in graph[m] for k in range(1, t.count(".") + 1)}
        graph[m] |= {p for p in parents if p in modules}
        # A package's __init__ re-exporting its own submodules is not a cycle with them.
        graph[m] = {t for t in graph[m] if not m.startswith(t + ".") and t != m}
    state: dict[str, int] = {}
    stack: list[str] = []
    cycles = []

    def walk(m: str) -> None:
        state[m] = 1
        stack.append(m)
        for t in sorted(graph[m]):
            if state.get(t) == 1:
                cycles.append(" -> ".join([*stack[stack.index(t) :], t]))
            elif t not in state:
                walk(t)
        stack.pop()
        state[m] = 2

    for m in sorted(graph):
        if m not in state:
            walk(m)
    assert not cycles, "import cycles:\n" + "\n".join(cycles)


def heavy_reached(start: str, modules: dict[str, Path]) -> list[str]:
    """Import chains from ``start`` (import-time imports only) that reach a heavy library."""
    seen, chains, todo = {start}, [], [(start, [start])]
    while todo:
        module, chain = todo.pop()
        for name, _ in imports(modules[module], module, top_level_only=True):
            if name.split(".")[0] in HEAVY:
                chains.append(" -> ".join([*chain, name]))
                continue
            target = resolve(name, modules)
            if target and target not in seen:
                seen.add(target)
                todo.append((target, [*chain, target]))
    return chains


@pytest.mark.parametrize("root", TORCH_FREE)
def test_store_dashboard_and_read_routes_import_no_torch(root):
    modules = project_modules()
    starts = [m for m in modules if m == root or m.startswith(root + ".")]
    assert starts, root
    chains = [c for m in starts for c in heavy_reached(m, modules)]
    assert not chains, "torch-free modules reach a heavy library:\n" + "\n".join(chains)


def test_the_checker_sees_an_upward_import(tmp_path):
    """The layer rule is not vacuous: a db module importing the command line is caught."""
    module = "db.fake"
    path = tmp_path / "fake.py"
    path.write_text("def f():\n    from preflens.cli.output import out\n")
    modules = {**project_modules(), module: path}
    found = [
        resolve(n, modules)
        for n, _ in imports(path, module)
        if LAYER[layer_of(resolve(n, modules) or "db")] > LAYER[layer_of(module)]
    ]
    assert found == ["preflens.cli.output"]
