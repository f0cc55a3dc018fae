"""The house's layers, checked on the source of every module (no import is executed).

From the bottom: core (``preflens`` settings, errors, statistics) <- ``db`` <- ``training``
<- ``backend`` and ``dashboard`` (peers that never import each other) <- the command line
(``preflens.cli``) and the public Python module (``preflens.api``), two roofs that nothing
imports (but the ``preflens`` package's lazy re-export of ``preflens.api``) and that never
import each other. Every import counts, the ones inside functions
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
LAYER = {"core": 0, "db": 1, "training": 2, "backend": 3, "dashboard": 3, "cli": 4, "api": 4}
ROOFS = {"cli", "api"}
HEAVY = ("torch", "transformers", "trl", "accelerate", "datasets")
TORCH_FREE = (
    "db",
    "dashboard",
    "backend.routes.data",
    "backend.routes.cases",
    "backend.routes.health",
    "backend.routes.diagnostics",
    "preflens.api",
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
    if module == "preflens.api" or module.startswith("preflens.api."):
        return "api"
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


def lazy_reexport(module: str, path: Path, target: str) -> bool:
    """The ``preflens`` package's ``__getattr__`` loading ``preflens.api`` on first use:
    inside a function, so it runs after every import, never at import time."""
    if module != "preflens" or layer_of(target) != "api":
        return False
    at_import = {resolve(n, project_modules()) for n, _ in imports(path, module, True)}
    return target not in at_import


def test_no_upward_import_and_peers_stay_apart():
    modules = project_modules()
    bad = []
    for module, path in modules.items():
        mine = layer_of(module)
        for name, line in imports(path, module):
            target = resolve(name, modules)
            if target is None or lazy_reexport(module, path, target):
                continue
            theirs = layer_of(target)
            upward = LAYER[theirs] > LAYER[mine]
            peers = {mine, theirs} in ({"backend", "dashboard"}, ROOFS)
            if upward or peers:
                bad.append(f"{path.relative_to(REPO)}:{line} ({mine}) imports {target} ({theirs})")
    assert not bad, "imports against the layers:\n" + "\n".join(bad)


def test_no_import_cycle():
    modules = project_modules()
    graph = {
        m: {
            t
            for n, _ in imports(p, m)
            if (t := resolve(n, modules)) and t != m and not lazy_reexport(m, p, t)
        }
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


# ---------------------------------------------------------------- the public module
PUBLIC = "preflens.api"
PROJECT = ("preflens", "db", "training", "backend", "dashboard")


def private_imports(path: Path, module: str) -> list[str]:
    """Imports of the public module that reach into another package's private names: a
    name or a module path component that starts with ``_`` (its own ``preflens.api._*``
    submodules are its own)."""
    bad = []
    for name, line in imports(path, module):
        if name.split(".")[0] not in PROJECT or name.startswith(PUBLIC + "."):
            continue
        if any(part.startswith("_") and part != "__future__" for part in name.split(".")):
            bad.append(f"{path.name}:{line} imports {name}")
    return bad


def test_public_module_imports_no_private_names():
    modules = project_modules()
    public = {m: p for m, p in modules.items() if layer_of(m) == "api"}
    assert PUBLIC in public
    bad = [b for m, p in public.items() for b in private_imports(p, m)]
    assert not bad, "the public module uses private names:\n" + "\n".join(bad)


def test_the_private_name_check_is_not_vacuous(tmp_path):
    fake = tmp_path / "fake.py"
    fake.write_text(
        "from db.read.cases import _keyset_page\n"
        "from db.read import search_cases\n"
        "from preflens.api._store import Run\n"
    )
    assert private_imports(fake, "preflens.api.fake") == [
        "fake.py:1 imports db.read.cases._keyset_page"
    ]


def test_every_public_name_is_documented():
    import inspect

    import preflens
    from preflens import api

    assert set(api.__all__) <= set(dir(preflens))
    missing = []
    for name in api.__all__:
        obj = getattr(api, name)
        if not inspect.getdoc(obj):
            missing.append(name)
        if inspect.isclass(obj) and obj.__module__.startswith(PUBLIC):
            for attr, member in vars(obj).items():
                if attr.startswith("_"):
                    continue
                target = member.fget if isinstance(member, property) else member
                if callable(target) and not inspect.getdoc(target):
                    missing.append(f"{name}.{attr}")
    assert not missing, f"public names without a docstring: {missing}"


def code_imports(text: str) -> list[str]:
    """Modules a Python text imports (for Markdown, its code blocks)."""
    import re

    return re.findall(r"^\s*(?:from\s+([\w.]+)\s+import|import\s+([\w.]+))", text, re.M)


def test_python_docs_and_the_notebook_use_only_the_public_module():
    """The Python API page and the API notebook show only ``preflens`` / ``preflens.api``
    among PrefLens's modules."""
    import json

    texts = {"docs/python-api.md": (REPO / "docs" / "python-api.md").read_text()}
    nb = json.loads((REPO / "notebooks" / "api_tour.ipynb").read_text())
    texts["notebooks/api_tour.ipynb"] = "\n".join(
        "".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"
    )
    # The README's "From Python" section lives in the docs now.
    texts["docs/guides/python.md"] = (REPO / "docs" / "guides" / "python.md").read_text()
    bad = []
    for where, text in texts.items():
        for pair in code_imports(text):
            name = pair[0] or pair[1]
            if name.split(".")[0] in PROJECT and name not in ("preflens", PUBLIC):
                bad.append(f"{where}: {name}")
    assert not bad, "internal modules shown to Python users:\n" + "\n".join(bad)
    assert "::: preflens.api" in texts["docs/python-api.md"]
