"""Build step only (metadata is in pyproject.toml): the wheel ships the checkout's schemas/,
deploy/rules/ and deploy/topology/ as package data xinfang/_data/ (decision 010).

What is shipped is `SHIPPED` in services/xinfang/resources.py, the module that finds the files
again at run time; the top-level folders stay the source of truth and are copied afresh on
every build (a stale copy in build/ is removed first). An editable install copies nothing:
the package then reads the checkout's folders directly.
"""

from __future__ import annotations

import importlib
import shutil
import sys
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
# The package's own module, imported from the source tree: it needs only the standard library
# and the pure domain (xinfang.domain.errors), both present before any dependency is installed.
sys.path.insert(0, str(ROOT / "services"))
RESOURCES = vars(importlib.import_module("xinfang.resources"))


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
