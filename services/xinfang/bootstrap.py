"""The one wiring place (issue 11 item 1, decision 020): settings → adapters → NodeService.

Every way to run a node gets its parts here: the faust app (node/app.py `build_node` adds the
web server and background tasks to `node_parts`), the in-process bus of the unit tests and
`make chaos` (devtools/inprocess.py), the benchmarks and tests (`service_for`). This module
reads the files (rules, holidays, topology, keys, schemas) through their adapters; the service
gets values and small ports. Nothing is built at import time.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from .api.auth import Auth, AuthSettings
from .chain.keys import (
    KeyFileError,
    Keyring,
    load_or_create_private_key,
    published_keys_dir,
    write_public_key,
)
from .codec.schemas import SchemaCatalogue
from .codec.wire import EventCodec
from .contract.catalogue import SchemaLearner
from .contract.public_status import PublicStatusFeed, load_feed_key
from .domain.acts import DEFAULT_BACKDATE_TOLERANCE, DEFAULT_FUTURE_TOLERANCE
from .domain.calendar import HolidayCalendar
from .domain.clock import Clock, system_clock
from .domain.hierarchy import ReviewHierarchy
from .domain.rules import RuleSet
from .domain.topology import Topology
from .identity.oidc import oidc_authenticator
from .identity.principal import Authenticator
from .identity.sessions import SessionBook
from .kafka_acls import inbox_group
from .node.calendar_source import CalendarSource
from .node.case_sealer import CaseSealer
from .node.checkpoints import ChainKeeper
from .node.clock_file import FileClock
from .node.faults import CrashPoints
from .node.inbox import InboxConsumer
from .node.key_wait import KeyWait
from .node.published_keys import PublishedKeys
from .node.relay import OutboxRelay
from .node.service import NodeService
from .privacy.node_keys import (
    PublishedEncryptionKeys,
    load_or_create_recipient_key,
    publish,
)
from .rules_file import HolidayFolder, load_review_hierarchy, load_ruleset
from .settings import NodeSettings, SettingsError
from .store.protection import key_ring_for
from .store.protocols import Store
from .store.unit_of_work import NodeStore
from .topics import TopicNames
from .topology_file import load_topology

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RuleData:
    """A division's rules as read from a rules folder, with the source the node re-reads
    its holiday calendar from (a newly installed official schedule, DOMAIN.md §11)."""

    rules: RuleSet
    calendar: HolidayCalendar
    hierarchy: ReviewHierarchy
    calendar_source: CalendarSource
    calendar_signature: Hashable


def rule_data(division: str, topology: Topology, rules_dir: Path | None = None) -> RuleData:
    """Rules, calendar and review hierarchy of `division` from `rules_dir` (None: the shipped
    deploy/rules). Raises RulesInvalid naming a malformed file."""
    rules = load_ruleset(division, rules_dir)
    source = HolidayFolder(division, rules_dir)
    signature, calendar = source.current()
    hierarchy = load_review_hierarchy(topology, division, rules_dir)
    return RuleData(rules, calendar, hierarchy, source, signature)


def service_for(
    division: str,
    topology: Topology,
    store: Store,
    *,
    codec: EventCodec | None = None,
    topics: TopicNames | None = None,
    clock: Clock = system_clock,
    rules_dir: Path | None = None,
    rules: RuleSet | None = None,
    calendar: HolidayCalendar | None = None,
    hierarchy: ReviewHierarchy | None = None,
    chain: ChainKeeper | None = None,
    auto_supervise: bool = True,
    future_tolerance: timedelta = DEFAULT_FUTURE_TOLERANCE,
    backdate_tolerance: timedelta = DEFAULT_BACKDATE_TOLERANCE,
    sealer: CaseSealer | None = None,
) -> NodeService:
    """A NodeService for `division` with defaults for what is not given: the installed
    schemas, topic names without prefix, the rules of `rules_dir` (a `calendar` given is fixed:
    the node then never re-reads holiday files), a chain keeper with a new key only it
    publishes."""
    codec = codec or EventCodec()
    data = rule_data(division, topology, rules_dir)
    fixed = calendar is not None
    return NodeService(
        division,
        topology,
        store,
        codec,
        topics or TopicNames(),
        rules=rules or data.rules,
        calendar=calendar or data.calendar,
        hierarchy=hierarchy or data.hierarchy,
        chain=chain or ChainKeeper.ephemeral(division, topology),
        public=PublicStatusFeed(topology, codec.catalogue.schema_dir),
        clock=clock,
        calendar_source=None if fixed else data.calendar_source,
        calendar_signature=None if fixed else data.calendar_signature,
        auto_supervise=auto_supervise,
        future_tolerance=future_tolerance,
        backdate_tolerance=backdate_tolerance,
        sealer=sealer,
    )


def authenticators_for(
    sessions: SessionBook, settings: NodeSettings | None = None, topology: Topology | None = None
) -> list[Authenticator]:
    """The node's authenticator chain (api/auth.py, decision 025): its built-in sessions
    first, then an OIDC provider's when `settings` name one (XINFANG_OIDC_ISSUER, decision
    026)."""
    if settings is None or topology is None:
        return [sessions]
    return authenticators(settings, topology, [sessions])


def node_auth(service: NodeService, settings: NodeSettings, topology: Topology) -> Auth:
    """A running node's sign-in: its own accounts on its database (XINFANG_* sign-in settings
    from the environment), and the OIDC provider its settings name."""
    auth_settings = AuthSettings.from_env()
    auth = Auth(service.account_book(auth_settings.policy), auth_settings)
    auth.authenticators = authenticators_for(auth.sessions, settings, topology)
    return auth


def keeper_for(settings: NodeSettings, topology: Topology) -> ChainKeeper:
    """The node's chain keeper with its signing key: the key file given, or the one in its data
    folder (created on first start). Refuses (SettingsError) a key that does not match the
    public key published for the division."""
    folder = settings.public_keys_dir or published_keys_dir(settings.topology_path)
    try:
        keyring = Keyring.from_dir(folder)
        published = keyring.get(settings.division)
        if not settings.key_path.exists() and (settings.key_file or published):
            pub = folder / f"{settings.division}.pub"
            where = f"（已发布公钥 / published: {pub}）" if published else ""
            raise KeyFileError(  # a published key needs its private key: never make a new one
                f"私钥文件不存在 / key file not found: {settings.key_path}{where}"
            )
        key, created = load_or_create_private_key(settings.key_path)
    except KeyFileError as err:
        raise SettingsError(str(err)) from err
    own = keyring.key_set(settings.division)
    if own is None and settings.publish_key:  # development / compose: publish it ourselves
        write_public_key(key.public_raw, folder / f"{settings.division}.pub")
        keyring = Keyring.from_dir(folder)
        own = keyring.key_set(settings.division)
        log.info("published node key %s in %s (XINFANG_PUBLISH_KEY)", key.key_id, folder)
    if own is not None and own.key(key.key_id) is None:
        raise SettingsError(
            f"节点 {settings.division} 的私钥（{key.key_id}，{settings.key_path}）与已发布的公钥"
            f"（{folder}/{settings.division}.pub）不符，拒绝启动 / the private key of node "
            f"{settings.division} ({key.key_id}) does not match its published public key; "
            "refusing to start"
        )
    if created:
        log.info("generated node key %s in %s", key.key_id, settings.key_path)
    if own is None:
        log.warning(
            "节点 %s 的公钥未发布在 %s，其他节点将拒收它的全部记录（xinfang keys generate）/ "
            "the key of node %s is not published in %s: its neighbours refuse all its records",
            settings.division, folder, settings.division, folder,
        )  # fmt: skip
    live = PublishedKeys(folder, topology)  # re-read when keys/ changes (rotation)
    return ChainKeeper(settings.division, topology, signer=key, keyring=keyring, published=live)


def sealer_for(
    settings: NodeSettings, chain: ChainKeeper, clock: Clock, store: NodeStore
) -> CaseSealer:
    """The node's sealer (decision 028): its at-rest keys (the store's key ring, one loader:
    `open_store`), its X25519 key (`node-<division>.x25519` beside its signing key file,
    created 0600; `xinfang keys generate` makes both) published signed with
    XINFANG_PUBLISH_KEY, and the other divisions' published keys."""
    division = settings.division
    folder = settings.public_keys_dir or published_keys_dir(settings.topology_path)
    try:
        own, created = load_or_create_recipient_key(settings.key_path.with_suffix(".x25519"))
    except KeyFileError as err:
        raise SettingsError(str(err)) from err
    if created:
        log.info("generated encryption key %s for node %s", own.key_id, division)
    published = PublishedEncryptionKeys(folder, chain.ring)
    if published.public(division) != own.public_raw:
        if settings.publish_key and chain.signer is not None:  # development / compose
            publish(division, own, chain.signer, folder)
            log.info("published encryption key %s in %s", own.key_id, folder)
        else:
            log.warning(
                "节点 %s 的加密公钥（%s）未发布在 %s，上级和下级无法向它发送个人信息密钥 / the "
                "encryption key %s of node %s is not published in %s: no case key reaches it",
                division, own.key_id, folder, own.key_id, division, folder,
            )  # fmt: skip
    return CaseSealer(division, store.columns, own, published.public, clock)


