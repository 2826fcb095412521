"""The package's shape: no import cycles (function-level imports count), no import that runs
back up a layer, and no module far over 400 lines."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[1] / "abkit"

# layer of each top-level part of abkit: a module may import only its own layer or lower
LAYERS = {
    "errors": 0, "core": 0, "fmt": 0, "_version": 0,
    "stats": 1, "spec": 1,
    "io": 2, "engine": 2, "datasets": 2, "datasets_capture": 2,
    "gates": 3, "rollout": 3, "shadow": 3, "bluegreen": 3, "infer": 3, "init_spec": 3,
    "plots": 4,
    "plot": 4, "report": 4,
    "strategies": 5,
    "pipeline": 6, "monitor": 6, "analysis": 6,
    "testing": 7, "pytest_plugin": 7, "cli": 7, "cli_outputs": 7, "__main__": 7, "serve": 7,
    "": 7,
}
MAX_LINES = 420  # "about 400"
# compatibility re-exports of public names that moved up a layer (lazy, inside __getattr__)
COMPAT = {("abkit.rollout", "abkit.monitor")}


def _modules() -> dict[str, Path]:
    out = {}
    for p in PKG.rglob("*.py"):
        rel = p.relative_to(PKG.parent).with_suffix("").parts
        out[".".join(rel[:-1] if rel[-1] == "__init__" else rel)] = p
    return out


def _runtime_imports(tree: ast.AST):
    """Every import node, at any depth, except those under ``if TYPE_CHECKING:``."""
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            stack.extend(node.orelse)
            continue
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        stack.extend(ast.iter_child_nodes(node))


def import_graph() -> dict[str, set[str]]:
    mods = _modules()
    graph: dict[str, set[str]] = {}
    for name, path in mods.items():
        is_pkg = path.name == "__init__.py"
        deps: set[str] = set()
        for node in _runtime_imports(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                if node.level:
                    base = name.split(".")
                    if not is_pkg:
                        base = base[:-1]
                    base = base[: len(base) - (node.level - 1)]
                    target = ".".join(base + ([node.module] if node.module else []))
                else:
                    target = node.module or ""
                for alias in node.names:
                    full = f"{target}.{alias.name}"
                    deps.add(full if full in mods else target)
            else:
                deps.update(a.name for a in node.names)
        graph[name] = {d for d in deps if d in mods and d != name}
    return graph


def _part(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def test_no_import_cycles():
    graph = import_graph()
    seen: dict[str, int] = {}
    cycles = []

    def visit(v: str, path: list[str]) -> None:
        seen[v] = 1
        for w in sorted(graph[v]):
            if seen.get(w) == 1:
                cycles.append(path[path.index(w):] + [w] if w in path else [v, w])
            elif w not in seen:
                visit(w, path + [w])
        seen[v] = 2

    for v in sorted(graph):
        if v not in seen:
            visit(v, [v])
    assert not cycles, "import cycles: " + "; ".join(" -> ".join(c) for c in cycles)


def test_no_import_runs_up_a_layer():
    bad = []
    for mod, deps in import_graph().items():
        here = LAYERS[_part(mod)]
        for d in deps:
            if LAYERS[_part(d)] > here and (mod, d) not in COMPAT:
                bad.append(f"{mod} -> {d}")
    assert not bad, "imports that run up a layer:\n" + "\n".join(sorted(bad))


@pytest.mark.parametrize("path", sorted(PKG.rglob("*.py")), ids=lambda p: str(p.relative_to(PKG)))
def test_module_size(path: Path):
    n = len(path.read_text().splitlines())
    assert n <= MAX_LINES, f"{path.relative_to(PKG)} has {n} lines (limit about 400)"


def test_the_tests_mirror_the_package():
    """Each test folder is named after the abkit package it tests; the tests at the top
    are those of top-level modules or of the whole (goldens, architecture, notebooks ...)."""
    tests = Path(__file__).resolve().parent
    folders = {p.name for p in tests.iterdir() if p.is_dir() and not p.name.startswith(("_", "."))}
    packages = {p.name for p in PKG.iterdir() if (p / "__init__.py").exists()}
    assert folders - {"golden"} <= packages, folders - packages - {"golden"}
    for sub in folders - {"golden"}:
        assert list((tests / sub).glob("test_*.py")), f"tests/{sub} holds no test"
    cross = {"architecture", "golden", "hardening", "notebooks", "recipes", "security"}
    modules = {p.stem for p in PKG.glob("*.py")} | {"init"}  # init_spec.py: test_init.py
    top = {p.stem.removeprefix("test_") for p in tests.glob("test_*.py")}
    assert top - cross <= modules, top - cross - modules
