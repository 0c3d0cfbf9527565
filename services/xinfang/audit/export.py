"""`xinfang audit export`: each node log (and inbox) topic to an Avro object container file.

One file per topic, `<division>.log.avro` / `<division>.inbox.avro`, deflate-compressed, in the
wrapper schema schemas/audit/LogRecord.avsc: the record value byte for byte (the hash chain is
over these bytes) with topic, partition, offset, timestamp, key and headers, plus decoded header
fields for people reading the files with generic Avro tools (`avro-tools tojson`, fastavro).
`manifest.json` lists the files with their record counts and SHA-256 (and the schema files'
SHA-256); `audit verify --from` checks them (`check_manifest`): a changed, missing or unlisted
file is a violation. `schemas/` holds every
writer schema the exporter knew (its release's, every released version and what the catalogue
topic held), one self-contained `<full name>.<fingerprint>.avsc` each, so the files stay
readable by `audit verify --from` and any Avro library after the topics and releases are gone.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from fastavro import parse_schema
from fastavro.write import Writer

from ..codec.resolving import ResolvingDecoder
from ..codec.schemas import default_schema_dir
from ..codec.wire import DecodeError
from .records import LogRecord
from .verify import VIOLATION, Finding, RecordDecoder

FORMAT = "xinfang-audit-export/1"
SCHEMAS_FOLDER = "schemas"


def wrapper_schema_path() -> Path:
    return default_schema_dir() / "audit" / "LogRecord.avsc"


def wrapper_schema() -> Any:
    return parse_schema(json.loads(wrapper_schema_path().read_text(encoding="utf-8")))


def export_name(division: str, kind: str) -> str:
    return f"{division}.{kind}.avro"


class TopicFile:
    """Writes the records of one topic to one container file."""

    def __init__(
        self, folder: Path, division: str, kind: str, topic: str, decoder: RecordDecoder
    ) -> None:
        self.path = folder / export_name(division, kind)
        self.topic, self.division, self.kind = topic, division, kind
        self.decoder = decoder
        self.count = 0
        self._fh: IO[bytes] = self.path.open("wb")
        self._writer = Writer(
            self._fh,
            wrapper_schema(),
            codec="deflate",
            metadata={
                "xinfang.format": FORMAT,
                "xinfang.topic": topic,
                "xinfang.division": division,
                "xinfang.kind": kind,
            },
        )

    def write(self, rec: LogRecord) -> None:
        decoded: dict[str, Any] = {
            "event_type": None, "event_id": None, "case_id": None, "source": None, "seq": None,
        }
        try:
            name, datum = self.decoder.decode(rec.value)
            h = datum["header"]
            decoded = {
                "event_type": name,
                "event_id": h["event_id"],
                "case_id": h["case_id"],
                "source": h["source"],
                "seq": h["seq"],
            }
        except DecodeError:
            pass
        self._writer.write(
            {
                "topic": rec.topic,
                "partition": rec.partition,
                "offset": rec.offset,
                "timestamp_ms": rec.timestamp_ms,
                "key": rec.key,
                "headers": [{"key": k, "value": v} for k, v in rec.headers],
                "value": rec.value,
                "value_sha256": hashlib.sha256(rec.value).hexdigest(),
                **decoded,
            }
        )
        self.count += 1

    def close(self) -> dict[str, Any]:
        self._writer.flush()
        self._fh.close()
        return {
            "file": self.path.name,
            "topic": self.topic,
            "division": self.division,
            "kind": self.kind,
            "records": self.count,
            "sha256": hashlib.sha256(self.path.read_bytes()).hexdigest(),
        }


def write_schemas(folder: Path, decoder: ResolvingDecoder) -> list[Path]:
    """Every writer schema `decoder` knows, as `<folder>/schemas/<full name>.<fp>.avsc`."""
    target = folder / SCHEMAS_FOLDER
    target.mkdir(parents=True, exist_ok=True)
    for old in target.glob("*.avsc"):
        old.unlink()
    written = []
    for writer in sorted(decoder.writers.values(), key=lambda w: (w.full_name, w.fingerprint)):
        if writer.expanded is None:
            continue
        path = target / f"{writer.full_name}.{writer.fingerprint.hex()}.avsc"
        path.write_text(json.dumps(writer.expanded, ensure_ascii=False, indent=2) + "\n", "utf-8")
        written.append(path)
    return written


def learn_exported_schemas(folder: Path, decoder: ResolvingDecoder) -> int:
    """Add the writer schemas an export holds (`write_schemas`); returns how many were new."""
    paths = sorted((folder / SCHEMAS_FOLDER).glob("*.avsc"))
    return sum(decoder.learn(path.read_text("utf-8")) for path in paths)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_manifest(folder: Path, files: list[dict[str, Any]], **about: Any) -> Path:
    schemas = sorted((folder / SCHEMAS_FOLDER).glob("*.avsc"))
    manifest = {
        "format": FORMAT,
        "exported_at": datetime.now(UTC).isoformat(),
        **about,
        "files": files,
        "schema_files": [
            {"file": f"{SCHEMAS_FOLDER}/{p.name}", "sha256": _sha256(p)} for p in schemas
        ],
    }
    path = folder / "manifest.json"
    path.write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return path


def _finding(code: str, file: str, zh: str, en: str, **evidence: Any) -> Finding:
    division = file.split(".", 1)[0]
    return Finding(
        VIOLATION, code, division if division.isdigit() else "-", None, file, None, None,
        zh, en, None, evidence, file,
    )


def check_manifest(folder: Path) -> list[Finding]:
    """What does not match an export's `manifest.json`: every listed file (data and schema
    files) must be there with its SHA-256, and every `*.avro` must be listed. Located by file
    name (the node is the file's division; "-" for a schema file or the manifest)."""
    path = folder / "manifest.json"
    if not path.is_file():
        return [_finding("manifest-missing", "manifest.json", "导出目录中没有 manifest.json",
                         "the export folder has no manifest.json")]
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
        listed = {str(f["file"]): str(f["sha256"]) for f in manifest["files"]}
        listed |= {str(f["file"]): str(f["sha256"]) for f in manifest.get("schema_files", [])}
    except (ValueError, KeyError, TypeError) as exc:
        return [_finding("manifest-invalid", "manifest.json", f"清单无法读取：{exc}",
                         f"the manifest cannot be read: {exc}")]
    found: list[Finding] = []
    for name, digest in sorted(listed.items()):
        file = folder / name
        if ".." in Path(name).parts or not file.is_file():
            found.append(_finding("export-file-missing", name, f"清单列出的 {name} 不存在",
                                  f"{name}, listed in the manifest, is missing"))
        elif _sha256(file) != digest:
            found.append(_finding(
                "export-file-altered", name,
                f"{name} 的 SHA-256 与清单不符（导出后被改动）",
                f"the SHA-256 of {name} differs from the manifest (changed after the export)",
                manifest_sha256=digest, sha256=_sha256(file),
            ))
    for file in sorted(folder.glob("*.avro")):
        if file.name not in listed:
            found.append(_finding("export-file-unlisted", file.name,
                                  f"{file.name} 不在清单中（导出后加入）",
                                  f"{file.name} is not in the manifest (added after the export)"))
    return found
