# The ten-minute subscriber of docs/integrators.md: fastavro + any Kafka client (confluent-kafka).
#   pip install confluent-kafka fastavro && python examples/minimal_subscriber.py
import io
import json
import os
import pathlib

from confluent_kafka import Consumer
from fastavro import parse_schema, schemaless_reader
from fastavro.schema import fingerprint, to_parsing_canonical_form

BOOTSTRAP = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
PREFIX = os.environ.get("XINFANG_TOPIC_PREFIX", "")  # usually empty
SCHEMAS = os.environ.get("XINFANG_SCHEMAS", "schemas/history")  # or `xinfang schemas export DIR`

# 1. Writer schemas by fingerprint: CRC-64-AVRO of the Parsing Canonical Form, 8 bytes;
#    reader schemas by record name: the newest <Record>/v<N>.avsc, the shape your code reads.
writers, readers = {}, {}
for path in sorted(pathlib.Path(SCHEMAS).rglob("*.avsc"), key=lambda p: (len(p.stem), p.stem)):
    raw = json.loads(path.read_text(encoding="utf-8"))
    fp = bytes.fromhex(fingerprint(to_parsing_canonical_form(raw), "CRC-64-AVRO"))
    schema = parse_schema(raw)
    writers[fp] = readers[schema["name"]] = schema  # sorted: v<N> of a record wins over v<N-1>

# 2. Every node's log: xinfang.<division code>.log (a regular expression starts with ^).
#    A secured broker: your principal's credentials file (username, password, ca_file) and the
#    consumer group granted to you (docs/kafka-acls.md: integrator-<name>).
security = {}
if os.environ.get("XINFANG_KAFKA_CREDENTIALS"):
    creds = json.loads(pathlib.Path(os.environ["XINFANG_KAFKA_CREDENTIALS"]).read_text())
    security = {
        "security.protocol": "SASL_SSL", "sasl.mechanism": "SCRAM-SHA-512",
        "sasl.username": creds["username"], "sasl.password": creds["password"],
        "ssl.ca.location": creds["ca_file"],
    }  # fmt: skip
consumer = Consumer(
    {
        "bootstrap.servers": BOOTSTRAP,
        "group.id": os.environ.get("XINFANG_KAFKA_GROUP", "my-app"),
        "auto.offset.reset": "earliest",
        **security,
    }
)
consumer.subscribe(["^" + PREFIX.replace(".", r"\.") + r"xinfang\.[0-9]+\.log$"])

# 3. Each value: C3 01 | fingerprint (8 bytes) | Avro binary body.
while True:
    msg = consumer.poll(1.0)
    if msg is None or msg.error():
        continue
    value, headers = msg.value(), dict(msg.headers() or [])
    writer = writers.get(value[2:10]) if value[:2] == b"\xc3\x01" else None
    if writer is None:  # an event type newer than your schemas: skip it, keep going
        print("skip", headers.get("ce_type"), flush=True)
        continue
    # Schema resolution: any released version of the record, read into your version's shape.
    event = schemaless_reader(io.BytesIO(value[10:]), writer, readers[writer["name"]])
    print(headers["ce_type"].decode(), msg.key().decode(), event["header"]["source"], flush=True)
