"""The package's rooms: which stage may import which, and no import cycles.

Walks the ``import`` statements of every module under ``src/f1pipe`` (top-level and inside
functions alike) with :mod:`ast`, so a lazy import counts as much as an eager one.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = SRC / "f1pipe"

# Lower layers never import higher ones: a room may import only the rooms listed.
ALLOWED = {
    "errors": set(),
    "schemas": set(),
    "times": {"errors"},
    "config": {"errors"},
    "codec": {"schemas"},
    "lake": {"config", "errors", "schemas", "codec", "times"},
    "kafka": {"config", "errors", "schemas", "codec", "lake", "times"},
    "warehouse": {"config", "errors", "schemas", "lake", "times"},
    "sources": {"config", "errors", "schemas", "codec", "times"},
    "transform": {"config", "errors", "schemas", "warehouse"},
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path) -> set[str]:
    """The f1pipe modules ``path`` imports (``from f1pipe.x import y`` gives ``f1pipe.x``
    and ``f1pipe.x.y`` when that is a module)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("f1pipe")}
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("f1pipe"):
            found.add(node.module)
            found |= {f"{node.module}.{a.name}" for a in node.names}
    return {name for name in found if name in MODULES and name != "f1pipe"}


MODULES = {module_name(p): p for p in PACKAGE.rglob("*.py")}
GRAPH = {name: imports_of(path) - {name} for name, path in MODULES.items()}


def room(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "f1pipe"


def test_the_rooms_exist_and_stream_is_gone():
    rooms = {room(m) for m in MODULES}
    assert {"kafka", "live", "lake", "warehouse", "sources", "stack"} <= rooms
    assert "stream" not in rooms
    assert "f1pipe.produce" in MODULES and "f1pipe.kafka.producer" in MODULES


@pytest.mark.parametrize("lower", sorted(ALLOWED))
def test_lower_layers_never_import_higher_ones(lower):
    wrong = sorted(f"{m} imports {t}" for m, targets in GRAPH.items() if room(m) == lower
                   for t in targets if room(t) not in ALLOWED[lower] | {lower})
    assert wrong == []


def test_kafka_knows_nothing_of_the_warehouse_or_the_live_domain():
    kafka = {t for m, targets in GRAPH.items() if room(m) == "kafka" for t in targets}
    assert not {room(t) for t in kafka} & {"warehouse", "live", "sources", "produce"}


def test_serve_is_the_top_room():
    """The server reads the warehouse and the live topics; nothing below it imports it (the
    command line starts it)."""
    assert "serve" in {room(m) for m in MODULES}
    importers = sorted(m for m, targets in GRAPH.items()
                       if room(m) not in ("serve", "cli") and any(room(t) == "serve"
                                                                  for t in targets))
    assert importers == []


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle of ``graph`` (module -> modules it imports), or None."""
    done: set[str] = set()

    def visit(module: str, path: list[str]) -> list[str] | None:
        if module in path:
            return path[path.index(module):] + [module]
        if module in done:
            return None
        for target in sorted(graph.get(module, ())):
            # a package's __init__ importing its own submodules is not a cycle of rooms
            if not target.startswith(module + ".") and (cycle := visit(target, [*path, module])):
                return cycle
        done.add(module)
        return None

    return next((c for m in sorted(graph) if (c := visit(m, []))), None)


def test_the_import_graph_has_no_cycle():
    cycle = find_cycle(GRAPH)
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_the_walker_sees_imports_and_cycles(tmp_path):
    """The checks above can fail: lazy imports are seen, and so is a cycle."""
    lazy = tmp_path / "b.py"
    lazy.write_text("def f():\n    import f1pipe.schemas\n")
    assert imports_of(lazy) == {"f1pipe.schemas"}
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None
