"""OpenSearch backend (opensearch-py). Same field model as the embedded backend: two indexes per
corpus checksum (records, mentions), keyword/long/text fields from bench.fields, words split the
way tantivy's default tokenizer splits them. All hits are read with exact totals through a point
in time and search_after, never from/size. Transient errors are retried with backoff."""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import numpy as np
import orjson
from opensearchpy import JSONSerializer, OpenSearch, helpers
from opensearchpy.exceptions import ConnectionError as OSConnectionError
from opensearchpy.exceptions import NotFoundError, TransportError

from bench import fields as F
from bench.backends.base import (Backend, Hits, bounding_box, load_record_table, save_record_table,
                                 within_radius)
from bench.corpus.store import atomic_dir
from bench.errors import BackendError, Unreachable
from bench.redact import check_engine_url
from bench.plans import (All, Any, Clause, Fuzzy, GeoRadius, Node, Range, Regex, Scoped, Term, Terms,
                         Text, geo_of, has_text)

INDEX_VERSION = 3
# Hits asked for in a search's first request; what is left of a larger result comes in one more.
FIRST = 2_000
# A candidate set up to OpenSearch's default index.max_terms_count is pushed down as a filter.
MAX_TERMS = 65_536
# index.max_result_window: the second request asks for all that is left at once (search_after;
# the window bounds its size, and OpenSearch sizes its queue by the hits that exist, not this).
MAX_WINDOW = 100_000_000
MSEARCH_FILTER = ("responses.hits.total.value,responses.hits.hits.sort,responses.hits.hits.fields,"
                  "responses.error,responses.status")
ANALYSIS = {"analyzer": {"polebench_words": {"type": "custom", "tokenizer": "polebench_alnum",
                                             "filter": ["lowercase"]}},
            "tokenizer": {"polebench_alnum": {"type": "pattern", "pattern": "[^A-Za-z0-9]+"}}}
TRANSIENT = (429, 502, 503, 504)


class _Json(JSONSerializer):
    """orjson both ways: a search can answer with a hundred thousand hits."""

    def loads(self, s):
        return orjson.loads(s)

    def dumps(self, data):
        if isinstance(data, (str, bytes)):
            return data
        return orjson.dumps(data, default=self.default).decode()


def mapping(names: list[str], checksum: str) -> dict:
    props: dict[str, dict] = {"doc_id": {"type": "long"}}
    for n in names:
        kind = F.FIELDS[n]
        props[n] = ({"type": "long"} if kind == "int" else {"type": "keyword"} if kind == "keyword"
                    else {"type": "text", "analyzer": "polebench_words"})
    return {"settings": {"number_of_shards": 1, "number_of_replicas": 0, "analysis": ANALYSIS,
                         "max_result_window": MAX_WINDOW},
            "mappings": {"dynamic": "strict", "_meta": {"corpus_checksum": checksum, "index_version": INDEX_VERSION},
                         "properties": props}}


