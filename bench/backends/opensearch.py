"""OpenSearch backend (opensearch-py). Same field model as the embedded backend: two indexes per
corpus checksum (records, mentions), keyword/long/text fields from bench.fields, words split the
way tantivy's default tokenizer splits them. All hits are read with exact totals through a point
in time and search_after, never from/size. Transient errors are retried with backoff."""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import threading
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Iterator, Mapping, Sequence

import numpy as np
import orjson
from isal import igzip
from opensearchpy import JSONSerializer, OpenSearch
from opensearchpy.exceptions import ConnectionError as OSConnectionError
from opensearchpy.exceptions import NotFoundError, TransportError

from bench import fields as F
from bench.backends.base import (Backend, Hits, bounding_box, load_record_table, save_record_table,
                                 within_radius)
from bench.corpus.store import RECORDS, atomic_dir
from bench.errors import TRANSIENT, BackendError, PolebenchError, Unreachable
from bench.redact import check_engine_url, opensearch_credentials
from bench.plans import (All, Any, Clause, Fuzzy, GeoRadius, Intersect, Linked, Node, Plan, Range, Regex,
                         Scoped, Sequence, Term, Terms, Text, Union_, geo_of, has_text)

INDEX_VERSION = 6
# Hits asked for in a search's first request; what is left of a larger result comes in one more.
FIRST = 2_000
# A candidate set up to OpenSearch's default index.max_terms_count is pushed down as a filter.
MAX_TERMS = 65_536
# index.max_result_window: the second request asks for all that is left at once (search_after;
# the window bounds its size, and OpenSearch sizes its queue by the hits that exist, not this).
MAX_WINDOW = 100_000_000
MSEARCH_FILTER = ("responses.hits.total.value,responses.hits.hits.sort,responses.hits.hits.fields,"
                  "responses._shards.failed,responses.error,responses.status")
ANALYSIS = {"analyzer": {"polebench_words": {"type": "custom", "tokenizer": "polebench_alnum",
                                             "filter": ["lowercase"]}},
            "tokenizer": {"polebench_alnum": {"type": "simple_pattern_split", "pattern": "[^A-Za-z0-9]+"}}}
LOADING = {"refresh_interval": "-1", "translog.durability": "async"}  # while bulk loading
LOADED = {"index.refresh_interval": None, "index.translog.durability": None}  # the defaults again
BULK_RECORDS = 1_000  # records per bulk request: about 3,800 documents, 1.2 MB
BULK_WORKERS = 2  # processes building bulk bodies (at most one per core)
BULK_SENDERS = 2  # bulk requests in flight
BUILD_WAIT_S = 300  # for replicas to be allocated after loading
LAYOUT = {"shards": "number of primary shards", "replicas": "copies of each shard besides its primary"}


def layout_options(options: dict) -> dict[str, int]:
    """shards and replicas from --backend-option (strings from the command line, or ints)."""
    out = {}
    for key in LAYOUT:
        if options.get(key) is None:
            continue
        try:
            value = int(str(options[key]))
        except ValueError:
            value = -1
        if value < (1 if key == "shards" else 0):
            raise PolebenchError(f"--backend-option {key}={options[key]}: expected a whole number "
                                 f"{'of at least 1' if key == 'shards' else '(0 or more)'} ({LAYOUT[key]})")
        out[key] = value
    return out


class _Json(JSONSerializer):
    """orjson both ways: a search can answer with a hundred thousand hits (an msearch answer's
    hits are read by read_msearch)."""

    def loads(self, s):
        if s.startswith(MSEARCH_START):
            return read_msearch(s)
        return orjson.loads(s)


MSEARCH_START = '{"responses":['
_HITS = '"hits":[{"sort":['  # a list of hits that hold sort values only (no docvalue fields)
_HIT_SEP = ']},{"sort":['
_HITS_END = ']}]'


