"""Schema evolution check with Apache Avro's own SchemaCompatibility (Java, org.apache.avro:avro).

deploy/avro-compat/src/AvroCompat.java checks every ordered pair of versions of each record
with `SchemaCompatibility.checkReaderWriterCompatibility` (FULL_TRANSITIVE) and prints each
version's fingerprint as `SchemaNormalization.parsingFingerprint64` computes it. Its class
path comes from Maven Central (`mvn dependency:copy-dependencies` on deploy/avro-compat/pom.xml)
and is compiled with `javac`, both cached in deploy/avro-compat/.cache/ (git-ignored; set
XINFANG_AVRO_COMPAT_HOME to move it) and rebuilt when the pom or the source changes.

    python -m xinfang.contract.avro_compat          # check schemas/history + current schemas
"""

from __future__ import annotations

import argparse
import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..codec.schemas import default_schema_dir
from ..domain.errors import ConfigurationError
from ..resources import checkout_dir
from .history import current_schemas, released, render


class AvroCompatUnavailable(ConfigurationError, RuntimeError):
    """java, javac or mvn is missing, or Maven Central could not be reached."""

    code = "XF-AVRO-COMPAT-UNAVAILABLE"
    zh = "Avro 兼容性检查工具不可用"
    en = "The Avro compatibility checker is unavailable"


def tool_dir() -> Path:
    advice = ("请在源码检出中运行兼容性检查", "run the compatibility check in a checkout")
    return checkout_dir("deploy/avro-compat", advice)


def cache_dir() -> Path:
    return Path(os.environ.get("XINFANG_AVRO_COMPAT_HOME") or tool_dir() / ".cache").resolve()


def _stamp() -> str:
    digest = hashlib.sha256()
    for path in (tool_dir() / "pom.xml", tool_dir() / "src" / "AvroCompat.java"):
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _run(cmd: list[str], what: str) -> None:
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        raise AvroCompatUnavailable(
            f"{what} 失败 / failed (exit {done.returncode}): {' '.join(cmd)}\n"
            f"{done.stdout[-4000:]}\n{done.stderr[-4000:]}"
        )


def ensure_built() -> str:
    """Fetch the jars and compile the checker once; returns the Java class path."""
    for tool in ("java", "javac", "mvn"):
        if shutil.which(tool) is None:
            raise AvroCompatUnavailable(
                f"找不到 {tool} / {tool} not found (Debian: apt-get install -y "
                "openjdk-17-jdk-headless maven)"
            )
    cache = cache_dir()
    cache.mkdir(parents=True, exist_ok=True)
    classpath = f"{cache / 'classes'}{os.pathsep}{cache / 'lib' / '*'}"
    stamp = _stamp()
    with (cache / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one build at a time (parallel test runs)
        stamp_file = cache / "STAMP"
        if stamp_file.is_file() and stamp_file.read_text().strip() == stamp:
            return classpath
        for name in ("lib", "classes"):
            shutil.rmtree(cache / name, ignore_errors=True)
        _run(
            [
                "mvn", "-q", "-B", "-Dstyle.color=never",
                "-f", str(tool_dir() / "pom.xml"),
                "dependency:copy-dependencies", f"-DoutputDirectory={cache / 'lib'}",
            ],
            "mvn dependency:copy-dependencies",
        )  # fmt: skip
        _run(
            [
                "javac", "-encoding", "UTF-8", "-d", str(cache / "classes"),
                "-cp", str(cache / "lib" / "*"),
                str(tool_dir() / "src" / "AvroCompat.java"),
            ],
            "javac",
        )  # fmt: skip
        stamp_file.write_text(stamp + "\n")
    return classpath


@dataclass
class CompatReport:
    ok: bool
    exit_code: int
    fingerprints: dict[str, tuple[str, str]] = field(default_factory=dict)  # label -> (hex, name)
    incompatible: list[tuple[str, str, str, str]] = field(default_factory=list)
    invalid: list[tuple[str, str]] = field(default_factory=list)
    checked: dict[str, tuple[int, int]] = field(default_factory=dict)  # record -> versions, pairs
    output: str = ""

    def failed_records(self) -> set[str]:
        return {r for r, *_ in self.incompatible} | {
            label.split("/")[0] for label, _ in self.invalid
        }


def check_tree(root: Path) -> CompatReport:
    """Run the checker over `root`/<record>/<version>.avsc."""
    classpath = ensure_built()
    done = subprocess.run(
        [
            "java",
            "-Xshare:auto",
            "-XX:TieredStopAtLevel=1",
            "-cp",
            classpath,
            "AvroCompat",
            str(root),
        ],
        capture_output=True,
        text=True,
    )
    if done.returncode not in (0, 1):
        raise AvroCompatUnavailable(f"AvroCompat exit {done.returncode}:\n{done.stderr[-4000:]}")
    report = CompatReport(ok=done.returncode == 0, exit_code=done.returncode, output=done.stdout)
    for line in done.stdout.splitlines():
        kind, *rest = line.split("\t")
        if kind == "FINGERPRINT":
            report.fingerprints[rest[0]] = (rest[1], rest[2])
        elif kind == "INCOMPATIBLE":
            record, reader, writer = rest[0], rest[1], rest[2]
            report.incompatible.append((record, reader, writer, " ".join(rest[3:])))
        elif kind == "INVALID":
            report.invalid.append((rest[0], rest[1]))
        elif kind == "CHECKED":
            report.checked[rest[0]] = (int(rest[1]), int(rest[2]))
    return report


def evolution_tree(target: Path, schema_dir: Path | None = None) -> Path:
    """Lay out every released version of each record, plus the current schema when it is not
    released yet (as `current.avsc`), for `check_tree`."""
    root = schema_dir or default_schema_dir()
    history = released(root)
    for name, schema in current_schemas(root).items():
        folder = target / name
        folder.mkdir(parents=True, exist_ok=True)
        versions = history.get(name, [])
        for version in versions:
            shutil.copyfile(version.path, folder / version.path.name)
        if not versions or versions[-1].canonical != schema.canonical:
            (folder / "current.avsc").write_text(render(schema.expanded), encoding="utf-8")
    for name, versions in history.items():  # records that are no longer written
        folder = target / name
        if not folder.exists():
            folder.mkdir(parents=True)
            for version in versions:
                shutil.copyfile(version.path, folder / version.path.name)
    return target


def check_repository(schema_dir: Path | None = None) -> CompatReport:
    with tempfile.TemporaryDirectory(prefix="xinfang-avro-compat-") as tmp:
        return check_tree(evolution_tree(Path(tmp), schema_dir))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m xinfang.contract.avro_compat",
        description="模式演进检查（FULL_TRANSITIVE）/ schema evolution check with Apache Avro",
    )
    parser.add_argument("--schemas", type=Path, help="schemas/ folder (default: the repository's)")
    args = parser.parse_args(argv)
    report = check_repository(args.schemas)
    sys.stdout.write(report.output)
    print("兼容 / compatible" if report.ok else "不兼容 / INCOMPATIBLE")
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
