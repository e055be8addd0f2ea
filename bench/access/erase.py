"""Verified erasure on a real engine. On a *copy* of the index (tantivy or OpenSearch): find the
subject's records with the profile's own SAR search, delete them the way the profile's system
does (`hide`: tombstones, content kept in the segments; `purge`: the segments rewritten without
them), then check independently, from truth, (a) which of the subject's records any profile can
still find, (b) which its SAR search missed and so were never erased, and (c) whether the erased
records are still physically in the index (tantivy's doc_freq counts deleted-but-unmerged
documents).

A copy holds the subject's records, so it must not outlive the erasure: it is made inside a
work folder of its own (corpus/index/.erase-*), claimed by this process (a lock the OS drops when
the process dies), that records which OpenSearch copies exist before they are made. An erasure
killed at any point leaves only such a folder; the next erasure on the corpus, or `polebench
erase --cleanup`, finds it abandoned and removes it with the copies it lists. The shared index is
never written: a complete OpenSearch index is read-only from the moment it is built, which is
what lets a clone be taken without blocking and unblocking it."""

from __future__ import annotations

import json
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.backends.embedded import EmbeddedBackend
from bench.corpus.store import Corpus, claim, clean_claims, release, write_json_atomic
from bench.errors import BackendError, PolebenchError
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


WORK_PREFIX = ".erase-"
WORK_FILE = "work.json"  # what the erasure has made outside its folder: the OpenSearch copies


class _Work:
    """The erasure's own folder under corpus/index, held by this process while it works."""

    def __init__(self, corpus: Corpus):
        self.corpus = corpus
        root = corpus.root / "index"
        root.mkdir(parents=True, exist_ok=True)
        cleanup(corpus)  # what killed erasures left: the subject's records must not linger
        self.dir, self.owner = claim(root, WORK_PREFIX)
        self.token = self.dir.name[len(WORK_PREFIX):]  # lower-case letters, digits, _: an index name's

    def record(self, **made: object) -> None:
        write_json_atomic(self.dir / WORK_FILE, made)

    def close(self) -> None:
        """The copies go, whatever stage the erasure reached (a clone made before a failure too)."""
        try:
            _remove(self.corpus, self.dir)
        except Exception as e:  # the owner file stays: the next erasure or --cleanup tries again
            os.close(self.owner)
            raise BackendError(f"the erasure's copies could not all be deleted ({e}); they hold the subject's "
                               f"records: run `polebench erase --corpus {self.corpus.root} --cleanup` "
                               f"once the engine answers") from e
        release(self.dir, self.owner)


class _TantivyCopy:
    """A copy of the embedded index: tombstone deletes; a purge rewrites the segments."""

    def __init__(self, corpus: Corpus, work: _Work, url: str | None = None):
        shared = EmbeddedBackend(corpus)
        shared.prepare()
        shutil.copytree(shared._index_dir(), work.dir / "index")  # never the shared index in place
        self.backend = EmbeddedBackend(corpus, index_dir=work.dir / "index")
        self.backend.prepare()

    def present(self, rnums: list[int]) -> int:
        """Erased records whose documents the index files still hold (doc_freq counts deleted ones)."""
        s = self.backend.indexes["record"].searcher()
        return sum(1 for r in rnums if s.doc_freq("rnum", r) > 0)

    def delete(self, rnums: list[int]) -> str:
        for ix in self.backend.indexes.values():
            w = ix.writer(heap_size=50_000_000, num_threads=1)
            for r in rnums:
                w.delete_documents_by_term("rnum", r)
            w.commit()
            w.wait_merging_threads()
        self.backend.reopen()
        return f"deleted {len(rnums)} records (tombstones committed)"

    def purge(self, rnums: list[int]) -> str:
        self.backend.rewrite_without(set(rnums))
        return "segments rewritten without them (purge)"

    @staticmethod
    def orphans(corpus: Corpus, url: str | None, claimed: set[str]) -> list[str]:
        """A copy of the embedded index lives in its work folder only, removed with it."""
        return []



