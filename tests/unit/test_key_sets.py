"""Published key sets and rotation (issue 12 item 1 "Keys", decision 021): `xinfang keys
generate|rotate|revoke|show`, and a running node learning a rotation from `keys/`."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from xinfang.chain.keys import Keyring, NodeKey, load_private_key, write_private_key
from xinfang.chain.keysets import KeySet, PublishedKey, read_key_set, write_key_set
from xinfang.chain.record_signing import RECORD_COVERED, sign_record
from xinfang.cli import main
from xinfang.domain.commands import TransferCase
from xinfang.domain.deciders import decide_transfer
from xinfang.domain.topology import Topology
from xinfang.node.published_keys import PublishedKeys

from .fakes import FakeBus
from .test_slice_in_memory import sample_file

PROVINCE, CITY, COUNTY = "150000", "150400", "150404"


class Ticks:
    """A monotonic clock the test moves: the node looks at keys/ at most every second."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def world(topology: Topology, tmp_path: Path) -> tuple[FakeBus, Path, Path, Ticks]:
    bus = FakeBus(topology, [PROVINCE, CITY, COUNTY], tmp_path)
    bus.clock.now = datetime.now(UTC)  # the CLI dates key validity by the wall clock
    public, private = tmp_path / "keys", tmp_path / "private"
    for division, key in bus.keys.items():
        write_private_key(key, private / f"node-{division}.key")
        write_key_set(KeySet(division, 1, (PublishedKey(key.public_raw),)), public)
    ticks = Ticks()
    for node in bus.nodes.values():
        node.chain.published = PublishedKeys(public, topology, clock=bus.clock, monotonic=ticks)
    return bus, public, private, ticks


def _keys(args: list[str], public: Path, private: Path) -> int:
    return main(["keys", *args, "--public-dir", str(public), "--private-dir", str(private)])


def _transfer_to_county(bus: FakeBus) -> tuple[bytes, list[tuple[str, bytes]]]:
    city = bus.nodes[CITY]
    file = sample_file(bus)
    file = replace(file, request=f"{file.request} {city.store.stats()['cases']}")  # not R12
    reg = city.register("150400.xfj", file)
    city.execute(reg.case_id, decide_transfer, TransferCase("150400.xfj", "150404.zj"))
    rows = [r for r in city.store.outbox.pending() if r.topic == bus.topics.inbox(COUNTY)]
    city.store.outbox.mark_sent([r.id for r in city.store.outbox.pending()])
    return rows[-1].value, rows[-1].headers


def _reasons(bus: FakeBus, division: str) -> list[str]:
    topic = bus.topics.deadletter(division)
    rows = [r for r in bus.nodes[division].store.outbox.pending() if r.topic == topic]
    return [dict(r.headers)["xinfang_dlq_reason"].decode() for r in rows]


def test_generate_publishes_version_one_sets_and_show_lists_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    public, private = tmp_path / "pub", tmp_path / "priv"
    assert _keys(["generate", "--nodes", f"{CITY},{COUNTY}"], public, private) == 0
    key_set = read_key_set(public / f"{CITY}.keys.json")
    assert key_set.version == 1
    assert key_set.keys[0].public_raw == load_private_key(private / f"node-{CITY}.key").public_raw
    assert set(Keyring.from_dir(public).sets) == {CITY, COUNTY}
    capsys.readouterr()
    assert main(["keys", "show", "--public-dir", str(public), "--division", CITY]) == 0
    out = capsys.readouterr().out
    assert key_set.keys[0].key_id in out and "有效" in out and "version 1" in out


def test_a_running_node_learns_an_endorsed_rotation_and_ignores_an_unendorsed_one(
    world: tuple[FakeBus, Path, Path, Ticks],
) -> None:
    bus, public, private, ticks = world
    county, city = bus.nodes[COUNTY], bus.nodes[CITY]
    old = bus.keys[CITY]
    assert _keys(["rotate", "--division", CITY, "--overlap-hours", "1"], public, private) == 0
    new = load_private_key(private / f"node-{CITY}.key")
    rotated = read_key_set(public / f"{CITY}.keys.json")
    assert (rotated.version, [k.key_id for k in rotated.keys]) == (2, [old.key_id, new.key_id])
    assert rotated.endorsed_by(KeySet(CITY, 1, (PublishedKey(old.public_raw),)), bus.clock())
    assert load_private_key(private / f"node-{CITY}.key.{old.key_id}").key_id == old.key_id

    city.chain.signer = new  # the city restarted with its new key
    value, headers = _transfer_to_county(bus)
    ticks.now += 2  # the county looks at keys/ again
    assert county.receive(value, headers).value == "applied"
    ring = county.chain.ring()
    assert ring.lookup(CITY, old.key_id, bus.clock()) == old.public_raw  # overlap: still valid
    bus.clock.advance(hours=2)
    assert county.chain.ring().lookup(CITY, old.key_id, bus.clock()) is None  # expired

    # a forger with write access to keys/ but no key of the city or the province
    intruder = NodeKey.generate()
    forged_set = KeySet(CITY, 3, (PublishedKey(intruder.public_raw),)).endorse(CITY, intruder)
    write_key_set(forged_set, public)
    ticks.now += 2
    assert county.chain.ring().key_set(CITY) == rotated  # the held set stays
    city.chain.signer = intruder
    value, headers = _transfer_to_county(bus)
    assert county.receive(value, headers).value == "dead_lettered"
    assert _reasons(bus, COUNTY) == ["bad-signature"]