def open_store(settings: NodeSettings, env: Mapping[str, str] | None = None) -> NodeStore:
    """The node's store with its data keys (XINFANG_DATA_KEYS, _FILE, else
    `settings.data_keys_path`, created 0600 on first start; never in the database). A key file
    missing for a database holding ciphertext, or lacking a key a stored value needs, is
    DataKeysInvalid (XF-DATA-KEYS, a configuration error: exit 2) naming the file, not a crash."""
    env = os.environ if env is None else env
    return NodeStore(
        settings.database_url, lambda engine: key_ring_for(engine, env, settings.data_keys_path)
    )


def public_feed(settings: NodeSettings, topology: Topology, codec: EventCodec) -> PublicStatusFeed:
    """The public status feed under the deployment's feed key (XINFANG_FEED_KEY, _FILE, else
    `<data dir>/public-feed.key`; contract/public_status.py)."""
    key = load_feed_key(os.environ, settings.data_dir / "public-feed.key")
    return PublicStatusFeed(topology, codec.catalogue.schema_dir, key)


def rekey_matters(service: NodeService, store: NodeStore) -> None:
    """Matter keys stored unkeyed (before issue 15 item 3) re-derived from the cases' events
    under the node's index key, once, at start-up."""
    stale = store.cases.ids_to_rekey()
    if stale:
        done = service.resave(stale)
        log.info("重新计算了 %d 个事项的匹配索引 / re-keyed %d matter indexes", done, done)


