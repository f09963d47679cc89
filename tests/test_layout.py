"""The house rule: imports run one way, data -> simulation -> layers -> access -> pages/api/app.

Every import of the project's modules is read from the source (function-level ones too), so a
lazy import that runs back up is caught as well as a top-level one.
"""

import ast
from pathlib import Path

import networkx as nx

ROOT = Path(__file__).resolve().parent.parent
# Lower ranks never import higher ones; equal ranks only within their own package.
RANKS = {
    "data": 0,
    "simulation": 1,
    "layers": 2,
    "access": 3,
    "video": 4,
    "pages": 5,
    "api": 5,
    "app": 6,
}


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports() -> dict[str, set[str]]:
    """Project module -> the project modules it imports (``from x import y``: x, or x.y)."""
    files = [ROOT / "app.py", *(p for top in RANKS for p in (ROOT / top).rglob("*.py"))]
    names = {_module_name(p) for p in files if p.is_file()}
    graph: dict[str, set[str]] = {}
    for path in files:
        if not path.is_file():
            continue
        found = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found |= {a.name for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                found |= {f"{node.module}.{a.name}" for a in node.names} & names or {node.module}
        graph[_module_name(path)] = {m for m in found if m.split(".")[0] in RANKS}
    return graph


def _entry_point(module: str) -> bool:
    """``python -m`` entry points are the top of the house: nothing imports them."""
    return module.endswith("__main__")


def test_imports_never_run_back_up():
    upward = []
    for module, targets in _imports().items():
        if _entry_point(module):
            continue
        top = module.split(".")[0]
        for target in targets:
            other = target.split(".")[0]
            if RANKS[other] > RANKS[top] or (RANKS[other] == RANKS[top] and other != top):
                upward.append(f"{module} -> {target}")
    assert not upward, "imports against data -> simulation -> layers -> ...:\n" + "\n".join(upward)


def test_no_module_imports_itself_through_others():
    graph = nx.DiGraph([(m, t) for m, targets in _imports().items() for t in targets])
    assert list(nx.simple_cycles(graph)) == []


def test_only_the_app_imports_an_entry_point():
    importers = [
        m for m, targets in _imports().items() for t in targets if _entry_point(t) and m != "app"
    ]
    assert importers == []
