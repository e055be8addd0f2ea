"""Bring your own records: turn an external record set whose rows name their true entity into a
corpus folder of exactly the format `generate` writes. Written fields are kept as written (that
is what a search system sees); only dates are parsed with the mapping's format, and only the
truth is normalised."""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import hashlib

import re
from collections import Counter, defaultdict
from functools import lru_cache
from pathlib import Path
from typing import Callable, Iterator, Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

import bench
from bench.corpus.spec import SOURCE_SYSTEMS
from bench.corpus.store import (ENTITIES, MENTIONS, RECORDS, Manifest, atomic_dir, gz_lines,
                                sha256_file, write_json_atomic)
from bench.errors import PolebenchError, SpecError
from bench.specio import load_yaml, locate, validate

CHUNK = 20_000


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DateColumn(Strict):
    column: str
    format: str = "%Y-%m-%d"


class EntityId(Strict):
    """The true entity: a column, or a regular expression whose first group derives it from a column."""

    column: str
    regex: str | None = None

    @field_validator("regex")
    @classmethod
    def _compiles(cls, v: str | None) -> str | None:
        if v is not None:
            try:
                if re.compile(v).groups < 1:
                    raise ValueError("the regex needs one group, e.g. rec-(\\d+)-")
            except re.error as e:
                raise ValueError(f"not a regular expression: {e}") from None
        return v


class SourceSystem(Strict):
    column: str | None = None
    constant: str | None = None

    @model_validator(mode="after")
    def _one(self) -> "SourceSystem":
        if (self.column is None) == (self.constant is None):
            raise ValueError("give either column or constant")
        if self.constant is not None and self.constant not in SOURCE_SYSTEMS:
            raise ValueError(f"unknown source system {self.constant!r}; known: {', '.join(SOURCE_SYSTEMS)}")
        return self


class PersonColumns(Strict):
    forename: str | None = None
    middle: str | None = None
    surname: str
    dob: DateColumn | None = None
    sex: str | None = None


class AddressColumns(Strict):
    lines: tuple[str, ...] = ()
    town: str | None = None
    postcode: str | None = None


class Mapping(Strict):
    """An import mapping. Example: corpora/import-example.yaml (loaded by the tests)."""

    schema_version: Literal[1] = 1
    origin: str = Field(description="where the records come from, in words")
    licence: str = Field(description="the licence the source file is under")
    synthetic: bool = Field(description="true when the source records are themselves synthetic")
    delimiter: str = ","
    record_id: str
    entity_id: EntityId
    source_system: SourceSystem = SourceSystem(constant="intel")
    record_date: DateColumn | None = None
    person: PersonColumns
    address: AddressColumns = AddressColumns()
    phone: str | None = None
    vehicle_vrm: str | None = None
    text: tuple[str, ...] = Field((), description="columns joined into the record's free text")
    unmapped: Literal["keep_as_text", "drop"] = "keep_as_text"
    on_error: Literal["fail", "skip"] = "fail"

    def columns(self) -> dict[tuple, str]:
        """Every column the mapping names, keyed by where in the mapping it is named."""
        out: dict[tuple, str] = {("record_id",): self.record_id, ("entity_id", "column"): self.entity_id.column}
        if self.source_system.column:
            out[("source_system", "column")] = self.source_system.column
        if self.record_date:
            out[("record_date", "column")] = self.record_date.column
        for f in ("forename", "middle", "surname", "sex"):
            if getattr(self.person, f):
                out[("person", f)] = getattr(self.person, f)
        if self.person.dob:
            out[("person", "dob", "column")] = self.person.dob.column
        for i, c in enumerate(self.address.lines):
            out[("address", "lines", i)] = c
        for f in ("town", "postcode"):
            if getattr(self.address, f):
                out[("address", f)] = getattr(self.address, f)
        for f in ("phone", "vehicle_vrm"):
            if getattr(self, f):
                out[(f,)] = getattr(self, f)
        for i, c in enumerate(self.text):
            out[("text", i)] = c
        return out


class RowError(Exception):
    def __init__(self, column: str, message: str):
        self.column = column
        super().__init__(message)


def load_mapping(path: Path) -> tuple[Mapping, dict]:
    data, pos = load_yaml(path)
    return validate(Mapping, data, path, pos), pos


