"""The default backend: tantivy, in process, no server. Three indexes per corpus under
<corpus>/index/: `record` (one document per record: free text, offence, dates), `person` (one
document per person as written) and `object` (vehicles, phones and places as written). BM25
statistics of the free text are therefore over records only; the people and the rest are apart
so that the two cores can write them in parallel. Reused while the corpus checksum matches."""

from __future__ import annotations

import json
import multiprocessing as mp
import shutil
import time
from operator import itemgetter
from pathlib import Path
from typing import Callable, Iterable, Sequence

import numpy as np
import tantivy
from orjson import dumps

from bench import fields as F
from bench.backends.base import (Backend, Hits, bounding_box, load_record_table, save_record_table,
                                 within_radius)
from bench.corpus.store import Corpus, atomic_dir
from bench.errors import BackendError
from bench.backends.resolver import index as resolver_index
from bench.backends.resolver import match as resolver_match
from bench.plans import (All, Any, Clause, Fuzzy, GeoRadius, Plan, Range, Regex, Resolve, Scoped, Term, Terms,
                         Text, geo_of, has_text, nodes_of)

INDEX_VERSION = 4  # bump when the index layout changes: old indexes are then rebuilt


def _schema(names: list[str]) -> tantivy.Schema:
    b = tantivy.SchemaBuilder()
    for name in names:
        kind = F.FIELDS[name]
        if kind == "int":
            b.add_integer_field(name, stored=False, indexed=True, fast=True)
        elif kind == "keyword":
            b.add_text_field(name, stored=(name == "person_key"), tokenizer_name="raw")
        else:
            b.add_text_field(name, stored=False, tokenizer_name="default")
    return b.build()


_first, _second = itemgetter(0), itemgetter(1)  # C-level accessors: hit lists run to 100k+
KINDS = {"record": F.RECORD_NAMES, "person": F.MENTION_NAMES, "object": F.MENTION_NAMES}


def kind_of(scope: str) -> str:
    return scope if scope in ("record", "person") else "object"


def docs_for_kind(rec: dict, rnum: int, kind: str) -> list[dict]:
    if kind == "record":
        return [F.record_doc(rec, rnum)]
    return F.person_docs(rec, rnum) if kind == "person" else F.object_docs(rec, rnum)