def read_msearch(text: str) -> dict:
    """An msearch answer as orjson reads it, except that each list of hits holding sort values
    only becomes hits: [] and sorts: an array, a row of sort values per hit. Reading a dict and a
    list per hit cost more than the search (about 3 µs a hit: a free-text need returns up to
    100,000); here a list is cut out of the text and read as one flat list of numbers. A list holding
    anything else (docvalue fields, a null) is read as JSON, as is the rest of the answer."""
    parts, sorts = [], []
    at = 0
    while (start := text.find(_HITS, at)) >= 0:
        end = text.find(_HITS_END, start)
        if end < 0:
            break
        body = text[start + len(_HITS):end]
        width = body.find("]")
        width = (body.count(",", 0, width) + 1) if width >= 0 else body.count(",") + 1
        n = body.count(_HIT_SEP) + 1
        flat = body.replace(_HIT_SEP, ",")
        plain = flat.count(",") == n * width - 1 and not any(c in flat for c in '{"n')  # n: null, nan
        values = np.array(orjson.loads(f"[{flat}]"), np.float64) if plain else None
        if values is None or len(values) != n * width:
            parts.append(text[at:end + len(_HITS_END)])  # not numbers only: read as JSON
        else:
            parts.append(f'{text[at:start]}"hits":[],"sorts":{len(sorts)}')
            sorts.append(values.reshape(n, width))
        at = end + len(_HITS_END)
    parts.append(text[at:])
    out = orjson.loads("".join(parts))
    if sorts:
        for r in out.get("responses", ()):
            h = r.get("hits")
            if h and "sorts" in h:
                h["sorts"] = sorts[h["sorts"]]
    return out

    def dumps(self, data):
        if isinstance(data, (str, bytes)):
            return data
        return orjson.dumps(data, default=self.default).decode()


# Fields read back from the index (sort values, docvalue fields); no other field keeps doc values,
# which cost indexing time and are never read.
DOC_VALUES = frozenset({"rnum", "doc_id", "lat_e6", "lon_e6", "person_key"})
DOCS_PER_RECORD = 1_000  # doc_id = rnum * this + the document's place in its record


def mapping(names: list[str], checksum: str, shards: int = 1) -> dict:
    """Index settings and mapping. While loading, the index has no replicas, no refresh and an
    asynchronous translog; the build sets its replicas and restores the rest."""
    # doc_id is only sorted on (a unique tiebreak for search_after): doc values, no index
    props: dict[str, dict] = {"doc_id": {"type": "long", "index": False}}
    for n in names:
        kind = F.FIELDS[n]
        # text: no positions (no query here is a phrase; BM25 reads frequencies only)
        props[n] = ({"type": "long"} if kind == "int" else {"type": "keyword"} if kind == "keyword"
                    else {"type": "text", "analyzer": "polebench_words", "index_options": "freqs"})
        if kind != "text" and n not in DOC_VALUES:
            props[n]["doc_values"] = False
    return {"settings": {"number_of_shards": shards, "number_of_replicas": 0, "analysis": ANALYSIS,
                         "max_result_window": MAX_WINDOW, **LOADING},
            "mappings": {"dynamic": "strict", "_source": {"enabled": False},
                         "_meta": {"corpus_checksum": checksum, "index_version": INDEX_VERSION},
                         "properties": props}}


def bulk_body(lines: list[bytes], first: int, index: dict[str, str]) -> tuple[bytes, list[str], list[int], int]:
    """The bulk request for some records (raw JSON lines, the first numbered `first`): one
    action per document, the record document first, then its mentions; with the records' ids
    and dates, and how many documents it holds. Built in a worker process."""
    out: list[bytes] = []
    rids, dates = [], []
    # no _id: OpenSearch then appends without looking each id up (doc_id is the one we sort on)
    heads = {k: b'{"index":{"_index":"' + v.encode() + b'"}}\n' for k, v in index.items()}
    for rnum, line in enumerate(lines, first):
        rec = orjson.loads(line)
        rids.append(rec["rid"])
        dates.append(F.days(rec["date"]))
        docs = F.docs_for_record(rec, rnum)
        if len(docs) > DOCS_PER_RECORD:
            raise BackendError(f"record {rec['rid']} has {len(docs)} documents; at most {DOCS_PER_RECORD} fit")
        for i, d in enumerate(docs):
            doc_id = rnum * DOCS_PER_RECORD + i
            d["doc_id"] = doc_id
            out.append(heads["record" if i == 0 else "mention"])
            out.append(orjson.dumps(d) + b"\n")
    return b"".join(out), rids, dates, len(out) // 2


def _bulk_chunk(args: tuple[list[bytes], int, dict[str, str]]) -> tuple[bytes, list[str], list[int], int]:
    return bulk_body(*args)


