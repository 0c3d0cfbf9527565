"""The public feed's key (issue 15 item 4): one 0600 file shared by the nodes of a deployment,
created once even when nodes start together; the app's match needs the case number and the
query code, and nothing in a record reveals either."""

from __future__ import annotations

import base64
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from xinfang.contract.public_status import FeedKey, FeedKeyInvalid, load_feed_key


def test_nodes_starting_together_share_one_created_key_file(tmp_path: Path) -> None:
    path = tmp_path / "public-feed.key"
    env = {"XINFANG_FEED_KEY_FILE": str(path)}
    with ThreadPoolExecutor(8) as pool:
        keys = list(pool.map(lambda _: load_feed_key(env, tmp_path / "unused"), range(8)))
    assert len({k.key for k in keys}) == 1
    assert path.stat().st_mode & 0o777 == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["public-feed.key"]  # no temporary left
    inline = {"XINFANG_FEED_KEY": base64.b64encode(keys[0].key).decode()}
    assert load_feed_key(inline, tmp_path / "other").key == keys[0].key
    path.chmod(0o644)
    with pytest.raises(FeedKeyInvalid, match="chmod 600"):
        load_feed_key(env, tmp_path / "unused")
    with pytest.raises(FeedKeyInvalid):
        load_feed_key({"XINFANG_FEED_KEY": base64.b64encode(b"short").decode()}, path)


def test_the_apps_match_needs_the_case_and_its_code() -> None:
    key, other = FeedKey(b"k" * 32), FeedKey(b"o" * 32)
    datum = {"feed_id": key.feed_id("150400-2026-000001"),
             "query_hash": key.query_hash("150400-2026-000001", "ABCD2345")}  # fmt: skip
    assert key.matches(datum, "150400-2026-000001", "abcd2345 ")  # as typed from the receipt
    assert not key.matches(datum, "150400-2026-000001", "ABCD2346")
    assert not key.matches(datum, "150400-2026-000002", "ABCD2345")
    assert not other.matches(datum, "150400-2026-000001", "ABCD2345")  # without the key
    assert key.feed_id("150400-2026-000001") != key.feed_id("150400-2026-000002")
    assert "150400" not in datum["feed_id"] and "ABCD2345" not in datum["query_hash"]
