"""Export a corpus for a system under test to load: one file per source system, columns as the
export mapping says, each row carrying the polebench record id so that what the system returns
maps back to the corpus. The records only: nothing of the truth is read, so nothing of it can be
written. export.json beside the files says what was exported from which corpus."""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import json
from pathlib import Path
from typing import Any, Callable

import orjson

import bench
from bench.corpus.export_mapping import DateOut, ExportMapping, load_export_mapping
from bench.corpus.store import Corpus, atomic_dir, entries_to_check, sha256_file, write_json_atomic
from bench.errors import PolebenchError
from bench.provenance import Provenance

EXPORT_MANIFEST = "export.json"
EXPORTED_BY = "polebench export"


def check_export_replaceable(out: Path, force: bool) -> None:
    """Refuse to replace a file, or a folder holding anything but an earlier export's files (with
    --force, a folder of anything): no command deletes what polebench did not write."""
    entries = entries_to_check(out, force)
    if entries is None:
        return
    try:
        made = json.loads((out / EXPORT_MANIFEST).read_text())
        ours = made.get("exported_by") == EXPORTED_BY and entries <= set(made["files"]) | {EXPORT_MANIFEST}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        ours = False
    if not ours:
        raise PolebenchError(f"--out {out}: the folder holds files polebench did not write; refusing to replace it "
                             f"(choose an empty or new folder, or add --force to replace it)")


def _date(value: str | None, fmt: DateOut) -> str | None:
    return dt.date.fromisoformat(value).strftime(fmt.format) if value else None


def _one(rec: dict, key: str) -> dict:
    """The record's only mention of a kind ({} when none): a record with two is refused, since
    one column cannot hold both and dropping one would change what the system is measured on."""
    items = rec.get(key) or []
    if len(items) > 1:
        raise PolebenchError(f"record {rec['rid']}: {len(items)} {key}; the export mapping has columns for one")
    return items[0] if items else {}


def _person(p: dict, m: ExportMapping) -> dict[str, Any]:
    """One person mention's cells, keyed by the mapping's column names."""
    cols = m.people.columns
    out: dict[str, Any] = {}
    for f in ("forename", "middle", "surname", "sex", "role"):
        if getattr(cols, f):
            out[getattr(cols, f)] = p.get(f)
    if cols.dob:
        out[cols.dob.column] = _date(p.get("dob"), cols.dob)
    if cols.name:
        n = cols.name
        given = " ".join(x for x in (p.get("forename"), p.get("middle")) if x)
        sur = (p.get("surname") or "").upper() if n.surname_upper else (p.get("surname") or "")
        if n.order == "surname_first":
            out[n.column] = n.separator.join(x for x in (sur, given) if x)
        else:
            out[n.column] = " ".join(x for x in (given, sur) if x)
    return out


def rows_of(rec: dict, m: ExportMapping) -> list[dict[str, Any]]:
    """The rows one record becomes: one, or one per person under layout rows."""
    row: dict[str, Any] = {m.record_id: rec["rid"]}
    if m.source:
        row[m.source] = m.system_name(rec["source"])
    if m.type:
        row[m.type] = rec.get("type")
    if m.record_date:
        row[m.record_date.column] = _date(rec.get("date"), m.record_date)
    if m.event_date:
        row[m.event_date.column] = _date(rec.get("event_date"), m.event_date)
    for f in ("offence", "grading"):
        if getattr(m, f):
            row[getattr(m, f)] = rec.get(f) or None
    if m.weapon:
        row[m.weapon] = _one(rec, "objects").get("description")
    if m.phone:
        row[m.phone] = _one(rec, "phones").get("number")
    vehicle, loc = _one(rec, "vehicles"), _one(rec, "locations")
    for f, col in m.vehicle:
        if col:
            row[col] = vehicle.get(f) or None
    for f, col in m.location:
        if col:
            row[col] = loc.get(f)
    people = rec.get("people") or []
    pe = m.people
    text = {m.text: rec.get("text")} if m.text else {}
    if pe.layout == "nested":
        return [{**row, pe.key: [_person(p, m) for p in people], **text}]
    if pe.layout == "numbered":
        if len(people) > (pe.max or 0):
            raise PolebenchError(f"record {rec['rid']}: {len(people)} people; people.max is {pe.max} "
                                 f"(raise it: a person left out would be a record the system cannot find)")
        for n, p in enumerate(people, 1):
            row.update({pe.numbered.format(n=n, column=c): v for c, v in _person(p, m).items()})
        return [{**row, **text}]
    out = []
    for n, p in enumerate(people or [{}], 1):  # a record naming nobody is still a row
        extra = {pe.mention: n} if pe.mention else {}
        if pe.row_id:
            extra[pe.row_id] = f"{rec['rid']}-{n}"
        out.append({**row, **extra, **_person(p, m), **text})
    return out


