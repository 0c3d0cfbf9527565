"""A released v2 of CaseAccepted, built in a temporary copy of schemas/ (issue 10 item 7).

v2 adds one optional field, `remark` (["null","string"], default null): the change FULL_TRANSITIVE
allows. The copy holds it as the current schema and as schemas/history/CaseAccepted/v2.avsc,
released with the project's own tool (`xinfang.contract.history.snapshot`), so a process given
this folder (XINFANG_SCHEMA_DIR) is exactly "a node at v2".
"""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path
from typing import Any

from fastavro import schemaless_writer

from xinfang.codec.mapping import to_datum
from xinfang.codec.schemas import default_schema_dir
from xinfang.codec.wire import MAGIC, EventCodec
from xinfang.contract.history import snapshot
from xinfang.domain.events import Event

NEW_FIELD = "remark"
NEW_FIELD_SCHEMA: dict[str, Any] = {
    "name": NEW_FIELD,
    "type": ["null", "string"],
    "default": None,
    "doc": "备注（v2 新增）/ remark (added in v2)",
}

# Imported by a v2 node process (sitecustomize): the v2 release's code, which fills the new
# field of every CaseAccepted it writes. The repository's code knows only v1's fields.
_V2_CODE = f'''
from xinfang.codec import wire

_plain = wire.to_datum


def _v2_to_datum(value):
    datum = _plain(value)
    if getattr(value, "TYPE", None) == "CaseAccepted":
        datum[{NEW_FIELD!r}] = "v2 " + value.header.case_id
    return datum


wire.to_datum = _v2_to_datum
'''


def release_v2(target: Path) -> Path:
    """A copy of schemas/ at `target` with CaseAccepted v2 current and released; returns it."""
    shutil.copytree(default_schema_dir(), target)
    path = target / "events" / "CaseAccepted.avsc"
    raw = json.loads(path.read_text(encoding="utf-8"))
    raw["fields"].append(NEW_FIELD_SCHEMA)
    path.write_text(json.dumps(raw, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    following = len(list((target / "history" / "CaseAccepted").glob("v*.avsc"))) + 1
    written = snapshot(target)
    assert [p.relative_to(target).as_posix() for p in written] == [
        f"history/CaseAccepted/v{following}.avsc"  # the release after the repository's
    ], written
    return target


def v2_code(folder: Path) -> dict[str, str]:
    """Environment that makes a node process run the v2 release: its schemas and its code."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "sitecustomize.py").write_text(_V2_CODE, encoding="utf-8")
    return {"PYTHONPATH": str(folder)}


def encode_v2(codec: EventCodec, event: Event, remark: str | None) -> bytes:
    """`event` as a v2 writer writes it, with the new field set (codec: a v2 codec)."""
    schema = codec.catalogue.get(event.type)
    buf = io.BytesIO()
    buf.write(MAGIC + schema.fingerprint)
    schemaless_writer(buf, schema.parsed, {**to_datum(event), NEW_FIELD: remark})
    return buf.getvalue()
