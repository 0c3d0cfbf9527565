"""The audit chain sits below the node and the auditors (docs/decisions/013-chain-package.md):
`node/` imports nothing from `audit/`, and `chain/` imports neither of them."""

from __future__ import annotations

import ast
from pathlib import Path

import xinfang

ROOT = Path(xinfang.__file__).parent


def imported_modules(path: Path) -> set[str]:
    """Absolute names of the modules a file imports (relative imports resolved)."""
    package = ["xinfang", *path.relative_to(ROOT).parent.parts]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join([*base, *([node.module] if node.module else [])])
            found.add(module)
            found |= {f"{module}.{a.name}" for a in node.names}
    return found


def offenders(package: str, forbidden: set[str]) -> list[str]:
    files = sorted((ROOT / package).rglob("*.py"))
    assert len(files) >= 3  # the scan really looked at the package's files
    return [
        f"{path.relative_to(ROOT)}: {name}"
        for path in files
        for name in sorted(imported_modules(path))
        if name.split(".")[:2] in (["xinfang", f] for f in forbidden)
    ]


def test_node_imports_nothing_from_audit() -> None:
    assert offenders("node", {"audit"}) == []


def test_chain_imports_neither_node_nor_audit() -> None:
    assert offenders("chain", {"audit", "node", "api", "devtools", "store", "ops"}) == []


def test_the_scan_sees_relative_imports() -> None:
    """The scan would catch the import the node had before the chain package."""
    names = imported_modules(ROOT / "audit" / "verify.py")
    assert "xinfang.chain.verifier" in names
    probe = ROOT / "node" / "checkpoints.py"
    assert "xinfang.chain.keys" in imported_modules(probe)
