"""Bring your own records: turn an external record set whose rows name their true entity into a
corpus folder of exactly the format `generate` writes. Written fields are kept as written (that
is what a search system sees); only dates are parsed with the mapping's format, and only the
truth is normalised.

One lazy polars query turns the file, a part at a time, into everything a row contributes (its
checks, its record and truth lines as JSON text, what it says of its person and address), so
polars' streaming engine does the per-row work on every core while this thread only decides which
rows are kept and hands the lines to two writer threads."""

from __future__ import annotations

import csv
import functools
import gzip
import hashlib
import io
import mmap
import shutil
from collections import Counter
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

import orjson
import polars as pl
import polars_hash  # noqa: F401  (registers the stable `nchash` namespace on expressions)
from isal import igzip, isal_zlib

import bench
from bench.corpus import jsontext as jt
from bench.corpus.mapping import DateColumn, Mapping, load_mapping
from bench.corpus.spec import SOURCE_SYSTEMS
from bench.corpus.store import (ENTITIES, IMPORTED, MENTIONS, RECORDS, Manifest, atomic_dir, check_name,
                                check_replaceable, sha256_file, write_json_atomic)
from bench.errors import PolebenchError, SpecError
from bench.specio import locate

CHUNK = 20_000
SLICE = 16 << 20  # bytes of the file whose results polars may compute ahead of the writers
SRC = "~"  # prefix of the file's own columns
PERSON_FIELDS = ("forename", "middle", "surname", "dob", "sex", "address")


def import_records(src: Path, mapping_path: Path, name: str, out: Path,
                   progress: Callable[[int], None] | None = None,
                   force: bool = False, option: str = "--out") -> tuple[Manifest, int, list[str]]:
    """Write the corpus folder; return its manifest, rows skipped, and the first few rows skipped
    or fields left blank, with why (the manifest counts both: skipped_rows, blanked_fields).
    What `out` holds is replaced only if it is an imported corpus of the same name (or `force`);
    `option`: what the user gave that chose `out`, named when it is refused."""
    check_name(name, "--name")
    check_replaceable(out, name, IMPORTED, force, option)
    m, pos = load_mapping(mapping_path)
    if not src.is_file():
        raise PolebenchError(f"{src}: file not found")
    header = _header(src, m.delimiter)
    missing = [(locate(mapping_path, pos, where), f"column {col!r} is not in {src.name} (columns: {', '.join(header)})")
               for where, col in m.columns().items() if col not in header]
    if missing:
        raise SpecError(missing)
    with atomic_dir(out) as tmp, ThreadPoolExecutor(1, thread_name_prefix="import-hash") as hasher:
        source_hash = hasher.submit(sha256_file, src)
        (tmp / "truth").mkdir()
        plain = _plain_copy(src, tmp)
        rows = functools.partial(_batches, src, plain, m, header)
        try:  # most files repeat no record id: try without looking for repeats row by row
            acc, files = _write(src, tmp, rows, None, m, progress)
        except _MayRepeat:
            acc, files = _write(src, tmp, rows, _repeated_ids(src, plain, m, header), m, progress)
        if plain != src:
            plain.unlink()
        spec = m.model_dump(mode="json")
        manifest = Manifest(
            name=name, synthetic=m.synthetic, generator=IMPORTED, generator_version=bench.__version__,
            origin=m.origin, seed=None, licence=m.licence, spec={**spec, "source_file": src.name},
            spec_checksum=hashlib.sha256(orjson.dumps(spec, option=orjson.OPT_SORT_KEYS)).hexdigest(),
            counts={"records": acc.records, "skipped_rows": acc.skipped, "blanked_fields": acc.blanked,
                    "per_source": dict(sorted(acc.per_source.items())),
                    "mentions": {"locations": acc.locations, "people": acc.records},
                    "entities": {"people": acc.persons, "addresses": acc.address_entities}},
            files={**files, "source_file": source_hash.result()})
        write_json_atomic(tmp / "manifest.json", manifest.model_dump(mode="json"))
    return manifest, acc.skipped, acc.reasons + acc.blank_reasons


