"""The application service of one node: commands in, inbound events in, all through the store.

Every state change and the records it must publish commit in one transaction
(outbox); every inbound event is recorded with its effect in one transaction
(idempotent inbox). Nothing here talks to Kafka: the relay and the consumer do.
"""

from __future__ import annotations

import logging
import secrets
import uuid
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, TypeVar

from ..chain.links import Head, record_hash
from ..chain.record_signing import (
    CASE_EVENT_COVERED,
    DLQ_ORIGINAL_SIG,
    SIG_HEADER,
    dead_letter_covered,
)
from ..codec.wire import DecodeError, EventCodec, cloudevents_headers
from ..contract.public_status import PublicStatusFeed
from ..domain.acts import DEFAULT_BACKDATE_TOLERANCE, DEFAULT_FUTURE_TOLERANCE
from ..domain.calendar import HolidayCalendar, calendar_status, local_date
from ..domain.case import Case, evolve, fold, require_predecessor
from ..domain.clock import Clock, system_clock
from ..domain.commands import RegisterPetition
from ..domain.context import Context
from ..domain.deciders import authorise_inbound, decide_missed, decide_register
from ..domain.errors import CaseNotFound, DependencyMissing, DomainError
from ..domain.events import (
    CaseClosed,
    CaseFile,
    ChainCheckpointed,
    Event,
    EventHeader,
    PersonalDataErased,
)
from ..domain.hierarchy import ReviewHierarchy
from ..domain.matter import matter_parts, same_matter
from ..domain.obligations import lapsed, next_check, overdue, react
from ..domain.restate import changed_fields, restate
from ..domain.routing import complete_stream_expected, forward_upward, recipients, sender_refusal
from ..domain.rule_errors import RulesInvalid
from ..domain.rules import RuleSet
from ..domain.topology import Topology
from ..identity.accounts import AccountBook, AccountPolicy
from ..identity.trail import OperatorTrail
from ..store.chain_status import chain_status
from ..store.protocols import Store, UnitOfWork
from ..store.records import CaseRow, Headers, KeyRecord, StoredEvent
from ..topics import TopicNames
from .calendar_source import CalendarSource
from .case_sealer import CaseSealer, SealRefused, without_wrap
from .checkpoints import ChainKeeper
from .key_wait import KEY_MISSING, KeyWait

log = logging.getLogger(__name__)
C = TypeVar("C")

GAP_ALARM_S = 300.0  # default of XINFANG_CHAIN_GAP_ALARM_S: a chain gap open longer is an alarm
RETENTION = timedelta(days=1826)  # default of XINFANG_RETENTION_DAYS: 5 years after the end
ERASURE_EVERY = timedelta(hours=1)  # how often the sweep looks for expired personal data
_QUERY_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read out over the phone


class DeliveryOutcome(StrEnum):
    """What became of one inbound record (stored with its event id in the inbox); not to be
    confused with a document's 送达回证 (vocabulary.Receipt)."""

    APPLIED = "applied"
    PARKED = "parked"
    DUPLICATE = "duplicate"
    DEAD_LETTERED = "dead_lettered"
    REFUSED = "refused"  # not a legal act of its actor on the case (decision 023): dead-lettered


@dataclass(frozen=True)
class Registered:
    case_id: str
    query_code: str
    events: list[Event]


class FoldCache:
    """Committed folds of recently touched cases, so an event does not re-read and re-decode
    every earlier event of its case (docs/benchmarks.md, F1c). An entry is used only while
    the stored summary has the same version, so a writer that bypasses this service (another
    process on the same database) can make it miss, never wrong."""

    def __init__(self, capacity: int = 10_000) -> None:
        self.capacity = capacity
        self._folds: OrderedDict[str, Case] = OrderedDict()

    def get(self, case_id: str) -> Case | None:
        case = self._folds.get(case_id)
        if case is not None:
            self._folds.move_to_end(case_id)
        return case

    def put_all(self, cases: dict[str, Case]) -> None:
        for case_id, case in cases.items():
            self._folds[case_id] = case
            self._folds.move_to_end(case_id)
        while len(self._folds) > self.capacity:
            self._folds.popitem(last=False)