def _rows(path: Path, delimiter: str) -> tuple[list[str], Iterator[dict]]:
    opener = gzip.open if path.suffix == ".gz" else open
    name = path.name.removesuffix(".gz")
    f = opener(path, "rt", encoding="utf-8", newline="")
    if name.endswith(".jsonl"):
        first = f.readline()
        if not first.strip():
            raise PolebenchError(f"{path}: empty file")
        head = orjson.loads(first)

        def it() -> Iterator[dict]:
            yield head
            for line in f:
                if line.strip():
                    yield orjson.loads(line)
        return list(head), it()
    reader = csv.DictReader(f, delimiter=delimiter, skipinitialspace=True)
    header = [h.strip() for h in (reader.fieldnames or [])]
    reader.fieldnames = header
    return header, iter(reader)


@lru_cache(maxsize=100_000)
def _parse_date(raw: str, fmt: str) -> str | None:
    try:
        return dt.datetime.strptime(raw, fmt).date().isoformat()
    except ValueError:
        return None


def _date(row: dict, col: DateColumn) -> str | None:
    raw = str(row.get(col.column) or "").strip()
    if not raw:
        return None
    out = _parse_date(raw, col.format)  # dates repeat: strptime once per distinct value
    if out is None:
        raise RowError(col.column, f"{raw!r} is not a date in the format {col.format}")
    return out


def _get(row: dict, col: str | None) -> str:
    return "" if col is None else str(row.get(col) or "").strip()


def convert(m: Mapping, row: dict, header: list[str], named: set[str] | None = None) -> tuple[dict, str]:
    """One source row as a polebench record, and its true entity id."""
    rid = _get(row, m.record_id)
    if not rid:
        raise RowError(m.record_id, "empty record id")
    key = _get(row, m.entity_id.column)
    if m.entity_id.regex:
        found = re.search(m.entity_id.regex, key)
        if not found:
            raise RowError(m.entity_id.column, f"entity id cannot be derived from {key!r} with {m.entity_id.regex}")
        key = found.group(1)
    if not key:
        raise RowError(m.entity_id.column, "empty entity id")
    source = m.source_system.constant or _get(row, m.source_system.column)
    if source not in SOURCE_SYSTEMS:
        raise RowError(m.source_system.column or "", f"unknown source system {source!r}")
    p = m.person
    person = {"mid": "p0", "role": "subject", "forename": _get(row, p.forename), "middle": _get(row, p.middle),
              "surname": _get(row, p.surname), "dob": _date(row, p.dob) if p.dob else None,
              "sex": _get(row, p.sex) or None}
    lines = " ".join(x for x in (_get(row, c) for c in m.address.lines) if x)
    location = {"mid": "l0", "address": lines, "borough": _get(row, m.address.town),
                "postcode": _get(row, m.address.postcode), "lat": None, "lon": None}
    named = named if named is not None else set(m.columns().values())
    extra = [_get(row, c) for c in m.text]
    if m.unmapped == "keep_as_text":
        extra += [f"{c} {_get(row, c)}" for c in header if c not in named and _get(row, c)]
    date = _date(row, m.record_date) if m.record_date else None
    rec = {"rid": rid, "source": source, "type": "imported_record", "synthetic": m.synthetic,
           "date": date or "1970-01-01", "people": [person], "vehicles": [], "phones": [],
           "locations": [location] if (lines or location["postcode"]) else [], "objects": [],
           "offence": "", "text": " ".join(x for x in extra if x)}
    if m.phone and _get(row, m.phone):
        rec["phones"] = [{"mid": "t0", "number": _get(row, m.phone)}]
    if m.vehicle_vrm and _get(row, m.vehicle_vrm):
        rec["vehicles"] = [{"mid": "v0", "vrm": _get(row, m.vehicle_vrm), "make": "", "model": "", "colour": ""}]
    return rec, key


def _mode(c: Counter) -> str:
    return c.most_common(1)[0][0] if c else ""


