"""The package layering of services/xinfang (issue 11, docs/architecture.md), from the code's
own imports: every `import` and `from ... import` anywhere in a module (also inside functions
and under TYPE_CHECKING: a hidden import is still a dependency), parsed with ast.

Rules: a unit imports only units of its own layer or of layers below it; the domain imports
nothing of xinfang but itself; node/ never imports audit/ (the auditors' tools sit beside the
node, never below it); no two units import each other, directly or through others.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import xinfang

# Top to bottom. A unit is a subpackage or a top-level module of xinfang; node/app.py (the
# faust wiring) is an entrypoint of its own, the rest of node/ is the application service.
LAYERS: dict[str, set[str]] = {
    "entrypoints": {"__main__", "cli", "devtools", "node.app", "api", "bootstrap", "kafka_cli"},
    "service": {"node", "audit", "ops", "commands", "kafka_admin", "identity"},
    "adapters": {
        "store", "codec", "chain", "contract", "topics", "settings", "resources", "rules_file",
        "topology_file", "presentation", "client", "kafka_security", "kafka_acls", "kafka_io",
        "provisioning", "privacy",
        "documents",  # the statutory documents (decision 033): domain in, HTML/PDF out
        "xinfang",  # xinfang: the root __init__
    },
    "domain": {"domain"},
}  # fmt: skip
NEVER: dict[str, set[str]] = {"node": {"audit"}, "node.app": {"audit"}}  # beside, never below

# Today's violations, each removed by the helper or issue item named beside it; the test fails
# when one of them is gone, so that this list only shrinks (empty it at merge as fixes land).
# Empty since issue 11: chain/ under node/ and audit/, contract/ reads provisioning.py.
KNOWN_VIOLATIONS: set[str] = set()

ROOT = Path(xinfang.__file__).parent
LEVEL = {unit: i for i, units in enumerate(LAYERS.values()) for unit in units}


def unit_of(module: str) -> str:
    """'node.app' for node/app.py, else the first part below xinfang ('' is the root)."""
    parts = module.split(".")
    if parts[:2] == ["node", "app"]:
        return "node.app"
    return parts[0] or "xinfang"


def _exists(dotted: str) -> bool:
    path = ROOT.joinpath(*dotted.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def imports() -> dict[tuple[str, str], list[str]]:
    """(importing unit, imported unit) -> the 'file -> module' lines that make the edge."""
    edges: dict[tuple[str, str], list[str]] = defaultdict(list)
    for path in sorted(ROOT.rglob("*.py")):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        package = parts[:-1]  # the package a relative import starts from
        module = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name[8:] for a in node.names if a.name.startswith("xinfang.")]
            elif isinstance(node, ast.ImportFrom) and node.level:
                base = package[: len(package) - node.level + 1]
                if node.module:
                    targets = [".".join([*base, node.module])]
                else:  # from .. import x: a module x, or a name of the package
                    targets = [
                        ".".join([*base, a.name]) if _exists(".".join([*base, a.name]))
                        else ".".join(base)
                        for a in node.names
                    ]  # fmt: skip
            elif isinstance(node, ast.ImportFrom) and node.module:
                if node.module == "xinfang":
                    targets = [""]
                elif node.module.startswith("xinfang."):
                    targets = [node.module[8:]]
            for target in targets:
                a, b = unit_of(module), unit_of(target)
                if a != b:
                    edges[(a, b)].append(f"{path.relative_to(ROOT)} -> {target or 'xinfang'}")
    return edges


def cycles(edges: set[tuple[str, str]]) -> list[list[str]]:
    """Strongly connected groups of more than one unit (Tarjan), each sorted."""
    graph: dict[str, set[str]] = defaultdict(set)
    for a, b in edges:
        graph[a].add(b)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sorted(found)


def violations(edges: dict[tuple[str, str], list[str]]) -> dict[str, list[str]]:
    """Each broken rule, named as in KNOWN_VIOLATIONS -> the imports that break it."""
    out: dict[str, list[str]] = {}
    downward = set()
    for (a, b), where in edges.items():
        if LEVEL[b] < LEVEL[a]:
            out[f"{a} -> {b} (upward)"] = where
        elif b in NEVER.get(a, set()):
            out[f"{a} -> {b} (never)"] = where
        else:
            downward.add((a, b))
    # An upward edge closes a loop of its own; the loops left are within one layer.
    for group in cycles(downward):
        members = set(group)
        out[f"cycle: {', '.join(group)}"] = [
            w for (a, b) in downward if a in members and b in members for w in edges[(a, b)]
        ]
    return out


def test_every_unit_has_a_layer() -> None:
    units = {u for edge in imports() for u in edge}
    units |= {unit_of(p.stem) for p in ROOT.glob("*.py")} | {
        p.parent.name for p in ROOT.glob("*/__init__.py")
    }
    units.discard("__init__")  # the root package, as the unit "xinfang"
    assert sorted(units - set(LEVEL)) == [], "add the new package to LAYERS"
    assert {"domain", "node", "node.app", "audit", "store", "codec", "api"} <= units


def test_no_new_layer_violation_and_none_fixed_but_still_listed() -> None:
    found = violations(imports())
    new = {v: found[v] for v in sorted(set(found) - KNOWN_VIOLATIONS)}
    assert new == {}, "a new import breaks the layering (docs/architecture.md)"
    gone = sorted(KNOWN_VIOLATIONS - set(found))
    assert gone == [], "fixed: remove these from KNOWN_VIOLATIONS"


def test_domain_imports_only_itself() -> None:
    outside = {b: w for (a, b), w in imports().items() if a == "domain"}
    assert outside == {}


def test_the_check_sees_violations() -> None:
    """The rules catch each kind on a made-up graph (so the test cannot pass vacuously)."""
    made_up = {
        ("domain", "store"): ["domain/x.py -> store"],
        ("node", "audit"): ["node/x.py -> audit"],
        ("api", "node.app"): ["api/x.py -> node.app"],
        ("node.app", "api"): ["node/app.py -> api"],
        ("codec", "store"): ["codec/x.py -> store"],
    }
    assert set(violations(made_up)) == {
        "domain -> store (upward)",
        "node -> audit (never)",
        "cycle: api, node.app",
    }
    real = imports()
    assert ("node.app", "node") in real and ("audit", "domain") in real