def _claimed(records: Sequence[tuple[bytes, Headers]], header: str) -> list[str]:
    """What the records' CloudEvents headers claim (ce_id: event ids, ce_subject: case ids):
    only a hint for a prefetch; the decoded event's own values are what count."""
    return [
        value.decode("utf-8", "replace")
        for _, headers in records
        for key, value in headers
        if key == header
    ]


def _truncate_to_millis(moment: datetime) -> datetime:
    # Avro timestamp-millis keeps milliseconds; deciding with finer time would
    # make an event differ from its own round trip.
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


class NodeService:
    """One node's application service. Everything it needs comes in as arguments, built by
    xinfang.bootstrap (the one wiring place, decision 020): it reads no files itself.

    `calendar_source`, if given, is asked at each sweep whether the holiday files changed
    (refresh_calendar); `calendar` is then the calendar read with `calendar_signature`. Without
    it the calendar is fixed (tests)."""

    def __init__(
        self,
        division: str,
        topology: Topology,
        store: Store,
        codec: EventCodec,
        topics: TopicNames,
        *,
        rules: RuleSet,
        calendar: HolidayCalendar,
        hierarchy: ReviewHierarchy,
        chain: ChainKeeper,
        public: PublicStatusFeed,
        clock: Clock = system_clock,
        calendar_source: CalendarSource | None = None,
        calendar_signature: Hashable = None,
        auto_supervise: bool = True,
        future_tolerance: timedelta = DEFAULT_FUTURE_TOLERANCE,
        backdate_tolerance: timedelta = DEFAULT_BACKDATE_TOLERANCE,
        gap_alarm_s: float = GAP_ALARM_S,
        sealer: CaseSealer | None = None,
        retention: timedelta = RETENTION,
    ) -> None:
        topology.division(division)  # fail fast on a division that is not in the topology
        self._calendar_source = calendar_source
        self._calendar_seen = calendar_signature  # the source's signature `calendar` was read at
        self.rules = rules
        self.calendar = calendar
        self.hierarchy = hierarchy
        self.auto_supervise = auto_supervise
        self.future_tolerance = future_tolerance  # client-given times of acts (acts.py)
        self.backdate_tolerance = backdate_tolerance
        self.division = division
        self.topology = topology
        self.store = store
        self.codec = codec
        self.topics = topics
        self.clock = clock
        self.public = public
        self.on_commit: list[Callable[[], None]] = []
        self.chain = chain  # audit chain (decision 006)
        self._trail: OperatorTrail | None = None
        self.chain = chain  # audit chain (decision 006), record signatures (021, 022)
        self.gap_alarm_s = gap_alarm_s
        self.folds = FoldCache()
        # Personal fields sealed with the case keys (decision 028); None: written in clear
        # (in-process test wiring only: a running node always has one, bootstrap.py).
        self.sealer = sealer
        # Copies for a division whose key is not known held, not sent unreadable (decision
        # 038); None: wrapped when possible, else sent without (in-process test wiring).
        self.key_wait: KeyWait | None = None
        self.retention = retention  # XINFANG_RETENTION_DAYS after a case ended (decision 028)
        self._erasure_checked = datetime.min.replace(tzinfo=UTC)
        # Group-commit figures for /health: inbox transactions and the records they applied.
        self.inbox_transactions = 0
        self.inbox_records = 0
        self._warned_years: list[int] = []

    @contextmanager
    def _unit(self) -> Iterator[UnitOfWork]:
        """One transaction; the folds it produced join the cache only if it commits."""
        with self.store.transaction() as tx:
            yield tx
        self.folds.put_all(tx.folded)
        if self.sealer is not None:
            self.sealer.committed(tx)

    def _encode(self, tx: UnitOfWork, event: Event) -> bytes:
        """The record's bytes: its personal fields sealed with the case key (decision 028)."""
        return self.codec.encode(self.sealer.seal(tx, event) if self.sealer else event)

    def _decode(self, tx: UnitOfWork, data: bytes) -> Event:
        """A stored record as the domain sees it: sealed fields opened with the case key."""
        event = self.codec.decode(data).event
        return self.sealer.unseal(tx, event) if self.sealer else event

    def _enqueue_copy(
        self, tx: UnitOfWork, data: bytes, headers: Headers, case_id: str, division: str
    ) -> None:
        """Queue the inbox copy to `division`: the case key wrapped for it (decision 028), or
        held (set aside) while `division`'s key is not known (key_wait.py, decision 038)."""
        topic = self.topics.inbox(division)
        if self.key_wait is not None:
            copy, held = self.key_wait.copy_for(tx, headers, case_id, division)
            tx.log.enqueue(topic, case_id, data, copy, KEY_MISSING if held else None)
            return
        if self.sealer is not None:
            headers = [*without_wrap(headers), *self.sealer.wrap_for(tx, case_id, division)]
        tx.log.enqueue(topic, case_id, data, headers)

    # -- commands -------------------------------------------------------------------
    def context(self) -> Context:
        return Context(
            division=self.division,
            topology=self.topology,
            now=_truncate_to_millis(self.clock()),
            new_id=lambda: str(uuid.uuid4()),
            rules=self.rules,
            calendar=self.calendar,
            hierarchy=self.hierarchy,
            future_tolerance=self.future_tolerance,
            backdate_tolerance=self.backdate_tolerance,
        )

    def register(
        self, actor: str, file: CaseFile, backdate_reason: str | None = None, person: str = ""
    ) -> Registered:
        ctx = replace(self.context(), person=person)  # the signed-in person, on the events
        with self._unit() as tx:
            serial = tx.cases.next_serial(f"case:{ctx.now.year}")
            case_id = f"{self.division}-{ctx.now.year}-{serial:06d}"
            query_code = "".join(secrets.choice(_QUERY_ALPHABET) for _ in range(8))
            cmd = RegisterPetition(actor, case_id, query_code, file, backdate_reason)
            events = decide_register(ctx, None, cmd, self._related(tx, file))
            self._commit(tx, None, events)
        self._notify()
        return Registered(case_id, query_code, events)

    def execute(
        self,
        case_id: str,
        decide: Callable[[Context, Case, C], list[Event]],
        command: C,
        person: str = "",
    ) -> list[Event]:
        ctx = replace(self.context(), person=person)  # the signed-in person, on the events
        with self._unit() as tx:
            case = self._load(tx, case_id)
            if case is None:
                raise CaseNotFound(case_id, case=case_id)
            events = decide(ctx, case, command)
            self._commit(tx, case, events)
        self._notify()
        return events

    def same_matter_cases(self, file: CaseFile) -> list[Case]:
        """The cases `decide_register` would weigh for R11/R12 if `file` were registered now:
        found by the keyed matter index, then `same_matter` (contacts that do not differ).
        Records nothing; the caller applies need-to-know (api/match_routes.py)."""
        with self._unit() as tx:
            return [c for c in self._related(tx, file) if same_matter(c.file, file)]

    def _related(self, tx: UnitOfWork, file: CaseFile) -> list[Case]:
        """Cases this node knows about the same matter from the same petitioner (R11, R12)."""
        key = self._matter_key(tx, file)
        if key is None:
            return []
        related = []
        for case_id in tx.cases.ids_with_matter_key(key):
            case = self._load(tx, case_id)
            if case is not None:
                related.append(case)
        return related

    def _commit(self, tx: UnitOfWork, case: Case | None, events: list[Event]) -> Case | None:
        """Record this node's own decisions, then its reactions to them."""
        case = self._record(tx, case, events)
        if case is not None:
            for event in events:
                case = self._react(tx, case, event)
        return case

    def _react(self, tx: UnitOfWork, case: Case, event: Event) -> Case:
        reactions = react(self.context(), case, event, self.auto_supervise)
        if not reactions:
            return case
        return self._record(tx, case, reactions) or case

    def _record(self, tx: UnitOfWork, case: Case | None, events: list[Event]) -> Case | None:
        head = Head(*tx.log.head())
        for event in events:
            seq, prev_hash = head.next_link()
            event = event.positioned(seq, prev_hash, case.last_event_id if case else "")
            data = self._encode(tx, event)
            head = Head(seq, record_hash(data))
            tx.log.append(event, data, head.hash)
            before, case = case, evolve(case, event)
            tx.cases.append(event, data)
            to = recipients(event, case, self.division, self.topology)
            if isinstance(event, PersonalDataErased):
                to = ()  # each node erases its own keys: its own log only (decision 028)
            headers = self.chain.authored(tx, seq, data, self._headers(event), to)
            tx.log.enqueue(self.topics.log(self.division), event.case_id, data, headers)
            for division in to:
                self._enqueue_copy(tx, data, headers, event.case_id, division)
            self._publish_status(tx, before, case, event)
        if case is not None:
            self._save(tx, case)
        return case

    def _save(self, tx: UnitOfWork, case: Case) -> None:
        tx.cases.save(case, self._matter_key(tx, case.file), next_check(self.context(), case))
        tx.folded[case.case_id] = case

    @staticmethod
    def _matter_key(tx: UnitOfWork, file: CaseFile) -> str | None:
        """The keyed matter index (R11/R12) the store keeps; None: nothing to match."""
        parts = matter_parts(file)
        return None if parts is None else tx.cases.matter_index(parts)

    def resave(self, case_ids: Sequence[str], batch: int = 200) -> int:
        """Fold and save these cases again (their summaries re-derived from their events: e.g.
        matter keys re-keyed under the index key, issue 15 item 3). Returns how many."""
        done = 0
        for start in range(0, len(case_ids), batch):
            with self._unit() as tx:
                for case_id in case_ids[start : start + batch]:
                    case = self._load(tx, case_id)
                    if case is not None:
                        self._save(tx, case)
                        done += 1
        return done

    def _headers(self, event: Event) -> Headers:
        schema = self.codec.catalogue.get(event.type)
        return cloudevents_headers(event, schema.fingerprint_hex)

    def _publish_status(
        self, tx: UnitOfWork, before: Case | None, after: Case, event: Event
    ) -> None:
        """The public status feed (no personal data): the holder's node publishes each change."""
        record = self.public.change(before, after, event, self.division)
        if record is not None:
            headers = self.chain.sign(record.headers, record.value, CASE_EVENT_COVERED)
            tx.log.enqueue(self.topics.public_status(), record.key, record.value, headers)

    # -- inbound events -----------------------------------------------------------------
    def receive(self, data: bytes, headers: Headers) -> DeliveryOutcome:
        """Apply one record from this node's inbox; never raises for bad input."""
        return self.receive_batch([(data, headers)])[0]

    def receive_batch(
        self, records: Sequence[tuple[bytes, Headers]], origins: Sequence[str] | None = None
    ) -> list[DeliveryOutcome]:
        """Apply records from this node's inbox, in order, in one transaction (group commit:
        one fsync for the batch). Exactly once all the same: each record's inbox entry commits
        with its effect. Never raises for bad input; if a record trips a bug, the batch is
        rolled back and retried one record per transaction, so only that record fails.

        `origins` names where each record was read ("topic:partition:offset"); a dead letter
        carries it, so a record refused again after a redelivery is recognisably the same one.
        """
        if not records:
            return []
        where = list(origins) if origins is not None else [""] * len(records)
        try:
            with self._unit() as tx:
                tx.inbox.prefetch(_claimed(records, "ce_id"))
                tx.cases.prefetch_versions(_claimed(records, "ce_subject"))
                receipts = [
                    self._receive_in(tx, data, headers, origin)
                    for (data, headers), origin in zip(records, where, strict=True)
                ]
            self.inbox_transactions += 1
            self.inbox_records += len(records)
        except Exception:
            if len(records) == 1:
                raise
            log.exception("batch of %d failed at %s; one at a time", len(records), self.division)
            return [
                self.receive_batch([record], [origin])[0]
                for record, origin in zip(records, where, strict=True)
            ]
        self._notify()
        return receipts

    def _receive_in(
        self, tx: UnitOfWork, data: bytes, headers: Headers, origin: str
    ) -> DeliveryOutcome:
        try:
            event = self.codec.decode(data).event
        except DecodeError as exc:
            self._dead_letter_in(tx, data, headers, exc.reason, str(exc), origin)
            return DeliveryOutcome.DEAD_LETTERED
        refusal = sender_refusal(event, self.division, self.topology)
        if refusal is not None:
            self._dead_letter_in(tx, data, headers, refusal, event.header.source, origin)
            return DeliveryOutcome.DEAD_LETTERED
        digest = record_hash(data)
        seen = tx.inbox.entry(event.header.event_id)
        if seen is not None and seen[0] == digest:
            return DeliveryOutcome.DUPLICATE  # the very bytes applied before: changes nothing
        # Before anything is stored (decision 021): a record its source did not sign leaves
        # no trace but its dead letter, so it cannot block the genuine record with its id.
        problem = self.chain.record_problem(event, data, headers, self.clock())
        if problem is not None:
            h = event.header
            detail = f"{h.source} seq {h.seq} ({event.type} {h.event_id}): {problem}"
            self._dead_letter_in(tx, data, headers, problem.code, detail, origin)
            return DeliveryOutcome.DEAD_LETTERED
        if seen is not None:
            self._dead_letter_in(
                tx, data, headers, "conflicting-duplicate", event.header.event_id, origin
            )
            return DeliveryOutcome.DEAD_LETTERED
        if self.sealer is not None:
            try:  # its personal fields opened, with the key held or the one its wrap carries
                event = self.sealer.accept(tx, event, headers)
            except SealRefused as refused:
                self._dead_letter_in(tx, data, headers, refused.reason, refused.detail, origin)
                return DeliveryOutcome.DEAD_LETTERED
        receipt = self._place(tx, event, data, headers, origin)
        if receipt is not DeliveryOutcome.DEAD_LETTERED:  # a refusal leaves no inbox entry
            h = event.header
            tx.inbox.mark_received(h.event_id, digest, h.source, receipt.value)
        if receipt is DeliveryOutcome.APPLIED:
            self._drain_parked(tx, event.case_id)
        if receipt in (DeliveryOutcome.APPLIED, DeliveryOutcome.PARKED):
            self._drain_chain(tx, event.header.source)  # its chain may have moved
        return receipt

    def _place(
        self, tx: UnitOfWork, event: Event, data: bytes, headers: Headers, origin: str
    ) -> DeliveryOutcome:
        """Its source's chain first (checkpoints.py), then the case."""
        before = tx.inbox.chain_source(event.header.source)
        verdict = self.chain.receive(self, tx, event, data, headers, origin)
        if verdict:
            return DeliveryOutcome(verdict)
        receipt = self._apply(tx, event, data, headers)
        if receipt is DeliveryOutcome.REFUSED:
            self.chain.refused_by_rules(tx, event, before)
        return receipt

    def _drain_chain(self, tx: UnitOfWork, source: str) -> None:
        """Apply, in order, the records of `source` that waited for the gap just filled."""
        while (record := self.chain.next_parked(tx, source)) is not None:
            event = self._decode(tx, record.payload)
            receipt = self._place(tx, event, record.payload, record.headers, record.origin)
            digest = record_hash(record.payload)
            if receipt is not DeliveryOutcome.DEAD_LETTERED:
                tx.inbox.mark_received(event.header.event_id, digest, source, receipt.value)
            if receipt is DeliveryOutcome.APPLIED:
                self._drain_parked(tx, event.case_id)

    def _apply(
        self, tx: UnitOfWork, event: Event, data: bytes, headers: Headers
    ) -> DeliveryOutcome:
        try:
            before = case = self._load(tx, event.case_id)
            if complete_stream_expected(event, self.division, self.topology):
                require_predecessor(case, event)
            case = evolve(case, event)
        except DependencyMissing:
            tx.inbox.park(event.header.event_id, event.case_id, data, headers)
            return DeliveryOutcome.PARKED
        refusal = authorise_inbound(self.context(), before, event)  # after its predecessor
        if refusal is not None:  # nothing else is written: no state, no forward, no reaction
            self._dead_letter_in(tx, data, headers, "unauthorised-act", refusal.detail)
            return DeliveryOutcome.REFUSED
        # A deadline another node counted provisionally, on a year this node has the schedule of.
        case = restate(case, self.rules, self.calendar, changed_fields(before, case))
        tx.cases.append(event, data)
        self._save(tx, case)
        self._publish_status(tx, before, case, event)
        upward = forward_upward(event, self.division, self.topology)
        if upward is not None:
            self._enqueue_copy(tx, data, headers, event.case_id, upward)  # re-wrapped for it
        self._react(tx, case, event)
        return DeliveryOutcome.APPLIED

    def _drain_parked(self, tx: UnitOfWork, case_id: str) -> None:
        if not tx.inbox.has_parked(case_id):
            return  # the usual case: no query per event
        progressed = True
        while progressed:
            progressed = False
            for event_id, data, headers in tx.inbox.parked_for(case_id):
                event = self._decode(tx, data)
                tx.inbox.unpark(event_id)
                receipt = self._apply(tx, event, data, headers)
                if receipt is not DeliveryOutcome.PARKED:  # applied, or refused (decision 023)
                    digest, source = record_hash(data), event.header.source
                    tx.inbox.mark_received(event_id, digest, source, receipt.value)
                    progressed = progressed or receipt is DeliveryOutcome.APPLIED

    def _dead_letter_in(
        self,
        tx: UnitOfWork,
        data: bytes,
        headers: Headers,
        reason: str,
        detail: str,
        origin: str = "",
    ) -> None:
        log.warning("dead letter at %s: %s (%s)", self.division, reason, detail)
        extra: Headers = [
            ("xinfang_dlq_reason", reason.encode()),
            ("xinfang_dlq_detail", detail[:500].encode("utf-8", "replace")),
            ("xinfang_dlq_node", self.division.encode()),
        ]
        if origin:
            extra.append(("xinfang_dlq_origin", origin.encode()))
        # The node signs its dead letter; the author's signature is kept aside for a re-drive.
        kept = [(DLQ_ORIGINAL_SIG if k == SIG_HEADER else k, v) for k, v in headers]
        letter = self.chain.sign([*kept, *extra], data, dead_letter_covered([*kept, *extra]))
        tx.log.enqueue(self.topics.deadletter(self.division), reason, data, letter)

    # -- the holiday calendar ----------------------------------------------------------------
    def calendar_status(self) -> dict[str, Any]:
        """The `calendar` entry of /health (domain.calendar.calendar_status on today's Beijing
        date): a year without the State Council's schedule is warned about from 1 October of
        the year before (DOMAIN.md §11); deadlines into it are counted provisionally."""
        return calendar_status(self.calendar, local_date(self.clock()))

    def warn_calendar(self) -> None:
        """Log the calendar warning when the set of missing years changes (start, 1 October,
        a new year, a file installed)."""
        status = self.calendar_status()
        if status["missing_years"] != self._warned_years:
            self._warned_years = list(status["missing_years"])
            if self._warned_years:
                log.warning("%s / %s", status["message_zh"], status["message_en"])

    def refresh_calendar(self) -> bool:
        """Re-read the holiday files if they changed since they were read (a newly published
        schedule installed): then re-derive the deadlines and next check times of every open
        case (domain/restate.py). Returns True if the calendar was replaced."""
        source = self._calendar_source
        if source is None:
            return False  # a fixed calendar (tests): nothing to re-read
        seen = source.signature()
        if seen == self._calendar_seen:
            return False
        try:
            files, calendar = source.current()
        except (DomainError, RulesInvalid):  # a malformed new file: keep the old calendar
            log.exception("holiday files changed but cannot be read; keeping the old calendar")
            self._calendar_seen = seen
            return False
        self._calendar_seen = files
        if not calendar.years:  # every file removed: an operator's slip, not a new schedule
            log.error("no holiday files left; keeping the calendar read before")
            return False
        self.use_calendar(calendar)
        return True

    def use_calendar(self, calendar: HolidayCalendar) -> None:
        """Count on `calendar` from now on, and re-derive the open cases' deadlines on it."""
        self.calendar = calendar
        self.folds = FoldCache()  # cached folds carry deadlines restated on the old calendar
        open_ids = self.store.cases.open_ids()
        for start in range(0, len(open_ids), 200):
            with self._unit() as tx:
                for case_id in open_ids[start : start + 200]:
                    case = self._load(tx, case_id)
                    if case is not None:
                        self._save(tx, case)
        log.info("holiday calendar replaced; %d open cases re-derived", len(open_ids))
        self.warn_calendar()

    # -- the deadline watcher --------------------------------------------------------------
    def sweep_deadlines(self) -> int:
        """Record missed deadlines of this node's bodies and close lapsed cases.

        Re-reads the holiday files first if they changed (refresh_calendar). Returns how many
        events were recorded. Safe to run at any time and often: each obligation and deadline
        is reported once (the case remembers what it reported).
        """
        self.refresh_calendar()
        self.warn_calendar()
        recorded = 0
        # Only cases whose next deadline has come (the due-time index kept by `_save`), not
        # every open case: a province node holds tens of thousands.
        for case_id in self.store.cases.ids_to_check(self.context().now):
            with self._unit() as tx:
                case = self._load(tx, case_id)
                if case is None or case.closed:
                    continue
                ctx = self.context()
                events: list[Event] = []
                for item in overdue(case, ctx.now, self.division):
                    events += decide_missed(ctx, case, item.obligation, item.body, item.due)
                try:
                    reason = lapsed(ctx, case)
                except DomainError:  # e.g. no calendar for the year: report, don't crash
                    log.exception("cannot compute the review window of %s", case_id)
                    reason = None
                if reason is not None:
                    events.append(
                        CaseClosed(header=ctx.header(case.case_id, case.holder), reason=reason)
                    )
                if events:
                    self._commit(tx, case, events)
                    recorded += len(events)
                else:  # e.g. a row from before the index: remember when to look again
                    self._save(tx, case)
        recorded += self.erase_expired()
        if recorded:
            self._notify()
        return recorded

    def erase_expired(self) -> int:
        """Crypto-shredding (issue 15 item 5, decision 028): for each ended case whose
        retention period (`retention` after its closing event) has passed, record
        `PersonalDataErased` in this node's log and delete the case's data key in the same
        transaction. The records' bytes never change, so the chains still verify; their
        personal fields read `sealing.ERASED` here from now on. Returns how many were erased."""
        sealer = self.sealer
        now = self.context().now
        if sealer is None or now - self._erasure_checked < ERASURE_EVERY:
            return 0  # looked at most hourly: retention is counted in days
        self._erasure_checked = now
        erased = 0
        with self.store.transaction() as tx:
            held = tx.case_keys.closed_unerased()
        for case_id in held:
            with self._unit() as tx:
                case = self._load(tx, case_id)
                ended = self._ended_at(tx, case_id) if case is not None and case.closed else None
                if case is None or ended is None or ended + self.retention > now:
                    continue
                ctx = self.context()
                event = PersonalDataErased(
                    header=ctx.header(case_id, self.chain.actor),
                    retention_days=self.retention.days,
                    ended_at=ended,
                )
                self._commit(tx, case, [event])
                sealer.erase(tx, case_id)
                tx.folded.pop(case_id, None)  # the clear fold must not be cached
            erased += 1
        return erased

    def _ended_at(self, tx: UnitOfWork, case_id: str) -> datetime | None:
        """When the case's closing event happened (None: not ended)."""
        closing = [
            event.header.occurred_at
            for event in (self.codec.decode(p).event for p in tx.cases.payloads(case_id))
            if isinstance(event, CaseClosed)
        ]
        return closing[-1] if closing else None

    # -- reads ------------------------------------------------------------------------
    def _load(self, tx: UnitOfWork, case_id: str) -> Case | None:
        case = tx.folded.get(case_id)  # changed earlier in this transaction
        if case is not None:
            return case
        version = tx.cases.version(case_id)
        if version is None:
            return None  # no summary, no events: a case is saved with every event it folds
        cached = self.folds.get(case_id)
        if cached is not None and cached.version == version:
            return cached
        case = fold([self._decode(tx, p) for p in tx.cases.payloads(case_id)])
        if case is not None:
            # Deadlines counted provisionally follow the schedule installed since (§11).
            case = restate(case, self.rules, self.calendar)
            tx.folded[case_id] = case
        return case

    def case(self, case_id: str) -> Case:
        with self._unit() as tx:
            case = self._load(tx, case_id)
        if case is None:
            raise CaseNotFound(case_id, case=case_id)
        return case

    def history(self, case_id: str) -> list[tuple[StoredEvent, Event]]:
        rows = self.store.cases.history(case_id)
        if not rows:
            raise CaseNotFound(case_id, case=case_id)
        with self.store.transaction() as tx:
            return [(row, self._decode(tx, row.payload)) for row in rows]

    def stats(self) -> dict[str, int]:
        """Row counts of the node database for /health (store.protocols.Store.stats)."""
        return self.store.stats()

    def chain_health(self) -> dict[str, Any]:
        """The chains' part of /health (decision 022): `status` "degraded" while a direct
        source's gap has stayed open longer than `gap_alarm_s` seconds (XINFANG_CHAIN_GAP_ALARM_S),
        with an alarm naming the source, the `seq` waited for and the age (中英)."""
        now = self.clock()
        gaps, alarms = [], []
        for gap in self.store.chain_gaps():
            age = (now - gap.since).total_seconds()
            gaps.append(
                {"source": gap.source, "waiting_for_seq": gap.waiting_for,
                 "parked": gap.parked, "age_s": round(age, 1)}
            )  # fmt: skip
            if age > self.gap_alarm_s:
                alarms.append(
                    f"来自 {gap.source} 的记录缺少序号 {gap.waiting_for}，已等待 {age:.0f} 秒，"
                    f"{gap.parked} 条后续记录暂存 / {gap.source}'s record seq {gap.waiting_for} "
                    f"is missing for {age:.0f} s; {gap.parked} later records wait"
                )
        return {
            "status": "degraded" if alarms else "ok",
            "chain": {"gaps": gaps, "alarms": alarms},
        }

    def audit_status(self) -> dict[str, Any]:
        """The chains as this node's database holds them (store/chain_status.py), for the
        console's 审计 page (decision 034)."""
        return chain_status(self.store.engine)  # type: ignore[attr-defined]  # NodeStore's

    def list_cases(self) -> list[CaseRow]:
        """Every case summary this node holds, in case id order (times aware UTC)."""
        return self.store.cases.list_cases()

    def account_book(self, policy: AccountPolicy | None = None) -> AccountBook:
        """The node's built-in accounts, on its database and clock (decision 025)."""
        engine = self.store.engine  # type: ignore[attr-defined]  # NodeStore's SQL engine
        columns = self.store.columns  # type: ignore[attr-defined]  # its sealed TOTP secrets
        return AccountBook(engine, self.division, self.topology, self.clock, policy, columns)

    # -- the HTTP API's idempotency keys and on-demand checkpoints ------------------------
    def reserve_key(self, key: str, fingerprint: str) -> KeyRecord | None:
        """Reserve an Idempotency-Key; None if reserved now, else what the key holds."""
        return self.store.idempotency.reserve(key, fingerprint)

    def complete_key(self, key: str, status: int, response: Any) -> None:
        """Record the answer to a reserved Idempotency-Key."""
        self.store.idempotency.complete(key, status, response)

    def checkpoint(self, *, force: bool = False) -> ChainCheckpointed | None:
        """Sign a checkpoint of the log head now (ChainKeeper.checkpoint)."""
        return self.chain.checkpoint(self, force=force)

    @property
    def key_id(self) -> str | None:
        """The id of the node's signing key, or None without one."""
        return self.chain.key_id

    @property
    def trail(self) -> OperatorTrail | None:
        """The operator audit trail (decision 027), signed with the chain keeper's node key;
        None without a key (test wiring only: a node always has one)."""
        signer = self.chain.signer
        if signer is None:
            return None
        if self._trail is None or self._trail.key is not signer:
            self._trail = OperatorTrail(
                self.store.trail, self.division, signer, self.topics, self._notify
            )
        return self._trail

    def _notify(self) -> None:
        for callback in self.on_commit:
            callback()

    # -- what the chain keeper uses (node/checkpoints.py ChainHost) -----------------------------
    def transaction(self) -> AbstractContextManager[UnitOfWork]:
        return self.store.transaction()

    def new_header(self, case_id: str, actor: str) -> EventHeader:
        """A new event's header at this node's clock (not yet positioned in the log)."""
        return self.context().header(case_id, actor)

    def encode_record(self, event: Event) -> tuple[bytes, Headers]:
        """The record's bytes (single-object encoding) and its CloudEvents headers."""
        return self.codec.encode(event), self._headers(event)

    def committed(self) -> None:
        """Wake the relay after a commit that enqueued records."""
        self._notify()

    def dead_letter(
        self,
        tx: UnitOfWork,
        data: bytes,
        headers: Headers,
        reason: str,
        detail: str,
        origin: str = "",
    ) -> None:
        """Send an inbound record (read at `origin`, "topic:partition:offset") to the
        dead-letter topic within `tx`."""
        self._dead_letter_in(tx, data, headers, reason, detail, origin)