class EmbeddedBackend(Backend):
    NAME = "embedded"
    SUPPORTS = frozenset({"Scoped", "Intersect", "Union_", "Linked", "Sequence", "Term", "Terms",
                          "Fuzzy", "Regex", "Range", "GeoRadius", "Text", "All", "Any", "Resolve"})
    _resolvers: dict
    _live: np.ndarray | None = None  # records not erased, where an erasure deleted some

    def _index_dir(self) -> Path:
        if self.options.get("index_dir"):  # a working copy (erasure never touches the shared index)
            return Path(str(self.options["index_dir"]))
        return self.corpus.root / "index" / f"embedded-v{INDEX_VERSION}"

    def reopen(self) -> None:
        for ix in self.indexes.values():
            ix.reload()
        self.searchers = {k: ix.searcher() for k, ix in self.indexes.items()}
        # The resolver's cache is read-only and shared: after an erasure, what it may still
        # return is what the record index still holds.
        s = self.searchers["record"]
        hits = self._hits(s, tantivy.Query.all_query(), order_by_field="rnum")
        self._live = np.zeros(len(self.rids), bool)
        self._live[np.fromiter(map(_first, hits), np.int64, len(hits))] = True

    def _resolver(self, node: Resolve):
        """The resolver's cache for the node's n-gram range: beside the shared index (never in an
        erasure's working copy), built on first use and reused while the corpus checksum matches."""
        key = (int(dict(node.rules)["ngram_min"]), int(dict(node.rules)["ngram_max"]))
        if key not in self._resolvers:
            d = self.corpus.root / "index" / f"resolver-v{resolver_index.RESOLVE_VERSION}-ng{key[0]}-{key[1]}"
            for attempt in range(3):  # sweep cells may build the same cache at once: the last one stays
                if not resolver_index.is_fresh(d, self.corpus.checksum):
                    resolver_index.build(self.corpus.root, d, key)
                try:
                    self._resolvers[key] = resolver_index.load(d)
                    break
                except FileNotFoundError:  # replaced by another builder between the check and the read
                    if attempt == 2:
                        raise
        return self._resolvers[key]

    def _ahead(self, plans: Iterable[Plan]) -> None:
        for plan in plans:
            step = plan
            while step is not None and step.root is not None:
                for node in nodes_of(step.root, Resolve):
                    self._resolver(node)
                step = step.narrower

    def _resolve(self, node: Resolve) -> Hits:
        rnums, scores, groups = resolver_match.resolve(self._resolver(node), node)
        if self._live is not None:
            keep = self._live[rnums]
            rnums, scores, groups = rnums[keep], scores[keep], groups[keep]
        return Hits(rnums, scores, self.dates[rnums], groups)

    def rewrite_without(self, rnums: set[int]) -> None:
        """Purge: write every index afresh from the corpus, leaving out these records, so that no
        segment holds them (tantivy-py has no force-merge that would expunge deletes)."""
        d = self._index_dir()
        for kind in KINDS:
            shutil.rmtree(d / kind)
        _build_part(self.corpus.root, tuple(KINDS), str(d), None, skip=rnums)
        self.indexes = {k: tantivy.Index(self.schemas[k], path=str(d / k)) for k in self.schemas}
        self.reopen()

    def _prepare(self, progress: Callable[[int], None] | None) -> Sequence[str] | np.ndarray:
        d = self._index_dir()
        meta = d / "meta.json"
        fresh = meta.is_file() and json.loads(meta.read_text()).get("corpus_checksum") == self.corpus.checksum
        if not fresh:  # missing or stale: rebuild, never use silently
            self._build(d, progress)
        self.schemas = {k: _schema(names) for k, names in KINDS.items()}
        self.indexes = {k: tantivy.Index(self.schemas[k], path=str(d / k)) for k in self.schemas}
        self.searchers = {k: ix.searcher() for k, ix in self.indexes.items()}
        rids, self.dates = load_record_table(d)
        self._resolvers = {}
        return rids

    def _build(self, d: Path, progress: Callable[[int], None] | None) -> None:
        """The three indexes are written by two processes in parallel (record and object, and
        person: about the same work each); they share nothing."""
        with atomic_dir(d) as tmp:
            ctx = mp.get_context("fork")
            done = ctx.Value("q", 0)
            procs = [ctx.Process(target=_build_part, args=(self.corpus.root, kinds, str(tmp), done))
                     for kinds in (("record", "object"), ("person",))]
            for p in procs:
                p.start()
            seen = 0
            while any(p.is_alive() for p in procs):
                time.sleep(0.2)
                if progress and done.value > seen:
                    progress(done.value - seen)
                    seen = done.value
            for p in procs:
                p.join()
                if p.exitcode:
                    raise BackendError(f"embedded: building the index failed (exit code {p.exitcode})")
            (tmp / "meta.json").write_text(json.dumps(
                {"corpus_checksum": self.corpus.checksum, "index_version": INDEX_VERSION,
                 "records": len(load_record_table(tmp)[0])}))

    # ---- clauses to tantivy queries

    def _q(self, kind: str, c: Clause) -> tantivy.Query:
        schema = self.schemas[kind]
        if isinstance(c, Term):
            return tantivy.Query.term_query(schema, c.field, c.value)
        if isinstance(c, Terms):
            return tantivy.Query.term_set_query(schema, c.field, list(c.values))
        if isinstance(c, Fuzzy):
            return tantivy.Query.fuzzy_term_query(schema, c.field, c.value, c.distance, True, False)
        if isinstance(c, Regex):
            return tantivy.Query.regex_query(schema, c.field, c.pattern)
        if isinstance(c, Range):
            return tantivy.Query.range_query(schema, c.field, tantivy.FieldType.Integer, c.lo, c.hi)
        if isinstance(c, GeoRadius):
            la0, la1, lo0, lo1 = bounding_box(c)
            return tantivy.Query.boolean_query([
                (tantivy.Occur.Must, tantivy.Query.range_query(schema, "lat_e6", tantivy.FieldType.Integer, la0, la1)),
                (tantivy.Occur.Must, tantivy.Query.range_query(schema, "lon_e6", tantivy.FieldType.Integer, lo0, lo1))])
        if isinstance(c, Text):
            words = F.query_words(c.text)
            if not words:
                return tantivy.Query.empty_query()
            occur = tantivy.Occur.Must if c.operator == "and" else tantivy.Occur.Should
            return tantivy.Query.boolean_query([(occur, tantivy.Query.term_query(schema, c.field, w)) for w in words])
        if isinstance(c, All):
            return tantivy.Query.boolean_query([(tantivy.Occur.Must, self._q(kind, x)) for x in c.clauses])
        if isinstance(c, Any):
            return tantivy.Query.boolean_query([(tantivy.Occur.Should, self._q(kind, x)) for x in c.clauses])
        raise BackendError(f"embedded: unsupported clause {type(c).__name__}")

    def _query(self, node: Scoped) -> tuple[str, tantivy.Query]:
        if node.scope == "record":
            return "record", self._q("record", node.clause)
        kind = kind_of(node.scope)
        scope = tantivy.Query.term_query(self.schemas[kind], "scope", node.scope)
        return kind, tantivy.Query.boolean_query([
            (tantivy.Occur.Must, tantivy.Query.const_score_query(scope, 0.0)),
            (tantivy.Occur.Must, self._q(kind, node.clause))])

    def _hits(self, s: tantivy.Searcher, query: tantivy.Query, **kw) -> list:
        return s.search(query, limit=max(1, s.num_docs), count=False, **kw).hits

    def _scoped_within(self, node: Scoped, within: np.ndarray) -> np.ndarray | None:
        return self._scoped(node, within).rnums

    def _scoped(self, node: Scoped, within: np.ndarray | None = None) -> Hits:
        kind, query = self._query(node)
        if within is not None:  # only these records: a criterion alone can match half the corpus (sex)
            only = tantivy.Query.term_set_query(self.schemas[kind], "rnum", [int(r) for r in within])
            query = tantivy.Query.boolean_query([(tantivy.Occur.Must, query),
                                                 (tantivy.Occur.Must, tantivy.Query.const_score_query(only, 0.0))])
        s = self.searchers[kind]
        geo = geo_of(node.clause)
        if geo is None and not has_text(node.clause):
            # Unscored: let tantivy hand back record numbers directly (no score, no doc fetch).
            hits = self._hits(s, query, order_by_field="rnum")
            # ordered by rnum (descending): reverse, and drop repeats next to each other
            rnums = np.fromiter(map(_first, hits), np.int64, len(hits))[::-1]
            if len(rnums) > 1:
                rnums = rnums[np.concatenate(([True], rnums[1:] != rnums[:-1]))]
            return Hits(rnums, np.zeros(len(rnums)), self.dates[rnums])
        hits = self._hits(s, query)
        if not hits:
            return Hits.empty()
        addrs = list(map(_second, hits))
        scores = np.fromiter(map(_first, hits), np.float64, len(hits))
        rnums = np.asarray(s.fast_field_values("rnum", addrs), np.int64)
        if geo is not None:
            keep = within_radius(np.asarray(s.fast_field_values("lat_e6", addrs)),
                                 np.asarray(s.fast_field_values("lon_e6", addrs)), geo)
            rnums, scores = rnums[keep], scores[keep]
        if kind == "record":  # one document per record: nothing to fold
            return Hits(rnums, scores, self.dates[rnums])
        return Hits.from_docs(rnums, scores, self.dates[rnums])

    def _co_mentioned(self, rnums: np.ndarray, exclude: Scoped, field: str) -> set[str]:
        if len(rnums) == 0:
            return set()
        schema = self.schemas["person"]
        q = tantivy.Query.boolean_query([
            (tantivy.Occur.Must, tantivy.Query.term_query(schema, "scope", "person")),
            (tantivy.Occur.Must, tantivy.Query.term_set_query(schema, "rnum", [int(x) for x in rnums])),
            (tantivy.Occur.MustNot, self._q("person", exclude.clause))])
        s = self.searchers["person"]
        out = set()
        for _, addr in self._hits(s, q):
            out.update(v for v in s.doc(addr).get_all(field) if v and not v.startswith("|"))
        return out


