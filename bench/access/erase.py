"""Verified erasure on a real engine. On a *copy* of the embedded (tantivy) index: find the
subject's records with the profile's own SAR search, delete them the way the profile's system
does (`hide`: tombstones, content kept in the segments; `purge`: the segments rewritten without
them), then check independently, from truth, (a) which of the subject's records any profile can
still find, (b) which its SAR search missed and so were never erased, and (c) whether the erased
records are still physically in the index (tantivy's doc_freq counts deleted-but-unmerged
documents)."""

from __future__ import annotations

import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path


from bench.backends.embedded import EmbeddedBackend
from bench.corpus.store import Corpus
from bench.errors import PolebenchError
from bench.profiles.compile import compile_need
from bench.profiles.model import ProfileSet
from bench.queries.instantiate import Instantiated


@dataclass
class ErasureReport:
    subject: str
    profile: str
    deletion: str
    records_about_subject: int
    erased: list[str]
    never_erased: list[str]                      # (b) missed by the SAR search, so never erased
    still_findable: dict[str, list[str]]         # (a) per profile, after the deletion
    present_before: int                          # (c) erased records physically in the index
    present_after: int
    steps: list[str] = field(default_factory=list)

    @property
    def verdict(self) -> str:
        if self.present_after:
            return "hidden, not deleted: the erased records are still in the index files"
        if self.never_erased or any(self.still_findable.values()):
            return "purged what was found, but the subject's data is not all gone"
        return "purged: every record about the subject is gone from search and from storage"


PURGE_WAIT_S = 120.0


def _present(backend: EmbeddedBackend, rnums: list[int]) -> int:
    s = backend.indexes["record"].searcher()
    return sum(1 for r in rnums if s.doc_freq("rnum", r) > 0)


def erase(corpus: Corpus, inst: Instantiated, profile_name: str, profiles: ProfileSet,
          work: Path | None = None, backend: str = "embedded", url: str | None = None) -> ErasureReport:
    """inst holds one SAR need for the subject (from bench.access.sar.sar_instance)."""
    if backend == "opensearch":
        return erase_opensearch(corpus, inst, profile_name, profiles, url)
    profile = profiles[profile_name]
    if profile.deletion is None:
        raise PolebenchError(f"profile {profile_name!r} declares no deletion rule (deletion: purge | hide)")
    need = inst.needs[0]
    truth_rids = set(inst.qrels[need.id])
    shared = EmbeddedBackend(corpus)
    shared.prepare()
    work = work or Path(tempfile.mkdtemp(prefix="polebench-erase-"))
    copy = work / "index"
    shutil.copytree(shared._index_dir(), copy)  # never the shared index in place
    b = EmbeddedBackend(corpus, index_dir=copy)
    b.prepare()
    rep = ErasureReport(need.targets[0], profile_name, profile.deletion, len(truth_rids), [], [], {}, 0, 0)
    found = b.search(compile_need(need, profile, profiles)).rids
    rep.erased = [r for r in found if r in truth_rids]
    rep.steps.append(f"{profile_name} SAR search returned {len(found)} records, {len(rep.erased)} about the subject")
    index_of = {rid: i for i, rid in enumerate(b.rids.tolist())}
    rnums = [index_of[r] for r in rep.erased]
    rep.present_before = _present(b, rnums)
    for kind in b.indexes:
        w = b.indexes[kind].writer(heap_size=50_000_000, num_threads=1)
        for r in rnums:
            w.delete_documents_by_term("rnum", r)
        w.commit()
        w.wait_merging_threads()
    rep.steps.append(f"deleted {len(rnums)} records (tombstones committed)")
    if profile.deletion == "purge":
        b.rewrite_without(set(rnums))
        rep.steps.append("segments rewritten without them (purge)")
    b.reopen()
    rep.present_after = _present(b, rnums)
    for name in profiles.order:
        hits = set(b.search(compile_need(need, profiles[name], profiles)).rids)
        rep.still_findable[name] = sorted(hits & truth_rids)
    rep.never_erased = sorted(truth_rids - set(rep.erased))
    shutil.rmtree(work, ignore_errors=True)
    return rep




