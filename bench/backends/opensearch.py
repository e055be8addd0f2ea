"""OpenSearch backend (opensearch-py). Same field model as the embedded backend: two indexes per
corpus checksum (records, mentions), keyword/long/text fields from bench.fields, words split the
way tantivy's default tokenizer splits them. All hits are read with exact totals through a point
in time and search_after, never from/size. Transient errors are retried with backoff."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Callable, Iterator

import numpy as np
from opensearchpy import OpenSearch, helpers
from opensearchpy.exceptions import ConnectionError as OSConnectionError
from opensearchpy.exceptions import NotFoundError, TransportError

from bench import fields as F
from bench.backends.base import (Backend, Hits, bounding_box, load_record_table, save_record_table,
                                 within_radius)
from bench.corpus.store import atomic_dir
from bench.errors import BackendError, Unreachable
from bench.redact import check_engine_url
from bench.plans import (All, Any, Clause, Fuzzy, GeoRadius, Range, Regex, Scoped, Term, Terms,
                         Text, geo_of, has_text)

INDEX_VERSION = 2
PAGE = 10_000
ANALYSIS = {"analyzer": {"polebench_words": {"type": "custom", "tokenizer": "polebench_alnum",
                                             "filter": ["lowercase"]}},
            "tokenizer": {"polebench_alnum": {"type": "pattern", "pattern": "[^A-Za-z0-9]+"}}}
TRANSIENT = (429, 502, 503, 504)


def mapping(names: list[str], checksum: str) -> dict:
    props: dict[str, dict] = {"doc_id": {"type": "long"}}
    for n in names:
        kind = F.FIELDS[n]
        props[n] = ({"type": "long"} if kind == "int" else {"type": "keyword"} if kind == "keyword"
                    else {"type": "text", "analyzer": "polebench_words"})
    return {"settings": {"number_of_shards": 1, "number_of_replicas": 0, "analysis": ANALYSIS},
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
        return {"fuzzy": {c.field: {"value": c.value, "fuzziness": c.distance, "transpositions": True,
                                    "prefix_length": 0}}}
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


def scoped_query(node: Scoped) -> tuple[str, dict, bool]:
    """(index kind, query, scored?) for one scoped node."""
    scored = has_text(node.clause)
    q = dsl(node.clause)
    if node.scope == "record":
        return "record", (q if scored else {"constant_score": {"filter": q}}), scored
    scope = {"term": {"scope": node.scope}}
    if scored:
        return "mention", {"bool": {"filter": [scope], "must": [q]}}, True
    return "mention", {"constant_score": {"filter": {"bool": {"filter": [scope, q]}}}}, False


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
            retry_on_status=TRANSIENT, timeout=int(options.get("timeout", 60)))
        self.attempts = int(options.get("retries", 4))
        stem = f"polebench-{corpus.name}-{corpus.checksum[:12]}-v{INDEX_VERSION}"
        suffix = str(options.get("index_suffix") or "")  # a working copy, e.g. for erasure
        self.index = {"record": f"{stem}-records{suffix}", "mention": f"{stem}-mentions{suffix}"}

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

    def _all_hits(self, kind: str, query: dict, scored: bool, fields: list[str]) -> list[dict]:
        """Every hit, with exact totals, through a point in time and search_after."""
        pit = self._call("create point in time", self.client.create_pit, index=self.index[kind],
                         params={"keep_alive": "2m"})["pit_id"]
        try:
            sort = ([{"_score": "desc"}] if scored else []) + [{"doc_id": "asc"}]
            body: dict = {"query": query, "size": PAGE, "sort": sort, "_source": False,
                          "docvalue_fields": fields, "track_total_hits": True, "pit": {"id": pit, "keep_alive": "2m"}}
            out: list[dict] = []
            while True:
                res = self._call("search", self.client.search, body=body)
                hits = res["hits"]["hits"]
                out += hits
                if len(hits) < PAGE:
                    total = res["hits"]["total"]["value"]
                    if total != len(out):
                        raise BackendError(f"opensearch returned {len(out)} hits of {total}")
                    return out
                body["search_after"] = hits[-1]["sort"]
        finally:
            try:
                self.client.delete_pit(body={"pit_id": [pit]})
            except Exception:  # the PIT expires by itself
                pass

    def _scoped(self, node: Scoped) -> Hits:
        kind, query, scored = scoped_query(node)
        geo = geo_of(node.clause)
        fields = ["rnum"] + (["lat_e6", "lon_e6"] if geo is not None else [])
        hits = self._all_hits(kind, query, scored, fields)
        if not hits:
            return Hits.empty()
        rnums = np.fromiter((h["fields"]["rnum"][0] for h in hits), np.int64, len(hits))
        scores = np.fromiter(((h["_score"] or 0.0) if scored else 0.0 for h in hits), np.float64, len(hits))
        if geo is not None:
            lat = np.fromiter((h["fields"]["lat_e6"][0] for h in hits), np.int64, len(hits))
            lon = np.fromiter((h["fields"]["lon_e6"][0] for h in hits), np.int64, len(hits))
            keep = within_radius(lat, lon, geo)
            rnums, scores = rnums[keep], scores[keep]
        return Hits.from_docs(rnums, scores, self.dates[rnums])

    def _co_mentioned(self, rnums: np.ndarray, exclude: Scoped, field: str) -> set[str]:
        if len(rnums) == 0:
            return set()
        q = {"bool": {"filter": [{"term": {"scope": "person"}}, {"terms": {"rnum": [int(x) for x in rnums]}}],
                      "must_not": [dsl(exclude.clause)]}}
        hits = self._all_hits("mention", {"constant_score": {"filter": q}}, False, [field])
        out = set()
        for h in hits:
            out.update(v for v in h.get("fields", {}).get(field, ()) if v and not v.startswith("|"))
        return out
