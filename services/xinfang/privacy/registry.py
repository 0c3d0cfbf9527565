"""Every column stored as `xf1.` field ciphertext (privacy/columns.py), for the re-encryption
sweep after a key rotation (privacy/sweep.py) and the start-up check that the key ring opens
what the database holds.

Each entry: (table, column, row-key columns). The associated data of a value is
`columns.place(table, column, "|".join(row-key values))`. A helper adding a protected column
adds one line here.
"""

from __future__ import annotations

PROTECTED_COLUMNS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("cases", "title", ("case_id",)),
    ("cases", "query_code", ("case_id",)),
    ("accounts", "totp_secret", ("person",)),
    ("case_keys", "sealed_key", ("case_id",)),  # per-case data keys (decision 028)
)
