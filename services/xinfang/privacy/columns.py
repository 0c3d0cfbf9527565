"""Protected columns of the node database (issue 15 item 3): what is sealed where, and how.

A protected value is stored as `fields.FieldCipher` text (`xf1.<key id>.<…>`) whose associated
data names its place, `b"<table>.<column>|<row key>"`, so a value copied to another row or
column does not open. The same object computes the keyed matching index of R11/R12
(`blind.blind_index` under the node's index key): the key never leaves this layer, and the
domain (domain/matter.py) only normalises.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from .blind import blind_index
from .fields import FieldCipher
from .keyfile import DataKeyRing, DataKeys

MATTER_PURPOSE = "matter/1"  # domain tag of cases.matter_key (R11/R12)


def place(table: str, column: str, row_key: str) -> bytes:
    """The associated data binding a value to its table, column and row."""
    return f"{table}.{column}|{row_key}".encode()


class ColumnCipher:
    """Seals and opens protected column values with the node's current data keys."""

    def __init__(self, keys: DataKeyRing | DataKeys | Callable[[], DataKeys]) -> None:
        if isinstance(keys, DataKeys):
            fixed = keys
            self._keys: Callable[[], DataKeys] = lambda: fixed
        elif isinstance(keys, DataKeyRing):
            self._keys = keys.current
        else:
            self._keys = keys

    @property
    def keys(self) -> DataKeys:
        return self._keys()

    def field_cipher(self) -> FieldCipher:
        return FieldCipher(self._keys())

    def seal(self, table: str, column: str, row_key: str, value: str) -> str:
        """`value` sealed under the current key for (table, column, row)."""
        return self.field_cipher().seal(value, place(table, column, row_key))

    def open(self, table: str, column: str, row_key: str, stored: str) -> str:
        """The clear text of a stored value (clear text from before encryption as it is);
        DecryptionFailed for a value altered, moved or under a key the ring does not hold."""
        return self.field_cipher().open(stored, place(table, column, row_key))

    def seal_optional(self, table: str, column: str, row_key: str, value: str | None) -> str | None:
        return None if value is None else self.seal(table, column, row_key, value)

    def open_optional(
        self, table: str, column: str, row_key: str, stored: str | None
    ) -> str | None:
        return None if stored is None else self.open(table, column, row_key, stored)

    def matter_index(self, parts: Sequence[str]) -> str:
        """cases.matter_key: HMAC-SHA256 under the index key of the normalised parts (hex, 64
        digits); equal parts give equal indexes on this node only."""
        return blind_index(self._keys().index_key, MATTER_PURPOSE, "\x1f".join(parts))
