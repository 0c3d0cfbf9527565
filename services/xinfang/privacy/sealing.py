"""Personal fields sealed inside events with the case's data key (issue 15 item 4, decision 028).

A sealed field stays an Avro string (the schemas do not change):

    "xfs1." + base64url(nonce (12) + AES-256-GCM(case key, UTF-8 text) + tag (16))
    associated data = b"xinfang-seal/1|" + case id + b"|" + field path (e.g. "file.facts")

so a sealed value copied into another case or another field does not open. Sealed: every text
field of the petitioner (name, address, contact, and any added later such as id_number) and
the content of the case file (title, request, facts, reasons, accused) and the query code
(the petitioner's lookup credential) — on every case, not only accusations: a complaint's facts
name people too. Structural fields (channel, category,
place, accused_body, dates) stay clear: routing and auditors need them.

The free text of the act events is sealed the same way under path "act.<field>" (`ACT_TEXT`,
decision 037): opinions, reasons, notes, summaries, guidance, answers, comments, the legal
basis (free text beside the citation) and every `backdate_reason`. Clear stay the structural
fields (bodies, divisions, rule ids, obligations, supervision ids, dates, outcomes) and
`HandlingExtended.approved_by` (the head who approved, in office: the audit checks it, R5).

Pure functions over `domain.events` dataclasses; the node's `case_sealer.CaseSealer` supplies
the keys. `seal_event`/`open_event` are what the benchmark times.
"""

from __future__ import annotations

import base64
import dataclasses
import secrets
from typing import Any, TypeVar

from ..domain.events import CaseFile, Event, Petitioner
from .suites import DecryptionFailed, suite

MARK = "xfs1."
ERASED = "已删除 / erased"  # what a view shows for a field whose case key was shredded
SEALED = "〔已加密 / sealed〕"  # what a reader without the key (the auditor) shows instead
KEY_BYTES = 32
_AES = suite("aes-256-gcm")
_FILE_TEXT = ("title", "request", "facts", "reasons", "accused")
# The free text of each event type, sealed as "act.<field>" (decision 037). A new text field of
# an event must be listed here or in `CLEAR_TEXT` (tests/unit/test_act_sealing.py checks).
ACT_TEXT: dict[str, tuple[str, ...]] = {
    "PetitionRegistered": ("backdate_reason",),
    "CaseTransferred": ("note",),
    "CaseAssigned": ("note",),
    "NoticeServed": ("backdate_reason",),
    "HandlingOpinionIssued": ("opinion", "legal_basis"),
    "CaseDiverted": ("guidance",),
    "UrgentReported": ("summary",),
    "TransferObjected": ("reasons",),
    "TransferReturned": ("note",),
    "CaseNotAccepted": ("reasons",),
    "HandlingExtended": ("reasons",),
    "CompletionReported": ("summary",),
    "ReviewRequested": ("reasons", "backdate_reason"),
    "ReviewDecided": ("opinion",),
    "ReReviewRequested": ("reasons", "backdate_reason"),
    "ReReviewDecided": ("opinion",),
    "CaseClosed": ("note",),
    "SupervisionIssued": ("reasons",),
    "SupervisionAnswered": ("answer",),
    "SatisfactionEvaluated": ("comment",),
}
# Text fields that stay clear: ids, codes and names of bodies and divisions, rule ids,
# obligations, hashes, key ids; `approved_by` names the approving head in office (R5, audited).
CLEAR_TEXT = frozenset({
    "body", "to_body", "to_division", "reviewer", "handling_body", "office", "approved_by",
    "supervision_id", "obligation", "rule_id", "head_hash", "key_id", "division",
    "checkpoint_event_id", "checkpoint_hash",
})  # fmt: skip
E = TypeVar("E", bound=Event)


def new_case_key() -> bytes:
    """A fresh 256-bit case data key."""
    return secrets.token_bytes(KEY_BYTES)


def _aad(case_id: str, path: str) -> bytes:
    return b"xinfang-seal/1|" + case_id.encode() + b"|" + path.encode()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def is_sealed(value: object) -> bool:
    return isinstance(value, str) and value.startswith(MARK)