def import_records(src: Path, mapping_path: Path, name: str, out: Path,
                   progress: Callable[[int], None] | None = None) -> tuple[Manifest, int, list[str]]:
    """Write the corpus folder; return its manifest, rows skipped, and the first few skip reasons."""
    m, pos = load_mapping(mapping_path)
    if not src.is_file():
        raise PolebenchError(f"{src}: file not found")
    header, rows = _rows(src, m.delimiter)
    missing = [(locate(mapping_path, pos, where), f"column {col!r} is not in {src.name} (columns: {', '.join(header)})")
               for where, col in m.columns().items() if col not in header]
    if missing:
        raise SpecError(missing)
    seen: set[str] = set()
    named = set(m.columns().values())
    skipped, reasons = 0, []
    people: dict[str, dict[str, Counter]] = defaultdict(lambda: defaultdict(Counter))
    addresses: dict[str, dict] = {}
    counts: Counter = Counter()
    with atomic_dir(out) as tmp:
        (tmp / "truth").mkdir()
        with open(tmp / RECORDS, "wb") as rf, open(tmp / MENTIONS, "wb") as tf:
            recs, truths = [], []
            for n, row in enumerate(rows, start=2):  # row 1 is the header
                try:
                    rec, key = convert(m, row, header, named)
                    if rec["rid"] in seen:
                        raise RowError(m.record_id, f"duplicate record id {rec['rid']!r}")
                except RowError as e:
                    where = f"{src}: row {n}: column {e.column}: {e}"
                    if m.on_error == "fail":
                        raise PolebenchError(where) from None
                    skipped += 1
                    if len(reasons) < 5:
                        reasons.append(where)
                    continue
                seen.add(rec["rid"])
                ent = f"P{key}"
                truth = {"rid": rec["rid"], "event": f"E{rec['rid']}", "mentions": [
                    {"mid": "p0", "entity": ent, "kinds": ["unlabelled"]}]}
                pp = rec["people"][0]
                for f in ("forename", "middle", "surname", "dob", "sex"):
                    if pp[f]:
                        people[ent][f][pp[f]] += 1
                if rec["locations"]:
                    loc = rec["locations"][0]
                    aid = "L" + hashlib.sha1(f"{loc['address']}|{loc['postcode']}".lower().encode()).hexdigest()[:12]
                    addresses.setdefault(aid, {"kind": "address", "id": aid, "address": loc["address"],
                                               "borough": loc["borough"], "postcode": loc["postcode"],
                                               "lat": None, "lon": None})
                    people[ent]["address"][aid] += 1
                    truth["mentions"].append({"mid": "l0", "entity": aid, "kinds": ["unlabelled"]})
                counts[("source", rec["source"])] += 1
                counts[("mentions", "people")] += 1
                counts[("mentions", "locations")] += len(rec["locations"])
                recs.append(rec)
                truths.append(truth)
                if len(recs) >= CHUNK:
                    rf.write(gz_lines(recs))
                    tf.write(gz_lines(truths))
                    if progress:
                        progress(len(recs))
                    recs, truths = [], []
            if recs:
                rf.write(gz_lines(recs))
                tf.write(gz_lines(truths))
                if progress:
                    progress(len(recs))
        if not seen:
            raise PolebenchError(f"{src}: no record could be imported")
        entities = [{"kind": "person", "id": ent, "forename": _mode(a["forename"]), "middle": _mode(a["middle"]),
                     "surname": _mode(a["surname"]), "dob": _mode(a["dob"]) or "1900-01-01", "sex": _mode(a["sex"]) or None,
                     "nationality": None, "alias": None, "moniker": None, "community": -1,
                     "address": _mode(a["address"]) or None, "vehicles": [], "phones": [], "associates": []}
                    for ent, a in sorted(people.items())]
        entities += [a for _, a in sorted(addresses.items())]
        with open(tmp / ENTITIES, "wb") as ef:
            ef.write(gz_lines(entities))
        spec = m.model_dump(mode="json")
        manifest = Manifest(
            name=name, synthetic=m.synthetic, generator="polebench import", generator_version=bench.__version__,
            origin=m.origin, seed=None, licence=m.licence, spec={**spec, "source_file": src.name},
            spec_checksum=hashlib.sha256(orjson.dumps(spec, option=orjson.OPT_SORT_KEYS)).hexdigest(),
            counts={"records": len(seen), "skipped_rows": skipped,
                    "per_source": {k: v for (t, k), v in sorted(counts.items()) if t == "source"},
                    "mentions": {k: v for (t, k), v in sorted(counts.items()) if t == "mentions"},
                    "entities": {"people": len(people), "addresses": len(addresses)}},
            files={**{f: sha256_file(tmp / f) for f in (RECORDS, MENTIONS, ENTITIES)}, "source_file": sha256_file(src)})
        write_json_atomic(tmp / "manifest.json", manifest.model_dump(mode="json"))
    return manifest, skipped, reasons


