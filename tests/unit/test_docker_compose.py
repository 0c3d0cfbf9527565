"""docker-compose.yml is for users with Docker; here we check it is well-formed and consistent."""

from __future__ import annotations

import json
import os
import shlex
import stat
import subprocess
import sys
import tomllib
from pathlib import Path

import yaml

from tests.dockerfile import read_dockerfile
from xinfang.domain.topology import Topology
from xinfang.resources import SHIPPED
from xinfang.settings import NodeSettings
from xinfang.topology_file import load_topology

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


# ---------------------------------------------------------------------------------------------
# Security (issue 13 item 6): the brokers are reachable only over SASL_SSL, talk to each other
# over mutual TLS, deny by default; every node service gets its own credentials and nothing else.

BROKERS = ("kafka", "kafka-2", "kafka-3")


def _kv(text: str) -> dict[str, str]:
    return dict(item.split(":", 1) for item in text.split(","))


def _broker_env(name: str) -> dict[str, str]:
    return {k: str(v) for k, v in compose()["services"][name]["environment"].items()}


def test_every_broker_is_secured() -> None:
    for name in BROKERS:
        env = _broker_env(name)
        protocols = _kv(env["KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"])
        listeners = {item.split("://")[0] for item in env["KAFKA_LISTENERS"].split(",")}
        assert listeners == set(protocols)
        assert "PLAINTEXT" not in " ".join(protocols.values()), name
        assert protocols["CLIENT"] == "SASL_SSL"
        inter = env["KAFKA_INTER_BROKER_LISTENER_NAME"]
        controller = env["KAFKA_CONTROLLER_LISTENER_NAMES"]
        for internal in (inter, controller):  # mutual TLS between brokers and controllers
            assert protocols[internal] == "SSL"
            assert env[f"KAFKA_LISTENER_NAME_{internal}_SSL_CLIENT_AUTH"] == "required"
        advertised = {item.split("://")[0] for item in env["KAFKA_ADVERTISED_LISTENERS"].split(",")}
        assert advertised <= {"CLIENT", inter}
        assert env["KAFKA_SASL_ENABLED_MECHANISMS"] == "SCRAM-SHA-512"
        assert env["KAFKA_LISTENER_NAME_CLIENT_SASL_ENABLED_MECHANISMS"] == "SCRAM-SHA-512"
        assert (
            "ScramLoginModule" in env["KAFKA_LISTENER_NAME_CLIENT_SCRAM__SHA__512_SASL_JAAS_CONFIG"]
        )
        assert env["KAFKA_AUTHORIZER_CLASS_NAME"] == (
            "org.apache.kafka.metadata.authorizer.StandardAuthorizer"
        )
        assert env["KAFKA_ALLOW_EVERYONE_IF_NO_ACL_FOUND"] == "false"
        assert env["KAFKA_SSL_ENDPOINT_IDENTIFICATION_ALGORITHM"] == "https"
        service = compose()["services"][name]
        assert service["depends_on"]["kafka-init"]["condition"] == "service_completed_successfully"
        assert "admin-client.properties" in " ".join(service["healthcheck"]["test"])


def test_cluster_profile_adds_two_brokers() -> None:
    services = compose()["services"]
    assert "profiles" not in services["kafka"]
    assert services["kafka-2"]["profiles"] == services["kafka-3"]["profiles"] == ["cluster"]
    ids = {_broker_env(name)["KAFKA_NODE_ID"] for name in BROKERS}
    assert ids == {"1", "2", "3"}
    data = [v for name in BROKERS for v in services[name]["volumes"] if "/var/lib/kafka/data" in v]
    assert len({v.split(":")[0] for v in data}) == 3  # one data volume per broker
    init = services["kafka-init"]["environment"]
    assert init["XINFANG_COMPOSE_PROFILES"] == "${COMPOSE_PROFILES:-}"


def _own_mount(service: dict) -> dict:
    mounts = [m for m in service["volumes"] if isinstance(m, dict)]
    assert all(m["source"] != "kafka-secrets" or "subpath" in m.get("volume", {}) for m in mounts)
    assert not any(isinstance(m, str) and m.startswith("kafka-secrets") for m in service["volumes"])
    (mount,) = [m for m in mounts if m["source"] == "kafka-secrets"]
    return mount