def _write(src: Path, tmp: Path, rows: Callable[[], Iterator[pl.DataFrame]], repeated: set[str] | None,
           m: Mapping, progress: Callable[[int], None] | None) -> tuple["_Accumulated", dict[str, str]]:
    """Records, truth mentions and truth entities into `tmp`; what was gathered and the files'
    checksums. `repeated`: the ids found on more than one row, or None to assume there are none
    (then _MayRepeat is raised if two rows' ids may be the same)."""
    acc = _Accumulated()
    with _GzipLines(tmp / RECORDS) as rf, _GzipLines(tmp / MENTIONS) as tf, \
            ThreadPoolExecutor(2, thread_name_prefix="import-writer") as writer:
        pending: list[Future] = []
        for df in _kept(src, rows, repeated, m, acc, progress):
            for f in pending:  # one batch in flight: memory stays bounded
                f.result()
            # serialised and compressed on other threads (polars and ISA-L release the GIL)
            pending = [writer.submit(rf.write, df, "record"), writer.submit(tf.write, df, "truth")]
            acc.add(df, m)
        for f in pending:
            f.result()
        if not acc.records:
            raise PolebenchError(f"{src}: no record could be imported")
        with _HashedSink(tmp / ENTITIES) as ef:  # persons, then addresses: a gzip member each, made side by side
            for member in writer.map(_gzip_member, acc.entities(m)):
                ef.write(member)
    return acc, {RECORDS: rf.sha256, MENTIONS: tf.sha256, ENTITIES: ef.sha256}


# ---- reading ---------------------------------------------------------------------------------

def _header(path: Path, delimiter: str) -> list[str]:
    """The column names: a CSV's first line, or the keys of a JSONL file's first record. A file
    that is not gzip where its name says so, not UTF-8 text, or whose first record is not a JSON
    object is named here, before anything is written."""
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as f:
            first = f.readline(1 << 20)
    except (OSError, EOFError) as e:  # BadGzipFile is an OSError
        raise PolebenchError(f"{path}: not a whole gzip file ({e})") from None
    if not first.strip():
        raise PolebenchError(f"{path}: empty file")
    text = _utf8_line(path, first)
    if _is_jsonl(path):
        try:
            record = orjson.loads(text)
        except orjson.JSONDecodeError as e:
            raise PolebenchError(f"{path}:1: the first line is not JSON ({e})") from None
        if not isinstance(record, dict):
            raise PolebenchError(f"{path}:1: the first line is a JSON {type(record).__name__}, not an object "
                                 f"whose keys name the columns")
        return list(record)
    return [h.strip() for h in next(csv.reader([text], delimiter=delimiter), [])]


def _utf8_line(path: Path, line: bytes) -> str:
    if line.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise PolebenchError(f"{path}: UTF-16 text; save it as UTF-8")
    try:
        text = line.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise PolebenchError(f"{path}:1:{e.start + 1}: not UTF-8 text (byte 0x{line[e.start]:02x}); save it as UTF-8 "
                             f"(a Latin-1 file: iconv -f latin1 -t utf-8)") from None
    if "\0" in text:
        raise PolebenchError(f"{path}:1:{text.index(chr(0)) + 1}: a NUL byte; this is not a text file")
    return text


def _is_jsonl(path: Path) -> bool:
    return path.name.removesuffix(".gz").endswith(".jsonl")


def _plain_copy(src: Path, work: Path) -> Path:
    """A .gz source streamed to a plain copy in the work folder, to be cut into parts and scanned."""
    if src.suffix != ".gz":
        return src
    plain = work / src.name.removesuffix(".gz")
    try:
        with igzip.open(src, "rb") as f, open(plain, "wb") as dst:
            shutil.copyfileobj(f, dst, 1 << 22)
    except (EOFError, gzip.BadGzipFile, isal_zlib.error) as e:
        raise PolebenchError(f"{src}: not a whole gzip file ({e})") from None
    return plain


