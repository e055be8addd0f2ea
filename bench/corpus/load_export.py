"""Load an export (polebench export) into a search engine through its REST API, as a force would
load it into a test instance of a real system: the exported columns as they are, one document per
row, with the engine's ordinary text handling. Nothing of polebench's own field model (phonetic
keys, nickname sets, person keys) is added: a run through an adapter over the exported columns
(adapters/opensearch-export.yaml, adapters/solr-export.yaml) then measures what a plain search
engine over the system's own columns can do, and lists the rest as lost.

What every engine shares is here: reading the export, which columns are keywords, their
letters-and-digits twins. Each engine (ENGINES) turns rows into its own documents and requests."""

from __future__ import annotations

import csv
import importlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator, Protocol

import httpx

from bench.corpus.export import EXPORT_MANIFEST
from bench.corpus.export_mapping import ExportMapping
from bench.errors import BackendError, PolebenchError

CHUNK = 2000
# Names, registrations, postcodes and phone numbers are compared as a structured system compares
# them, letters and digits only, case aside: each keyword column has a twin <column>__alnum.
ALNUM = "__alnum"


class Loader(Protocol):
    def __call__(self, export: "Export", url: str, index: str,
                 progress: Callable[[int], None] | None = None) -> int: ...


@dataclass(frozen=True)
class Engine:
    """A search engine load-export writes into: its loader, and where its address comes from."""
    name: str
    module: str                 # bench.corpus.<module>.load(export, url, index, progress)
    url_env: str
    default_url: str
    index_word: str             # what the engine calls the place the rows go: index, core

    def loader(self) -> Loader:
        return importlib.import_module(f"bench.corpus.{self.module}").load


ENGINES = {e.name: e for e in (
    Engine("opensearch", "load_opensearch", "POLEBENCH_OPENSEARCH_URL", "http://127.0.0.1:9200", "index"),
    Engine("solr", "load_solr", "POLEBENCH_SOLR_URL", "http://127.0.0.1:8983/solr", "core"),
)}


@dataclass(frozen=True)
class Export:
    """An export folder as polebench export wrote it: its files and the mapping that wrote them."""
    folder: Path
    mapping: ExportMapping
    files: tuple[str, ...]

    @classmethod
    def open(cls, folder: Path) -> "Export":
        try:
            made = json.loads((folder / EXPORT_MANIFEST).read_text())
        except (OSError, ValueError) as e:
            raise PolebenchError(f"{folder}: not a polebench export ({EXPORT_MANIFEST}: {e})") from None
        m = ExportMapping.model_validate(made["mapping"])
        if m.people.layout == "nested":
            raise PolebenchError(f"{folder}: the loader reads exports with one row per record or per person "
                                 f"(people.layout rows or numbered), not nested people")
        return cls(folder, m, tuple(made["files"]))

    @property
    def key(self) -> str:
        """The column that names a row: the person row's id where there is one, else the record's."""
        return self.mapping.people.row_id or self.mapping.record_id

    def date_columns(self) -> dict[str, str]:
        """Each date column and its strftime format."""
        m = self.mapping
        return {d.column: d.format for d in (m.record_date, m.event_date, m.people.columns.dob) if d is not None}

    def text_columns(self) -> list[str]:
        return [c for c in (self.mapping.text, self.mapping.location.address) if c]

    def number_columns(self) -> list[str]:
        return [c for c in (self.mapping.location.lat, self.mapping.location.lon) if c]

    def keyword_columns(self) -> list[str]:
        """The columns held as keywords (all but dates, coordinates, free text and ids)."""
        m = self.mapping
        other = set(self.date_columns()) | set(self.text_columns()) | set(self.number_columns())
        other |= {c for c in (m.record_id, m.people.row_id) if c}
        return [c for _, c in m.columns() if c not in other]

    def rows(self) -> Iterator[dict[str, str]]:
        """Every row of every file, each value as text, empty cells left out."""
        for name in self.files:
            path = self.folder / name
            with open(path, newline="", encoding="utf-8") as f:
                if self.mapping.format == "csv":
                    rows: Iterator[dict] = csv.DictReader(f, delimiter=self.mapping.delimiter)
                else:
                    rows = (json.loads(line) for line in f if line.strip())
                for row in rows:
                    yield {k: v if isinstance(v, str) else json.dumps(v) for k, v in row.items()
                           if v not in ("", None)}

    def chunks(self, size: int = CHUNK) -> Iterator[list[dict[str, str]]]:
        """The rows, each with its keyword columns' letters-and-digits twins, `size` at a time."""
        keywords = self.keyword_columns()
        chunk: list[dict[str, str]] = []
        for row in self.rows():
            row.update({c + ALNUM: alnum(row[c]) for c in keywords if row.get(c)})
            chunk.append(row)
            if len(chunk) == size:
                yield chunk
                chunk = []
        if chunk:
            yield chunk


def alnum(v: str) -> str:
    return re.sub(r"[^a-z0-9]", "", v.lower())


def load_export(export: Path, url: str, index: str, progress: Callable[[int], None] | None = None,
                engine: str = "opensearch") -> int:
    """Replace `index` (an OpenSearch index, a Solr core ...) with the export's rows; return how
    many were loaded."""
    if engine not in ENGINES:
        raise PolebenchError(f"--engine {engine}: one of {', '.join(ENGINES)}")
    return ENGINES[engine].loader()(Export.open(export), url, index, progress)


def call(client: httpx.Client, engine: str, method: str, path: str, ok: tuple[int, ...] = (200, 201),
         **kw) -> dict:
    """One request to the engine; its JSON answer, or an error naming the engine and the request."""
    try:
        r = client.request(method, path, **kw)
    except httpx.HTTPError as e:
        raise BackendError(f"{engine} at {client.base_url} is not reachable ({method} {path}: {e})") from None
    if r.status_code not in ok:
        raise BackendError(f"{engine} {method} {path}: HTTP {r.status_code}: {r.text[:300]}")
    return r.json()
