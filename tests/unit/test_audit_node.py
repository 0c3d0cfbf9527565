"""A node's side of the audit chain: checkpoints, countersignatures and inbound checks."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from xinfang.bootstrap import keeper_for
from xinfang.chain.keys import (
    Keyring,
    NodeKey,
    load_private_key,
    read_public_key,
    write_public_key,
)
from xinfang.chain.record_signing import RECORD_COVERED, addressing, sign_record
from xinfang.chain.signing import sign_checkpoint
from xinfang.codec.wire import cloudevents_headers
from xinfang.domain.errors import CaseNotFound
from xinfang.domain.events import CHAIN_CASE_ID, ChainCheckpointed, CheckpointCountersigned
from xinfang.domain.topology import Topology
from xinfang.node.checkpoints import ChainKeeper
from xinfang.settings import NodeSettings, SettingsError

from .audit_world import CITY, CODEC, COUNTY, PROVINCE, World, decode, digest


@pytest.fixture(scope="module")
def world(topology: Topology, tmp_path_factory: pytest.TempPathFactory) -> World:
    """A handled case, no checkpoints yet; tests only deliver records to it (read-mostly)."""
    w = World(topology, tmp_path_factory.mktemp("audit-node"))
    w.handled_case()
    return w


def dead_letters(w: World, division: str) -> list[str]:
    node = w.bus.nodes[division]
    topic = w.bus.topics.deadletter(division)
    return [
        dict(r.headers)["xinfang_dlq_reason"].decode()
        for r in node.store.outbox.pending(10_000)
        if r.topic == topic
    ]


def test_a_checkpoint_is_countersigned_by_the_parent_and_reported_upward(
    topology: Topology, tmp_path: Path
) -> None:
    world = World(topology, tmp_path)
    world.handled_case()
    county = world.bus.nodes[COUNTY]
    checkpoint = county.chain.checkpoint(county)
    assert checkpoint is not None and checkpoint.header.case_id == CHAIN_CASE_ID
    assert county.chain.checkpoint(county) is None  # nothing new since
    world.bus.settle()
    [countersign] = [decode(v) for v in world.values(CITY) if b"CheckpointCountersigned" in v] or [
        e for e in map(decode, world.values(CITY)) if isinstance(e, CheckpointCountersigned)
    ]
    assert isinstance(countersign, CheckpointCountersigned)
    assert (countersign.division, countersign.checkpoint_seq) == (COUNTY, checkpoint.header.seq)
    assert countersign.checkpoint_hash == digest(world.values(COUNTY)[-1])
    assert countersign.public_key == world.keys[CITY].public_raw
    # the province received and accepted the city's countersignature
    assert dead_letters(world, PROVINCE) == []
    assert dead_letters(world, CITY) == []
    # chain events are not cases
    with pytest.raises(CaseNotFound):
        world.bus.nodes[CITY].case(CHAIN_CASE_ID)


def signed(w: World, source: str, value: bytes, to: str) -> list[tuple[str, bytes]]:
    """The headers `source`'s node would give `value` sent to `to` right after the last
    record `to` applied from it: a record its genuine key signed (a node's bug or a stolen
    key), so the chain checks behind the signature check are what is tested."""
    with w.bus.nodes[to].store.transaction() as tx:
        state = tx.inbox.chain_source(source)
    prev = state.last_seq if state is not None else 0
    event = decode(value)
    base = cloudevents_headers(event, CODEC.catalogue.get(event.type).fingerprint_hex)
    return sign_record(w.keys[source], value, [*base, *addressing([(to, prev)])], RECORD_COVERED)


def test_a_checkpoint_signed_with_another_key_is_dead_lettered(world: World) -> None:
    county_log = world.values(COUNTY)
    head = decode(county_log[-1]).header
    header = replace(
        head, event_id="forged", case_id=CHAIN_CASE_ID, actor="150404.xfj", causation_id="",
        seq=head.seq + 1, prev_hash=digest(county_log[-1]),
    )
    forged = CODEC.encode(sign_checkpoint(NodeKey.generate(), header))
    headers = signed(world, COUNTY, forged, CITY)
    assert world.bus.nodes[CITY].receive(forged, headers).value == "dead_lettered"
    assert dead_letters(world, CITY)[-1] == "key-mismatch"


def test_a_replayed_event_with_a_new_id_is_dead_lettered(world: World) -> None:
    old = decode(world.values(COUNTY)[0])
    replayed = CODEC.encode(replace(old, header=replace(old.header, event_id="again")))
    headers = signed(world, COUNTY, replayed, CITY)
    assert world.bus.nodes[CITY].receive(replayed, headers).value == "dead_lettered"
    assert dead_letters(world, CITY)[-1] == "chain-seq-regressed"


def test_the_next_event_must_link_to_the_last_one_received(world: World) -> None:
    log = world.values(COUNTY)
    last = decode(log[-1])
    forged = replace(
        last,
        header=replace(last.header, event_id="next", seq=last.header.seq + 1, prev_hash="0" * 64),
    )
    value = CODEC.encode(forged)
    headers = signed(world, COUNTY, value, CITY)
    assert world.bus.nodes[CITY].receive(value, headers).value == "dead_lettered"
    assert dead_letters(world, CITY)[-1] == "chain-broken"


def test_chain_events_from_a_grandchild_are_refused(world: World) -> None:
    county_log = world.values(COUNTY)
    head = decode(county_log[-1]).header
    header = replace(
        head, event_id="cp", case_id=CHAIN_CASE_ID, actor="150404.xfj", causation_id="",
        seq=head.seq + 1, prev_hash=digest(county_log[-1]),
    )
    checkpoint = CODEC.encode(sign_checkpoint(world.keys[COUNTY], header))
    headers = signed(world, COUNTY, checkpoint, CITY)  # as forwarded by the city
    assert world.bus.nodes[PROVINCE].receive(checkpoint, headers).value == "dead_lettered"
    assert dead_letters(world, PROVINCE)[-1] == "chain-event-misrouted"


def test_a_key_not_published_is_refused_no_trust_on_first_use(
    topology: Topology, tmp_path: Path
) -> None:
    w = World(topology, tmp_path)
    w.handled_case()
    county = w.bus.nodes[COUNTY]
    county.chain.checkpoint(county)
    w.bus.settle()
    assert dead_letters(w, CITY) == []
    county.chain.signer = NodeKey.generate()  # the county's key changes silently
    county.chain.checkpoint(county, force=True)
    [row] = [r for r in county.store.outbox.pending() if r.topic == w.bus.topics.inbox(CITY)]
    assert w.bus.nodes[CITY].receive(row.value, row.headers).value == "dead_lettered"
    assert dead_letters(w, CITY) == ["bad-signature"]


def test_keys_are_created_once_and_must_match_the_published_key(
    topology: Topology, tmp_path: Path
) -> None:
    settings = NodeSettings(
        division=COUNTY, data_dir=tmp_path / "data", public_keys_dir=tmp_path / "keys"
    )
    keeper = keeper_for(settings, topology)
    assert keeper.signer is not None
    key_file = tmp_path / "data" / f"node-{COUNTY}.key"
    assert (key_file.stat().st_mode & 0o777) == 0o600
    assert keeper_for(settings, topology).key_id == keeper.key_id  # loaded, not regenerated
    write_public_key(keeper.signer.public_raw, tmp_path / "keys" / f"{COUNTY}.pub")
    assert read_public_key(tmp_path / "keys" / f"{COUNTY}.pub") == keeper.signer.public_raw
    assert Keyring.from_dir(tmp_path / "keys").get(COUNTY) == keeper.signer.public_raw
    keeper_for(settings, topology)  # matches its published key: fine
    write_public_key(NodeKey.generate().public_raw, tmp_path / "keys" / f"{COUNTY}.pub")
    with pytest.raises(SettingsError, match="拒绝启动"):
        keeper_for(settings, topology)
    with pytest.raises(SettingsError):
        keeper_for(replace(settings, key_file=tmp_path / "missing.key"), topology)
    elsewhere = replace(settings, data_dir=tmp_path / "fresh")  # published key, no private key
    with pytest.raises(SettingsError, match="key file not found"):
        keeper_for(elsewhere, topology)
    assert not (tmp_path / "fresh" / f"node-{COUNTY}.key").exists()
    assert load_private_key(key_file).key_id == keeper.key_id


def test_checkpoint_of_an_empty_log_or_without_a_key_is_skipped(
    world: World, topology: Topology
) -> None:
    province, city = world.bus.nodes[PROVINCE], world.bus.nodes[CITY]
    assert province.chain.checkpoint(province) is None  # empty log: the province decided nothing
    assert ChainKeeper(CITY, topology).checkpoint(city) is None  # no key
    city_log = world.values(CITY)
    assert city_log  # the city decided things: an empty read would prove nothing below
    assert not any(isinstance(decode(v), ChainCheckpointed) for v in city_log)


def test_keys_generate_publishes_public_keys_and_keeps_private_ones(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from xinfang.cli import main

    args = ["keys", "generate", "--nodes", f"{CITY},{COUNTY}"]
    paths = ["--public-dir", str(tmp_path / "pub"), "--private-dir", str(tmp_path / "priv")]
    assert main([*args, *paths]) == 0
    ring = Keyring.from_dir(tmp_path / "pub")
    assert set(ring.keys) == {CITY, COUNTY}
    private = load_private_key(tmp_path / "priv" / f"node-{COUNTY}.key")
    assert ring.get(COUNTY) == private.public_raw
    assert private.key_id in capsys.readouterr().out
    assert main([*args, *paths]) == 0  # existing keys are kept
    assert load_private_key(tmp_path / "priv" / f"node-{COUNTY}.key").key_id == private.key_id
