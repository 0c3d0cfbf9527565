"""Table definitions. One database per node; no node reads another's."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
)

metadata = MetaData()

# The node's own decisions, in order: seq is the hash-chain position.
log_events = Table(
    "log_events",
    metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("event_id", String(64), nullable=False, unique=True),
    Column("case_id", String(64), nullable=False, index=True),
    Column("type", String(64), nullable=False),
    Column("occurred_at", DateTime(timezone=True), nullable=False),
    Column("payload", LargeBinary, nullable=False),
    Column("hash", String(64), nullable=False),
)

# Every case event this node knows (its own and received), in the order applied.
case_events = Table(
    "case_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("event_id", String(64), nullable=False, unique=True),
    Column("case_id", String(64), nullable=False, index=True),
    Column("source", String(16), nullable=False),
    Column("seq", BigInteger, nullable=False),
    Column("type", String(64), nullable=False),
    Column("actor", String(64), nullable=False),
    Column("occurred_at", DateTime(timezone=True), nullable=False),
    Column("payload", LargeBinary, nullable=False),
)

# A queryable summary per case (derived from case_events; rebuilt on every change).
cases = Table(
    "cases",
    metadata,
    Column("case_id", String(64), primary_key=True),
    Column("query_code", Text, nullable=False),  # sealed (privacy/registry.py; 0011)
    Column("title", Text, nullable=False),  # sealed (privacy/registry.py)
    Column("category", String(32), nullable=False),
    Column("status", String(32), nullable=False, index=True),
    Column("origin", String(16), nullable=False),
    Column("holder", String(64), nullable=False),
    Column("outcome", String(32), nullable=True),
    Column("version", Integer, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    # same petitioner + same request (R11/R12): HMAC under the node's index key
    # (privacy/columns.py), never clear text; null for anonymous petitions
    Column("matter_key", String(64), nullable=True, index=True),
    # when this node's deadline watcher must next look at the case; null: nothing to watch
    # (or a row from before migration 0004, looked at once and then filled in)
    Column("next_check_at", DateTime(timezone=True), nullable=True, index=True),
)

# Transactional outbox: rows commit with the state change, a relay publishes them in id order.
outbox = Table(
    "outbox",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("topic", String(255), nullable=False),
    Column("key", String(64), nullable=False),
    Column("value", LargeBinary, nullable=False),
    Column("headers", JSON, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("sent_at", DateTime(timezone=True), nullable=True, index=True),
    # a row the broker will never accept (too large, unauthorised, unknown topic): kept out of
    # the relay's queue with the reason until an operator re-sends it (migration 0005)
    Column("set_aside_at", DateTime(timezone=True), nullable=True),
    Column("set_aside_reason", Text, nullable=True),
)

# Idempotent inbox: an event id is recorded in the same transaction as its effect.
inbox = Table(
    "inbox",
    metadata,
    Column("event_id", String(64), primary_key=True),
    Column("content_hash", String(64), nullable=False),
    Column("source", String(16), nullable=False),
    Column("status", String(16), nullable=False),  # applied | parked
    Column("received_at", DateTime(timezone=True), nullable=False),
)

# Events that arrived before what they depend on; applied once it arrives.
parked = Table(
    "parked",
    metadata,
    Column("event_id", String(64), primary_key=True),
    Column("case_id", String(64), nullable=False, index=True),
    Column("payload", LargeBinary, nullable=False),
    Column("headers", JSON, nullable=False),
    Column("parked_at", DateTime(timezone=True), nullable=False),
)

counters = Table(
    "counters",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("value", BigInteger, nullable=False),
)

# What this node has received directly from each neighbour's log (docs/decisions/006): the
# highest sequence number and its record hash, and the key its signed records are checked with.
chain_sources = Table(
    "chain_sources",
    metadata,
    Column("source", String(16), primary_key=True),
    Column("last_seq", BigInteger, nullable=False),
    Column("last_hash", String(64), nullable=False),
    Column("public_key", String(64), nullable=True),  # hex; published or first seen
    Column("checkpoint_seq", BigInteger, nullable=True),  # log position of its last checkpoint
    # the head before the last record when the rules refused that record (decision 022)
    Column("refused_before_seq", BigInteger, nullable=True),
    Column("refused_before_hash", String(64), nullable=True),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

# Per-destination pointers of this node's own records (decision 022): the `seq` of the last
# record sent to each division's inbox, carried by the next one as `xinfang_prev_to`.
chain_pointers = Table(
    "chain_pointers",
    metadata,
    Column("destination", String(16), primary_key=True),
    Column("last_seq", BigInteger, nullable=False),
)

# Records of a direct source that arrived before the record they name as the previous one sent
# to this node (decision 022): applied, in order, once the gap fills.
chain_parked = Table(
    "chain_parked",
    metadata,
    Column("source", String(16), primary_key=True),
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("prev_seq", BigInteger, nullable=False, index=True),  # the pointer it waits for
    Column("payload", LargeBinary, nullable=False),
    Column("headers", JSON, nullable=False),
    Column("origin", Text, nullable=False),
    Column("parked_at", DateTime(timezone=True), nullable=False),
)

# Idempotency-Key of POST requests (README, "Idempotency-Key"): the first answer to a key,
# returned again for the same request; status NULL while the request is being handled.
idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("key", String(200), primary_key=True),
    Column("fingerprint", String(64), nullable=False),  # SHA-256 of method, path and body
    Column("status", Integer, nullable=True),
    Column("response", JSON, nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False, index=True),
)

# The operator audit trail (identity/trail_record.py, decision 027): append-only — the store has
# no path that changes or removes an entry, and triggers (migration 0008) refuse UPDATE and
# DELETE. `record` holds the exact bytes that are signed, chained, hashed and published.
operator_trail = Table(
    "operator_trail",
    metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("at", DateTime(timezone=True), nullable=False, index=True),
    Column("person", String(200), nullable=False, index=True),
    Column("action", String(64), nullable=False, index=True),
    Column("case_id", String(64), nullable=False),
    Column("status", Integer, nullable=False),
    Column("record", LargeBinary, nullable=False),
    Column("hash", String(64), nullable=False),
)
from . import account_tables as _account_tables  # noqa: E402, F401  (same metadata; decision 025)

# Per-case data keys (issue 15 item 4, decision 028): the key that seals the case's personal
# fields on the topics, itself sealed under the node's at-rest key (privacy/fields.py, AAD
# "case_keys.sealed_key|<case id>"). Crypto-shredding sets `sealed_key` NULL and `erased_at`.
case_keys = Table(
    "case_keys",
    metadata,
    Column("case_id", String(64), primary_key=True),
    Column("sealed_key", Text, nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("erased_at", DateTime(timezone=True), nullable=True),
)
