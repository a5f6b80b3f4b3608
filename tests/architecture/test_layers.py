"""The package's layering: no import cycle between pseudorel's packages or modules, counting
the imports inside functions too (they run the moment the function does)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pseudorel

ROOT = Path(pseudorel.__file__).parent


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in ROOT.rglob("*.py")}


def imports(name: str) -> set[str]:
    """Every pseudorel module ``name`` imports, at any depth of its code."""
    path = MODULES[name]
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parent, *([node.module] if node.module else [])])
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {m for m in found if m in MODULES and m != name}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one node (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def layer(name: str) -> str:
    """The package a module belongs to (``pseudorel.retrieval.bm25`` -> ``pseudorel.retrieval``)."""
    return ".".join(name.split(".")[:2])


def test_no_cycle_between_packages():
    graph: dict[str, set[str]] = {}
    for name in MODULES:
        graph.setdefault(layer(name), set()).update(layer(m) for m in imports(name) if layer(m) != layer(name))
    assert cycles(graph) == []


def test_no_cycle_between_modules():
    # a package's __init__ only re-exports its modules, so importing it is not a dependency on them
    graph = {name: {m for m in imports(name) if MODULES[m].name != "__init__.py"} for name in MODULES}
    assert cycles(graph) == []


def test_the_walk_sees_imports_inside_functions():
    assert "pseudorel.scale.ray_executor" in imports("pseudorel.scale")
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


IMPORT_IN_FUNCTION = re.compile(r"^\s{4,}from pseudorel\S* import")


def test_imports_inside_functions_say_why():
    """An import inside a function keeps a heavy dependency out of start-up, and says so."""
    unexplained = []
    for path in MODULES.values():
        lines = path.read_text(encoding="utf-8").splitlines()
        for number, line in enumerate(lines, start=1):
            if IMPORT_IN_FUNCTION.match(line):
                statement = line
                k = number
                while "(" in statement and ")" not in statement:  # a parenthesised import's last line
                    statement += lines[k]
                    k += 1
                if "# start-up:" not in statement and "# typing" not in statement:
                    unexplained.append(f"{path.relative_to(ROOT.parent)}:{number}: {line.strip()}")
    assert unexplained == []