def erase_opensearch(corpus: Corpus, inst: Instantiated, profile_name: str, profiles: ProfileSet,
                     url: str | None) -> ErasureReport:
    """The same on OpenSearch: on clones of the corpus indexes, delete by query; `purge` then
    force-merges with only_expunge_deletes. Physical presence is read from segment statistics
    (docs.deleted: deleted documents still held in segments)."""
    import uuid

    from bench.backends.opensearch import OpenSearchBackend
    profile = profiles[profile_name]
    if profile.deletion is None:
        raise PolebenchError(f"profile {profile_name!r} declares no deletion rule (deletion: purge | hide)")
    need = inst.needs[0]
    truth_rids = set(inst.qrels[need.id])
    shared = OpenSearchBackend(corpus, url=url)
    shared.prepare()
    suffix = f"-erase-{uuid.uuid4().hex[:8]}"
    b = OpenSearchBackend(corpus, url=url, index_suffix=suffix)
    c = shared.client
    try:
        for kind, src in shared.index.items():  # clone: the shared indexes are never changed
            c.indices.put_settings(index=src, body={"index.blocks.write": True})
            try:
                c.indices.clone(index=src, target=b.index[kind], params={"wait_for_active_shards": "1"})
            finally:
                c.indices.put_settings(index=src, body={"index.blocks.write": False})
            c.indices.put_settings(index=b.index[kind], body={"index.blocks.write": False})
        b.prepare()
        rep = ErasureReport(need.targets[0], profile_name, profile.deletion, len(truth_rids), [], [], {}, 0, 0)
        found = b.search(compile_need(need, profile, profiles)).rids
        rep.erased = [r for r in found if r in truth_rids]
        index_of = {rid: i for i, rid in enumerate(b.rids.tolist())}
        rnums = [index_of[r] for r in rep.erased]
        rep.present_before = len(rnums)
        from opensearchpy import helpers
        for name in b.index.values():  # delete by id (delete_by_query needs the reindex module)
            ids = [h["_id"] for h in helpers.scan(c, index=name, query={"query": {"terms": {"rnum": rnums}}},
                                                    _source=False)]
            helpers.bulk(c, ({"_op_type": "delete", "_index": name, "_id": i} for i in ids), refresh=True)
        rep.steps.append(f"deleted {len(rnums)} records on clones of the indexes")
        def deleted_docs() -> int:
            for name in b.index.values():
                c.indices.refresh(index=name)
            return int(c.indices.stats(index=b.index["record"], metric="docs")["_all"]["primaries"]["docs"]["deleted"])
        if profile.deletion == "purge":
            # OpenSearch deletes are soft: deleted documents stay in the segments while history
            # retention (the retention lease) holds them, and a force merge alone keeps them. A
            # purge shortens the retention and merges until the segments no longer hold them.
            for name in b.index.values():
                c.indices.put_settings(index=name, body={"index.soft_deletes.retention_lease.period": "0s"})
            deadline = time.monotonic() + PURGE_WAIT_S
            while True:
                for name in b.index.values():
                    c.indices.flush(index=name, params={"force": "true"})
                    c.indices.forcemerge(index=name, params={"max_num_segments": "1", "flush": "true"})
                if not deleted_docs() or time.monotonic() > deadline:
                    break
                time.sleep(2)
            rep.steps.append("retention lease shortened and segments force-merged until deletes were expunged (purge)")
        deleted = deleted_docs()
        rep.present_after = min(deleted, len(rnums))
        rep.steps.append(f"segment stats: {deleted} deleted record documents still held in segments")
        for name in profiles.order:
            hits = set(b.search(compile_need(need, profiles[name], profiles)).rids)
            rep.still_findable[name] = sorted(hits & truth_rids)
        rep.never_erased = sorted(truth_rids - set(rep.erased))
        return rep
    finally:
        for name in b.index.values():
            c.indices.delete(index=name, params={"ignore_unavailable": "true"})
