"""An export's rows into an OpenSearch index through its REST API (bench/corpus/load_export.py
says what every engine's loader does): one document per row, a field per exported column."""

from __future__ import annotations

import json
from typing import Callable

import httpx

from bench.corpus.load_export import ALNUM, Export, call
from bench.errors import BackendError, PolebenchError
from bench.redact import check_engine_url, opensearch_credentials

SETTINGS = {"number_of_shards": 1, "number_of_replicas": 0}
# Written into the index's mapping: load-export replaces an index only where it finds this, so
# that a mistyped --index never deletes an index of the cluster's own (or polebench's backend's).
MARK = {"writer": "polebench load-export"}


def index_mapping(e: Export) -> dict:
    """A field per exported column: dates as dates in their export format, coordinates as
    numbers, the free text as text, everything else a keyword with its letters-and-digits twin;
    every column also copied into all_text, the words a free-text search sees."""
    props: dict[str, dict] = {"all_text": {"type": "text"}}
    for col in e.keyword_columns():
        props[col] = {"type": "keyword", "copy_to": "all_text"}
        # letters and digits, lower case, written at load time: an index-time normalizer would
        # also be applied to a regular expression's pattern, and strip its . and *
        props[col + ALNUM] = {"type": "keyword"}
    for col, fmt in e.date_columns().items():
        java = fmt.replace("%d", "dd").replace("%m", "MM").replace("%Y", "yyyy")
        props[col] = {"type": "date", "format": java, "copy_to": "all_text"}
    for col in e.number_columns():
        props[col] = {"type": "double"}
    for col in e.text_columns():
        props[col] = {"type": "text", "copy_to": "all_text"}
    m = e.mapping
    props[m.record_id] = {"type": "keyword"}
    if m.people.row_id:
        props[m.people.row_id] = {"type": "keyword"}
    return {"settings": SETTINGS, "mappings": {"dynamic": "strict", "_meta": MARK, "properties": props}}


def load(e: Export, url: str, index: str, progress: Callable[[int], None] | None = None) -> int:
    """Replace `index` with the export's rows; return how many were loaded."""
    url = check_engine_url(url, "--url").rstrip("/")
    auth, ca = opensearch_credentials()
    with httpx.Client(base_url=url, timeout=120, auth=auth, verify=ca or True) as client:
        _delete_if_ours(client, index)
        call(client, "opensearch", "PUT", f"/{index}", json=index_mapping(e))
        n = 0
        for chunk in e.chunks():
            body = "".join(json.dumps({"index": {"_index": index, "_id": doc[e.key]}}) + "\n" + json.dumps(doc) + "\n"
                           for doc in chunk)
            res = call(client, "opensearch", "POST", "/_bulk", content=body.encode(),
                       headers={"Content-Type": "application/x-ndjson"})
            if res.get("errors"):
                first = next(i for i in res["items"] if i["index"].get("error"))
                raise BackendError(f"opensearch bulk load failed: {first['index']['error']}")
            n += len(chunk)
            if progress:
                progress(len(chunk))
        call(client, "opensearch", "POST", f"/{index}/_refresh")
        return n


def _delete_if_ours(client: httpx.Client, index: str) -> None:
    """Delete `index` where load-export made it; refuse, keeping it, an index (or alias) of any
    other making."""
    found = call(client, "opensearch", "GET", f"/{index}/_mapping", ok=(200, 404))
    if "error" in found:
        return
    metas = [v.get("mappings", {}).get("_meta") for v in found.values()]
    if list(found) != [index] or metas != [MARK]:
        raise PolebenchError(f"the OpenSearch index {index} at {client.base_url} was not made by polebench "
                             f"load-export: it is left as it is; give another --index")
    call(client, "opensearch", "DELETE", f"/{index}")
