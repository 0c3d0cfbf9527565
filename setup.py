"""Build step only (metadata is in pyproject.toml): the wheel ships the checkout's schemas/,
deploy/rules/ and deploy/topology/ as package data xinfang/_data/ (decision 010).

What is shipped is `SHIPPED` in services/xinfang/resources.py, the module that finds the files
again at run time; the top-level folders stay the source of truth and are copied afresh on
every build (a stale copy in build/ is removed first). An editable install copies nothing:
the package then reads the checkout's folders directly.
"""

from __future__ import annotations

import ast
import shutil
from pathlib import Path
from typing import Any

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent


def _constants(path: Path, names: set[str]) -> dict[str, Any]:
    """The literal values of the module-level assignments `names` of `path`, read without
    importing it (the module imports the package, which is not installed yet)."""
    found: dict[str, Any] = {}
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.AnnAssign) and node.value is not None:
            target, value = node.target, node.value
        elif isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
        else:
            continue
        if isinstance(target, ast.Name) and target.id in names:
            found[target.id] = ast.literal_eval(value)
    missing = names - set(found)
    if missing:
        raise SystemExit(f"setup.py: {path} lacks {', '.join(sorted(missing))}")
    return found


RESOURCES = _constants(
    ROOT / "services" / "xinfang" / "resources.py", {"PACKAGE", "DATA", "SHIPPED"}
)


class BuildPyWithData(build_py):
    def run(self) -> None:
        super().run()
        if self.editable_mode:
            return
        target = Path(self.build_lib) / RESOURCES["PACKAGE"] / RESOURCES["DATA"]
        shutil.rmtree(target, ignore_errors=True)
        for name, (source, patterns) in RESOURCES["SHIPPED"].items():
            folder = ROOT / source
            files = sorted({p for pattern in patterns for p in folder.glob(pattern)})
            if not files:
                raise SystemExit(f"setup.py: nothing to ship from {folder} ({patterns})")
            for path in files:
                copy = target / name / path.relative_to(folder)
                copy.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(path, copy)


setup(cmdclass={"build_py": BuildPyWithData})