def _slices(path: Path, m: Mapping, header: list[str]) -> Iterator[pl.LazyFrame]:
    """The file, about SLICE bytes of rows at a time, each part's rows numbered from 0: polars'
    streaming engine computes ahead of its reader without limit, so a part bounds what it can
    hold. Parts are cut here at row ends, in one pass over the file: polars sliced by rows reads
    the file from its start to each slice again, which grows with the square of its length."""
    for part in _row_parts(path, csv_quotes=not _is_jsonl(path)):
        if _is_jsonl(path):
            lf = pl.scan_ndjson(io.BytesIO(part), schema=_json_schema(header))
        else:
            lf = pl.scan_csv(io.BytesIO(part), has_header=False, new_columns=header, separator=m.delimiter,
                             infer_schema=False)
        yield _strings(_numbered(lf))


def _row_parts(path: Path, csv_quotes: bool) -> Iterator[bytes]:
    """The file's rows (a CSV's without its header) in parts of about SLICE bytes, each ending
    at a row's end."""
    size = path.stat().st_size
    if not size:
        return
    with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as mm:
        start = _row_end(mm, 0, 0, csv_quotes) if csv_quotes else 0  # after the header
        while start < size:
            end = _row_end(mm, start, min(start + SLICE, size), csv_quotes)
            yield mm[start:end]
            start = end


def _row_end(mm: mmap.mmap, start: int, at: int, csv_quotes: bool) -> int:
    """Just past the newline that ends the row `at` falls in (rows counted from `start`), or the
    end of the file. In a CSV, a newline ends a row where an even number of quote characters
    comes before it from `start`: RFC 4180 doubles a quote written inside a quoted field, so an
    odd count means the newline is inside one."""
    nl = mm.find(b"\n", at)
    counted, quotes = start, 0
    while nl >= 0:
        if csv_quotes:
            quotes += mm[counted:nl].count(b'"')
            counted = nl
        if quotes % 2 == 0:
            return nl + 1
        nl = mm.find(b"\n", nl + 1)
    return len(mm)


def _json_schema(header: list[str]) -> dict[str, pl.DataType]:
    """Every key of the first record, read as text whatever JSON type it holds (keys that only
    later records have are not columns, as a CSV has no cells beyond its header)."""
    return {c: pl.String() for c in header}


def _numbered(lf: pl.LazyFrame) -> pl.LazyFrame:
    """`_row`, the row's number within its part (`_batches` makes it the file's), and the file's
    columns renamed SRC + name, so that no column the import derives can shadow one of the file's."""
    return lf.rename(lambda c: SRC + c.strip()).with_row_index("_row")


def _strings(lf: pl.LazyFrame) -> pl.LazyFrame:
    """Every value a stripped string ("" when empty)."""
    return lf.with_columns(pl.all().exclude("_row").cast(pl.String, strict=False).str.strip_chars().fill_null(""))


def _batches(src: Path, plain: Path, m: Mapping, header: list[str]) -> Iterator[pl.DataFrame]:
    """What each row contributes (`_rows`), CHUNK rows at a time. A file polars cannot parse is
    named as given."""
    first = 1 if _is_jsonl(plain) else 2  # the row number an editor shows (a CSV's header is row 1)
    try:
        for part in _slices(plain, m, header):
            rows = 0
            for df in _rows(part, m, header).collect_batches(chunk_size=CHUNK):
                yield df.with_columns(pl.col("_row") + first)
                rows += len(df)
            first += rows
    except pl.exceptions.PolarsError as e:
        raise _unreadable(src, plain, m.delimiter, e) from None