def shown(value: str) -> str:
    """`value` as a reader without the case key shows it: `SEALED` if sealed."""
    return SEALED if is_sealed(value) else value


def seal_text(key: bytes, case_id: str, path: str, text: str) -> str:
    """`text` sealed for field `path` of `case_id`; "" stays "" (nothing to hide)."""
    if not text or is_sealed(text):
        return text
    return MARK + _b64(_AES.seal(key, text.encode(), _aad(case_id, path)))


def open_text(key: bytes | None, case_id: str, path: str, stored: str) -> str:
    """The clear text of a sealed field (text that is not sealed is returned as it is).
    `key` None: the key was erased, the field reads `ERASED`. DecryptionFailed if altered,
    sealed with another key, or moved from another case or field."""
    if not is_sealed(stored):
        return stored
    if key is None:
        return ERASED
    body = stored[len(MARK):]
    try:
        raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        return _AES.open(key, raw, _aad(case_id, path)).decode()
    except (ValueError, UnicodeDecodeError) as exc:
        if isinstance(exc, DecryptionFailed):
            raise
        raise DecryptionFailed(f"sealed field {path} unreadable: {exc}") from exc


_Fn = Any  # (path, value) -> value


def _petitioner(p: Petitioner, fn: _Fn) -> Petitioner:
    changes = {
        f.name: fn(f"file.petitioner.{f.name}", getattr(p, f.name))
        for f in dataclasses.fields(p)
        if isinstance(getattr(p, f.name), str)
    }
    return dataclasses.replace(p, **changes)


def _file(file: CaseFile, fn: _Fn) -> CaseFile:
    changes: dict[str, Any] = {
        name: fn(f"file.{name}", getattr(file, name))
        for name in _FILE_TEXT
        if isinstance(getattr(file, name), str)
    }
    return dataclasses.replace(file, petitioner=_petitioner(file.petitioner, fn), **changes)


def _map(event: E, fn: _Fn) -> E:
    changes: dict[str, Any] = {}
    file = getattr(event, "file", None)
    if isinstance(file, CaseFile):
        changes["file"] = _file(file, fn)
        code = getattr(event, "query_code", None)
        if isinstance(code, str):  # the petitioner's lookup credential travels with the file
            changes["query_code"] = fn("query_code", code)
    for name in ACT_TEXT.get(event.TYPE, ()):
        value = getattr(event, name)
        if isinstance(value, str):  # None (no backdate_reason) stays None
            changes[name] = fn(f"act.{name}", value)
    return dataclasses.replace(event, **changes) if changes else event


def carries_personal_data(event: Event) -> bool:
    """True for the events that hold a case file (registration, transfer, assignment)."""
    return isinstance(getattr(event, "file", None), CaseFile)


def act_text(event: Event) -> dict[str, str]:
    """The non-empty free text of `event` that `seal_event` seals: {"act.<field>": text}."""
    found: dict[str, str] = {}
    for name in ACT_TEXT.get(event.TYPE, ()):
        value = getattr(event, name)
        if isinstance(value, str) and value:
            found[f"act.{name}"] = value
    return found


def sealed_paths(event: Event) -> list[str]:
    """The paths of the fields of `event` that are sealed (as decoded from the wire)."""
    found: list[str] = []

    def note(path: str, value: str) -> str:
        if is_sealed(value):
            found.append(path)
        return value

    _map(event, note)
    return found


def seal_event(event: E, key: bytes) -> E:
    """`event` with its personal fields and act text sealed under the case key `key`."""
    case_id = event.case_id
    return _map(event, lambda path, value: seal_text(key, case_id, path, value))


def open_event(event: E, key: bytes | None) -> E:
    """`event` with its sealed fields opened (`key` None: erased, they read `ERASED`).
    DecryptionFailed if a field does not open with `key`."""
    case_id = event.case_id
    return _map(event, lambda path, value: open_text(key, case_id, path, value))