def authenticators(
    settings: NodeSettings, topology: Topology, built_in: Sequence[Authenticator] = ()
) -> list[Authenticator]:
    """The chain of authenticators api/auth.py runs, in order: the node's own (`built_in`,
    sessions of its accounts) first, then the OIDC provider's when XINFANG_OIDC_ISSUER is set
    (decision 026). Each answers None for credentials that are not its kind."""
    chain = list(built_in)
    oidc = oidc_authenticator(settings, topology)
    if oidc is not None:
        chain.append(oidc)
    return chain


@dataclass
class NodeParts:
    """Everything a running node is made of, except its web server and task loop (node/app.py)."""

    settings: NodeSettings
    topology: Topology
    topics: TopicNames
    codec: EventCodec
    chain: ChainKeeper
    service: NodeService
    relay: OutboxRelay
    schemas: SchemaLearner
    inbox: InboxConsumer


def node_parts(settings: NodeSettings) -> NodeParts:
    """Read the settings' files (topology, rules, keys, schemas), open the store and wire the
    service, its outbox relay, its inbox consumer and its schema learner. Raises SettingsError
    (keys), RulesInvalid (rules) or the topology file's error, naming the file."""
    topology = load_topology(settings.topology_path)
    division = topology.division(settings.division)
    if not settings.db_url:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    store = open_store(settings)
    topics = TopicNames(settings.topic_prefix)
    clock = FileClock(settings.clock_file) if settings.clock_file else system_clock
    chain = keeper_for(settings, topology)  # signing key, published keys (decision 006)
    sealer = sealer_for(settings, chain, clock, store)  # case keys, personal fields sealed (028)
    codec = EventCodec(SchemaCatalogue(settings.schema_dir))
    data = rule_data(division.code, topology, settings.rules_dir)
    service = NodeService(
        division.code, topology, store, codec, topics,
        rules=data.rules, calendar=data.calendar, hierarchy=data.hierarchy,
        chain=chain, public=public_feed(settings, topology, codec), clock=clock,
        calendar_source=data.calendar_source, calendar_signature=data.calendar_signature,
        future_tolerance=timedelta(seconds=settings.future_tolerance_s),
        backdate_tolerance=timedelta(seconds=settings.backdate_tolerance_s),
        gap_alarm_s=settings.chain_gap_alarm_s, sealer=sealer,
        retention=timedelta(days=settings.retention_days),
    )  # fmt: skip
    if service.trail is not None:  # whose X-Forwarded-For the operator trail believes
        service.trail.trusted_proxies = settings.trusted_proxies
    service.warn_calendar()  # a year without its holiday schedule: logged now, and at sweeps
    rekey_matters(service, store)
    schemas = SchemaLearner(settings.bootstrap_servers, topics, codec.decoder)
    relay = OutboxRelay(
        store,
        settings.bootstrap_servers,
        client_id=f"{settings.topic_prefix}xinfang-{division.code}",
        stuck_after_s=settings.relay_stuck_after_s,
        unknown_topic_grace_s=settings.relay_unknown_topic_s,
        producer_settings={"max_request_size": settings.relay_max_record_bytes},
        crash_points=CrashPoints(
            settings.fault_crash_before_publish, settings.fault_crash_before_mark
        ),  # make chaos only
    )
    service.on_commit.append(relay.wake)
    # copies to a division whose encryption key is not published yet: held, then sent (038)
    service.key_wait = relay.key_wait = KeyWait(
        sealer, store.outbox, store.transaction, topics, [d.code for d in topology.divisions]
    )
    inbox = InboxConsumer(
        service,
        settings.bootstrap_servers,
        topics.inbox(division.code),
        group_id=inbox_group(settings.topic_prefix, division.code),  # the one its ACLs grant
        client_id=f"{settings.topic_prefix}xinfang-{division.code}-inbox",
        schemas=schemas,
    )
    return NodeParts(settings, topology, topics, codec, chain, service, relay, schemas, inbox)