def _unreadable(src: Path, plain: Path, delimiter: str, e: Exception) -> PolebenchError:
    """polars' parse error, with the first row that breaks the format where a slow second reading
    finds it (polars does not say where)."""
    kind = "JSON lines" if _is_jsonl(src) else "CSV"
    found = _first_bad_row(plain, delimiter)
    if found:
        return PolebenchError(f"{src}: row {found[0]}: cannot be read as {kind}: {found[1]}")
    return PolebenchError(f"{src}: cannot be read as {kind}: {str(e).splitlines()[0]}")


def _first_bad_row(path: Path, delimiter: str) -> tuple[int, str] | None:
    """The first line that is not UTF-8 text, then the first line that is not a JSON object, or
    the first CSV row whose number of fields differs from the header's."""
    with open(path, "rb") as fb:
        for n, raw in enumerate(fb, 1):
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError as e:
                return n, f"not UTF-8 text (byte 0x{raw[e.start]:02x}, {e.start + 1} bytes into the line); save the file as UTF-8"
    with open(path, encoding="utf-8", errors="replace", newline="") as f:
        if _is_jsonl(path):
            for n, line in enumerate(f, 1):
                try:
                    if line.strip() and not isinstance(orjson.loads(line), dict):
                        return n, "not a JSON object"
                except orjson.JSONDecodeError as err:
                    return n, f"not JSON ({err.msg})"
            return None
        rows = csv.reader(f, delimiter=delimiter)
        width = len(next(rows, []))
        for n, row in enumerate(rows, 2):
            if row and len(row) != width:
                return n, f"{len(row)} fields where the header has {width}"
    return None


def _repeated_ids(src: Path, plain: Path, m: Mapping, header: list[str]) -> set[str]:
    """Record ids written on more than one row, from a pass over the id column alone, read as the
    import reads the file: only rows with one of these ids are then checked against the ids
    imported before them. Screened by polars' in-process hash, then compared exactly."""
    try:
        ids = pl.concat([part.select(rid=_col(m.record_id)).collect() for part in _slices(plain, m, header)])
    except pl.exceptions.PolarsError as e:
        raise _unreadable(src, plain, m.delimiter, e) from None
    return set(ids.filter(pl.col("rid").hash().is_duplicated()).filter(pl.col("rid").is_duplicated())["rid"])


# ---- what each row contributes, as expressions -----------------------------------------------

def _col(name: str | None) -> pl.Expr:
    """A column of the file, or "" on every row when the mapping names none."""
    return pl.col(SRC + name) if name else pl.lit("")


def _date(col: DateColumn) -> pl.Expr:
    """ISO date, or null when the cell is empty or does not parse (told apart by _checks)."""
    return pl.coalesce([_col(col.column).str.strptime(pl.Date, f, strict=False) for f in col.formats]) \
        .dt.to_string("%Y-%m-%d")


def _or_null(expr: pl.Expr) -> pl.Expr:
    return pl.when(expr != "").then(expr)


def _checks(m: Mapping, header: list[str]) -> list[tuple[str, pl.Expr, pl.Expr]]:
    """Row checks in the order they are reported: (column, failing when, message). Under
    `on_error: blank` a field check (_field_checks) leaves its field empty instead."""
    # a NUL is no character of any name or address: a binary file, or a broken export
    checks: list[tuple[str, pl.Expr, pl.Expr]] = [
        (c, _col(c).str.contains("\x00", literal=True), pl.lit("holds a NUL byte")) for c in header]
    checks.append((m.record_id, pl.col("rid") == "", pl.lit("empty record id")))
    if m.entity_id.regex:
        checks.append((m.entity_id.column, pl.col("key").is_null(),
                       pl.format("entity id cannot be derived from '{}' with {}", _col(m.entity_id.column),
                                 pl.lit(m.entity_id.regex))))
    checks.append((m.entity_id.column, pl.col("key") == "", pl.lit("empty entity id")))
    checks.append((m.source_system.column or "", ~pl.col("source").is_in(list(SOURCE_SYSTEMS)),
                   pl.format("unknown source system '{}' (known: {}; map the file's own names with "
                             "source_system.values)", pl.col("source"), pl.lit(", ".join(SOURCE_SYSTEMS)))))
    return checks + ([] if m.on_error == "blank" else _field_checks(m))


