"""Reading deploy/docker/Dockerfile, so tests derive what the image holds from the file itself.

Only the instructions the file uses are understood (FROM, WORKDIR, COPY, RUN, ENV key=value,
VOLUME, EXPOSE, CMD in JSON form); anything else fails the read, so a change to the Dockerfile
that the tests would not follow is noticed.
"""

from __future__ import annotations

import json
import shlex
import shutil
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

ROOT = Path(__file__).resolve().parents[1]
DOCKERFILE = ROOT / "deploy" / "docker" / "Dockerfile"
# .dockerignore entries that can occur under the copied folders (the rest lie outside them)
IGNORED = shutil.ignore_patterns("__pycache__", "*.egg-info")


@dataclass
class Dockerfile:
    workdir: PurePosixPath = field(default_factory=lambda: PurePosixPath("/"))
    copies: list[tuple[str, PurePosixPath]] = field(default_factory=list)  # context → image
    run: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    cmd: list[str] = field(default_factory=list)

    def image_path(self, source: str, dest: str) -> PurePosixPath:
        target = self.workdir / dest  # an absolute dest replaces the working directory
        if dest.endswith("/") or dest in (".", "./"):
            return target / PurePosixPath(source).name
        return target

    def source_of(self, image_path: str) -> Path | None:
        """The build-context file that the image has at `image_path`, or None."""
        wanted = PurePosixPath(image_path)
        for source, target in self.copies:
            if wanted == target or target in wanted.parents:
                return ROOT / source / wanted.relative_to(target)
        return None

    def materialise(self, app: Path) -> None:
        """Copy exactly what the COPY lines copy into `app`, which stands for the WORKDIR."""
        for source, target in self.copies:
            dest = app / target.relative_to(self.workdir)
            origin = ROOT / source
            if origin.is_dir():
                shutil.copytree(origin, dest, ignore=IGNORED)
            else:
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(origin, dest)


def _logical_lines(text: str) -> list[str]:
    lines: list[str] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        lines.append(pending + line)
        pending = ""
    assert not pending, "Dockerfile ends inside a continued line"
    return lines


def read_dockerfile(path: Path = DOCKERFILE) -> Dockerfile:
    result = Dockerfile()
    for line in _logical_lines(path.read_text(encoding="utf-8")):
        instruction, _, rest = line.partition(" ")
        match instruction.upper():
            case "FROM" | "VOLUME" | "EXPOSE":
                pass
            case "WORKDIR":
                result.workdir = result.workdir / rest.strip()
            case "COPY":
                words = shlex.split(rest)
                assert not any(w.startswith("--") for w in words), f"COPY option in: {line}"
                *sources, dest = words
                for source in sources:
                    result.copies.append((source, result.image_path(source, dest)))
            case "RUN":
                result.run.append(rest.strip())
            case "ENV":
                for word in shlex.split(rest):
                    key, sep, value = word.partition("=")
                    assert sep, f"ENV in key=value form only: {line}"
                    result.env[key] = value
            case "CMD":
                result.cmd = list(json.loads(rest))
            case _:
                raise AssertionError(f"Dockerfile instruction the tests do not follow: {line}")
    return result
