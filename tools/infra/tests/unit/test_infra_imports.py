"""The modules of codeflow_infra import each other without a cycle.

Every import counts, also one inside a function: a deferred import is how a cycle hides.
"""

from __future__ import annotations

import ast
from pathlib import Path

import codeflow_infra

PACKAGE = "codeflow_infra"


def package_modules() -> dict[str, Path]:
    root = Path(codeflow_infra.__file__).parent
    return {path.stem: path for path in root.glob("*.py")}


def imported_modules(source: str, modules: set[str]) -> set[str]:
    """The package's modules that `source` imports (``__init__`` for the package itself)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module == PACKAGE:
            # `from codeflow_infra import processes` imports the module `processes`.
            names = [f"{PACKAGE}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        for name in names:
            parts = name.split(".")
            if parts[0] != PACKAGE:
                continue
            found.add(parts[1] if len(parts) > 1 and parts[1] in modules else "__init__")
    return found


def import_graph() -> dict[str, set[str]]:
    modules = package_modules()
    return {
        name: imported_modules(path.read_text(), set(modules)) - {name}
        for name, path in modules.items()
    }


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of `graph` as a path that ends where it starts, or None."""
    done: set[str] = set()
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        if node in path:
            return [*path[path.index(node) :], node]
        if node in done:
            return None
        path.append(node)
        for target in sorted(graph.get(node, ())):
            if cycle := visit(target):
                return cycle
        path.pop()
        done.add(node)
        return None

    for start in sorted(graph):
        if cycle := visit(start):
            return cycle
    return None


def test_the_cycle_finder_sees_a_cycle_through_a_deferred_import() -> None:
    modules = {"kafka", "kafka_broker", "config"}
    graph = {
        "kafka": imported_modules("from codeflow_infra.kafka_broker import LocalKafka", modules),
        "kafka_broker": imported_modules(
            "from codeflow_infra import config\n"
            "def start():\n"
            "    from codeflow_infra.kafka import metadata_ready\n",
            modules,
        ),
        "config": set(),
    }

    assert graph["kafka_broker"] == {"config", "kafka"}
    assert find_cycle(graph) == ["kafka", "kafka_broker", "kafka"]


def test_codeflow_infra_modules_import_each_other_without_a_cycle() -> None:
    graph = import_graph()

    assert {"kafka", "kafka_broker", "kafka_client"} <= graph.keys()
    assert find_cycle(graph) is None