def _field_checks(m: Mapping) -> list[tuple[str, pl.Expr, pl.Expr]]:
    """Checks of one field whose failure leaves a usable row: the field parses to null, which is
    how a record holds a field nobody could read."""
    checks = []
    for parsed, col in (("dob", m.person.dob), ("record_date", m.record_date)):
        if col:
            checks.append((col.column, (_col(col.column) != "") & pl.col(parsed).is_null(),
                           pl.format("'{}' is not a date in the format {}", _col(col.column),
                                     pl.lit(" or ".join(col.formats)))))
    return checks


def _rows(lf: pl.LazyFrame, m: Mapping, header: list[str]) -> pl.LazyFrame:
    """Per row: `error`/`error_column` (null when the row is fine), `record` and `truth` (its
    lines, JSON text), `source`, `has_location`, and its person's fields (PERSON_FIELDS, `ent`)
    and address (`address` id, `lines`, `town`, `postcode`) as written."""
    p, a = m.person, m.address
    key = _col(m.entity_id.column)
    if m.entity_id.regex:
        key = key.str.extract(m.entity_id.regex, 1)
    checks = _checks(m, header)
    blanks = _field_checks(m) if m.on_error == "blank" else []
    lines = pl.concat_str([_or_null(_col(c)) for c in a.lines], separator=" ",
                          ignore_nulls=True).fill_null("") if a.lines else pl.lit("")
    return (lf.with_columns(
        rid=_col(m.record_id), rid_hash=_col(m.record_id).hash(), key=key,
        source=pl.lit(m.source_system.constant) if m.source_system.constant
        else _col(m.source_system.column).replace(m.source_system.values),
        lines=lines, town=_col(a.town), postcode=_col(a.postcode),
        dob=_date(p.dob) if p.dob else pl.lit(None, pl.String),
        record_date=_date(m.record_date) if m.record_date else pl.lit(None, pl.String),
        forename=_col(p.forename), middle=_col(p.middle), surname=_col(p.surname), sex=_or_null(_col(p.sex)))
        .with_columns(
            error_column=pl.coalesce([pl.when(bad).then(pl.lit(col)) for col, bad, _ in checks]),
            error=pl.coalesce([pl.when(bad).then(msg) for _, bad, msg in checks]),
            blanked=pl.sum_horizontal([bad.cast(pl.Int32) for _, bad, _ in blanks]) if blanks else pl.lit(0),
            blank_column=pl.coalesce([pl.when(bad).then(pl.lit(col)) for col, bad, _ in blanks])
            if blanks else pl.lit(None, pl.String),
            blank=pl.coalesce([pl.when(bad).then(msg) for _, bad, msg in blanks]) if blanks else pl.lit(None, pl.String),
            ent=pl.lit("P") + pl.col("key"), has_location=(pl.col("lines") != "") | (pl.col("postcode") != ""))
        .with_columns(address=pl.when("has_location").then(
            # an id per distinct written address: its 64-bit XXH3 hash, the same on every machine
            # and version (polars' own hash is not), and wide enough that a million addresses
            # would share one with a chance of about 3 in 100 million; kept as a number until
            # written, as numbers group and de-duplicate faster than their text
            pl.concat_str(["lines", "postcode"], separator="|").str.to_lowercase().nchash.xxh3_64()))
        .with_columns(record=_record_line(m, header), truth=_truth_line())
        .select("_row", "rid", "rid_hash", "error", "error_column", "blanked", "blank_column", "blank",
                "record", "truth", "source", "has_location", "ent",
                *PERSON_FIELDS, "lines", "town", "postcode"))