def bulk_actions(records: Iterator[dict], index: dict[str, str]) -> Iterator[dict]:
    """One action per indexed document: the record document first, then its mentions."""
    doc_id = 0
    for rnum, rec in enumerate(records):
        docs = F.docs_for_record(rec, rnum)
        for i, d in enumerate(docs):
            yield {"_op_type": "index", "_index": index["record" if i == 0 else "mention"],
                   "_id": str(doc_id), "_source": {**d, "doc_id": doc_id}}
            doc_id += 1


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
        self.url = check_engine_url(str(options.get("url") or os.environ.get("POLEBENCH_OPENSEARCH_URL")
                                        or "http://127.0.0.1:9200"), "--opensearch-url or POLEBENCH_OPENSEARCH_URL")
        auth = None
        if os.environ.get("POLEBENCH_OPENSEARCH_USER"):
            auth = (os.environ["POLEBENCH_OPENSEARCH_USER"], os.environ.get("POLEBENCH_OPENSEARCH_PASSWORD", ""))
        ca = os.environ.get("POLEBENCH_OPENSEARCH_CA")
        self.client = OpenSearch(
            hosts=[self.url], http_auth=auth, ca_certs=ca, verify_certs=bool(ca) or self.url.startswith("https"),
            max_retries=int(options.get("max_retries", 3)), retry_on_timeout=True,
            retry_on_status=TRANSIENT, timeout=int(options.get("timeout", 60)), serializer=_Json())
        self.attempts = int(options.get("retries", 4))
        stem = f"polebench-{corpus.name}-{corpus.checksum[:12]}-v{INDEX_VERSION}"
        suffix = str(options.get("index_suffix") or "")  # a working copy, e.g. for erasure
        self.index = {"record": f"{stem}-records{suffix}", "mention": f"{stem}-mentions{suffix}"}
        self.shards = 1
        # The two requests of one search go to the same shard copies (any copy gives the same hits).
        self.preference = f"polebench-{os.getpid()}"

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
        return (self._cache_dir() / "meta.json").is_file() and json.loads(
            (self._cache_dir() / "meta.json").read_text()).get("corpus_checksum") == self.corpus.checksum

    def _prepare(self, progress: Callable[[int], None] | None) -> list[str]:
        if not self._fresh():
            self._build(progress)
        rids, self.dates = load_record_table(self._cache_dir())
        return rids

    def _build(self, progress: Callable[[int], None] | None) -> None:
        for kind, names in (("record", ["scope"] + F.RECORD_NAMES), ("mention", F.MENTION_NAMES)):
            self._call("delete stale index", self.client.indices.delete, index=self.index[kind], ignore_unavailable=True)
            self._call("create index", self.client.indices.create, index=self.index[kind],
                       body=mapping(names, self.corpus.checksum))
        rids, dates = [], []

        def records():
            for i, rec in enumerate(self.corpus.records()):
                rids.append(rec["rid"])
                dates.append(F.days(rec["date"]))
                if progress and i % 10_000 == 9_999:
                    progress(10_000)
                yield rec
        for ok, item in helpers.streaming_bulk(self.client, bulk_actions(records(), self.index), chunk_size=2000,
                                               max_retries=5, initial_backoff=1, raise_on_error=False):
            if not ok:
                raise BackendError(f"opensearch bulk indexing failed: {item}")
        for name in self.index.values():
            self._call("refresh", self.client.indices.refresh, index=name)
            self._call("mark complete", self.client.indices.put_mapping, index=name,
                       body={"_meta": {"corpus_checksum": self.corpus.checksum, "index_version": INDEX_VERSION,
                                       "complete": True}})
            self.read_only(name)
        with atomic_dir(self._cache_dir()) as tmp:
            save_record_table(tmp, rids, dates)
            (tmp / "meta.json").write_text(json.dumps({"corpus_checksum": self.corpus.checksum}))

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
        """An msearch header and body: ids only (record number and a unique tiebreak as sort
        values, no _source, no stored fields), exact totals."""
        header: dict = {"index": self.index[ask.kind], "preference": self.preference}
        if ask.scored and self.shards > 1:  # BM25 statistics of the whole index, not each shard's
            header["search_type"] = "dfs_query_then_fetch"
        sort = ([{"_score": "desc"}] if ask.scored else []) + [{"rnum": "asc"}, {"doc_id": "asc"}]
        body: dict = {"query": ask.query, "size": size, "sort": sort, "track_total_hits": True,
                      "_source": False, "stored_fields": "_none_"}
        if ask.fields:
            body["docvalue_fields"] = list(ask.fields)
        if after is not None:
            body["search_after"] = after
        return header, body

    def _msearch(self, pairs: list[tuple[dict, dict]]) -> list[dict]:
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
            return out
        return self._call("search", send)

    def _fetch(self, asks: list[_Ask], pages: list[list[dict]] | None = None,
               totals: list[int] | None = None) -> tuple[list[list[dict]], list[int]]:
        """Every hit of each search, with exact totals: a first page of each in one request, then
        whatever is left of each in one more (search_after over a read-only index, pinned to the
        same shard copies by `preference`). Pages already fetched may be passed in."""
        if pages is None or totals is None:
            res = self._msearch([self._body(a, FIRST) for a in asks])
            pages = [r["hits"].get("hits", []) for r in res]
            totals = [r["hits"]["total"]["value"] for r in res]
        more = [i for i, (pg, t) in enumerate(zip(pages, totals)) if len(pg) < t]
        if more:
            res = self._msearch([self._body(asks[i], totals[i] - len(pages[i]), pages[i][-1]["sort"]) for i in more])
            for i, r in zip(more, res):
                pages[i] = pages[i] + r["hits"].get("hits", [])
        for pg, t in zip(pages, totals):
            if len(pg) != t:
                raise BackendError(f"opensearch returned {len(pg)} hits of {t}")
        return pages, totals

    def _to_hits(self, ask: _Ask, hits: list[dict]) -> Hits:
        if not hits:
            return Hits.empty()
        sorts = np.array([h["sort"] for h in hits], np.float64)  # [score,] rnum, doc_id
        rnums = sorts[:, 1 if ask.scored else 0].astype(np.int64)
        scores = sorts[:, 0] if ask.scored else np.zeros(len(hits))
        if ask.geo is not None:
            lat = np.fromiter((h["fields"]["lat_e6"][0] for h in hits), np.int64, len(hits))
            lon = np.fromiter((h["fields"]["lon_e6"][0] for h in hits), np.int64, len(hits))
            keep = within_radius(lat, lon, ask.geo)
            rnums, scores = rnums[keep], scores[keep]
        return Hits.from_docs(rnums, scores, self.dates[rnums])

    def _scoped_many(self, nodes: list[Scoped]) -> list[Hits]:
        asks = [self._ask(n) for n in nodes]
        pages, _ = self._fetch(asks)
        return [self._to_hits(a, pg) for a, pg in zip(asks, pages)]

    def _scoped(self, node: Scoped) -> Hits:
        return self._scoped_many([node])[0]

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
        res = self._msearch([self._body(a, FIRST) for a in asks])
        pages = [r["hits"].get("hits", []) for r in res]
        totals = [r["hits"]["total"]["value"] for r in res]
        done = [k for k in range(len(idx)) if len(pages[k]) >= totals[k]]
        if not done and all(h is None for h in out):  # all large: finish the smallest first
            k = min(range(len(idx)), key=totals.__getitem__)
            pg, _ = self._fetch([asks[k]], [pages[k]], [totals[k]])
            pages[k] = pg[0]
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
            pg, _ = self._fetch(narrowed)
            for k, a, hits in zip(left, narrowed, pg):
                out[idx[k]] = self._to_hits(a, hits)
        else:
            pg, _ = self._fetch([asks[k] for k in left], [pages[k] for k in left], [totals[k] for k in left])
            for k, hits in zip(left, pg):
                out[idx[k]] = self._to_hits(asks[k], hits)
        return out  # type: ignore[return-value]

    def _co_mentioned(self, rnums: np.ndarray, exclude: Scoped, field: str) -> set[str]:
        if len(rnums) == 0:
            return set()
        q = {"bool": {"filter": [{"term": {"scope": "person"}}, {"terms": {"rnum": [int(x) for x in rnums]}}],
                      "must_not": [dsl(exclude.clause)]}}
        (hits,), _ = self._fetch([_Ask("mention", {"constant_score": {"filter": q}}, False, (field,), None)])
        out = set()
        for h in hits:
            out.update(v for v in h.get("fields", {}).get(field, ()) if v and not v.startswith("|"))
        return out


@dataclass(frozen=True)
class _Ask:
    """One search as sent: which index, the query, whether it scores, docvalue fields to read,
    and the radius a geo part's hits are tested against afterwards."""
    kind: str
    query: dict
    scored: bool
    fields: tuple[str, ...]
    geo: GeoRadius | None


def _common(sets: list[np.ndarray]) -> np.ndarray:
    out = sets[0]
    for r in sets[1:]:
        out = np.intersect1d(out, r, assume_unique=True)
    return out
