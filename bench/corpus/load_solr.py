"""An export's rows into a Solr core through Solr's REST APIs (bench/corpus/load_export.py says
what every engine's loader does): the core made with CoreAdmin from the configset that ships with
polebench (tools/solr-node/configsets/polebench-export, a field per column of
corpora/export-example.yaml), then the rows sent to its JSON update handler a batch at a time."""

from __future__ import annotations

import datetime as dt
import re
from typing import Callable

import httpx

from bench.corpus.load_export import Export, call
from bench.errors import BackendError, PolebenchError
from bench.redact import check_engine_url

CONFIGSET = "polebench-export"  # also the schema's name: how a core polebench made is known
CORE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")


def load(e: Export, url: str, core: str, progress: Callable[[int], None] | None = None) -> int:
    """Replace the core `core` (one this loader made, or none) with the export's rows; return how
    many were loaded."""
    url = check_engine_url(url, "--url").rstrip("/")
    if not CORE_NAME.fullmatch(core):
        raise PolebenchError(f"--index {core!r}: a Solr core's name is letters, digits, '_', '-' and '.'")
    with httpx.Client(base_url=url, timeout=120) as client:
        _replace_core(client, core)
        _check_columns(client, core, e)
        n = 0
        for chunk in e.chunks():
            docs = [_doc(row, e) for row in chunk]
            res = call(client, "solr", "POST", f"/{core}/update", json=docs, params={"wt": "json"}, ok=(200, 400))
            if res.get("error"):
                raise BackendError(f"solr update of core {core} failed: {res['error'].get('msg')}")
            n += len(chunk)
            if progress:
                progress(len(chunk))
        call(client, "solr", "POST", f"/{core}/update", json={"commit": {}}, params={"wt": "json"})
        return n


def _replace_core(client: httpx.Client, core: str) -> None:
    """Unload (and delete) the core where polebench made it, then make it again from the configset.
    A core of the same name made otherwise is refused, never deleted."""
    cores = call(client, "solr", "GET", "/admin/cores", params={"action": "STATUS", "core": core, "wt": "json"})
    if cores.get("status", {}).get(core) or core in cores.get("initFailures", {}):
        schema = client.get(f"/{core}/schema/name", params={"wt": "json"})
        if core not in cores.get("initFailures", {}) and (schema.status_code != 200 or
                                                            schema.json().get("name") != CONFIGSET):
            raise PolebenchError(f"the Solr core {core} at {client.base_url} was not made by polebench load-export "
                                 f"(its schema is not {CONFIGSET}): it is left as it is; give another --index")
        call(client, "solr", "GET", "/admin/cores", params={"action": "UNLOAD", "core": core, "deleteInstanceDir": "true",
                                                             "wt": "json"})
    res = client.get("/admin/cores", params={"action": "CREATE", "name": core, "configSet": CONFIGSET, "wt": "json"})
    if res.status_code != 200:
        msg = res.json().get("error", {}).get("msg") if "json" in res.headers.get("content-type", "") else res.text[:300]
        raise BackendError(f"solr could not make the core {core} from the configset {CONFIGSET} (is this a node "
                           f"`polebench solr-node start` started, or one given tools/solr-node/configsets?): {msg}")


def _check_columns(client: httpx.Client, core: str, e: Export) -> None:
    """Every exported column must be a field of the schema: Solr would refuse the first row that
    has one it lacks, and a silently dropped column would not be the system's."""
    fields = {f["name"] for f in call(client, "solr", "GET", f"/{core}/schema/fields", params={"wt": "json"})["fields"]}
    missing = [c for _, c in e.mapping.columns() if c not in fields]
    if missing:
        call(client, "solr", "GET", "/admin/cores", params={"action": "UNLOAD", "core": core, "deleteInstanceDir": "true",
                                                             "wt": "json"})
        raise PolebenchError(f"{e.folder}: the columns {', '.join(missing)} are not fields of the Solr schema "
                             f"{CONFIGSET}: add them to tools/solr-node/configsets/{CONFIGSET}/conf/schema.xml")


def _doc(row: dict[str, str], e: Export) -> dict:
    """A Solr document: the row, its dates in Solr's form, its id, and all_text: every column's
    value as the record wrote it (a date as the export wrote it, not as Solr holds it)."""
    doc: dict = dict(row)
    doc["id"] = row[e.key]
    for col, fmt in e.date_columns().items():
        if col in row:
            try:
                doc[col] = dt.datetime.strptime(row[col], fmt).strftime("%Y-%m-%dT00:00:00Z")
            except ValueError:
                raise PolebenchError(f"{e.folder}: row {row[e.key]}: {col} {row[col]!r} is not a date in the "
                                     f"export's format {fmt}") from None
    doc["all_text"] = [row[c] for c in (*e.keyword_columns(), *e.date_columns(), *e.text_columns()) if c in row]
    return doc
