"""Issue 15 item 3, the primitives: field encryption (AES-256-GCM and SM4-GCM), key files,
rotation and blind indexes."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from xinfang.privacy.blind import blind_index
from xinfang.privacy.fields import FieldCipher
from xinfang.privacy.keyfile import DataKeys, DataKeysInvalid, load_data_keys, write_key_file
from xinfang.privacy.suites import DecryptionFailed


@pytest.mark.parametrize("suite", ["aes-256-gcm", "sm4-gcm"])
def test_a_field_round_trips_and_hides_its_text(suite: str) -> None:
    cipher = FieldCipher(DataKeys.generate(suite))
    stored = cipher.seal("张三 13912345678", b"case_events|e-1")
    assert "张三" not in stored and "13912345678" not in stored
    assert cipher.open(stored, b"case_events|e-1") == "张三 13912345678"
    with pytest.raises(DecryptionFailed):
        cipher.open(stored, b"case_events|e-2")  # copied to another row
    tampered = stored[:-2] + ("A" if stored[-2] != "A" else "B") + stored[-1]
    with pytest.raises(DecryptionFailed):
        cipher.open(tampered, b"case_events|e-1")


def test_rotation_keeps_old_fields_readable_and_marks_them() -> None:
    old = DataKeys.generate()
    stored = FieldCipher(old).seal("李四", b"a")
    new = FieldCipher(old.rotated("k2"))
    assert new.open(stored, b"a") == "李四"
    assert new.needs_rotation(stored)
    assert not new.needs_rotation(new.seal("李四", b"a"))
    assert new.needs_rotation("clear text from before encryption")


def test_key_files_are_owner_only_and_checked(tmp_path: Path) -> None:
    path = tmp_path / "data-keys.json"
    created = load_data_keys({}, path)
    assert path.stat().st_mode & 0o777 == 0o600
    assert load_data_keys({}, path).keys == created.keys
    os.chmod(path, 0o644)
    with pytest.raises(DataKeysInvalid):
        load_data_keys({}, path)
    write_key_file(DataKeys.generate("sm4-gcm"), path)
    assert load_data_keys({"XINFANG_DATA_KEYS_FILE": str(path)}).suite.name == "sm4-gcm"
    with pytest.raises(DataKeysInvalid):
        load_data_keys({"XINFANG_DATA_KEYS": '{"suite": "sm4-gcm", "current": "k1", '
                        '"keys": {"k1": "AAAA"}, "index_key": "AAAA"}'})


def test_blind_indexes_match_equal_values_only_under_one_key() -> None:
    key, other = os.urandom(32), os.urandom(32)
    assert blind_index(key, "phone", "13912345678") == blind_index(key, "phone", "13912345678")
    assert blind_index(key, "phone", "13912345678") != blind_index(key, "name", "13912345678")
    assert blind_index(key, "phone", "13912345678") != blind_index(other, "phone", "13912345678")


def test_a_data_key_is_opened_only_by_its_recipient_and_case() -> None:
    from xinfang.privacy.envelope import RecipientKey, unwrap_key, wrap_key

    city, accused = RecipientKey.generate(), RecipientKey.generate()
    data_key = os.urandom(32)
    wrap = wrap_key(data_key, "150400", city.public_raw, b"150400-2026-000001|d1")
    assert unwrap_key(wrap, city, b"150400-2026-000001|d1") == data_key
    with pytest.raises(DecryptionFailed):
        unwrap_key(wrap, accused, b"150400-2026-000001|d1")  # not for the accused unit's key
    with pytest.raises(DecryptionFailed):
        unwrap_key(wrap, city, b"150400-2026-000002|d1")  # moved to another case
    assert wrap_key(data_key, "150400", city.public_raw, b"c") != wrap_key(
        data_key, "150400", city.public_raw, b"c"
    )  # fresh ephemeral each time
    assert RecipientKey.from_private_raw(city.private_raw()).key_id == city.key_id