def _build_part(corpus_root: Path, kinds: tuple[str, ...], out: str, done, skip: frozenset | set = frozenset()) -> None:
    """Write some of the indexes (in their own process when building). The one writing `record`
    also writes the record ids and dates, and counts progress in `done` if given. Records in
    `skip` keep their number and id but get no documents (a purge)."""
    corpus = Corpus(corpus_root)
    tmp = Path(out)
    writers = {}
    for kind in kinds:
        (tmp / kind).mkdir()
        ix = tantivy.Index(_schema(KINDS[kind]), path=str(tmp / kind))
        writers[kind] = (ix.writer(heap_size=200_000_000, num_threads=1), ix.schema)
    rids, dates = [], []
    for rnum, rec in enumerate(corpus.records()):
        if rnum not in skip:
            for kind, (w, _) in writers.items():
                for doc in docs_for_kind(rec, rnum, kind):
                    # as JSON text, which tantivy parses itself: building a tantivy.Document
                    # from a dict field by field took a third of the Python time of a build
                    w.add_json(dumps(doc).decode())
        if "record" in writers:
            rids.append(rec["rid"])
            dates.append(F.days(rec["date"]))
            if done is not None and rnum % 10_000 == 9_999:
                with done.get_lock():
                    done.value += 10_000
    for w, _ in writers.values():
        w.commit()
        w.wait_merging_threads()
    if "record" in writers:
        save_record_table(tmp, rids, dates)