def _raw_chunks(path: Path, size: int) -> Iterator[list[bytes]]:
    """The corpus's record lines, undecoded, `size` at a time (the workers decode them)."""
    with igzip.open(path, "rb") as f:
        rest, chunk = b"", []
        while block := f.read(1 << 22):
            lines = (rest + block).split(b"\n")
            rest = lines.pop()
            for line in lines:
                if line:
                    chunk.append(line)
                    if len(chunk) == size:
                        yield chunk
                        chunk = []
        if rest.strip():
            chunk.append(rest)
        if chunk:
            yield chunk


def dsl(c: Clause) -> dict:
    """A plan clause as Query DSL."""
    if isinstance(c, Term):
        return {"term": {c.field: c.value}}
    if isinstance(c, Terms):
        return {"terms": {c.field: list(c.values)}}
    if isinstance(c, Fuzzy):
        # Every term within the distance, as tantivy matches them, each scoring 1 as there:
        # OpenSearch's default rewrite keeps only the 50 most frequent (max_expansions), which
        # on the default corpus lost a fifth to a half of a common surname's matches at distance 2.
        return {"fuzzy": {c.field: {"value": c.value, "fuzziness": c.distance, "transpositions": True,
                                    "prefix_length": 0, "rewrite": "constant_score"}}}
    if isinstance(c, Regex):
        return {"regexp": {c.field: {"value": c.pattern, "flags": "NONE"}}}
    if isinstance(c, Range):
        return {"range": {c.field: {"gte": c.lo, "lte": c.hi}}}
    if isinstance(c, GeoRadius):
        # Same box-then-haversine test as the embedded backend, so both return the same records.
        la0, la1, lo0, lo1 = bounding_box(c)
        return {"bool": {"filter": [{"range": {"lat_e6": {"gte": la0, "lte": la1}}},
                                    {"range": {"lon_e6": {"gte": lo0, "lte": lo1}}}]}}
    if isinstance(c, Text):
        words = " ".join(F.query_words(c.text))
        if not words:
            return {"match_none": {}}
        return {"match": {c.field: {"query": words, "operator": c.operator}}}
    if isinstance(c, All):
        return {"bool": {"must": [dsl(x) for x in c.clauses]}}
    if isinstance(c, Any):
        return {"bool": {"should": [dsl(x) for x in c.clauses], "minimum_should_match": 1}}
    raise BackendError(f"opensearch: unsupported clause {type(c).__name__}")


def scoped_query(node: Scoped, within: np.ndarray | None = None) -> tuple[str, dict, bool]:
    """(index kind, query, scored?) for one scoped node; `within`: only documents of these
    records (a filter: scores are those of the query without it)."""
    scored = has_text(node.clause)
    q = dsl(node.clause)
    only = [] if within is None else [{"terms": {"rnum": within.tolist()}}]
    if node.scope == "record":
        if scored:
            return "record", ({"bool": {"must": [q], "filter": only}} if only else q), True
        return "record", {"constant_score": {"filter": {"bool": {"filter": [q, *only]}} if only else q}}, False
    scope = {"term": {"scope": node.scope}}
    if scored:
        return "mention", {"bool": {"filter": [scope, *only], "must": [q]}}, True
    return "mention", {"constant_score": {"filter": {"bool": {"filter": [scope, q, *only]}}}}, False