def _record_line(m: Mapping, header: list[str]) -> pl.Expr:
    col = pl.col
    extra = [_or_null(_col(c)) for c in m.text]
    if m.unmapped == "keep_as_text":
        named = set(m.columns().values())
        extra += [pl.when(_col(c) != "").then(pl.lit(f"{c} ") + _col(c)) for c in header if c not in named]
    text = pl.concat_str(extra, separator=" ", ignore_nulls=True).fill_null("") if extra else ""
    location = jt.flat(address=col("lines"), borough=col("town"), lat=None, lon=None, mid="l0",
                       postcode=col("postcode"))
    person = jt.flat(dob=col("dob"), forename=col("forename"), mid="p0", middle=col("middle"), role="subject",
                     sex=col("sex"), surname=col("surname"))
    phone, vrm = _col(m.phone), _col(m.vehicle_vrm)
    return jt.obj(
        date=col("record_date").fill_null("1970-01-01") if m.record_date else "1970-01-01",
        locations=jt.list_of_one_if(col("has_location"), location) if m.address.lines or m.address.postcode else [],
        objects=[], offence="", people=jt.list_of_one(person),
        phones=jt.list_of_one_if(phone != "", jt.flat(mid="t0", number=phone)) if m.phone else [],
        rid=col("rid"), source=col("source"), synthetic=m.synthetic, text=text, type="imported_record",
        vehicles=jt.list_of_one_if(vrm != "", jt.flat(colour="", make="", mid="v0", model="", vrm=vrm))
        if m.vehicle_vrm else [])


def _address_id(address: pl.Expr) -> pl.Expr:
    """The address entity's id, from its hash."""
    return pl.lit("L") + address.cast(pl.String)


def _truth_line() -> pl.Expr:
    mention = lambda entity, mid: jt.obj(entity=entity, kinds=["unlabelled"], mid=mid)  # noqa: E731
    mentions = jt.concat(["[", mention(pl.col("ent"), "p0"), pl.when("has_location").then(
        pl.lit(",") + mention(_address_id(pl.col("address")), "l0")).otherwise(pl.lit("")), "]"])
    return jt.obj(event=pl.lit("E") + pl.col("rid"), mentions=jt.Raw(mentions), rid=pl.col("rid"))


# ---- which rows are kept ---------------------------------------------------------------------

class _MayRepeat(Exception):
    """Two imported rows' ids hash alike: the import is run again knowing which ids repeat."""


def _kept(src: Path, rows: Callable[[], Iterator[pl.DataFrame]], repeated: set[str] | None, m: Mapping,
          acc: "_Accumulated", progress: Callable[[int], None] | None) -> Iterator[pl.DataFrame]:
    """The batches, less rows that fail a check or repeat an imported row's id: the first such
    row is an error naming the file, row and column, or, in skip mode, it is counted. With
    `repeated` None, no id is expected twice; the hashes of the ids kept are checked once, at the
    end or before reporting an error, since a repeat may have come first."""
    imported: set[str] = set()  # ids of imported rows, only among the repeated ones
    hashes: list[pl.Series] = []
    for df in rows():
        if progress:
            progress(len(df))
        if repeated:
            df = _mark_repeats(df, repeated, imported, m)
        elif repeated is None:
            hashes.append(df.filter(pl.col("error").is_null())["rid_hash"])
        bad = df.filter(pl.col("error").is_not_null())
        if len(bad):
            where = [f"{src}: row {r}: column {c}: {e}" for r, c, e in
                     bad.select("_row", "error_column", "error").head(5).iter_rows()]
            if m.on_error != "skip":  # under blank, what is left is a row no field can mend
                _check_no_repeat(hashes)
                raise PolebenchError(where[0])
            acc.skipped += len(bad)
            acc.reasons += where[: 5 - len(acc.reasons)]
            df = df.filter(pl.col("error").is_null())
        if m.on_error == "blank":
            blanked = df.filter(pl.col("blanked") > 0)
            acc.blanked += int(blanked["blanked"].sum())
            acc.blank_reasons += [f"{src}: row {r}: column {c}: {e}; left blank" for r, c, e in
                                  blanked.select("_row", "blank_column", "blank").head(5).iter_rows()
                                  ][: 5 - len(acc.blank_reasons)]
        if len(df):
            yield df
    _check_no_repeat(hashes)