def test_every_node_service_has_its_own_credentials() -> None:
    services = compose()["services"]
    nodes = {name: svc for name, svc in services.items() if name.startswith("node-")}
    seen = set()
    for service in nodes.values():
        env = service["environment"]
        mount = _own_mount(service)  # only its own folder of the secrets volume, read-only
        assert mount["read_only"] is True
        assert mount["volume"]["subpath"] == f"clients/node-{env['XINFANG_DIVISION']}"
        assert env["XINFANG_KAFKA_SECURITY_PROTOCOL"] == "SASL_SSL"
        assert env["XINFANG_KAFKA_CREDENTIALS"].startswith(mount["target"] + "/")
        assert env["XINFANG_KAFKA_CA_FILE"].startswith(mount["target"] + "/")
        seen.add(mount["volume"]["subpath"])
    assert len(seen) == len(nodes)
    provision = services["kafka-provision"]  # topics and ACLs: the only admin client
    assert _own_mount(provision)["volume"]["subpath"] == "clients/admin"


def test_init_and_broker_entrypoint_render_a_secured_three_broker_config(tmp_path: Path) -> None:
    """compose_init.py + docker-broker.sh, run here with a stand-in for Kafka's scripts."""
    secrets, bin_dir = tmp_path / "secrets", tmp_path / "bin"
    topology = ROOT / "deploy" / "topology" / "chifeng.yaml"
    init_env = {
        **os.environ,
        **{k: str(v) for k, v in compose()["services"]["kafka-init"]["environment"].items()},
        "XINFANG_SECRETS": str(secrets),
        "XINFANG_TOPOLOGY": str(topology),
        "XINFANG_COMPOSE_PROFILES": "cluster",
    }
    run = subprocess.run(
        [sys.executable, str(ROOT / "deploy" / "kafka" / "compose_init.py")],
        env=init_env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    bin_dir.mkdir()
    for tool in ("kafka-storage.sh", "kafka-server-start.sh"):  # record the arguments
        script = bin_dir / tool
        script.write_text(f'#!/bin/sh\nprintf "%s\\n" "$@" > "{tmp_path}/{tool}.args"\n')
        script.chmod(0o755)
    env = {k: v.replace("$$", "$") for k, v in _broker_env("kafka-2").items()}  # compose unescape
    env["KAFKA_LOG_DIRS"] = str(tmp_path / "data")
    props = tmp_path / "server.properties"
    run = subprocess.run(
        ["sh", str(ROOT / "deploy" / "kafka" / "docker-broker.sh")],
        env={"PATH": os.environ["PATH"], **env, "XINFANG_SECRETS": str(secrets),
             "XINFANG_KAFKA_BIN": str(bin_dir), "XINFANG_BROKER_PROPS": str(props)},
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    conf = dict(line.split("=", 1) for line in props.read_text().splitlines() if "=" in line)
    assert conf["listener.name.client.scram-sha-512.sasl.jaas.config"].endswith("required;")
    assert conf["ssl.principal.mapping.rules"] == "RULE:^CN=([A-Za-z0-9._-]+),.*$/$1/,DEFAULT"
    assert conf["node.id"] == "2"
    assert conf["ssl.keystore.location"] == f"{secrets}/pki/broker-2.pem"
    assert conf["controller.quorum.voters"] == "1@kafka:9093,2@kafka-2:9093,3@kafka-3:9093"
    assert conf["super.users"] == "User:admin;User:kafka-1;User:kafka-2;User:kafka-3"
    assert conf["min.insync.replicas"] == "2" and conf["default.replication.factor"] == "3"
    assert "heap.opts" not in conf  # JVM settings are not broker properties
    assert "PLAINTEXT" not in props.read_text()
    # Storage formatted with one SCRAM user per principal of the topology + the service users.
    fmt = (tmp_path / "kafka-storage.sh.args").read_text().splitlines()
    users = {a.split("name=")[1].split(",")[0] for a in fmt if a.startswith("--add-scram=")}
    codes = [d.code for d in load_topology(topology).divisions]
    assert users == {f"node-{c}" for c in codes} | {"auditor", "integrator", "admin"}
    assert (tmp_path / "kafka-server-start.sh.args").read_text().strip() == str(props)
    # Every node's own folder: its credentials (0600) naming the CA at its mount point.
    for code in codes:
        folder = secrets / "clients" / f"node-{code}"
        doc = json.loads((folder / "credentials.json").read_text())
        assert doc["username"] == f"node-{code}" and doc["ca_file"] == "/run/xinfang-kafka/ca.crt"
        assert stat.S_IMODE((folder / "credentials.json").stat().st_mode) == 0o600
        assert (folder / "ca.crt").read_bytes() == (secrets / "pki" / "ca.crt").read_bytes()
