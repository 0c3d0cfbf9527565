"""Field-by-field encryption at rest (issue 15 item 3).

A protected field is stored as text `xf1.<key id>.<base64url(nonce + ciphertext + tag)>`; the
associated data binds it to where it belongs (e.g. b"case_events.payload|<event id>"), so a
ciphertext copied into another row or column does not decrypt. Values written before
encryption (no `xf1.` prefix) are read as they are and re-encrypted by the rotation sweep.
"""

from __future__ import annotations

import base64

from .keyfile import DataKeys
from .suites import DecryptionFailed

PREFIX = "xf1."


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class FieldCipher:
    """Encrypts and decrypts text fields with the node's data keys."""

    def __init__(self, keys: DataKeys) -> None:
        self.keys = keys

    def seal(self, plaintext: str, aad: bytes) -> str:
        keys = self.keys
        sealed = keys.suite_of(keys.current).seal(keys.current_key, plaintext.encode(), aad)
        return f"{PREFIX}{self.keys.current}.{_b64(sealed)}"

    def open(self, stored: str, aad: bytes) -> str:
        """The clear text; DecryptionFailed for an unknown key id or altered data."""
        if not stored.startswith(PREFIX):
            return stored  # written before encryption; the sweep re-encrypts it
        try:
            key_id, body = stored[len(PREFIX):].split(".", 1)
            key = self.keys.keys[key_id]
            return self.keys.suite_of(key_id).open(key, _unb64(body), aad).decode()
        except (KeyError, ValueError, UnicodeDecodeError) as exc:
            if isinstance(exc, DecryptionFailed):
                raise
            raise DecryptionFailed(f"unreadable field: {exc}") from exc

    def key_of(self, stored: str) -> str | None:
        """The id of the key `stored` is sealed under; None for clear text."""
        if not stored.startswith(PREFIX):
            return None
        return stored[len(PREFIX):].split(".", 1)[0]

    def needs_rotation(self, stored: str) -> bool:
        """True for clear text or a field under a key other than the current one."""
        return not stored.startswith(f"{PREFIX}{self.keys.current}.")
