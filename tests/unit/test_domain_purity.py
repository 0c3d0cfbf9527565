"""The domain core is pure: it imports no broker, codec or database library."""

from __future__ import annotations

import ast
from pathlib import Path

import xinfang.domain

FORBIDDEN = {
    "faust",
    "aiokafka",
    "sqlalchemy",
    "fastavro",
    "mode",
    "yaml",
    "aiohttp",
    "fastapi",
    "starlette",
    "pydantic",
    "uvicorn",
}


def test_domain_imports_no_adapter_library() -> None:
    root = Path(xinfang.domain.__file__).parent
    offenders = []
    for path in sorted(root.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            offenders += [f"{path.name}: {n}" for n in names if n.split(".")[0] in FORBIDDEN]
    assert offenders == []
    assert len(list(root.glob("*.py"))) >= 5  # the check really looked at the domain files