class _Files:
    """One open file per source system, made when its first row comes."""

    def __init__(self, folder: Path, m: ExportMapping):
        self.folder, self.m = folder, m
        self.header = [c for _, c in m.columns()]
        self.open: dict[str, tuple[Any, Callable[[dict], None]]] = {}
        self.rows: dict[str, int] = {}
        self.records: dict[str, int] = {}
        self.stack = contextlib.ExitStack()

    def name(self, source: str) -> str:
        return self.m.file.format(source=self.m.system_name(source))

    def write(self, source: str, rows: list[dict]) -> None:
        if source not in self.open:
            f = self.stack.enter_context(open(self.folder / self.name(source), "w", newline="", encoding="utf-8"))
            if self.m.format == "csv":
                w = csv.DictWriter(f, fieldnames=self.header, delimiter=self.m.delimiter, lineterminator="\n")
                w.writeheader()
                put = w.writerow
            else:
                def put(row: dict, f=f) -> None:
                    f.write(orjson.dumps(row).decode() + "\n")
            self.open[source] = (f, put)
        put = self.open[source][1]
        for r in rows:
            put(r)
        self.rows[source] = self.rows.get(source, 0) + len(rows)
        self.records[source] = self.records.get(source, 0) + 1


def export_corpus(corpus_dir: Path, mapping_path: Path, out: Path, force: bool = False,
                  progress: Callable[[int], None] | None = None) -> dict:
    """Write the export folder; return what export.json says of it."""
    corpus = Corpus(corpus_dir)
    corpus.verify()
    m = load_export_mapping(mapping_path)
    check_export_replaceable(out, force)
    with atomic_dir(out) as tmp:
        files = _Files(tmp, m)
        with files.stack:
            for i, rec in enumerate(corpus.records()):
                files.write(rec["source"], [_cells(r, m) for r in rows_of(rec, m)])
                if progress and i % 5000 == 4999:
                    progress(5000)
        made = {"exported_by": EXPORTED_BY, "version": bench.__version__,
                "corpus": {"name": corpus.name, "checksum": corpus.checksum, "synthetic": corpus.manifest.synthetic,
                           "origin": corpus.manifest.origin, "licence": corpus.manifest.licence},
                "note": _note(corpus.manifest.provenance),
                "mapping": m.model_dump(mode="json"),
                "files": {files.name(s): {"source": s, "records": files.records[s], "rows": files.rows[s],
                                          "sha256": sha256_file(tmp / files.name(s))} for s in sorted(files.open)}}
        write_json_atomic(tmp / EXPORT_MANIFEST, made)
    return made


def _note(src: Provenance) -> str:
    """What the files hold, said first: made up by polebench only where polebench generated them."""
    whose = ("every record is made up by polebench" if src.origin == "generated" else
             f"records imported from {src.origin}" + ("; their producer made them up" if src.synthetic else ""))
    return f"{src.tag}: {whose}; the truth of who each record is about is not exported"


def _cells(row: dict, m: ExportMapping) -> dict:
    """CSV cells are text ("" for a field the record leaves empty); JSON keeps its types."""
    if m.format == "jsonl":
        return row
    return {k: "" if v is None else v for k, v in row.items()}