class OpenSearchBackend(Backend):
    NAME = "opensearch"
    SUPPORTS = frozenset({"Scoped", "Intersect", "Union_", "Linked", "Sequence", "Term", "Terms",
                          "Fuzzy", "Regex", "Range", "GeoRadius", "Text", "All", "Any"})

    def __init__(self, corpus, **options: object):
        super().__init__(corpus, **options)
        # one address, or several of one cluster separated by commas (a request to a node that
        # is down goes to another)
        urls = [check_engine_url(u.strip(), "--opensearch-url or POLEBENCH_OPENSEARCH_URL") for u in
                str(options.get("url") or os.environ.get("POLEBENCH_OPENSEARCH_URL")
                    or "http://127.0.0.1:9200").split(",") if u.strip()]
        self.url = ",".join(urls)
        self.layout = layout_options(options)
        auth, ca = opensearch_credentials()
        self.client = OpenSearch(
            hosts=urls, http_auth=auth, ca_certs=ca, verify_certs=bool(ca) or self.url.startswith("https"),
            max_retries=int(options.get("max_retries", 3)), retry_on_timeout=True,
            retry_on_status=TRANSIENT, timeout=int(options.get("timeout", 60)), serializer=_Json())
        self.attempts = int(options.get("retries", 4))
        stem = f"polebench-{corpus.name}-{corpus.checksum[:12]}-v{INDEX_VERSION}"
        suffix = str(options.get("index_suffix") or "")  # a working copy, e.g. for erasure
        self.index = {"record": f"{stem}-records{suffix}", "mention": f"{stem}-mentions{suffix}"}
        self.shards = 1  # what the built index has (read by _fresh or set by _build)
        # The two requests of one search go to the same shard copies (any copy gives the same hits).
        self.preference = f"polebench-{os.getpid()}"
        # What this need's searches have read (begin_need): a scoped clause's first page or all of
        # its hits, and the milliseconds that cost (a later search that uses it borrows them).
        self.read: dict[Scoped, tuple[_Page, float]] = {}

    @classmethod
    def check_options(cls, options: Mapping[str, str]) -> dict[str, object]:
        unknown = sorted(set(options) - set(LAYOUT))
        if unknown:
            raise PolebenchError(f"--backend-option {unknown[0]}={options[unknown[0]]}: backend 'opensearch' takes "
                                 + ", ".join(f"{k} ({v})" for k, v in LAYOUT.items()))
        return dict(layout_options(dict(options)))

    # ---- errors

    def _call(self, what: str, fn: Callable, *args, **kw):
        """Run a client call with backoff on transient failures; re-raise with what was being run."""
        delay = 0.5
        last = self.attempts - 1
        for attempt in range(self.attempts):
            try:
                return fn(*args, **kw)
            except OSConnectionError as e:
                if attempt == last:
                    raise Unreachable(f"opensearch at {self.url} is not reachable ({what}): start it with "
                                       f"`docker compose up -d` or `polebench opensearch-node start`") from e
            except TransportError as e:
                if e.status_code not in TRANSIENT or attempt == last:
                    raise BackendError(f"opensearch {what} failed: {e.status_code} {e.error}") from e
            time.sleep(delay)
            delay *= 2
        raise AssertionError("unreachable")

    # ---- index

    def _cache_dir(self) -> Path:
        return self.corpus.root / "index" / f"opensearch-v{INDEX_VERSION}"

    def _fresh(self) -> bool:
        for kind, name in self.index.items():
            try:
                m = self._call("get mapping", self.client.indices.get_mapping, index=name)
            except BackendError as e:
                if isinstance(e.__cause__, NotFoundError):
                    return False
                raise
            meta = m[name]["mappings"].get("_meta", {})
            if meta.get("corpus_checksum") != self.corpus.checksum or not meta.get("complete"):
                return False
            shards, replicas = self._settings(name)
            want_shards, want_replicas = self._wanted()
            if shards != want_shards:  # asked for another layout: built again
                return False
            if replicas != want_replicas:  # replicas can change on a built index
                self._replicas(name, want_replicas)
            self.shards = shards
        return (self._cache_dir() / "meta.json").is_file() and json.loads(
            (self._cache_dir() / "meta.json").read_text()).get("corpus_checksum") == self.corpus.checksum

    def _prepare(self, progress: Callable[[int], None] | None) -> Sequence[str] | np.ndarray:
        if not self._fresh():
            self._build(progress)
        rids, self.dates = load_record_table(self._cache_dir())
        return rids

    def _settings(self, name: str) -> tuple[int, int]:
        st = self._call("get settings", self.client.indices.get_settings, index=name)[name]["settings"]["index"]
        return int(st["number_of_shards"]), int(st["number_of_replicas"])

    def _wanted(self) -> tuple[int, int]:
        """Shards and replicas as asked (--backend-option), else what suits the cluster: a shard
        per data node, and one replica where there is another node to hold it."""
        health = self._call("cluster health", self.client.cluster.health)
        nodes = int(health["number_of_data_nodes"])
        shards = self.layout.get("shards", nodes)
        replicas = self.layout.get("replicas", 1 if nodes > 1 else 0)
        if replicas >= nodes:
            raise PolebenchError(f"--backend-option replicas={replicas}: a replica needs a node of its own "
                                 f"besides its primary; the cluster at {self.url} has {nodes} data node(s)")
        return shards, replicas

    def _replicas(self, name: str, replicas: int) -> None:
        self._call("set replicas", self.client.indices.put_settings, index=name,
                   body={"index.number_of_replicas": replicas})
        self._call("wait for replicas", self.client.cluster.health, index=name, wait_for_status="green",
                   wait_for_active_shards="all", timeout=f"{BUILD_WAIT_S}s",
                   params={"request_timeout": BUILD_WAIT_S + 10})

    def _build(self, progress: Callable[[int], None] | None) -> None:
        """Bulk load with no replicas, no refresh and an asynchronous translog (restored after):
        worker processes turn records into bulk bodies while threads send them."""
        shards, replicas = self._wanted()
        for kind, names in (("record", ["scope"] + F.RECORD_NAMES), ("mention", F.MENTION_NAMES)):
            self._call("delete stale index", self.client.indices.delete, index=self.index[kind], ignore_unavailable=True)
            self._call("create index", self.client.indices.create, index=self.index[kind],
                       body=mapping(names, self.corpus.checksum, shards))
        rids: list[str] = []
        dates: list[int] = []
        sent = 0
        ahead = threading.Semaphore(2 * BULK_SENDERS)  # chunks read but not yet sent: bounded memory
        stop = threading.Event()

        def jobs() -> Iterator[tuple[list[bytes], int, dict[str, str]]]:
            for i, chunk in enumerate(_raw_chunks(self.corpus.root / RECORDS, BULK_RECORDS)):
                ahead.acquire()
                if stop.is_set():
                    return
                yield chunk, i * BULK_RECORDS, self.index
        workers = max(1, min(BULK_WORKERS, os.cpu_count() or 1))
        with mp.get_context("fork").Pool(workers) as pool, ThreadPoolExecutor(BULK_SENDERS) as send:
            pending: deque = deque()
            try:
                for body, r, d, n in pool.imap(_bulk_chunk, jobs()):
                    sent += n
                    rids += r
                    dates += d
                    pending.append(send.submit(self._bulk, body))
                    while len(pending) > BULK_SENDERS:
                        pending.popleft().result()
                        ahead.release()
                    if progress:
                        progress(len(r))
                for f in pending:
                    f.result()
            finally:  # a failure: the reader must not wait for a permit that never comes
                stop.set()
                for _ in range(2 * BULK_SENDERS):
                    ahead.release()
        for name in self.index.values():
            self._call("restore settings", self.client.indices.put_settings, index=name, body=LOADED)
            self._call("refresh", self.client.indices.refresh, index=name)
        held = sum(int(self._call("count", self.client.count, index=name)["count"]) for name in self.index.values())
        if held != sent:  # a request retried after a lost answer indexes its documents twice
            raise BackendError(f"opensearch indexing: the indexes hold {held} documents, {sent} were sent; "
                               f"run again to rebuild them")
        for name in self.index.values():
            if replicas:
                self._replicas(name, replicas)
            self._call("mark complete", self.client.indices.put_mapping, index=name,
                       body={"_meta": {"corpus_checksum": self.corpus.checksum, "index_version": INDEX_VERSION,
                                       "complete": True}})
            self.read_only(name)
        self.shards = shards
        with atomic_dir(self._cache_dir()) as tmp:
            save_record_table(tmp, rids, dates)
            (tmp / "meta.json").write_text(json.dumps({"corpus_checksum": self.corpus.checksum}))

    def _bulk(self, body: bytes) -> None:
        """One bulk request; documents refused for load (429) are sent again, alone (documents
        have no _id, so resending one that was indexed would index it twice: the build counts
        them at the end), any other refusal is an error."""
        delay = 0.5
        for attempt in range(self.attempts):
            res = self._call("bulk index", self.client.bulk, body=body,
                             params={"filter_path": "errors,items.*.error,items.*.status"})
            if not res.get("errors"):
                return
            errors = [(i, v) for i, item in enumerate(res["items"]) for v in item.values() if "error" in v]
            if any(e.get("status") != 429 for _, e in errors) or attempt == self.attempts - 1:
                raise BackendError(f"opensearch bulk indexing failed: {errors[0][1]}")
            lines = body.split(b"\n")
            body = b"".join(lines[2 * i] + b"\n" + lines[2 * i + 1] + b"\n" for i, _ in errors)
            time.sleep(delay)
            delay *= 2

    def read_only(self, name: str) -> None:
        """A complete index is never written again (a rebuild deletes it first). Blocking writes
        says so, and lets an erasure clone it (a clone needs its source blocked) without ever
        changing it: an erasure killed mid-clone used to leave the shared index blocked."""
        self._call("block writes", self.client.indices.put_settings, index=name, body={"index.blocks.write": True})

    # ---- search

    def _ask(self, node: Scoped, within: np.ndarray | None = None, fields: tuple[str, ...] = ()) -> _Ask:
        kind, query, scored = scoped_query(node, within)
        geo = geo_of(node.clause) if isinstance(node, Scoped) else None
        return _Ask(kind, query, scored, (("lat_e6", "lon_e6") if geo is not None else ()) + fields, geo)

    def _body(self, ask: _Ask, size: int, after: list | None = None) -> tuple[dict, dict]:
        """An msearch header and body: ids only (doc_id, which holds the record number and is
        unique, as the sort value; no _source, no stored fields), exact totals."""
        # a shard copy lost mid-search (a node down) fails the search rather than dropping its hits
        header: dict = {"index": self.index[ask.kind], "preference": self.preference,
                        "allow_partial_search_results": False}
        if ask.scored and self.shards > 1:  # BM25 statistics of the whole index, not each shard's
            header["search_type"] = "dfs_query_then_fetch"
        # doc_id alone orders as record number then place in the record, and is one value less
        # per hit to sort, write and read than both
        sort = ([{"_score": "desc"}] if ask.scored else []) + [{"doc_id": "asc"}]
        body: dict = {"query": ask.query, "size": size, "sort": sort, "track_total_hits": True,
                      "_source": False, "stored_fields": "_none_"}
        if ask.fields:
            body["docvalue_fields"] = list(ask.fields)
        if after is not None:
            body["search_after"] = after
        return header, body

    def _msearch(self, pairs: list[tuple[dict, dict]]) -> list[_Page]:
        """Several searches in one request. A search that failed transiently fails the batch,
        which is retried whole; any other failure is an error naming it."""
        payload = b"".join(orjson.dumps(h) + b"\n" + orjson.dumps(b) + b"\n" for h, b in pairs)

        def send() -> list[dict]:
            res = self.client.msearch(body=payload, params={"filter_path": MSEARCH_FILTER})
            out = res.get("responses", [])
            if len(out) != len(pairs):
                raise BackendError(f"opensearch answered {len(out)} of {len(pairs)} searches")
            for r in out:
                if "error" in r:
                    raise TransportError(r.get("status", 500), str(r["error"].get("type", r["error"])), r["error"])
                if r.get("_shards", {}).get("failed"):  # partial: searched again, whole
                    raise TransportError(503, "shard failures", r["_shards"])
            return out
        return [_Page.read(r["hits"]) for r in self._call("search", send)]

    def _fetch(self, asks: list[_Ask], pages: list[_Page] | None = None) -> list[_Page]:
        """Every hit of each search, with exact totals: a first page of each in one request, then
        whatever is left of each in one more (search_after over a read-only index, pinned to the
        same shard copies by `preference`). Pages already fetched may be passed in."""
        if pages is None:
            pages = self._msearch([self._body(a, FIRST) for a in asks])
        more = [i for i, pg in enumerate(pages) if len(pg) < pg.total]
        if more:
            res = self._msearch([self._body(asks[i], pages[i].total - len(pages[i]), pages[i].after(asks[i].scored))
                                 for i in more])
            for i, r in zip(more, res):
                pages[i] = pages[i] + r
        for pg in pages:
            if len(pg) != pg.total:
                raise BackendError(f"opensearch returned {len(pg)} hits of {pg.total}")
        return pages

    def _to_hits(self, ask: _Ask, page: _Page) -> Hits:
        if not len(page):
            return Hits.empty()
        sorts = page.sorts  # [score,] doc_id
        rnums = sorts[:, 1 if ask.scored else 0].astype(np.int64) // DOCS_PER_RECORD
        scores = sorts[:, 0] if ask.scored else np.zeros(len(rnums))
        if ask.geo is not None:
            fields = page.fields or []
            lat = np.fromiter((f["lat_e6"][0] for f in fields), np.int64, len(fields))
            lon = np.fromiter((f["lon_e6"][0] for f in fields), np.int64, len(fields))
            keep = within_radius(lat, lon, ask.geo)
            rnums, scores = rnums[keep], scores[keep]
        return Hits.from_docs(rnums, scores, self.dates[rnums])

    def begin_need(self, plans: Iterable[Plan]) -> None:
        """The first page of every scoped clause the need's plans search, each searched once
        however many profiles ask it, all in one request; then the rest of those searched whole
        (not a part of an Intersect, which may be fetched within the records of its other parts)
        in one more. A failure here is left to the searches, which meet it and record it."""
        self.read = {}
        whole: dict[Scoped, bool] = {}
        for plan in plans:
            _leaves(plan.root, True, whole)
        if not whole:
            return
        nodes = list(whole)
        asks = [self._ask(n) for n in nodes]
        try:
            t = time.perf_counter()
            pages = self._msearch([self._body(a, FIRST) for a in asks])
            each = (time.perf_counter() - t) * 1000 / len(nodes)
            cost = dict.fromkeys(nodes, each)
            rest = [i for i, n in enumerate(nodes) if whole[n] and len(pages[i]) < pages[i].total]
            if rest:
                t = time.perf_counter()
                done = self._fetch([asks[i] for i in rest], [pages[i] for i in rest])
                each = (time.perf_counter() - t) * 1000 / len(rest)
                for i, pg in zip(rest, done):
                    pages[i] = pg
                    cost[nodes[i]] += each
        except PolebenchError:
            return
        self.read = {n: (pg, cost[n]) for n, pg in zip(nodes, pages)}

    def _first_pages(self, nodes: list[Scoped], asks: list[_Ask]) -> list[_Page]:
        """The first page of each (or more, where read already), borrowing what was read."""
        pages: list[_Page | None] = [None] * len(nodes)
        for i, n in enumerate(nodes):
            if n in self.read:
                pages[i], ms = self.read[n]
                self.borrowed_ms += ms
        ask = [i for i, pg in enumerate(pages) if pg is None]
        if ask:
            for i, pg in zip(ask, self._msearch([self._body(asks[i], FIRST) for i in ask])):
                pages[i] = pg
        return pages  # type: ignore[return-value]

    def _scoped_many(self, nodes: list[Scoped]) -> list[Hits]:
        asks = [self._ask(n) for n in nodes]
        t = time.perf_counter()
        pages = self._fetch(asks, self._first_pages(nodes, asks))
        if self.read:  # inside a need (begin_need): kept for its other searches
            each = (time.perf_counter() - t) * 1000 / len(nodes)
            for n, pg in zip(nodes, pages):
                self.read[n] = (pg, self.read.get(n, (pg, 0.0))[1] + each)
        return [self._to_hits(a, pg) for a, pg in zip(asks, pages)]

    def _scoped(self, node: Scoped) -> Hits:
        return self._scoped_many([node])[0]

    def _scoped_within(self, node: Scoped, within: np.ndarray) -> np.ndarray | None:
        """With an `rnum` filter: fetched whole and cut down, a date window or a sex matched
        millions of records at 10M, and saying why a profile missed took longer than the searches."""
        if len(within) > MAX_TERMS:
            return None
        if len(within) == 0:
            return np.empty(0, np.int64)
        ask = self._ask(node, within)
        (page,) = self._fetch([ask])
        return self._to_hits(ask, page).rnums

    def _parts(self, parts: tuple[Node, ...], intersect: bool) -> list[Hits]:
        """The scoped parts in one request (and one more for what is left of large ones). For an
        Intersect, a large part is fetched only within the records the complete parts share
        (an `rnum` filter, which leaves every score as it is): a date window over records,
        intersected with a person, is not fetched whole."""
        out: list[Hits | None] = [None if isinstance(p, Scoped) else self._execute(p) for p in parts]
        idx = [i for i, p in enumerate(parts) if isinstance(p, Scoped)]
        if not idx:
            return out  # type: ignore[return-value]
        if not intersect:
            for i, h in zip(idx, self._scoped_many([parts[i] for i in idx])):
                out[i] = h
            return out  # type: ignore[return-value]
        asks = [self._ask(parts[i]) for i in idx]
        pages = self._first_pages([parts[i] for i in idx], asks)  # type: ignore[misc]
        done = [k for k in range(len(idx)) if len(pages[k]) >= pages[k].total]
        if not done and all(h is None for h in out):  # all large: finish the smallest first
            k = min(range(len(idx)), key=lambda k: pages[k].total)
            pages[k] = self._fetch([asks[k]], [pages[k]])[0]
            done = [k]
        for k in done:
            out[idx[k]] = self._to_hits(asks[k], pages[k])
        left = [k for k in range(len(idx)) if k not in done]
        if not left:
            return out  # type: ignore[return-value]
        within = _common([h.rnums for h in out if h is not None])
        if len(within) == 0:
            for k in left:
                out[idx[k]] = Hits.empty()
        elif len(within) <= MAX_TERMS:
            narrowed = [self._ask(parts[idx[k]], within) for k in left]
            for k, a, pg in zip(left, narrowed, self._fetch(narrowed)):
                out[idx[k]] = self._to_hits(a, pg)
        else:
            for k, pg in zip(left, self._fetch([asks[k] for k in left], [pages[k] for k in left])):
                out[idx[k]] = self._to_hits(asks[k], pg)
        return out  # type: ignore[return-value]

    def _co_mentioned(self, rnums: np.ndarray, exclude: Scoped, field: str) -> set[str]:
        if len(rnums) == 0:
            return set()
        q = {"bool": {"filter": [{"term": {"scope": "person"}}, {"terms": {"rnum": [int(x) for x in rnums]}}],
                      "must_not": [dsl(exclude.clause)]}}
        (page,) = self._fetch([_Ask("mention", {"constant_score": {"filter": q}}, False, (field,), None)])
        out = set()
        for f in page.fields or ():
            out.update(v for v in f.get(field, ()) if v and not v.startswith("|"))
        return out