def _check_no_repeat(hashes: list[pl.Series]) -> None:
    if hashes and pl.concat(hashes).is_duplicated().any():
        raise _MayRepeat


def _mark_repeats(df: pl.DataFrame, repeated: set[str], imported: set[str], m: Mapping) -> pl.DataFrame:
    """An error on each otherwise good row whose id an earlier imported row had."""
    cand = df.with_columns(i=pl.int_range(pl.len())).filter(
        pl.col("error").is_null() & pl.col("rid").is_in(list(repeated))).select("i", "rid")
    dup = []
    for i, rid in cand.iter_rows():
        if rid in imported:
            dup.append(i)
        imported.add(rid)
    if not dup:
        return df
    is_dup = pl.int_range(pl.len()).is_in(dup)
    return df.with_columns(error_column=pl.when(is_dup).then(pl.lit(m.record_id)).otherwise("error_column"),
                           error=pl.when(is_dup).then(pl.format("duplicate record id '{}'", "rid")).otherwise("error"))


# ---- what is gathered for the truth of entities ----------------------------------------------

@dataclass
class _Accumulated:
    records: int = 0
    locations: int = 0
    skipped: int = 0
    reasons: list[str] = field(default_factory=list)
    blanked: int = 0  # fields left empty under on_error: blank
    blank_reasons: list[str] = field(default_factory=list)
    per_source: Counter = field(default_factory=Counter)
    people: list[pl.DataFrame] = field(default_factory=list)
    addresses: list[pl.DataFrame] = field(default_factory=list)
    persons: int = 0
    address_entities: int = 0

    def add(self, df: pl.DataFrame, m: Mapping) -> None:
        self.records += len(df)
        self.locations += int(df["has_location"].sum())
        self.per_source.update(dict(df["source"].value_counts().iter_rows()))
        self.people.append(df.select("ent", "_row", *_mapped(m)))
        self.addresses.append(df.filter("has_location").select("address", "lines", "town", "postcode"))

    def entities(self, m: Mapping) -> tuple[pl.DataFrame, pl.DataFrame]:
        """The truth of each person and address, one `line` each: persons by id, then addresses
        in the order they were first written."""
        persons = _modes(pl.concat(self.people).lazy(), _mapped(m)).sort("ent").select(line=jt.obj(
            address=_address_id(pl.col("address")), alias=None, associates=[], community=-1,
            dob=pl.col("dob"), forename=pl.col("forename").fill_null(""), id=pl.col("ent"),
            kind="person", middle=pl.col("middle").fill_null(""), moniker=None, nationality=None, phones=[],
            sex=pl.col("sex"), surname=pl.col("surname").fill_null(""), vehicles=[]))
        addresses = (pl.concat(self.addresses).lazy().unique("address", keep="first", maintain_order=True)
                     .select(line=jt.obj(address=pl.col("lines"), borough=pl.col("town"),
                                         id=_address_id(pl.col("address")), kind="address", lat=None, lon=None,
                                         postcode=pl.col("postcode"))))
        persons, addresses = pl.collect_all([persons, addresses])  # the two queries run side by side
        self.persons, self.address_entities = len(persons), len(addresses)
        return persons, addresses


def _mapped(m: Mapping) -> list[str]:
    """The person fields the mapping fills (the others are empty on every row)."""
    p = m.person
    filled = {"forename": p.forename, "middle": p.middle, "surname": p.surname, "dob": p.dob, "sex": p.sex,
              "address": m.address.lines or m.address.postcode}
    return [f for f in PERSON_FIELDS if filled[f]]


