"""Schema evolution, checked by Apache Avro itself (org.apache.avro:avro, SchemaCompatibility).

Every record's released versions (schemas/history/<Record>/v<N>.avsc) and the schema written
today must be FULL_TRANSITIVE compatible: each reads data written with any other, both ways.
The checker is deploy/avro-compat (Java, jars from Maven Central, cached). Under CI=true a
missing Java toolchain fails these tests; elsewhere they skip.
"""

from __future__ import annotations

import copy
import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from xinfang.contract.avro_compat import (
    AvroCompatUnavailable,
    check_repository,
    check_tree,
    ensure_built,
)
from xinfang.contract.history import current_schemas, released

ROOT = Path(__file__).resolve().parents[2]
SCHEMAS = ROOT / "schemas"


@pytest.fixture(scope="module", autouse=True)
def checker() -> None:
    try:
        ensure_built()
    except AvroCompatUnavailable as exc:
        if os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}:
            pytest.fail(f"Avro compatibility checker unavailable under CI=true: {exc}")
        pytest.skip(f"Avro compatibility checker unavailable: {exc}")


def v1(record: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(
        (SCHEMAS / "history" / record / "v1.avsc").read_text(encoding="utf-8")
    )
    return data


def write(root: Path, record: str, versions: list[dict[str, Any]]) -> None:
    folder = root / record
    folder.mkdir(parents=True)
    for number, schema in enumerate(versions, start=1):
        (folder / f"v{number}.avsc").write_text(json.dumps(schema, ensure_ascii=False))


def changed(schema: dict[str, Any], change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    new = copy.deepcopy(schema)
    change(new)
    return new


def test_released_history_and_current_schemas_are_full_transitive_compatible() -> None:
    report = check_repository()
    assert report.ok, report.output
    history = released(SCHEMAS)
    assert set(report.checked) == set(history) | set(current_schemas())
    # Apache Avro computes the same fingerprints as the nodes put on the wire.
    for record, versions in history.items():
        for version in versions:
            java_hex, java_name = report.fingerprints[f"{record}/v{version.number}.avsc"]
            assert java_hex == version.fingerprint.hex(), version.label
            assert java_name.endswith("." + record)
    for name, schema in current_schemas().items():
        newest = history[name][-1]
        assert newest.fingerprint == schema.fingerprint, name


def test_the_checker_refuses_incompatible_changes_and_accepts_compatible_ones(
    tmp_path: Path,
) -> None:
    accepted = v1("CaseAccepted")
    served = v1("NoticeServed")
    kinds = next(f for f in served["fields"] if f["name"] == "kind")["type"]
    methods = next(f for f in served["fields"] if f["name"] == "method")["type"]
    assert kinds["default"] == "OTHER" and "EXTENSION" in kinds["symbols"]  # enum default
    assert "default" not in methods and "POST" in methods["symbols"]  # none

    def add_field(field: dict[str, Any]) -> Callable[[dict[str, Any]], None]:
        return lambda s: s["fields"].append(field)

    def symbols(
        field: str, change: Callable[[list[str]], list[str]]
    ) -> Callable[[dict[str, Any]], None]:
        def apply(s: dict[str, Any]) -> None:
            enum = next(f for f in s["fields"] if f["name"] == field)["type"]
            enum["symbols"] = change(enum["symbols"])

        return apply

    def drop_field(name: str) -> Callable[[dict[str, Any]], None]:
        return lambda s: s.update(fields=[f for f in s["fields"] if f["name"] != name])

    def default_body(s: dict[str, Any]) -> None:
        next(f for f in s["fields"] if f["name"] == "body")["default"] = ""

    required = {"name": "priority", "type": "int", "doc": "无默认值 / no default"}
    optional = {"name": "priority", "type": "int", "default": 0, "doc": "有默认值 / default"}
    nullable = {"name": "memo", "type": ["null", "string"], "default": None, "doc": "可空 / null"}
    with_default = changed(accepted, add_field(optional))
    write(tmp_path, "RequiredFieldAdded", [accepted, changed(accepted, add_field(required))])
    write(tmp_path, "OptionalFieldAdded", [accepted, with_default])
    write(
        tmp_path,
        "EnumSymbolRemoved",
        [served, changed(served, symbols("method", lambda s: [x for x in s if x != "POST"]))],
    )
    write(
        tmp_path,
        "EnumSymbolAdded",
        [served, changed(served, symbols("method", lambda s: [*s, "COURIER"]))],
    )
    # An enum with a default symbol (NoticeKind: OTHER) may gain and lose symbols.
    write(
        tmp_path,
        "EnumWithDefaultChanged",
        [
            served,
            changed(served, symbols("kind", lambda s: [*s, "NEW_KIND"])),
            changed(served, symbols("kind", lambda s: [x for x in s if x != "EXTENSION"])),
        ],
    )
    # v2 gives `body` a default, v3 drops it: each version is compatible with the next, but
    # a v1 reader (no default) cannot read v3 data; only checking every pair finds it.
    body_defaulted = changed(accepted, default_body)
    write(
        tmp_path,
        "TransitiveOnly",
        [accepted, body_defaulted, changed(body_defaulted, drop_field("body"))],
    )
    write(
        tmp_path,
        "ThreeCompatibleVersions",
        [accepted, with_default, changed(with_default, add_field(nullable))],
    )
    report = check_tree(tmp_path)
    assert not report.ok and report.exit_code == 1
    assert report.failed_records() == {
        "RequiredFieldAdded",
        "EnumSymbolRemoved",
        "EnumSymbolAdded",
        "TransitiveOnly",
    }, report.output
    reasons = {(rec, r, w, why.split(" ")[0]) for rec, r, w, why in report.incompatible}
    assert (
        "RequiredFieldAdded",
        "v2.avsc",
        "v1.avsc",
        "READER_FIELD_MISSING_DEFAULT_VALUE",
    ) in reasons
    assert ("EnumSymbolRemoved", "v2.avsc", "v1.avsc", "MISSING_ENUM_SYMBOLS") in reasons
    assert ("EnumSymbolAdded", "v1.avsc", "v2.avsc", "MISSING_ENUM_SYMBOLS") in reasons
    transitive = {(r, w) for rec, r, w, _ in report.incompatible if rec == "TransitiveOnly"}
    assert transitive == {("v1.avsc", "v3.avsc")}, report.output
    assert report.checked["ThreeCompatibleVersions"] == (3, 6)
    assert report.checked["EnumWithDefaultChanged"] == (3, 6)


def test_an_incompatible_edit_of_a_current_schema_fails_the_check(tmp_path: Path) -> None:
    schemas = tmp_path / "schemas"
    shutil.copytree(SCHEMAS, schemas)
    path = schemas / "events" / "CaseAccepted.avsc"
    raw = json.loads(path.read_text(encoding="utf-8"))
    raw["fields"].append({"name": "priority", "type": "int", "doc": "no default"})
    path.write_text(json.dumps(raw, ensure_ascii=False), encoding="utf-8")
    report = check_repository(schemas)
    assert not report.ok
    assert report.failed_records() == {"CaseAccepted"}
    # read against every released version (v2 added the event header's `person`, issue 14)
    assert {(r, w) for _, r, w, _ in report.incompatible} == {
        ("current.avsc", "v1.avsc"),
        ("current.avsc", "v2.avsc"),
    }
