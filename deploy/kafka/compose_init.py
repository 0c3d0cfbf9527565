#!/usr/bin/env python3
"""docker-compose's `kafka-init` service: certificates, SCRAM credentials and cluster settings
for the secured brokers, written once into the `kafka-secrets` volume (mounted at /secrets).

    /secrets/pki/ca.crt, ca.key, broker-<i>.pem       (pki.py; broker files owned by the Kafka uid)
    /secrets/credentials/<principal>.json             (pki.py; ca_file = /secrets/pki/ca.crt)
    /secrets/clients/<principal>/credentials.json     one folder per principal, mounted alone
    /secrets/clients/<principal>/ca.crt               (volume subpath) into that service only
    /secrets/brokers/cluster.properties               quorum voters, replication, super users
    /secrets/brokers/scram-args                       --add-scram=... lines for the format step
    /secrets/brokers/cluster.id                       the KRaft cluster id every broker formats with
    /secrets/brokers/admin-client.properties          the brokers' health check, as admin

Brokers: 1, or 3 when COMPOSE_PROFILES contains `cluster` (XINFANG_COMPOSE_PROFILES here);
XINFANG_KAFKA_BROKERS overrides. Runs as root (it hands files to the Kafka image's uid).
Idempotent: an existing volume keeps its keys and passwords.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import pki  # the sibling script (this file runs as a script, not as a package)

SECRETS = Path(os.environ.get("XINFANG_SECRETS", "/secrets"))
CLIENT_MOUNT = "/run/xinfang-kafka"  # where a service sees its own clients/<principal>/ folder
KAFKA_UID = int(os.environ.get("XINFANG_KAFKA_UID", "1000"))  # apache/kafka's appuser


def broker_count() -> int:
    if os.environ.get("XINFANG_KAFKA_BROKERS"):
        return int(os.environ["XINFANG_KAFKA_BROKERS"])
    profiles = os.environ.get("XINFANG_COMPOSE_PROFILES", "").split(",")
    return 3 if "cluster" in profiles else 1


def host(index: int) -> str:
    return "kafka" if index == 1 else f"kafka-{index}"


def cluster_properties(brokers: int) -> str:
    rf = min(3, brokers)
    min_isr = 2 if rf >= 3 else 1
    voters = ",".join(f"{i}@{host(i)}:9093" for i in range(1, brokers + 1))
    supers = ";".join(["User:admin", *(f"User:kafka-{i}" for i in range(1, brokers + 1))])
    return (
        f"controller.quorum.voters={voters}\n"
        f"super.users={supers}\n"
        f"default.replication.factor={rf}\n"
        f"min.insync.replicas={min_isr}\n"
        f"offsets.topic.replication.factor={rf}\n"
        f"transaction.state.log.replication.factor={rf}\n"
        f"transaction.state.log.min.isr={min_isr}\n"
        f"share.coordinator.state.topic.replication.factor={rf}\n"
        f"share.coordinator.state.topic.min.isr={min_isr}\n"
    )


def give(path: Path, uid: int) -> None:
    # not root (e.g. a dry run in a test): leave ownership as it is
    with contextlib.suppress(PermissionError):
        os.chown(path, uid, uid)


def main() -> int:
    brokers = broker_count()
    topology = os.environ.get("XINFANG_TOPOLOGY", "/app/deploy/topology/chifeng.yaml")
    hosts = ",".join(["kafka", "localhost", *(host(i) for i in range(2, 4))])
    pki.main(
        [
            "init", "--state", str(SECRETS), "--brokers", str(brokers), "--topology", topology,
            "--extra", os.environ.get("XINFANG_KAFKA_EXTRA_PRINCIPALS", ""), "--hosts", hosts,
            "--files-root", str(SECRETS),
            "--bootstrap", ",".join(f"{host(i)}:9092" for i in range(1, brokers + 1)),
        ]
    )  # fmt: skip
    out = pki.private_dir(SECRETS / "brokers")
    give(out, KAFKA_UID)
    layout = out / "cluster.properties"
    if layout.exists() and f"brokers={brokers}" not in layout.read_text().splitlines()[0]:
        pki.die(
            f"卷已按其他代理数初始化 / the kafka-secrets volume was set up for another broker "
            f"count ({layout.read_text().splitlines()[0]}); remove the volumes to switch"
        )
    files = {
        "cluster.properties": f"# brokers={brokers}\n" + cluster_properties(brokers),
        "scram-args": "\n".join(pki.scram_args(SECRETS)) + "\n",
        "admin-client.properties": pki.client_properties(SECRETS, "admin"),
    }
    cid = out / "cluster.id"
    if not cid.exists():
        files["cluster.id"] = base64.urlsafe_b64encode(os.urandom(16)).decode().rstrip("=") + "\n"
    for name, text in files.items():
        pki.write_private(out / name, text.encode())
        give(out / name, KAFKA_UID)
    for index in range(1, brokers + 1):
        give(SECRETS / "pki" / f"broker-{index}.pem", KAFKA_UID)

    # One folder per principal, so a service mounts only its own password.
    for path in pki.credential_files(SECRETS):
        folder = pki.private_dir(SECRETS / "clients" / path.stem)
        doc = json.loads(path.read_text(encoding="utf-8"))
        doc["ca_file"] = f"{CLIENT_MOUNT}/ca.crt"
        pki.write_private(folder / "credentials.json", (json.dumps(doc, indent=2) + "\n").encode())
        shutil.copyfile(SECRETS / "pki" / "ca.crt", folder / "ca.crt")
        os.chmod(folder / "ca.crt", 0o644)
    print(f"kafka-init: {brokers} broker(s), {len(pki.credential_files(SECRETS))} principals")
    return 0


if __name__ == "__main__":
    sys.exit(main())