def _modes(rows: pl.LazyFrame, fields: list[str]) -> pl.LazyFrame:
    """Per person and field, the value written most often (the earliest seen among equals), in
    one query so that polars shares the scan and runs the fields in parallel. Persons are grouped
    by a categorical code rather than by their id's text."""
    rows = rows.with_columns(pl.col("ent").cast(pl.Categorical))
    out, schema = rows.select("ent").unique(), rows.collect_schema()
    for f in fields:
        rank = pl.col("n").cast(pl.Int64) * (1 << 40) - pl.col("first").cast(pl.Int64)  # rows number < 2^40
        written = pl.col(f).is_not_null() & (pl.col(f) != "") if schema[f] == pl.String else pl.col(f).is_not_null()
        mode = (rows.filter(written)
                .group_by("ent", f).agg(n=pl.len(), first=pl.col("_row").min())
                .group_by("ent").agg(pl.col(f).get(rank.arg_max())))
        out = out.join(mode, on="ent", how="left")
    missing = [pl.lit(None, pl.String).alias(f) for f in PERSON_FIELDS if f not in fields]
    return out.with_columns(*missing, pl.col("ent").cast(pl.String))


class _Gzip:
    """ISA-L gzip at level 1 with mtime 0, fed in blocks of GZIP_BLOCK bytes whatever the sizes of
    the writes, so that the same rows make the same bytes: ISA-L's output depends on how its input
    is cut (the same 5 MB fed in one piece, in 64 KiB and in 1 MiB pieces gave three different
    files), and the writes here are polars' batches, whose sizes are polars' to choose (a killed
    and repeated import once gave other bytes for the same file)."""

    def __init__(self, sink: "io.RawIOBase | _HashedSink"):
        self.gz = igzip.IGzipFile(fileobj=sink, mode="wb", compresslevel=1, mtime=0)
        self.buf = bytearray()

    def write(self, data: bytes) -> int:
        self.buf += data
        if len(self.buf) >= GZIP_BLOCK:
            whole = len(self.buf) - len(self.buf) % GZIP_BLOCK
            with memoryview(self.buf) as view:
                for at in range(0, whole, GZIP_BLOCK):
                    self.gz.write(view[at:at + GZIP_BLOCK])
            del self.buf[:whole]
        return len(data)

    def flush(self) -> None:  # what is written is only ever the whole blocks; close writes the rest
        pass

    def close(self) -> None:
        if self.buf:
            self.gz.write(self.buf)
            self.buf = bytearray()
        self.gz.close()

    def __enter__(self) -> "_Gzip":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


GZIP_BLOCK = 1 << 20


def _gzip(sink: "io.RawIOBase | _HashedSink") -> _Gzip:
    return _Gzip(sink)


def _gzip_member(df: pl.DataFrame) -> bytes:
    """The frame's `line` column as one gzip member."""
    buf = io.BytesIO()
    with _gzip(buf) as gz:
        jt.write_lines(df, "line", gz)
    return buf.getvalue()


class _HashedSink:
    """Bytes to a file, hashed on their way rather than read back."""

    def __init__(self, path: Path):
        self.f, self.h = open(path, "wb"), hashlib.sha256()

    def write(self, data: bytes) -> int:
        self.f.write(data)
        self.h.update(data)
        return len(data)

    def flush(self) -> None:
        self.f.flush()

    def __enter__(self) -> "_HashedSink":
        return self

    def __exit__(self, *exc) -> None:
        self.f.close()
        self.sha256 = self.h.hexdigest()


class _GzipLines:
    """A corpus file of JSON lines, one gzip stream written as the batches come."""

    def __init__(self, path: Path):
        self.sink = _HashedSink(path)
        self.gz = _gzip(self.sink)

    def write(self, df: pl.DataFrame, column: str) -> None:
        """The frame's text column, one line a row."""
        jt.write_lines(df, column, self.gz)

    def __enter__(self) -> "_GzipLines":
        return self

    def __exit__(self, *exc) -> None:
        self.gz.close()
        self.sink.__exit__(*exc)
        self.sha256 = self.sink.sha256
