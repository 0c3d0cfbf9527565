"""docker-compose.yml is for users with Docker; here we check it is well-formed and consistent."""

from __future__ import annotations

import shlex
import tomllib
from pathlib import Path

import yaml

from tests.dockerfile import read_dockerfile
from xinfang.domain.topology import Topology
from xinfang.resources import SHIPPED
from xinfang.settings import NodeSettings

ROOT = Path(__file__).resolve().parents[2]


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))


def test_compose_declares_kafka_in_kraft_mode() -> None:
    kafka = compose()["services"]["kafka"]
    assert kafka["image"].startswith("apache/kafka:4.")
    env = kafka["environment"]
    assert env["KAFKA_PROCESS_ROLES"] == "broker,controller"
    assert "ZOOKEEPER" not in " ".join(env)


def test_every_node_service_is_a_division_of_the_topology(topology: Topology) -> None:
    services = compose()["services"]
    nodes = {name: svc for name, svc in services.items() if name.startswith("node-")}
    assert len(nodes) >= 4
    levels = set()
    for name, service in nodes.items():
        env = service["environment"]
        settings = NodeSettings.from_env(env=env)  # configured only through the environment
        assert name == f"node-{settings.division}"
        levels.add(topology.division(settings.division).level)
        assert settings.bootstrap_servers == "kafka:9092"
        topology_file = read_dockerfile().source_of(str(env["XINFANG_TOPOLOGY"]))
        assert topology_file is not None and topology_file.is_file()  # a file the image has
        assert "command" not in service or service["command"][:3] == ["xinfang", "node", "run"]
    assert {lv.value for lv in levels} == {"province", "city", "county"}


def build_inputs() -> set[str]:
    """What `pip install .` reads, from the build configuration itself: pyproject.toml,
    setup.py, the readme, the package folders and the data folders setup.py ships."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    where = project["tool"]["setuptools"]["packages"]["find"]["where"]
    return {
        "pyproject.toml",
        "setup.py",
        project["project"]["readme"],
        *where,
        *(source for source, _ in SHIPPED.values()),
    }


def test_dockerfile_copies_what_the_wheel_is_built_from() -> None:
    dockerfile = read_dockerfile()
    copied = {source.rstrip("/") for source, _ in dockerfile.copies}
    for source in copied:
        assert (ROOT / source).exists(), source
    missing = {
        need
        for need in build_inputs()
        if not any(need == c or need.startswith(c + "/") for c in copied)
    }
    assert not missing, f"the Dockerfile does not copy {sorted(missing)}"


def test_dockerfile_installs_a_wheel_not_the_checkout() -> None:
    dockerfile = read_dockerfile()
    installs = [shlex.split(run) for run in dockerfile.run if "pip" in run]
    assert len(installs) == 1
    words = installs[0]
    assert words[:2] == ["pip", "install"] and words[-1] == "."
    assert not {"-e", "--editable"} & set(words)  # a wheel built from the copied files
    assert dockerfile.cmd == ["xinfang", "node", "run"]
