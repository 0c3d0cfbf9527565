"""docker-compose.yml is for users with Docker; here we check it is well-formed and consistent."""

from __future__ import annotations

from pathlib import Path

import yaml

from xinfang.domain.topology import Topology
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
        topology_file = ROOT / str(env["XINFANG_TOPOLOGY"]).removeprefix("/app/")
        assert topology_file.is_file()
        assert "command" not in service or service["command"][:3] == ["xinfang", "node", "run"]
    assert {lv.value for lv in levels} == {"province", "city", "county"}


def test_dockerfile_copies_what_the_node_needs() -> None:
    dockerfile = (ROOT / "deploy" / "docker" / "Dockerfile").read_text(encoding="utf-8")
    for needed in ("schemas", "services", "deploy/topology"):
        assert f"COPY {needed}" in dockerfile
