"""Bring your own records: turn an external record set whose rows name their true entity into a
corpus folder of exactly the format `generate` writes. Written fields are kept as written (that
is what a search system sees); only dates are parsed with the mapping's format, and only the
truth is normalised."""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import re
import shutil
from collections import Counter
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Callable, Iterator, Literal

import orjson
import polars as pl
from isal import igzip
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


def load_mapping(path: Path) -> tuple[Mapping, dict]:
    data, pos = load_yaml(path)
    return validate(Mapping, data, path, pos), pos


def _header(path: Path, delimiter: str) -> list[str]:
    """The column names: a CSV's first line, or the keys of a JSONL file's first record."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8", newline="") as f:
        if _is_jsonl(path):
            first = f.readline()
            if not first.strip():
                raise PolebenchError(f"{path}: empty file")
            return list(orjson.loads(first))
        return [h.strip() for h in next(csv.reader(f, delimiter=delimiter), [])]


def _is_jsonl(path: Path) -> bool:
    return path.name.removesuffix(".gz").endswith(".jsonl")


def _batches(path: Path, m: Mapping, work: Path) -> Iterator[pl.DataFrame]:
    """The file in batches of CHUNK rows, every value a stripped string ("" when empty), with
    `_row`, the row number an editor shows (a CSV's header is row 1)."""
    if path.suffix == ".gz":  # streamed to a plain copy first, so memory stays bounded
        plain = work / path.name.removesuffix(".gz")
        with igzip.open(path, "rb") as src, open(plain, "wb") as dst:
            shutil.copyfileobj(src, dst, 1 << 22)
        path = plain
    if _is_jsonl(path):
        lf = pl.scan_ndjson(path, infer_schema_length=None, row_index_name="_row", row_index_offset=1)
    else:
        lf = pl.scan_csv(path, separator=m.delimiter, infer_schema=False, row_index_name="_row",
                         row_index_offset=2, with_column_names=lambda cols: [c.strip() for c in cols])
    lf = lf.with_columns(pl.all().exclude("_row").cast(pl.String, strict=False).str.strip_chars().fill_null(""))
    try:
        yield from lf.collect_batches(chunk_size=CHUNK)
    except pl.exceptions.PolarsError as e:
        raise PolebenchError(f"{path}: cannot be read as {'JSON lines' if _is_jsonl(path) else 'CSV'}: {e}") from None


def _col(name: str | None) -> pl.Expr:
    return pl.col(name) if name else pl.lit("")


def _date(col: DateColumn) -> pl.Expr:
    """ISO date, or null when the cell is empty or does not parse (told apart by _errors).
    Parsed once per batch into `_dob` / `_record_date`, read by the checks and the records."""
    return pl.col(col.column).str.strptime(pl.Date, col.format, strict=False).dt.to_string("%Y-%m-%d")


def _one_if(cond: pl.Expr, item: pl.Expr) -> pl.Expr:
    """A list holding `item` when `cond`, else an empty list."""
    return pl.concat_list([item]).list.head(cond.cast(pl.Int64))


def _errors(m: Mapping) -> list[tuple[str, pl.Expr, pl.Expr]]:
    """Row checks in the order they are reported: (column, failing when, message)."""
    checks: list[tuple[str, pl.Expr, pl.Expr]] = [
        (m.record_id, pl.col("rid") == "", pl.lit("empty record id"))]
    if m.entity_id.regex:
        checks.append((m.entity_id.column, pl.col("key").is_null(),
                       pl.format("entity id cannot be derived from '{}' with {}", pl.col(m.entity_id.column),
                                 pl.lit(m.entity_id.regex))))
    checks.append((m.entity_id.column, pl.col("key") == "", pl.lit("empty entity id")))
    checks.append((m.source_system.column or "", ~pl.col("source").is_in(list(SOURCE_SYSTEMS)),
                   pl.format("unknown source system '{}'", pl.col("source"))))
    for parsed, col in (("_dob", m.person.dob), ("_record_date", m.record_date)):
        if col:
            checks.append((col.column, (pl.col(col.column) != "") & pl.col(parsed).is_null(),
                           pl.format("'{}' is not a date in the format {}", pl.col(col.column), pl.lit(col.format))))
    return checks


def _records(df: pl.DataFrame, m: Mapping, header: list[str], named: set[str]) -> pl.DataFrame:
    """Vectorised: one polebench record per row, columns in the corpus format's key order.
    Reads the `lines` and `has_location` columns added before it."""
    p, a = m.person, m.address
    person = pl.struct(dob=pl.col("_dob") if p.dob else pl.lit(None, pl.String), forename=_col(p.forename),
                       mid=pl.lit("p0"), middle=_col(p.middle), role=pl.lit("subject"), sex=pl.when(_col(p.sex) != "")
                       .then(_col(p.sex)).otherwise(None), surname=_col(p.surname))
    location = pl.struct(address=pl.col("lines"), borough=_col(a.town), lat=pl.lit(None, pl.Float64),
                         lon=pl.lit(None, pl.Float64), mid=pl.lit("l0"), postcode=_col(a.postcode))
    extra = [pl.when(pl.col(c) != "").then(pl.col(c)) for c in m.text]
    if m.unmapped == "keep_as_text":
        extra += [pl.when(pl.col(c) != "").then(pl.lit(f"{c} ") + pl.col(c)) for c in header if c not in named]
    phone, vrm = _col(m.phone), _col(m.vehicle_vrm)
    vehicle = pl.struct(colour=pl.lit(""), make=pl.lit(""), mid=pl.lit("v0"), model=pl.lit(""), vrm=vrm)
    date = pl.col("_record_date").fill_null("1970-01-01") if m.record_date else pl.lit("1970-01-01")
    return df.select(
        date=date, locations=_one_if(pl.col("has_location"), location), objects=pl.lit([], pl.List(pl.String)),
        offence=pl.lit(""), people=pl.concat_list([person]),
        phones=_one_if(phone != "", pl.struct(mid=pl.lit("t0"), number=phone)), rid=pl.col("rid"),
        source=pl.col("source"), synthetic=pl.lit(m.synthetic),
        text=pl.concat_str(extra, separator=" ", ignore_nulls=True).fill_null("") if extra else pl.lit(""),
        type=pl.lit("imported_record"), vehicles=_one_if(vrm != "", vehicle))


def _address_lines(m: Mapping) -> pl.Expr:
    """The address as written: its non-empty lines joined."""
    cols = m.address.lines
    return pl.concat_str([pl.when(pl.col(c) != "").then(pl.col(c)) for c in cols], separator=" ",
                         ignore_nulls=True).fill_null("") if cols else pl.lit("")


def _ndjson_gz(df: pl.DataFrame) -> bytes:
    buf = io.BytesIO()
    df.write_ndjson(buf)
    return igzip.compress(buf.getbuffer(), compresslevel=1, mtime=0)


def _json(expr: pl.Expr) -> pl.Expr:
    """A string as a JSON string literal (quoted and escaped by polars' JSON writer)."""
    return pl.struct(x=expr).struct.json_encode().str.slice(5).str.head(-1)


def _truth_line() -> pl.Expr:
    """The truth line of each record, as JSON text with sorted keys (the corpus format). Built
    as text: polars is slow at lists of structs that hold lists."""
    mention = lambda entity, mid: pl.struct(entity=entity, kinds=pl.lit(["unlabelled"]),  # noqa: E731
                                            mid=pl.lit(mid)).struct.json_encode()
    return pl.concat_str([
        pl.lit('{"event":'), _json(pl.lit("E") + pl.col("rid")), pl.lit(',"mentions":['),
        mention(pl.col("ent"), "p0"),
        pl.when(pl.col("has_location")).then(pl.lit(",") + mention(pl.col("address"), "l0")).otherwise(pl.lit("")),
        pl.lit('],"rid":'), _json(pl.col("rid")), pl.lit("}")])


def _lines_gz(df: pl.DataFrame) -> bytes:
    return igzip.compress((df["line"].str.join("\n").item() + "\n").encode(), compresslevel=1, mtime=0)


class _People:
    """What each true person was written as, row by row; at the end, per field, the value
    written most often (the earliest seen among equals) becomes the entity's truth."""

    FIELDS = ("forename", "middle", "surname", "dob", "sex", "address")

    def __init__(self) -> None:
        self.parts: list[pl.DataFrame] = []

    def add(self, df: pl.DataFrame) -> None:
        self.parts.append(df.select("ent", "_row", *self.FIELDS))

    def entities(self) -> pl.DataFrame:
        """One row per person, columns in the corpus format's key order."""
        if not self.parts:
            return pl.DataFrame()
        rows = pl.concat(self.parts)
        out = rows.select("ent").unique()
        for f in self.FIELDS:
            # the most frequent value; among equals, the one seen first (rows number < 2^40)
            mode = (rows.filter(pl.col(f).is_not_null() & (pl.col(f) != ""))
                    .group_by("ent", f).agg(n=pl.len(), first=pl.col("_row").min())
                    .group_by("ent").agg(pl.col(f).get((pl.col("n").cast(pl.Int64) * (1 << 40) - pl.col("first").cast(pl.Int64)).arg_max())))
            out = out.join(mode.select("ent", f), on="ent", how="left")
        none = pl.lit(None, pl.String)
        return out.sort("ent").select(
            address=pl.col("address"), alias=none, associates=pl.lit([], pl.List(pl.String)), community=pl.lit(-1),
            dob=pl.col("dob").fill_null("1900-01-01"), forename=pl.col("forename").fill_null(""), id=pl.col("ent"),
            kind=pl.lit("person"), middle=pl.col("middle").fill_null(""), moniker=none, nationality=none,
            phones=pl.lit([], pl.List(pl.String)), sex=pl.col("sex"), surname=pl.col("surname").fill_null(""),
            vehicles=pl.lit([], pl.List(pl.String)))


def import_records(src: Path, mapping_path: Path, name: str, out: Path,
                   progress: Callable[[int], None] | None = None) -> tuple[Manifest, int, list[str]]:
    """Write the corpus folder; return its manifest, rows skipped, and the first few skip reasons.

    Columnar (polars): a batch of rows is checked, converted and serialised by vectorised
    expressions, never row by row in Python, so an import costs about what reading the file does."""
    m, pos = load_mapping(mapping_path)
    if not src.is_file():
        raise PolebenchError(f"{src}: file not found")
    header = _header(src, m.delimiter)
    missing = [(locate(mapping_path, pos, where), f"column {col!r} is not in {src.name} (columns: {', '.join(header)})")
               for where, col in m.columns().items() if col not in header]
    if missing:
        raise SpecError(missing)
    named = set(m.columns().values())
    checks = _errors(m)
    dates = {name: _date(col) for name, col in (("_dob", m.person.dob), ("_record_date", m.record_date)) if col}
    skipped, reasons = 0, []
    seen: set[str] = set()
    people = _People()
    addresses: dict[str, dict] = {}
    per_source: Counter = Counter()
    n_records = n_locations = 0
    key = pl.col(m.entity_id.column)
    if m.entity_id.regex:
        key = key.str.extract(m.entity_id.regex, 1)
    with atomic_dir(out) as tmp:
        (tmp / "truth").mkdir()
        with _Hashed(tmp / RECORDS) as rf, _Hashed(tmp / MENTIONS) as tf, \
                ThreadPoolExecutor(2, thread_name_prefix="import-writer") as writer:
            source_hash = writer.submit(sha256_file, src)
            pending: list[Future] = []
            for batch in _batches(src, m, tmp):
                df = batch.with_columns(rid=pl.col(m.record_id), key=key, **dates,
                                        source=pl.lit(m.source_system.constant) if m.source_system.constant
                                        else pl.col(m.source_system.column or ""))
                df = df.with_columns(
                    error_column=pl.coalesce([pl.when(bad).then(pl.lit(col)) for col, bad, _ in checks]),
                    error=pl.coalesce([pl.when(bad).then(msg) for _, bad, msg in checks]))
                rids = df["rid"].to_list()  # a Python set: exact, and cheap per row whatever came before
                earlier = pl.Series([r in seen for r in rids], dtype=pl.Boolean)
                dup = df["error"].is_null() & (~df["rid"].is_first_distinct() | earlier)
                df = df.with_columns(error_column=pl.when(dup).then(pl.lit(m.record_id)).otherwise("error_column"),
                                     error=pl.when(dup).then(pl.format("duplicate record id '{}'", "rid"))
                                     .otherwise("error"))
                bad = df.filter(pl.col("error").is_not_null())
                if len(bad):
                    where = [f"{src}: row {r}: column {c}: {e}" for r, c, e in
                             bad.select("_row", "error_column", "error").head(5).iter_rows()]
                    if m.on_error == "fail":
                        raise PolebenchError(where[0])
                    skipped += len(bad)
                    reasons += where[: 5 - len(reasons)]
                    df = df.filter(pl.col("error").is_null())
                if not len(df):
                    continue
                seen.update(df["rid"].to_list() if len(bad) else rids)
                df = df.with_columns(ent=pl.lit("P") + pl.col("key"), lines=_address_lines(m))
                df = df.with_columns(has_location=(pl.col("lines") != "") | (_col(m.address.postcode) != ""))
                recs = _records(df, m, header, named)
                df = df.with_columns(address=_address_ids(recs, addresses))
                truth = df.select(line=_truth_line())
                people.add(pl.concat([recs.select(pl.col("people").list.first().struct.unnest()),
                                      df.select("ent", "_row", "address")], how="horizontal"))
                # serialised and compressed on other threads, one per file (polars and zlib
                # release the GIL), while this one converts the next batch
                for f in pending:  # one batch in flight: memory stays bounded
                    f.result()
                pending = [writer.submit(lambda f, d: f.write(_ndjson_gz(d)), rf, recs),
                           writer.submit(lambda f, d: f.write(_lines_gz(d)), tf, truth)]
                per_source.update(dict(df["source"].value_counts().iter_rows()))
                n_records += len(df)
                n_locations += int(df["has_location"].sum())
                if progress:
                    progress(len(batch))
            for f in pending:
                f.result()
        for f in tmp.glob("*.csv"):  # a decompressed copy of a .gz source
            f.unlink()
        for f in tmp.glob("*.jsonl"):
            f.unlink()
        if not n_records:
            raise PolebenchError(f"{src}: no record could be imported")
        persons = people.entities()
        with _Hashed(tmp / ENTITIES) as ef:
            ef.write(_ndjson_gz(persons))
            ef.write(gz_lines([a for _, a in sorted(addresses.items())]))
        spec = m.model_dump(mode="json")
        manifest = Manifest(
            name=name, synthetic=m.synthetic, generator="polebench import", generator_version=bench.__version__,
            origin=m.origin, seed=None, licence=m.licence, spec={**spec, "source_file": src.name},
            spec_checksum=hashlib.sha256(orjson.dumps(spec, option=orjson.OPT_SORT_KEYS)).hexdigest(),
            counts={"records": n_records, "skipped_rows": skipped, "per_source": dict(sorted(per_source.items())),
                    "mentions": {"locations": n_locations, "people": n_records},
                    "entities": {"people": len(persons), "addresses": len(addresses)}},
            files={RECORDS: rf.sha256, MENTIONS: tf.sha256, ENTITIES: ef.sha256, "source_file": source_hash.result()})
        write_json_atomic(tmp / "manifest.json", manifest.model_dump(mode="json"))
    return manifest, skipped, reasons


class _Hashed:
    """A file written once, front to back, hashed as it is written (not read back after)."""

    def __init__(self, path: Path):
        self.f, self.h = open(path, "wb"), hashlib.sha256()

    def write(self, data: bytes) -> None:
        self.f.write(data)
        self.h.update(data)

    def __enter__(self) -> "_Hashed":
        return self

    def __exit__(self, *exc) -> None:
        self.f.close()
        self.sha256 = self.h.hexdigest()


def _address_ids(recs: pl.DataFrame, known: dict[str, dict]) -> pl.Series:
    """A stable id per distinct written address (a hash of address and postcode), registering
    new ones; hashed once per distinct address, not per row."""
    loc = recs.select(pl.col("locations").list.first().struct.unnest()) if len(recs) else pl.DataFrame()
    if "address" not in loc.columns:
        return pl.Series("address", [None] * len(recs), pl.String)
    keys = loc.select(k=pl.concat_str([pl.col("address"), pl.col("postcode")], separator="|").str.to_lowercase())
    distinct = loc.with_columns(keys).filter(pl.col("k").is_not_null()).unique("k", keep="first", maintain_order=True)
    ids = {}
    for k, address, borough, postcode in distinct.select("k", "address", "borough", "postcode").iter_rows():
        aid = "L" + hashlib.sha1(k.encode()).hexdigest()[:12]
        ids[k] = aid
        known.setdefault(aid, {"kind": "address", "id": aid, "address": address, "borough": borough,
                               "postcode": postcode, "lat": None, "lon": None})
    return keys["k"].replace_strict(ids, default=None, return_dtype=pl.String).alias("address")
