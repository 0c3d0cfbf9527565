"""Issue 10 item 11: the Docker image starts a node.

Without Docker, the image is rebuilt as far as it matters: exactly the files the Dockerfile's
COPY lines copy are put in a folder standing for its WORKDIR, a wheel is built there (as its
`pip install .` does, offline with this venv's setuptools) and installed into a fresh venv that
sees this venv's dependencies but not the checkout. A node started from that install with the
environment of the Dockerfile and docker-compose.yml must answer /health and register a case.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from tests.dockerfile import ROOT, read_dockerfile
from xinfang.client import ApiError, NodeClient
from xinfang.devtools import secured
from xinfang.devtools.broker import Broker, free_port
from xinfang.devtools.scenario import CITY, CITY_OFFICE, PETITION, wait_for
from xinfang.devtools.staff import StaffClient, process_staff
from xinfang.domain.clock import system_clock
from xinfang.resources import SHIPPED
from xinfang.topology_file import load_topology

pytestmark = pytest.mark.integration


@dataclass(frozen=True)
class Image:
    app: Path  # stands for the image's WORKDIR (/app)
    venv: Path  # the wheel installed, non-editable
    site: Path  # its site-packages

    def python(self, code: str, env: dict[str, str], cwd: Path) -> dict[str, object]:
        done = subprocess.run(
            [str(self.venv / "bin" / "python"), "-c", code],
            env=env, cwd=cwd, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        result: dict[str, object] = json.loads(done.stdout)
        return result


def _run(cmd: list[str], cwd: Path) -> None:
    done = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"{' '.join(cmd)}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"


def _base_env() -> dict[str, str]:
    """A container's environment: no XINFANG_*, PYTHONPATH or KAFKA_* from the test run."""
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8"}


@pytest.fixture(scope="module")
def image(tmp_path_factory: pytest.TempPathFactory) -> Image:
    dockerfile = read_dockerfile()
    tmp = tmp_path_factory.mktemp("image")
    app = tmp / "app"
    dockerfile.materialise(app)
    wheels = tmp / "wheels"
    # `pip install .` of the Dockerfile, split into its two steps so it runs offline here
    _run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
         "--quiet", "--wheel-dir", str(wheels), "."],
        cwd=app,
    )  # fmt: skip
    (wheel,) = wheels.glob("xinfang-*.whl")
    venv = tmp / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)], cwd=tmp)
    where = "import sysconfig; print(sysconfig.get_paths()['purelib'])"
    site = Path(subprocess.check_output([venv / "bin" / "python", "-c", where], text=True).strip())
    # The dependencies come from this venv by path: its .pth files (the editable install of
    # the checkout among them) are not processed for a folder listed in a .pth file.
    deps = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (site / "project-dependencies.pth").write_text("\n".join(sorted(deps)) + "\n")
    _run(
        [sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install",
         "--no-deps", "--no-index", "--quiet", str(wheel)],
        cwd=tmp,
    )  # fmt: skip
    return Image(app=app, venv=venv, site=site)


PROBE = """
import json, os, sys
import xinfang
from xinfang.codec.schemas import SchemaCatalogue, default_schema_dir
from xinfang.rules_file import default_rules_dir, load_calendar
from xinfang.settings import NodeSettings
from xinfang.topology_file import default_topology_path, load_topology
from xinfang.devtools.broker import repo_root
try:
    repo_root()
    kafka = None
except FileNotFoundError as err:
    kafka = str(err)
settings = NodeSettings.from_env(division="150400")  # XINFANG_RULES_DIR, read as a node does
print(json.dumps({
    "package": xinfang.__file__,
    "path": sys.path,
    "schemas": str(default_schema_dir()),
    "events": len(SchemaCatalogue().by_name),
    "history": len(list((default_schema_dir() / "history").glob("*/v*.avsc"))),
    "rules": str(settings.rules_dir or default_rules_dir()),
    "years": sorted(load_calendar("150400", settings.rules_dir).years),
    "topology": str(default_topology_path()),
    "divisions": len(load_topology().divisions),
    "kafka": kafka,
}))
"""


def test_installed_wheel_finds_its_data_without_the_checkout(image: Image, tmp_path: Path) -> None:
    found = image.python(PROBE, _base_env(), cwd=tmp_path)
    package = Path(str(found["package"]))
    assert image.site in package.parents  # the wheel, not the checkout
    # the checkout's package folder is not importable at all: only the wheel's is on the path
    where = [p for p in map(Path, found["path"]) if (p / "xinfang" / "__init__.py").is_file()]  # type: ignore[call-overload]
    assert where == [image.site]
    data = image.site / "xinfang" / "_data"
    for name, (source, patterns) in SHIPPED.items():  # every shipped file, byte for byte
        src, dst = ROOT / source, data / name
        wanted = {p.relative_to(src) for pattern in patterns for p in src.glob(pattern)}
        assert wanted and {p.relative_to(dst) for p in dst.rglob("*.*")} == wanted
        assert all((dst / f).read_bytes() == (src / f).read_bytes() for f in wanted)
    assert Path(str(found["schemas"])) == data / "schemas"
    assert found["events"] == len(list((ROOT / "schemas" / "events").glob("*.avsc")))
    assert found["history"] == len(list((ROOT / "schemas" / "history").glob("*/v*.avsc")))
    assert Path(str(found["rules"])) == data / "rules"
    shipped_years = sorted(int(p.stem[3:]) for p in (ROOT / "deploy/rules/holidays").glob("CN-*"))
    assert found["years"] == shipped_years
    assert Path(str(found["topology"])) == data / "topology" / "chifeng.yaml"
    assert found["divisions"] == len(load_topology(ROOT / "deploy/topology/chifeng.yaml").divisions)
    # deploy/kafka is a checkout's tool: a clear refusal that says what to do instead
    assert "KAFKA_BOOTSTRAP_SERVERS" in str(found["kafka"])
    assert "源码检出" in str(found["kafka"]) and "source checkout" in str(found["kafka"])


