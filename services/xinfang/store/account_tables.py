"""Tables of the node's built-in accounts and their sign-in sessions (decision 025).

Kept beside tables.py (same metadata) so identity/accounts.py and identity/sessions.py own
their rows; migration 0010.
"""

from __future__ import annotations

from sqlalchemy import JSON, BigInteger, Boolean, Column, DateTime, Integer, String, Table, Text

from .tables import metadata

# One row per person (等保 8.1.4.1: one account per person), bound to one body of this division.
accounts = Table(
    "accounts",
    metadata,
    Column("person", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("body", String(64), nullable=False),
    Column("roles", JSON, nullable=False),  # list of identity.principal.Role values
    Column("password_hash", Text, nullable=False),  # argon2id (PHC string)
    Column("totp_secret", Text, nullable=True),  # sealed base32 (privacy/registry.py); NULL: none
    Column("totp_last_step", BigInteger, nullable=True),  # last accepted step: no replay
    Column("failed", Integer, nullable=False, default=0),  # failures since the last success
    Column("locked_until", DateTime(timezone=True), nullable=True),  # lock-out after failures
    Column("disabled", Boolean, nullable=False, default=False),  # locked by an administrator
    Column("created_at", DateTime(timezone=True), nullable=False),
)

# Server-side sessions: only the SHA-256 of the opaque token is stored.
account_sessions = Table(
    "account_sessions",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("person", String(64), nullable=False, index=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("last_seen_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False, index=True),
)
