"""skmer's rooms import each other without cycles (the layering of DESIGN.md).

A room is a top-level module or subpackage of skmer (``datasets``, ``utils``,
``models``, ``metrics``, ``cli``, the private ground floor ``_core``, ...).  Every
``import`` statement counts, wherever it stands (module level, inside a function,
under ``TYPE_CHECKING``): an arrow is an arrow even when it is taken lazily.
The graph is read from the source with :mod:`ast`, so nothing is imported.
"""

import ast
from collections import defaultdict
from pathlib import Path

import skmer

ROOT = Path(skmer.__file__).resolve().parent

# the rooms DESIGN.md names; the test fails if one of them is not found, so that a
# renamed or moved room cannot silently drop out of the graph
EXPECTED = {"datasets", "preprocessing", "features", "utils", "models", "metrics",
            "model_selection", "recipes", "io", "plotting", "cli", "_core",
            "spotting"}


def _room(path):
    """The room of a file: its first path component under skmer/, without .py."""
    first = path.relative_to(ROOT).parts[0]
    return first.removesuffix(".py")


def _module_name(path):
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(["skmer", *parts])


def _imports(path):
    """Yield ``(dotted name, line)`` for every skmer module ``path`` imports."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module
            if target == "skmer":
                # ``from skmer import metrics``: the names are the rooms
                for alias in node.names:
                    yield f"skmer.{alias.name}", node.lineno
            else:
                yield target, node.lineno


def import_graph():
    """``{room: {other room: ["file:line", ...]}}`` of skmer's own imports."""
    paths = [p for p in sorted(ROOT.rglob("*.py")) if p != ROOT / "__init__.py"]
    rooms = {_room(p) for p in paths}
    graph = {room: defaultdict(list) for room in rooms}
    for path in paths:
        source = _room(path)
        for name, line in _imports(path):
            parts = name.split(".")
            if parts[0] != "skmer" or len(parts) < 2 or parts[1] not in rooms:
                continue
            if parts[1] != source:
                where = f"{path.relative_to(ROOT.parent)}:{line}"
                graph[source][parts[1]].append(where)
    return graph


def _cycles(graph):
    """Strongly connected components of more than one room (Tarjan)."""
    index, low, stack, on_stack, out = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_graph_sees_the_rooms():
    graph = import_graph()
    missing = EXPECTED - set(graph)
    assert not missing, f"rooms not found under skmer/: {sorted(missing)}"
    # a sanity check of the walker itself: these arrows are the design's
    assert "_core" in graph["datasets"]
    assert "_core" in graph["utils"]


def test_no_cycle_between_rooms():
    graph = import_graph()
    problems = []
    for component in _cycles(graph):
        arrows = [f"    {a} -> {b}: {', '.join(graph[a][b])}"
                  for a in component for b in sorted(graph[a]) if b in component]
        problems.append(" <-> ".join(component) + "\n" + "\n".join(arrows))
    assert not problems, "import cycles between skmer's rooms:\n" + "\n".join(
        problems)


def test_ground_floor_imports_nothing_of_skmer():
    graph = import_graph()
    assert not graph["_core"], (
        "skmer._core is the ground floor and must not import other rooms: "
        + repr(dict(graph["_core"])))


def test_cycle_finder_finds_a_cycle():
    graph = {"a": {"b": ["x"]}, "b": {"c": ["y"]}, "c": {"a": ["z"]}, "d": {"a": []}}
    assert _cycles(graph) == [["a", "b", "c"]]


# The arrows that must never exist (docs/architecture.md): a lower floor never
# imports an upper one, and nothing torch-free imports the networks.  The one
# sanctioned exception, preprocessing's flow registry importing ``skmer.models`` by
# name on demand, goes through importlib with a string and is not an import statement.
FORBIDDEN = {
    "_core": {"datasets", "preprocessing", "features", "utils", "models", "metrics",
              "model_selection", "recipes", "io", "plotting", "predict", "cli",
              "spotting"},
    "utils": {"datasets", "preprocessing", "features", "models", "model_selection",
              "recipes", "predict", "cli", "spotting"},
    "metrics": {"datasets", "preprocessing", "features", "models", "model_selection",
                "recipes", "predict", "cli", "spotting"},
    "io": {"models", "model_selection", "recipes", "predict", "cli"},
    "datasets": {"preprocessing", "features", "models", "model_selection", "recipes",
                 "predict", "cli", "spotting"},
    "preprocessing": {"models", "model_selection", "recipes", "predict", "cli",
                      "spotting"},
    "features": {"models", "model_selection", "recipes", "predict", "cli", "spotting"},
    "models": {"model_selection", "recipes", "predict", "cli"},
    "model_selection": {"models", "recipes", "predict", "cli"},
    "recipes": {"models", "predict", "cli"},
    "plotting": {"models", "cli"},
    # spotting (floor 3) stands on _core, utils, metrics and floor 2; torch-free
    "spotting": {"models", "model_selection", "recipes", "predict", "cli"},
    # predict is torch-free: a network reaches it as an estimator the caller built
    "predict": {"models", "cli"},
}


def test_no_forbidden_arrow():
    graph = import_graph()
    bad = [f"{a} -> {b}: {', '.join(graph[a][b])}"
           for a, never in FORBIDDEN.items() for b in sorted(never & set(graph[a]))]
    assert not bad, "forbidden imports (see docs/architecture.md):\n" + "\n".join(bad)


def test_forbidden_rooms_exist():
    graph = import_graph()
    named = set(FORBIDDEN) | set().union(*FORBIDDEN.values())
    assert named <= set(graph), sorted(named - set(graph))