def test_keys_are_never_published_into_the_installed_package(image: Image, tmp_path: Path) -> None:
    xinfang = str(image.venv / "bin" / "xinfang")
    refused = subprocess.run(
        [xinfang, "keys", "generate", "--nodes", CITY],
        env=_base_env(), cwd=tmp_path, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert refused.returncode != 0 and "--public-dir" in refused.stderr
    site = image.site / "xinfang"
    assert not list(site.rglob("*.pub")) and not list(site.rglob("*.keys.json"))
    done = subprocess.run(
        [xinfang, "keys", "generate", "--nodes", CITY, "--public-dir", "pub"],
        env=_base_env(), cwd=tmp_path, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "pub" / f"{CITY}.keys.json").is_file()  # a key set (decision 021)


def test_explicit_rules_dir_overrides_the_shipped_rules(image: Image, tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    (rules / "holidays").mkdir(parents=True)
    (rules / "holidays" / "CN-2026.yaml").write_bytes(
        (ROOT / "deploy/rules/holidays/CN-2026.yaml").read_bytes()
    )
    env = {**_base_env(), "XINFANG_RULES_DIR": str(rules)}
    found = image.python(PROBE, env, cwd=tmp_path)
    assert found["rules"] == str(rules)
    assert found["years"] == [2026]  # only the mounted folder's calendar


@pytest.fixture
def node_env(image: Image, kafka: Broker, tmp_path: Path) -> dict[str, str]:
    """The environment of compose service node-150400 over the Dockerfile's ENV, with only
    what must differ outside a container changed: broker, port, data folder, topic prefix."""
    dockerfile = read_dockerfile()
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    service = compose["services"][f"node-{CITY}"]["environment"]
    env = {**_base_env(), **dockerfile.env, **{str(k): str(v) for k, v in service.items()}}
    topology = dockerfile.source_of(env["XINFANG_TOPOLOGY"])
    assert topology is not None
    env.update(
        XINFANG_TOPOLOGY=str(image.app / topology.relative_to(ROOT)),  # the image's own copy
        KAFKA_BOOTSTRAP_SERVERS=kafka.bootstrap_servers,
        XINFANG_HTTP_HOST="127.0.0.1",
        XINFANG_HTTP_PORT=str(free_port()),
        XINFANG_DATA_DIR=str(tmp_path / "data"),
        XINFANG_PUBLIC_KEYS=str(tmp_path / "keys"),  # compose's shared /keys volume
        XINFANG_TOPIC_PREFIX=f"t{uuid.uuid4().hex[:10]}.",
    )
    # The compose service's Kafka credentials live at container paths (/run/xinfang-kafka):
    # outside a container the test broker's own files for this node stand in for them.
    for key in ("XINFANG_KAFKA_CREDENTIALS", "XINFANG_KAFKA_CA_FILE"):
        env.pop(key, None)
    if kafka.credentials_dir is None:
        env.pop("XINFANG_KAFKA_SECURITY_PROTOCOL", None)
        env.pop("XINFANG_KAFKA_SASL_MECHANISM", None)
    else:
        env["XINFANG_KAFKA_CREDENTIALS"] = str(kafka.credentials_dir / f"node-{CITY}.json")
        # what compose's kafka-provision service does before any node starts: topics and ACLs
        # of the topology under this prefix, as admin (a node holds no CREATE, decision 018)
        secured.prepare(
            kafka.bootstrap_servers,
            Path(env["XINFANG_TOPOLOGY"]),
            env["XINFANG_TOPIC_PREFIX"],
            kafka.credentials_dir,
        )
    return env


@pytest.fixture
def node(image: Image, node_env: dict[str, str], tmp_path: Path) -> Iterator[NodeClient]:
    cmd = read_dockerfile().cmd
    log = tmp_path / "node.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [str(image.venv / "bin" / cmd[0]), *cmd[1:]],
            env={**node_env, "PYTHONUNBUFFERED": "1"},
            cwd=tmp_path,  # not the checkout
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        client = NodeClient(f"http://127.0.0.1:{node_env['XINFANG_HTTP_PORT']}")

        def ready() -> bool:
            if proc.poll() is not None:
                raise AssertionError(f"node exited {proc.returncode}:\n{log.read_text()[-4000:]}")
            try:
                client.get("/health")
                return True
            except (OSError, ApiError):
                return False

        try:
            wait_for(ready, "the installed node answers /health", timeout=45)
            # its staff, signed in (devtools/staff.py): accounts in the node's database
            database = node_env.get("XINFANG_DB_URL") or (
                f"sqlite:///{Path(node_env['XINFANG_DATA_DIR']) / f'node-{CITY}.sqlite3'}"
            )
            topology = load_topology(Path(node_env["XINFANG_TOPOLOGY"]))
            staff = process_staff(client.base_url, database, CITY, topology, system_clock)
            yield StaffClient(client.base_url, staff)
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def test_node_from_the_image_files_registers_a_case(node: NodeClient) -> None:
    health = node.get("/health")
    assert health["division"] == CITY
    case_id = str(node.post("/api/cases", {"actor": CITY_OFFICE, **PETITION})["case_id"])
    case = node.get(f"/api/cases/{case_id}")
    assert (case["status"], case["holder"]) == ("REGISTERED", CITY_OFFICE)
    # the event left the outbox: encoded with the shipped schemas and accepted by the broker
    wait_for(lambda: node.get("/health")["outbox_pending"] == 0, "outbox drained", timeout=30)
