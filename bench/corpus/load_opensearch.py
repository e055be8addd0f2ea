"""Load an export (polebench export) into an OpenSearch index through its REST API, as a force
would load it into a test instance of a real system: the exported columns as they are, one
document per row, with an engine's ordinary text handling. Nothing of polebench's own field model
(phonetic keys, nickname sets, person keys) is added: a run through adapters/opensearch-export.yaml
then measures what a plain search engine over the system's own columns can do, and lists the rest
as lost."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path
from typing import Callable, Iterator

import httpx

from bench.corpus.export import EXPORT_MANIFEST
from bench.corpus.export_mapping import ExportMapping
from bench.errors import BackendError, PolebenchError
from bench.redact import check_engine_url

CHUNK = 2000
# Names, registrations, postcodes and phone numbers are compared as a structured system compares
# them, letters and digits only, case aside: each keyword column has a twin <column>__alnum.
ALNUM = "__alnum"
SETTINGS = {"number_of_shards": 1, "number_of_replicas": 0}


def index_mapping(m: ExportMapping) -> dict:
    """A field per exported column: dates as dates in their export format, coordinates as
    numbers, the free text as text, everything else a keyword with its letters-and-digits twin;
    every column also copied into all_text, the words a free-text search sees."""
    def date(fmt: str) -> dict:
        java = fmt.replace("%d", "dd").replace("%m", "MM").replace("%Y", "yyyy")
        return {"type": "date", "format": java, "copy_to": "all_text"}
    props: dict[str, dict] = {"all_text": {"type": "text"}}
    for col in keyword_columns(m):
        props[col] = {"type": "keyword", "copy_to": "all_text"}
        # letters and digits, lower case, written at load time: an index-time normalizer would
        # also be applied to a regular expression's pattern, and strip its . and *
        props[col + ALNUM] = {"type": "keyword"}
    for d in (m.record_date, m.event_date, m.people.columns.dob):
        if d is not None:
            props[d.column] = date(d.format)
    for col in (m.location.lat, m.location.lon):
        if col:
            props[col] = {"type": "double"}
    for col in (m.text, m.location.address):
        if col:
            props[col] = {"type": "text", "copy_to": "all_text"}
    props[m.record_id] = {"type": "keyword"}
    if m.people.row_id:
        props[m.people.row_id] = {"type": "keyword"}
    return {"settings": SETTINGS, "mappings": {"dynamic": "strict", "properties": props}}


def keyword_columns(m: ExportMapping) -> list[str]:
    """The columns held as keywords (all but dates, coordinates, free text and ids)."""
    other = {d.column for d in (m.record_date, m.event_date, m.people.columns.dob) if d is not None}
    other |= {c for c in (m.location.lat, m.location.lon, m.text, m.location.address, m.record_id, m.people.row_id) if c}
    return [c for _, c in m.columns() if c not in other]


def alnum(v: str) -> str:
    return re.sub(r"[^a-z0-9]", "", v.lower())


def load_export(export: Path, url: str, index: str, progress: Callable[[int], None] | None = None) -> int:
    """Replace `index` with the export's rows; return how many were loaded."""
    url = check_engine_url(url, "--opensearch-url").rstrip("/")
    try:
        made = json.loads((export / EXPORT_MANIFEST).read_text())
    except (OSError, ValueError) as e:
        raise PolebenchError(f"{export}: not a polebench export ({EXPORT_MANIFEST}: {e})") from None
    m = ExportMapping.model_validate(made["mapping"])
    if m.format != "csv" or m.people.layout == "nested":
        raise PolebenchError(f"{export}: the loader reads CSV exports with one row per record or per person")
    with httpx.Client(base_url=url, timeout=120) as client:
        _call(client, "DELETE", f"/{index}", ok=(200, 404))
        _call(client, "PUT", f"/{index}", json=index_mapping(m))
        n = 0
        for name in made["files"]:
            for chunk in _chunks(export / name, m):
                body = "".join(json.dumps({"index": {"_index": index, "_id": doc_id}}) + "\n" + json.dumps(doc) + "\n"
                               for doc_id, doc in chunk)
                res = _call(client, "POST", "/_bulk", content=body.encode(),
                            headers={"Content-Type": "application/x-ndjson"})
                if res.get("errors"):
                    first = next(i for i in res["items"] if i["index"].get("error"))
                    raise BackendError(f"opensearch bulk load failed: {first['index']['error']}")
                n += len(chunk)
                if progress:
                    progress(len(chunk))
        _call(client, "POST", f"/{index}/_refresh")
        return n


def _chunks(path: Path, m: ExportMapping) -> Iterator[list[tuple[str, dict]]]:
    key = m.people.row_id or m.record_id
    keywords = keyword_columns(m)
    chunk: list[tuple[str, dict]] = []
    with open(path, newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f, delimiter=m.delimiter):
            doc = {k: v for k, v in row.items() if v != ""}
            doc.update({c + ALNUM: alnum(row[c]) for c in keywords if row.get(c)})
            chunk.append((row[key], doc))
            if len(chunk) == CHUNK:
                yield chunk
                chunk = []
    if chunk:
        yield chunk


def _call(client: httpx.Client, method: str, path: str, ok: tuple[int, ...] = (200, 201), **kw) -> dict:
    try:
        r = client.request(method, path, **kw)
    except httpx.HTTPError as e:
        raise BackendError(f"opensearch at {client.base_url} is not reachable ({method} {path}: {e})") from None
    if r.status_code not in ok:
        raise BackendError(f"opensearch {method} {path}: HTTP {r.status_code}: {r.text[:300]}")
    return r.json()
