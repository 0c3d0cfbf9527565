"""Development runs (tests, demo, chaos, bench) on the secured broker (decision 018).

The driving process (pytest, `make demo`, the chaos harness) acts as ``admin``; each node
process gets its own principal's credentials file; before a node of a topology and topic
prefix starts, its principals, topics and ACLs are provisioned once, as admin.

``XINFANG_KAFKA_CREDENTIALS_DIR`` names the folder of ``<principal>.json`` files
(deploy/kafka's ``<state>/credentials``); unset means a plaintext broker: nothing to do, and
nodes create their own topics as before.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..kafka_security import KafkaSecurity
from .broker import Broker

CREDENTIALS_DIR = "XINFANG_KAFKA_CREDENTIALS_DIR"
_prepared: set[tuple[str, str, str]] = set()
# grants applied per (broker, prefix): a second topology under the same prefix (a test that
# starts one node with an outdated topology) adds its grants to the first one's, removes none
_granted: dict[tuple[str, str], set[Any]] = {}
_lock = threading.Lock()


def client_env(broker: Broker) -> dict[str, str]:
    """The XINFANG_KAFKA_* variables of a client of ``broker`` acting as admin (secured) or
    plaintext; empty values mean "unset" to kafka_security.py."""
    if broker.security == "plaintext" or broker.credentials_dir is None:
        return {
            "XINFANG_KAFKA_SECURITY_PROTOCOL": "PLAINTEXT",
            "XINFANG_KAFKA_CREDENTIALS": "",
            CREDENTIALS_DIR: "",
        }
    return {
        "XINFANG_KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
        "XINFANG_KAFKA_CREDENTIALS": str(broker.credentials_dir / "admin.json"),
        CREDENTIALS_DIR: str(broker.credentials_dir),
    }


def use_broker(broker: Broker) -> Callable[[], None]:
    """Make this process a client of ``broker`` as admin (secured) or plaintext, for every
    Kafka client it builds from now on (they read XINFANG_KAFKA_* from the environment).
    Returns what puts the previous settings back (a private broker inside a test session)."""
    wanted = client_env(broker)
    before = {key: os.environ.get(key) for key in wanted}
    os.environ.update(wanted)

    def restore() -> None:
        for key, value in before.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value

    return restore


def credentials_dir() -> Path | None:
    folder = os.environ.get(CREDENTIALS_DIR)
    return Path(folder) if folder else None


def node_env(division: str) -> dict[str, str]:
    """Environment of a node process: its own credentials file (or nothing for plaintext)."""
    from ..kafka_acls import node_principal

    folder = credentials_dir()
    if folder is None:
        return {}
    return {
        "XINFANG_KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
        "XINFANG_KAFKA_CREDENTIALS": str(folder / f"{node_principal(division)}.json"),
    }


def prepare(
    bootstrap: str, topology_path: Path | None, prefix: str, folder: Path | None = None
) -> None:
    """Principals (missing ones are created, files written beside the others), topics and ACLs
    of ``topology_path`` under ``prefix``, as admin; once per process and (broker, topology,
    prefix). ``folder``: the credentials folder (default XINFANG_KAFKA_CREDENTIALS_DIR). No-op
    on a plaintext broker."""
    folder = folder or credentials_dir()
    if folder is None:
        return
    key = (bootstrap, str(topology_path or ""), prefix)
    with _lock:
        if key in _prepared:
            return
        _prepare(bootstrap, topology_path, prefix, folder)
        _prepared.add(key)


def _prepare(bootstrap: str, topology_path: Path | None, prefix: str, folder: Path) -> None:
    from ..kafka_acls import (
        ADMIN,
        AUDIT_ADMIN,
        AUDITOR,
        INTEGRATOR,
        derive_grants,
        node_principal,
    )
    from ..kafka_admin import add_principal, apply_plan, compute_plan, provision, wait_applied
    from ..topics import TopicNames
    from ..topology_file import load_topology

    admin = KafkaSecurity.from_env({}, credentials=str(folder / f"{ADMIN}.json"))
    topology = load_topology(topology_path)
    topics = TopicNames(prefix)
    names = [node_principal(d.code) for d in topology.divisions]
    names += [AUDITOR, INTEGRATOR, AUDIT_ADMIN]
    for name in names:
        add_principal(bootstrap, admin, name, folder / f"{name}.json")  # kept if present
    asyncio.run(provision(bootstrap, topology, topics, admin))
    granted = _granted.setdefault((bootstrap, prefix), set())
    granted.update(derive_grants(topology, topics))
    wanted = sorted(granted)
    apply_plan(bootstrap, admin, compute_plan(bootstrap, admin, wanted, prefix))
    wait_applied(bootstrap, admin, wanted, prefix)
