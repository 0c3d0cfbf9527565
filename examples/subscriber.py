#!/usr/bin/env python3
"""A subscriber to the xinfang topics that needs nothing but the .avsc files.

    pip install confluent-kafka fastavro
    python examples/subscriber.py --bootstrap-servers 127.0.0.1:9092 \\
        --schemas schemas/history --pattern '^xinfang\\.[0-9]+\\.log$'

Kafka client: confluent-kafka (librdkafka). Decoding: fastavro plus the Avro single-object
encoding written out below (C3 01, 8-byte little-endian CRC-64-AVRO fingerprint of the writer
schema's Parsing Canonical Form, Avro binary body). It imports nothing from xinfang.

--schemas is a folder of self-contained .avsc files (named types defined inline): the
repository's schemas/history/ (every released version), or what `xinfang schemas export DIR`
wrote from the schema catalogue topic. --schemas-topic reads the catalogue topic itself (key =
fingerprint in hex, value = the .avsc JSON): at start, and once more when a record names a
fingerprint not yet known (a release newer than your schemas). A record whose fingerprint is
still unknown — an event type added after this subscriber's schemas were taken — is reported
and skipped, never fatal.

Schema resolution (Avro specification): each record is read with its writer schema into your
reader schema, the newest version of that record in --schemas/<Record>/v<N>.avsc (the layout of
schemas/history), so every version of a record comes out in the one shape your code expects: a
field added later is dropped, a field yours has and an older writer lacked takes its default.
Without such a folder (only --schemas-topic, or an export) a record is printed as written.

On a secured broker set XINFANG_KAFKA_CREDENTIALS to your principal's credentials file (e.g.
integrator.json: username, password, ca_file) and --group to the consumer group granted to you
(``<prefix>integrator-<name>``, docs/kafka-acls.md).

Each decoded record is printed as one JSON line: topic, partition, offset, key, CloudEvents
headers, record name, fingerprint and the decoded value.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import signal
import sys
import time
import uuid
from collections import Counter
from datetime import date, datetime
from pathlib import Path
from typing import Any, TextIO

from confluent_kafka import Consumer, KafkaError, TopicPartition
from fastavro import parse_schema, schemaless_reader
from fastavro.schema import fingerprint, to_parsing_canonical_form

MAGIC = b"\xc3\x01"


def security_config() -> dict[str, str]:
    """librdkafka settings for a secured broker, from the same variables as xinfang's clients:
    XINFANG_KAFKA_CREDENTIALS (your principal's file: JSON or key=value lines with username,
    password and optionally ca_file), XINFANG_KAFKA_USERNAME/PASSWORD, XINFANG_KAFKA_CA_FILE,
    XINFANG_KAFKA_SECURITY_PROTOCOL (SASL_SSL, default with credentials, or PLAINTEXT)."""
    env = os.environ
    creds: dict[str, str] = {}
    if env.get("XINFANG_KAFKA_CREDENTIALS"):
        text = Path(env["XINFANG_KAFKA_CREDENTIALS"]).read_text(encoding="utf-8")
        if text.lstrip().startswith("{"):
            creds = {k: str(v) for k, v in json.loads(text).items()}
        else:
            pairs = (line.split("=", 1) for line in text.splitlines() if "=" in line)
            creds = {k.strip(): v.strip() for k, v in pairs if not k.startswith("#")}
    user = env.get("XINFANG_KAFKA_USERNAME") or creds.get("username")
    password = env.get("XINFANG_KAFKA_PASSWORD") or creds.get("password")
    protocol = env.get("XINFANG_KAFKA_SECURITY_PROTOCOL") or ("SASL_SSL" if user else "PLAINTEXT")
    if protocol.upper() == "PLAINTEXT":
        return {}
    conf = {
        "security.protocol": "SASL_SSL",
        "sasl.mechanism": "SCRAM-SHA-512",
        "sasl.username": user or "",
        "sasl.password": password or "",
    }
    ca = env.get("XINFANG_KAFKA_CA_FILE") or creds.get("ca_file")
    if ca:
        conf["ssl.ca.location"] = ca
    return conf


def load_schemas(folder: Path) -> tuple[dict[bytes, tuple[str, Any]], list[Path]]:
    """fingerprint (8 bytes, as on the wire) -> (full record name, parsed writer schema)."""
    table: dict[bytes, tuple[str, Any]] = {}
    not_self_contained: list[Path] = []
    for path in sorted(folder.rglob("*.avsc")):
        raw = json.loads(path.read_text(encoding="utf-8"))
        try:
            parsed = parse_schema(raw)  # fails if the file refers to types defined elsewhere
        except Exception:
            not_self_contained.append(path)
            continue
        canonical = to_parsing_canonical_form(raw)
        # CRC-64-AVRO as fastavro renders it: the little-endian bytes written on the wire.
        fp = bytes.fromhex(fingerprint(canonical, "CRC-64-AVRO"))
        table[fp] = (parsed["name"] if isinstance(parsed, dict) else str(parsed), parsed)
    return table, not_self_contained


def load_readers(folder: Path) -> dict[str, Any]:
    """Full record name -> parsed reader schema: the newest <Record>/v<N>.avsc under `folder`."""
    newest: dict[str, tuple[int, Any]] = {}
    for path in folder.rglob("v*.avsc"):
        match = re.fullmatch(r"v(\d+)\.avsc", path.name)
        if match is None:
            continue
        parsed = parse_schema(json.loads(path.read_text(encoding="utf-8")))
        number, name = int(match[1]), parsed["name"]
        if name not in newest or newest[name][0] < number:
            newest[name] = (number, parsed)
    return {name: parsed for name, (_, parsed) in newest.items()}


def load_schemas_from_topic(
    bootstrap_servers: str, topic: str = "xinfang.schemas", timeout_s: float = 30.0
) -> dict[bytes, tuple[str, Any]]:
    """The same table, from the schema catalogue topic (read from the start to its end).
    A value whose own fingerprint differs from its key is ignored."""
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap_servers,
            "group.id": "unused",  # partitions are assigned: the group is never joined
            "enable.auto.commit": False,
            **security_config(),
        }
    )
    table: dict[bytes, tuple[str, Any]] = {}
    try:
        partitions = consumer.list_topics(topic, timeout=timeout_s).topics[topic].partitions
        starts, ends = {}, {}
        for p in partitions:
            low, high = consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=timeout_s)
            if high > low:
                starts[p], ends[p] = low, high
        consumer.assign([TopicPartition(topic, p, starts[p]) for p in ends])
        deadline = time.monotonic() + timeout_s
        while ends and time.monotonic() < deadline:
            msg = consumer.poll(1.0)
            if msg is None or msg.error():
                continue
            if msg.offset() + 1 >= ends.get(msg.partition(), 0):
                ends.pop(msg.partition(), None)
            if msg.value() is None:  # tombstone
                continue
            raw = json.loads(msg.value())
            fp = bytes.fromhex(fingerprint(to_parsing_canonical_form(raw), "CRC-64-AVRO"))
            if fp.hex() != (msg.key() or b"").decode():
                continue
            parsed = parse_schema(raw)
            table[fp] = (parsed["name"], parsed)
    finally:
        consumer.close()
    return table


def decode(
    value: bytes, table: dict[bytes, tuple[str, Any]], readers: dict[str, Any] | None = None
) -> tuple[str, Any] | None:
    """(record name, datum), or None if the writer schema is unknown to this subscriber.
    With a reader schema for the record, the datum is resolved into its shape."""
    if len(value) < 10 or value[:2] != MAGIC:
        raise ValueError("not Avro single-object encoding")
    entry = table.get(value[2:10])
    if entry is None:
        return None
    name, writer = entry
    reader = (readers or {}).get(name)
    return name, schemaless_reader(io.BytesIO(value[10:]), writer, reader)


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def run(args: argparse.Namespace, out: TextIO) -> int:
    log = sys.stderr
    table: dict[bytes, tuple[str, Any]] = {}
    ignored: list[Path] = []
    readers: dict[str, Any] = {}
    if args.schemas:
        table, ignored = load_schemas(args.schemas)
        readers = load_readers(args.schemas)
    if args.schemas_topic:
        table.update(load_schemas_from_topic(args.bootstrap_servers, args.schemas_topic))
    looked_up: set[bytes] = set()  # fingerprints the catalogue topic was read again for
    print(f"loaded {len(table)} writer schemas from {args.schemas or args.schemas_topic}", file=log)
    if ignored:
        print(
            f"ignored {len(ignored)} .avsc files that are not self-contained "
            f"(e.g. {ignored[0]}); use schemas/history or `xinfang schemas export`",
            file=log,
        )
    consumer = Consumer(
        {
            "bootstrap.servers": args.bootstrap_servers,
            "group.id": args.group or f"xinfang-example-{uuid.uuid4().hex[:8]}",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": True,
            "topic.metadata.refresh.interval.ms": 5000,
            **security_config(),
        }
    )
    assigned: list[Any] = []
    consumer.subscribe(
        [args.pattern] if args.pattern else args.topic,
        on_assign=lambda _c, partitions: assigned.extend(partitions),
    )
    stop = {"now": False}
    signal.signal(signal.SIGTERM, lambda *_: stop.update(now=True))
    decoded = 0
    skipped: Counter[str] = Counter()
    last = time.monotonic()
    try:
        while not stop["now"]:
            msg = consumer.poll(0.5)
            if msg is None:
                if args.idle_exit and assigned and time.monotonic() - last > args.idle_exit:
                    break
                continue
            if msg.error():
                if msg.error().code() != KafkaError._PARTITION_EOF:
                    print(f"kafka: {msg.error()}", file=log)
                continue
            last = time.monotonic()
            headers = {k: (v or b"").decode("utf-8", "replace") for k, v in msg.headers() or []}
            where = {
                "topic": msg.topic(),
                "partition": msg.partition(),
                "offset": msg.offset(),
                "key": (msg.key() or b"").decode("utf-8", "replace"),
                "headers": headers,
            }
            value = msg.value() or b""
            try:
                result = decode(value, table, readers)
                if result is None and args.schemas_topic and value[2:10] not in looked_up:
                    looked_up.add(value[2:10])  # once per fingerprint: a newer release's?
                    topic = args.schemas_topic
                    table.update(load_schemas_from_topic(args.bootstrap_servers, topic))
                    result = decode(value, table, readers)
            except Exception as exc:  # not our format, or a corrupt body: report and go on
                print(f"undecodable {msg.topic()}@{msg.offset()}: {exc}", file=log)
                skipped["undecodable"] += 1
                continue
            if result is None:
                ce_type = headers.get("ce_type", "?")
                skipped[ce_type] += 1
                print(
                    f"skipped {msg.topic()}@{msg.offset()}: unknown writer schema "
                    f"{value[2:10].hex()} (ce_type {ce_type})",
                    file=log,
                )
                print(json.dumps({**where, "skipped": True, "ce_type": ce_type}), file=out)
                continue
            name, datum = result
            decoded += 1
            record = {**where, "record": name, "fingerprint": value[2:10].hex()}
            print(json.dumps({**record, "value": _plain(datum)}, ensure_ascii=False), file=out)
            out.flush()
            if args.max and decoded >= args.max:
                break
    finally:
        consumer.close()
    print(f"decoded {decoded} records, skipped {sum(skipped.values())} {dict(skipped)}", file=log)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bootstrap-servers", default="127.0.0.1:9092")
    parser.add_argument("--schemas", type=Path, help="folder of .avsc files")
    parser.add_argument("--schemas-topic", help="schema catalogue topic, e.g. xinfang.schemas")
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--topic", action="append", help="topic to read (repeatable)")
    which.add_argument("--pattern", help="regular expression of topics, starting with ^")
    parser.add_argument("--group", help="consumer group id (default: a new one)")
    parser.add_argument("--idle-exit", type=float, default=0, help="exit after N idle seconds")
    parser.add_argument("--max", type=int, default=0, help="exit after N decoded records")
    parser.add_argument("--output", type=Path, help="write JSON lines here (default stdout)")
    args = parser.parse_args(argv)
    if not (args.schemas or args.schemas_topic):
        parser.error("--schemas or --schemas-topic (or both) is required")
    if args.output is None:
        return run(args, sys.stdout)
    with args.output.open("w", encoding="utf-8") as out:
        return run(args, out)


if __name__ == "__main__":
    sys.exit(main())
