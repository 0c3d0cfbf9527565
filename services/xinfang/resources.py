"""The data files a node needs to run: Avro schemas, rule files and topologies (decision 010).

The repository's top-level folders are the source of truth (docs and integrators point to them);
the wheel carries copies of them as package data, `xinfang/_data/<name>/`, made by setup.py at
build time from `SHIPPED`. This module is the one place that knows both:

* run from a checkout (editable install) → the checkout's folder itself;
* installed from a wheel → the package data, found with importlib.resources.

Explicit paths (XINFANG_TOPOLOGY, XINFANG_RULES_DIR, a `rules_dir` or `schema_dir` argument)
are handled by the callers and always win over these defaults. Standard library only: setup.py
reads `SHIPPED` from this file before the package is installed.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from .domain.errors import ConfigurationError

PACKAGE = "xinfang"
DATA = "_data"  # xinfang/_data/ inside an installed wheel

# name under xinfang/_data/ -> (folder in the checkout, files shipped, as glob patterns)
SHIPPED: dict[str, tuple[str, tuple[str, ...]]] = {
    "schemas": ("schemas", ("**/*.avsc",)),  # events/, types/, history/, audit/, public/
    "rules": ("deploy/rules", ("**/*.yaml", "**/*.yml")),  # holidays/, provinces/
    "topology": ("deploy/topology", ("*.yaml", "*.yml")),  # not keys/: each deployment has its own
}


class ResourceMissing(ConfigurationError, FileNotFoundError):
    """A data folder is neither in the installed package nor in a checkout."""

    code = "XF-RESOURCE-MISSING"
    zh = "缺少数据或工具"
    en = "Data or a tool is missing from this installation"


def checkout_root() -> Path | None:
    """The repository root if this module is imported from a source checkout
    (`<root>/services/xinfang/resources.py`, the editable install), else None."""
    here = Path(__file__).resolve()
    root = here.parents[2]
    if here.parent.parent.name == "services" and (root / "pyproject.toml").is_file():
        return root
    return None


def data_dir(name: str) -> Path:
    """The folder `name` of SHIPPED ("schemas", "rules" or "topology") as a file-system path.

    Raises ResourceMissing (a FileNotFoundError) naming the folder that is missing."""
    if name not in SHIPPED:
        raise KeyError(name)
    source = SHIPPED[name][0]
    root = checkout_root()
    if root is not None:  # a checkout: its own folder, never a stale copy
        if (root / source).is_dir():
            return root / source
        raise ResourceMissing(f"源码检出中缺少 / missing in the checkout: {root / source}")
    packaged = resources.files(PACKAGE) / DATA / name
    if isinstance(packaged, Path) and packaged.is_dir():
        return packaged
    raise ResourceMissing(
        f"已安装的包中缺少数据目录 {packaged}，请重新安装完整的 wheel（在源码检出中 pip install .）"
        f" / the installed package lacks its data folder {packaged}: reinstall a complete wheel "
        "(pip install . in a checkout builds one; it must be unpacked, not imported from a zip)"
    )


def checkout_dir(relative: str, purpose: tuple[str, str]) -> Path:
    """A folder that only a source checkout has (developer tools such as deploy/kafka).

    `purpose` is (Chinese, English) advice for the message of the ResourceMissing raised when
    xinfang runs from an installed wheel (or the folder is missing from the checkout)."""
    root = checkout_root()
    if root is not None and (root / relative).is_dir():
        return root / relative
    where = str(root / relative) if root is not None else f"{PACKAGE} @ {Path(__file__).parent}"
    zh, en = purpose
    raise ResourceMissing(
        f"{relative} 只在源码检出中提供，已安装的包中没有（{where}）；{zh} / {relative} exists "
        f"only in a source checkout, not in the installed package ({where}); {en}"
    )