@dataclass(frozen=True)
class _Page:
    """The hits of one search as read so far: a row of sort values per hit ([score,] doc_id) and, where docvalue fields were asked for, each hit's fields; the search's total."""
    total: int
    sorts: np.ndarray
    fields: list[dict] | None

    @classmethod
    def read(cls, hits: dict) -> "_Page":
        """From an msearch answer's hits, as read_msearch or orjson left them."""
        total = hits["total"]["value"]
        if "sorts" in hits:
            return cls(total, hits["sorts"], None)
        listed = hits.get("hits", [])
        sorts = np.array([h["sort"] for h in listed], np.float64) if listed else np.empty((0, 0))
        fields = [h.get("fields", {}) for h in listed] if any("fields" in h for h in listed) else None
        return cls(total, sorts, fields)

    def __len__(self) -> int:
        return len(self.sorts)

    def __add__(self, more: "_Page") -> "_Page":
        if not len(more):
            return self
        fields = None if self.fields is None and more.fields is None else (self.fields or []) + (more.fields or [])
        return _Page(self.total, np.concatenate([self.sorts, more.sorts]) if len(self) else more.sorts, fields)

    def after(self, scored: bool) -> list:
        """search_after from the last hit: the score as read, doc_id as an integer."""
        last = self.sorts[-1]
        return [float(last[0]), *map(int, last[1:])] if scored else [int(x) for x in last]


@dataclass(frozen=True)
class _Ask:
    """One search as sent: which index, the query, whether it scores, docvalue fields to read,
    and the radius a geo part's hits are tested against afterwards."""
    kind: str
    query: dict
    scored: bool
    fields: tuple[str, ...]
    geo: GeoRadius | None


def _leaves(node: Node | None, whole: bool, out: dict[Scoped, bool]) -> None:
    """The scoped clauses a plan's first formulation searches before any depends on another's
    hits (a Linked's seed, not its hops; not a narrower formulation, searched only if needed),
    each marked True where some plan fetches it whole rather than as a part of an Intersect."""
    if isinstance(node, Scoped):
        out[node] = out.get(node, False) or whole
    elif isinstance(node, (Intersect, Union_)):
        for p in node.parts:
            _leaves(p, isinstance(node, Union_) or not isinstance(p, Scoped), out)
    elif isinstance(node, Linked):
        _leaves(node.seed, True, out)
    elif isinstance(node, Sequence):
        for sub in node.plans:
            _leaves(sub.root, True, out)


def _common(sets: list[np.ndarray]) -> np.ndarray:
    out = sets[0]
    for r in sets[1:]:
        out = np.intersect1d(out, r, assume_unique=True)
    return out