class _OpenSearchCopy:
    """Clones of the OpenSearch indexes: deletes are soft; a purge must outlast history retention."""

    def __init__(self, corpus: Corpus, work: _Work, url: str | None):
        from bench.backends.opensearch import OpenSearchBackend
        shared = OpenSearchBackend(corpus, url=url)
        self.backend = OpenSearchBackend(corpus, url=url, index_suffix=f"-erase-{work.token}")
        work.record(url=shared.url, indexes=sorted(self.backend.index.values()))  # before they exist
        shared.prepare()
        self.c = c = shared.client
        for kind, src in shared.index.items():
            shared.read_only(src)  # already so if built by this version; a clone needs it
            c.indices.clone(index=src, target=self.backend.index[kind], params={"wait_for_active_shards": "1"})
            c.indices.put_settings(index=self.backend.index[kind], body={"index.blocks.write": False})
        self.backend.prepare()

    def _deleted_docs(self) -> int:
        for name in self.backend.index.values():
            self.c.indices.refresh(index=name)
        stats = self.c.indices.stats(index=self.backend.index["record"], metric="docs")
        return int(stats["_all"]["primaries"]["docs"]["deleted"])

    def present(self, rnums: list[int]) -> int:
        """Erased records still searchable, plus deleted record documents the segments still hold."""
        live = self.c.count(index=self.backend.index["record"], body={"query": {"terms": {"rnum": rnums}}})["count"]
        return min(len(rnums), int(live) + self._deleted_docs())

    def delete(self, rnums: list[int]) -> str:
        from opensearchpy import helpers
        for name in self.backend.index.values():  # by id: delete_by_query needs the reindex module
            ids = [h["_id"] for h in helpers.scan(self.c, index=name, query={"query": {"terms": {"rnum": rnums}}},
                                                    _source=False)]
            helpers.bulk(self.c, ({"_op_type": "delete", "_index": name, "_id": i} for i in ids), refresh=True)
        return f"deleted {len(rnums)} records on clones of the indexes"

    def purge(self, rnums: list[int]) -> str:
        # OpenSearch deletes are soft: deleted documents stay in the segments while history
        # retention (the retention lease) holds them, and a force merge alone keeps them. A purge
        # shortens the retention and merges until the segments no longer hold them.
        for name in self.backend.index.values():
            self.c.indices.put_settings(index=name, body={"index.soft_deletes.retention_lease.period": "0s"})
        deadline = time.monotonic() + PURGE_WAIT_S
        while True:
            for name in self.backend.index.values():
                self.c.indices.flush(index=name, params={"force": "true"})
                self.c.indices.forcemerge(index=name, params={"max_num_segments": "1", "flush": "true"})
            if not self._deleted_docs() or time.monotonic() > deadline:
                return "retention lease shortened and segments force-merged until deletes were expunged (purge)"
            time.sleep(2)

    @staticmethod
    def orphans(corpus: Corpus, url: str | None, claimed: set[str]) -> list[str]:
        """Delete erasure copies of this corpus on the node that no work folder claims (left by a
        polebench that kept no record of them); what was deleted, one line each."""
        from bench.backends.opensearch import OpenSearchBackend
        shared = OpenSearchBackend(corpus, url=url)
        stems = {name + "-erase-" for name in shared.index.values()}
        found = shared.client.indices.get(index=",".join(f"{s}*" for s in sorted(stems)),
                                          params={"ignore_unavailable": "true", "allow_no_indices": "true"})
        left = sorted(n for n in found if n not in claimed and any(n.startswith(s) for s in stems))
        _delete_indexes(shared.client, left)
        return [f"deleted OpenSearch index {name} (an erasure copy no erasure here claims)" for name in left]



COPIES = {"embedded": _TantivyCopy, "opensearch": _OpenSearchCopy}


def erase(corpus: Corpus, inst: Instantiated, profile_name: str, profiles: ProfileSet,
          backend: str = "embedded", url: str | None = None) -> ErasureReport:
    """inst holds one SAR need for the subject (from bench.access.sar.sar_instance)."""
    profile = profiles[profile_name]
    if profile.deletion is None:
        raise PolebenchError(f"profile {profile_name!r} declares no deletion rule (deletion: purge | hide)")
    need = inst.needs[0]
    truth_rids = set(inst.qrels[need.id])
    work = _Work(corpus)
    try:
        copy = COPIES[backend](corpus, work, url)
        b = copy.backend
        rep = ErasureReport(need.targets[0], profile_name, profile.deletion, len(truth_rids), [], [], {}, 0, 0)
        res = b.search(compile_need(need, profile, profiles))
        about = [(rid, int(rnum)) for rid, rnum in zip(res.rids, res.rnums) if rid in truth_rids]
        rep.erased = [rid for rid, _ in about]
        rnums = [rnum for _, rnum in about]
        rep.steps.append(f"{profile_name} SAR search returned {len(res.rnums)} records, "
                         f"{len(rep.erased)} about the subject")
        rep.present_before = copy.present(rnums)
        rep.steps.append(copy.delete(rnums))
        if profile.deletion == "purge":
            rep.steps.append(copy.purge(rnums))
        rep.present_after = copy.present(rnums)
        rep.steps.append(f"{rep.present_after} of the erased records still held in the index files")
        for name in profiles.order:
            hits = set(b.search(compile_need(need, profiles[name], profiles)).rids)
            rep.still_findable[name] = sorted(hits & truth_rids)
        rep.never_erased = sorted(truth_rids - set(rep.erased))
        return rep
    finally:
        work.close()


def _delete_indexes(client, names: list[str]) -> None:
    for name in names:
        client.indices.delete(index=name, params={"ignore_unavailable": "true"})


def _remove(corpus: Corpus, work: Path) -> list[str]:
    """An erasure's work folder and the OpenSearch copies it lists; what was removed."""
    made, done = _made(work), []
    if made.get("indexes"):
        from bench.backends.opensearch import OpenSearchBackend
        _delete_indexes(OpenSearchBackend(corpus, url=made["url"]).client, made["indexes"])
        done += [f"deleted OpenSearch index {name} (an erasure's copy)" for name in made["indexes"]]
    shutil.rmtree(work, ignore_errors=True)
    return done + [f"removed {work} (an erasure's work folder)"]


def _made(work: Path) -> dict:
    """What an erasure recorded it made outside its folder; nothing if it was killed first."""
    try:
        return json.loads((work / WORK_FILE).read_text())
    except (OSError, ValueError):
        return {}


def cleanup(corpus: Corpus, url: str | None = None, backend: str | None = None) -> list[str]:
    """Remove what erasures killed on the way left: work folders under corpus/index whose owner
    is dead, and the OpenSearch copies each lists. With `backend`, also the erasure copies of this
    corpus on that backend's engine (at `url`) that no work folder here claims (left by a
    polebench that kept no record of them). Returns what was removed, one line each; a folder
    whose copies could not be deleted is kept so that a later cleanup can try again."""
    done: list[str] = []
    root = corpus.root / "index"
    claimed = {name for d in root.glob(f"{WORK_PREFIX}*") if d.is_dir() for name in _made(d).get("indexes", [])} \
        if root.is_dir() else set()

    def remove(d: Path) -> None:
        done.extend(_remove(corpus, d))
    clean_claims(root, f"{WORK_PREFIX}*", remove)
    if backend is not None:
        done += COPIES[backend].orphans(corpus, url, claimed)
    return done