def test_a_key_revoked_with_the_parents_endorsement_is_refused_from_then_on(
    world: tuple[FakeBus, Path, Path, Ticks],
) -> None:
    bus, public, private, ticks = world
    county, city = bus.nodes[COUNTY], bus.nodes[CITY]
    stolen = bus.keys[CITY]
    args = ["revoke", "--division", CITY, "--key-id", stolen.key_id, "--new-key"]
    province_key = str(private / f"node-{PROVINCE}.key")
    assert _keys([*args, "--endorse-key", province_key], public, private) == 0
    revoked = read_key_set(public / f"{CITY}.keys.json")
    assert revoked.version == 2 and revoked.keys[0].revoked_at is not None
    bus.clock.now = datetime.now(UTC)  # after the revocation
    ticks.now += 2
    city.chain.signer = load_private_key(private / f"node-{CITY}.key")  # the fresh key
    value, headers = _transfer_to_county(bus)
    # whoever stole the old key signs the same record with it: refused, and changes nothing
    stolen_copy = sign_record(stolen, value, headers, RECORD_COVERED)
    assert county.receive(value, stolen_copy).value == "dead_lettered"
    assert _reasons(bus, COUNTY) == ["bad-signature"]
    assert county.receive(value, headers).value == "applied"


def test_a_revocation_not_endorsed_by_the_parent_or_a_valid_key_is_ignored(
    world: tuple[FakeBus, Path, Path, Ticks],
) -> None:
    bus, public, private, ticks = world
    county = bus.nodes[COUNTY]
    held = county.chain.ring().key_set(CITY)
    outsider = NodeKey.generate()
    write_private_key(outsider, private / "outsider.key")
    args = ["revoke", "--division", CITY, "--key-id", bus.keys[CITY].key_id]
    assert _keys([*args, "--endorse-key", str(private / "outsider.key")], public, private) == 0
    ticks.now += 2
    assert county.chain.ring().key_set(CITY) == held
    value, headers = _transfer_to_county(bus)
    assert county.receive(value, headers).value == "applied"


@pytest.mark.parametrize(
    "change",
    [
        {"format": "other/1"},
        {"keys": [{"key_id": "0" * 16, "suite": "ed25519", "public_key": "AAAA"}]},
        {"keys": [{"key_id": "wrong", "suite": "ed25519", "public_key": "A" * 43 + "="}]},
        {"version": "two"},
    ],
)
def test_a_malformed_key_set_is_refused_naming_the_file(
    tmp_path: Path, change: dict[str, object]
) -> None:
    import json

    from xinfang.chain.keys import KeyFileError

    good = KeySet(CITY, 1, (PublishedKey(NodeKey.generate().public_raw),)).to_json()
    path = tmp_path / f"{CITY}.keys.json"
    path.write_text(json.dumps({**good, **change}), encoding="utf-8")
    with pytest.raises(KeyFileError, match=str(path)):
        read_key_set(path)


def test_a_node_publishes_its_own_key_only_when_asked_and_none_is_published(
    topology: Topology, tmp_path: Path
) -> None:
    """XINFANG_PUBLISH_KEY=1 (docker-compose, development): the node's public key lands in the
    shared keys folder at first start; without it nothing is written (an operator publishes)."""
    from xinfang.bootstrap import keeper_for
    from xinfang.settings import NodeSettings, SettingsError

    keys = tmp_path / "keys"
    plain = NodeSettings.from_env({}, division=COUNTY, data_dir=tmp_path / "a",
                                  public_keys_dir=keys)  # fmt: skip
    assert keeper_for(plain, topology).ring().key_set(COUNTY) is None
    assert not keys.exists()
    asked = NodeSettings.from_env(
        {"XINFANG_PUBLISH_KEY": "1"}, division=COUNTY, data_dir=tmp_path / "b",
        public_keys_dir=keys,
    )  # fmt: skip
    keeper = keeper_for(asked, topology)
    assert keeper.signer is not None
    assert Keyring.from_dir(keys).get(COUNTY) == keeper.signer.public_raw
    # published now: a node without that private key does not start, nor publishes over it
    with pytest.raises(SettingsError, match="key file not found"):
        keeper_for(replace(asked, data_dir=tmp_path / "c"), topology)
    assert Keyring.from_dir(keys).get(COUNTY) == keeper.signer.public_raw
