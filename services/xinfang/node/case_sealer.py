"""The node's sealer: its cases' data keys, sealing what it writes and opening what it reads
(issue 15 items 4 and 5, decision 028).

- A case's key is made when the node first writes an event carrying its file (registration),
  or taken from the wrap (`xinfang_dk` header) of the first inbox copy that needs it; either
  way it is stored in `case_keys` sealed under the node's at-rest key (privacy/fields.py).
- The free text of an act (opinion, reasons, notes, …: sealing.ACT_TEXT) is sealed with the key
  the node already holds, never with a key made for it (decision 037): a node only acts on a
  case it has folded, and its fold starts with an event carrying the file, so a node whose file
  events were sealed holds the key. No key held means the case's file was written in clear
  (before sealing): its acts are written in clear too, as other nodes could not open a second
  key. A key erased here (crypto-shredding) refuses new act text (`CaseDataErased`, 409).
- Inbox copies carry the key wrapped for their recipient's published X25519 key
  (privacy/envelope.py, bound to the case); the log topic and the public feed never do.
- An inbound record with sealed fields of a case the node holds no key for, and no wrap that
  opens them, is refused with a reason (`data-key-missing`, `data-key-invalid`,
  `sealed-field-unreadable`): dead-lettered, never applied half-read.
- Erasure (retention, crypto-shredding) deletes the key; the case's sealed fields then read
  `sealing.ERASED`.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Final, TypeVar

from ..domain.errors import DomainError, WireError
from ..domain.events import Event
from ..privacy.columns import ColumnCipher, place
from ..privacy.envelope import RecipientKey, unwrap_key, wrap_key
from ..privacy.fields import FieldCipher
from ..privacy.sealing import (
    ERASED,
    act_text,
    carries_personal_data,
    new_case_key,
    open_event,
    seal_event,
    sealed_paths,
)
from ..privacy.suites import DecryptionFailed
from ..store.protocols import UnitOfWork
from ..store.records import Headers

log = logging.getLogger(__name__)
WRAP_HEADER: Final = "xinfang_dk"
E = TypeVar("E", bound=Event)


class _Missing:
    pass


MISSING: Final = _Missing()
CaseKey = bytes | None | _Missing  # the key; None: erased; MISSING: never held


class CaseDataErased(DomainError):
    """An act with free text on a case whose personal data this node has erased (retention,
    decision 028): the text could be sealed with no key the case's readers hold."""

    code = "XF-CASE-DATA-ERASED"
    zh = "该事项的个人信息已按保存期限删除，不能再记录含文字内容的办理行为"
    en = (
        "The case's personal data was erased after its retention period: acts with text can "
        "no longer be recorded"
    )


class SealRefused(WireError):
    """An inbound record whose sealed fields this node cannot open: `reason` is the dead
    letter's reason code."""

    code = "XF-SEALED-UNREADABLE"
    zh = "记录中的个人信息无法解密（无可用的数据密钥）"
    en = "The record's personal fields cannot be opened (no usable data key)"

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


def wrap_context(case_id: str) -> bytes:
    """What a wrap is bound to (envelope.py `context`): the case."""
    return b"xinfang-dk/1|" + case_id.encode()


def _at_rest_aad(case_id: str) -> bytes:
    return place("case_keys", "sealed_key", case_id)  # privacy/registry.py lists the column


class CaseSealer:
    """Seals and opens one node's events with its cases' keys. `published(division)` gives a
    division's published X25519 public key (node_keys.PublishedEncryptionKeys.public)."""

    def __init__(
        self,
        division: str,
        cipher: FieldCipher | ColumnCipher,
        own: RecipientKey,
        published: Callable[[str], bytes | None],
        clock: Callable[[], datetime],
    ) -> None:
        self.division = division
        self._cipher = cipher  # a ColumnCipher follows key rotation (privacy/keyfile.DataKeyRing)
        self.own = own
        self.published = published
        self.clock = clock
        self._keys: dict[str, bytes | None] = {}  # committed keys (None: erased)

    @property
    def cipher(self) -> FieldCipher:
        """The at-rest cipher under the node's current data keys."""
        c = self._cipher
        return c.field_cipher() if isinstance(c, ColumnCipher) else c

    # -- keys ------------------------------------------------------------------------------
    def key(self, tx: UnitOfWork, case_id: str) -> CaseKey:
        held = tx.case_keys
        if case_id in held.pending:
            return held.pending[case_id]
        if case_id in held.erased:
            return None
        if case_id in self._keys:
            return self._keys[case_id]
        row = held.get(case_id)
        if row is None:
            return MISSING
        key = None
        if row.sealed_key is not None:
            key = base64.b64decode(self.cipher.open(row.sealed_key, _at_rest_aad(case_id)))
        self._keys[case_id] = key
        return key

    def _store(self, tx: UnitOfWork, case_id: str, key: bytes) -> None:
        sealed = self.cipher.seal(base64.b64encode(key).decode(), _at_rest_aad(case_id))
        tx.case_keys.put(case_id, sealed, key, self.clock())

    def committed(self, tx: UnitOfWork) -> None:
        """After `tx` committed: its new and erased keys join the cache."""
        self._keys.update(tx.case_keys.pending)
        for case_id in tx.case_keys.erased:
            self._keys[case_id] = None

    def erase(self, tx: UnitOfWork, case_id: str) -> None:
        """Crypto-shredding: the case's key material deleted within `tx`."""
        tx.case_keys.erase(case_id, self.clock())

    def erased(self, tx: UnitOfWork, case_id: str) -> bool:
        return self.key(tx, case_id) is None

    # -- own events --------------------------------------------------------------------------
    def seal(self, tx: UnitOfWork, event: E) -> E:
        """`event` as it is written: personal fields and act text sealed with its case's key
        (made now only for a case's first file). CaseDataErased for act text on a case whose
        key was erased here."""
        text = act_text(event)
        if not carries_personal_data(event) and not text:
            return event
        key = self.key(tx, event.case_id)
        if isinstance(key, _Missing):
            if not carries_personal_data(event):
                return event  # the case's file is clear here (written before sealing): so is this
            key = new_case_key()
            self._store(tx, event.case_id, key)
        if key is None:
            if any(value != ERASED for value in text.values()):
                raise CaseDataErased(case=event.case_id)
            return event  # erased: the fields already read ERASED
        return seal_event(event, key)

    def unseal(self, tx: UnitOfWork, event: E) -> E:
        """`event` as the domain sees it: sealed fields opened (ERASED once the key is gone).
        DecryptionFailed for a stored record that does not open (tampering)."""
        if not sealed_paths(event):
            return event
        key = self.key(tx, event.case_id)
        if isinstance(key, _Missing):
            raise DecryptionFailed(f"no data key for case {event.case_id}")
        return open_event(event, key)

    def wrap_for(self, tx: UnitOfWork, case_id: str, division: str) -> Headers:
        """The `xinfang_dk` header for an inbox copy to `division`; none when the case has no
        key (yet) or `division` published no encryption key (logged: it will refuse)."""
        key = self.key(tx, case_id) if case_id else MISSING
        if not isinstance(key, bytes):
            return []
        public = self.published(division)
        if public is None:
            log.warning(
                "%s 未发布加密公钥，案件 %s 的数据密钥无法发送 / %s has no published encryption "
                "key: the data key of %s cannot be sent", division, case_id, division, case_id,
            )  # fmt: skip
            return []
        wrap = wrap_key(key, division, public, wrap_context(case_id))
        return [(WRAP_HEADER, wrap.encode())]

    # -- inbound -------------------------------------------------------------------------------
    def accept(self, tx: UnitOfWork, event: E, headers: Headers) -> E:
        """An inbound (signature-checked) event opened: with the key held, else with the key
        its wrap carries (then stored). SealRefused with the dead letter's reason otherwise."""
        if not sealed_paths(event):
            return event
        case_id = event.case_id
        key = self.key(tx, case_id)
        if not isinstance(key, _Missing):
            try:
                return open_event(event, key)
            except DecryptionFailed as exc:
                raise SealRefused("sealed-field-unreadable", f"{case_id}: {exc}") from exc
        wraps = [v for k, v in headers if k == WRAP_HEADER]
        if not wraps:
            raise SealRefused(
                "data-key-missing",
                f"案件 {case_id} 的记录含加密字段，但未附本节点可用的数据密钥 / the record of "
                f"{case_id} has sealed fields and no data key wrapped for {self.division}",
            )
        try:
            wrap = wraps[-1].decode("ascii", "replace")
            fresh = unwrap_key(wrap, self.own, wrap_context(case_id))
            opened = open_event(event, fresh)
        except DecryptionFailed as exc:
            raise SealRefused(
                "data-key-invalid",
                f"案件 {case_id} 的数据密钥无法打开 / the data key of {case_id} does not "
                f"open: {exc}",
            ) from exc
        self._store(tx, case_id, fresh)
        return opened


def without_wrap(headers: Headers) -> Headers:
    """`headers` less any `xinfang_dk` (a forwarded copy gets its own wrap)."""
    return [(k, v) for k, v in headers if k != WRAP_HEADER]
