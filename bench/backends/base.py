"""The backend protocol. Public methods are final and engine-neutral: they combine record sets,
order and cap them. A backend implements the private hooks for its engine: build or reuse an
index, match one scoped clause, and read the person keys co-mentioned in some records."""

from __future__ import annotations

import json
import math
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, ClassVar, Iterable, Mapping, Sequence, final

import numpy as np

from bench import fields as F
from bench.corpus.store import Corpus, atomic_dir
from bench.errors import BackendError, PolebenchError
from bench.geo import distances_m
from bench.plans import (GeoRadius, Intersect, Linked, Node, Plan, Resolve, Scoped, Sequence, Terms,
                         Union_, node_kinds)


@dataclass(frozen=True)
class Hits:
    """An unordered set of records: record numbers with a score and the record date (days)."""

    rnums: np.ndarray
    scores: np.ndarray
    dates: np.ndarray
    # The candidate (person, plate, number) each record most likely concerns, where an entity
    # resolution grouped them (-1: a record of no group); None: a plain list of records.
    groups: np.ndarray | None = None

    @classmethod
    def empty(cls) -> "Hits":
        return cls(np.empty(0, np.int64), np.empty(0, np.float64), np.empty(0, np.int64))

    @classmethod
    def from_docs(cls, rnums, scores, dates, groups=None) -> "Hits":
        """Several documents of one record become one hit with the best score (and its group)."""
        r = np.asarray(rnums, np.int64)
        s = np.asarray(scores, np.float64)
        d = np.asarray(dates, np.int64)
        if len(r) == 0:
            return cls.empty()
        order = np.lexsort((-s, r))
        r, s, d = r[order], s[order], d[order]
        first = np.concatenate(([True], r[1:] != r[:-1]))
        return cls(r[first], s[first], d[first], None if groups is None else np.asarray(groups)[order][first])


@dataclass(frozen=True)
class Result:
    """What a profile shows the analyst, in order: record numbers and scores; `total` before any
    cap. Record ids are looked up only when asked for: the run itself works in record numbers."""

    rnums: np.ndarray
    scores: np.ndarray
    total: int
    names: np.ndarray = field(repr=False, compare=False)  # record id by record number
    searches: int = 1  # searches issued to get this list (narrowing adds some)
    # Where the list is read one candidate at a time: the position in `rnums` at which each
    # entry (the records of one candidate person, plate or number) starts. None: record by record.
    entry_starts: np.ndarray | None = None
    # Time spent before this search on searches it used: made once for the need's plans and
    # shared (Backend.begin_need), counted in its latency as a union counts its members'.
    borrowed_ms: float = 0.0

    @property
    def rids(self) -> list[str]:
        return self.names[self.rnums].tolist()


class Backend(ABC):
    NAME: ClassVar[str]
    SUPPORTS: ClassVar[frozenset[str]]
    # Record id by record number, set by prepare(): an array, so that the record numbers of a
    # list index it at once (Result.rids), and one string array rather than a list of objects.
    rids: np.ndarray

    def __init__(self, corpus: Corpus, **options: object):
        self.corpus = corpus
        self.options = options
        self.rids = np.empty(0, str)
        self.context: dict[str, str] = {}  # the profile and need being searched, set by the run
        # where a backend that makes requests of a service logs each one (the run's audit log)
        self.on_request: Callable[[dict], None] | None = None
        self.borrowed_ms = 0.0  # see Result.borrowed_ms: added to by the search being made

    def adapt(self, plan: Plan, need: object = None) -> Plan:
        """The plan this backend will run: as compiled, or, where the backend stands for a system
        under test that cannot be asked everything, with what it cannot ask dropped and listed
        in the plan's lost."""
        return plan

    @final
    def prepare(self, progress: Callable[[int], None] | None = None, ahead: Iterable[Plan] = ()) -> None:
        """Build the index for the corpus, or reuse it while the corpus checksum matches. `ahead`:
        plans about to be searched, so that an index only some nodes read is built here rather
        than inside the first search that needs it (and counted in its latency)."""
        self.rids = np.asarray(self._prepare(progress))
        self._ahead(ahead)

    def _ahead(self, plans: Iterable[Plan]) -> None:
        """Get ready for these plans (nothing to do unless a backend keeps indexes per node)."""

    @classmethod
    def check_options(cls, options: Mapping[str, str]) -> dict[str, object]:
        """--backend-option KEY=VALUE pairs as this backend takes them; refused, naming what it
        takes, where it takes none of them."""
        if options:
            key = next(iter(options))
            raise PolebenchError(f"--backend-option {key}={options[key]}: backend {cls.NAME!r} takes no options")
        return {}

    @classmethod
    def check_run(cls, options: Mapping[str, object], profiles: list[str]) -> None:
        """What this backend needs of a run's settings, checked before anything runs (before the
        query set is instantiated, an index built or a search made), so that a setting it cannot
        work with is named at once. `options`: as the backend will be opened with (check_options's,
        and the engine's address or a config file where given); `profiles`: as named for the run.
        A backend that reads a config file (--backend-config) overrides this."""
        if options.get("config") is not None:
            raise PolebenchError(f"--backend-config {options['config']}: backend {cls.NAME!r} reads no config file")

    def begin_need(self, plans: Iterable[Plan]) -> None:
        """The plans of one need, every profile's, before any of them is searched; the searches
        up to the next call are of these plans. A server backend may fetch what they share once,
        and several in one request. Called with none once a need's searches are done."""

    @final
    @classmethod
    def lacks(cls, plan: Plan) -> set[str]:
        """The node kinds of a plan, and of the narrower plans it may go on to, that this backend
        cannot run (none for an empty plan)."""
        kinds: set[str] = set()
        step: Plan | None = plan
        while step is not None and step.root is not None:
            kinds |= node_kinds(step.root)
            step = step.narrower
        return kinds - cls.SUPPORTS

    @final
    def check(self, plan: Plan) -> None:
        """Capabilities as data: refuse a plan with a node this backend cannot run."""
        missing = self.lacks(plan)
        if missing:
            raise BackendError(f"backend {self.NAME!r} cannot run plan nodes: {', '.join(sorted(missing))}")

    @final
    def search(self, plan: Plan, known: Mapping[Plan, Result] | None = None) -> Result:
        """Every matching record (not a top k), ordered as the profile presents them.

        `known`: results already found for other plans of the same need. A union profile's
        members are whole plans of their own profiles; when the run has just searched those,
        their lists are merged as they are rather than searched for a second time."""
        self.check(plan)
        if plan.root is None:
            return Result(np.empty(0, np.int64), np.empty(0, np.float64), 0, self.rids, 0)
        self.borrowed_ms = 0.0
        rnums, scores, searches, starts = self._session(plan, known or {})
        total = len(rnums)
        if plan.cap is not None:  # a grouped list shows at most `cap` entries
            end = plan.cap if starts is None else (int(starts[plan.cap]) if len(starts) > plan.cap else len(rnums))
            rnums, scores = rnums[:end], scores[:end]
            starts = None if starts is None else starts[: plan.cap]
        return Result(rnums, scores, total, self.rids, searches, starts, self.borrowed_ms)

    def _session(self, plan: Plan, known: Mapping[Plan, Result]) -> tuple[np.ndarray, np.ndarray, int, np.ndarray | None]:
        """The analyst's searches for one plan: as formulated, then narrowed (the plan's next
        formulation) while a search returns more than the plan's threshold; the last list is read."""
        rnums, scores, searches, starts = self._ordered(plan, known)
        while plan.narrower is not None and plan.narrow_above is not None and len(rnums) > plan.narrow_above:
            plan = plan.narrower
            rnums, scores, more, starts = self._ordered(plan, known)
            searches += more
        return rnums, scores, searches, starts

    def _ordered(self, plan: Plan, known: Mapping[Plan, Result]) -> tuple[np.ndarray, np.ndarray, int, np.ndarray | None]:
        if isinstance(plan.root, Sequence):
            parts = [(known[sub].rnums, known[sub].scores, known[sub].searches) if sub in known
                     else self._session(sub, known)[:3] for sub in plan.root.plans]
            searches = sum(n for _, _, n in parts)
            # each member system shows at most its own result cap
            parts = [(r[: sub.cap], sc[: sub.cap]) if sub.cap else (r, sc)
                     for (r, sc, _), sub in zip(parts, plan.root.plans)]
            seen = np.zeros(len(self.rids), bool)  # a record's first appearance wins
            out_r, out_s = [], []
            for r, sc in parts:
                fresh = ~seen[r]
                out_r.append(r[fresh])
                out_s.append(sc[fresh])
                seen[r] = True
            if not out_r:
                return np.empty(0, np.int64), np.empty(0, np.float64), searches, None
            return np.concatenate(out_r), np.concatenate(out_s), searches, None
        h = self._execute(plan.root)
        # Ties are broken by record number on every backend, so orders are comparable.
        key = h.scores if plan.order == "relevance" else h.dates
        if h.groups is not None:  # an entity resolution's list is ranked by match score, whatever the order
            rnums, scores, starts = _grouped(h, h.scores)
            return rnums, scores, 1, starts
        if _descending_then_ascending(key, h.rnums):  # often so already, as the engine ranked them
            return h.rnums, h.scores, 1, None
        order = np.lexsort((h.rnums, -key))
        return h.rnums[order], h.scores[order], 1, None

    def matches(self, node: Node, within: np.ndarray | None = None) -> np.ndarray:
        """The record numbers matching one plan node, unordered and uncapped: what a single
        criterion of a plan lets through (the run uses it to say which criterion excluded a record).
        `within`: only these record numbers are asked about (an engine may then search less)."""
        if within is not None and isinstance(node, Scoped):
            asked = self._scoped_within(node, within)
            if asked is not None:
                return asked
        rnums = self._execute(node).rnums
        return rnums if within is None else rnums[np.isin(rnums, within)]

    def _scoped_within(self, node: Scoped, within: np.ndarray) -> np.ndarray | None:
        """The records among `within` one criterion matches, asked of the engine itself (a
        criterion alone can match half the corpus: a sex, a date window over every record); None
        where this backend cannot, and the criterion is then fetched whole and cut down."""
        return None

    def _execute(self, node: Node) -> Hits:
        if isinstance(node, Scoped):
            return self._scoped(node)
        if isinstance(node, Intersect):
            hits = self._parts(node.parts, intersect=True)
            out = hits[0]
            for h in hits[1:]:
                common, ia, ib = np.intersect1d(out.rnums, h.rnums, assume_unique=True, return_indices=True)
                groups = out.groups[ia] if out.groups is not None else h.groups[ib] if h.groups is not None else None
                out = Hits(common, out.scores[ia] + h.scores[ib], out.dates[ia], groups)
            return out
        if isinstance(node, Union_):
            hits = self._parts(node.parts, intersect=False)
            grouped = any(h.groups is not None for h in hits)
            return Hits.from_docs(np.concatenate([h.rnums for h in hits]),
                                  np.concatenate([h.scores for h in hits]),
                                  np.concatenate([h.dates for h in hits]),
                                  np.concatenate([h.groups if h.groups is not None else np.full(len(h.rnums), -1)
                                                  for h in hits]) if grouped else None)
        if isinstance(node, Linked):
            return self._linked(node)
        if isinstance(node, Resolve):
            return self._resolve(node)
        raise BackendError(f"backend {self.NAME!r}: unknown plan node {type(node).__name__}")

    def _parts(self, parts: tuple[Node, ...], intersect: bool) -> list[Hits]:
        """The hits of each part of an Intersect or a Union_, in order. For an Intersect a backend
        may leave out of a part records that another part lacks (they cannot be in the result):
        a server backend fetches a large part only within the records of the small ones."""
        return [self._execute(p) for p in parts]

    def _linked(self, node: Linked) -> Hits:
        """Links as recorded: people written in the same records as the seed, hop by hop."""
        field = node.match_on[0]
        seed_hits = self._scoped(node.seed)
        keys = self._co_mentioned(seed_hits.rnums, node.seed, field)
        frontier = set(keys)
        for _ in range(node.hops - 1):
            if not frontier:
                break
            hop = self._scoped(Scoped("person", Terms(field, tuple(sorted(frontier)))))
            new = self._co_mentioned(hop.rnums, node.seed, field) - keys
            keys |= new
            frontier = new
        if not keys:
            return Hits.empty()
        return self._scoped(Scoped("person", Terms(field, tuple(sorted(keys)))))

    # ---- hooks

    @abstractmethod
    def _prepare(self, progress: Callable[[int], None] | None) -> Sequence[str] | np.ndarray:
        """Build or reuse the index; return record ids in record-number order."""

    @abstractmethod
    def _scoped(self, node: Scoped) -> Hits:
        """Records holding a document of node.scope that matches node.clause."""

    def _resolve(self, node: Resolve) -> Hits:
        """Entity-resolution search (only where SUPPORTS names Resolve)."""
        raise BackendError(f"backend {self.NAME!r} cannot run entity-resolution (Resolve) nodes")

    @abstractmethod
    def _co_mentioned(self, rnums: np.ndarray, exclude: Scoped, field: str) -> set[str]:
        """Values of `field` on person documents in these records, other than those matching `exclude`."""


def save_record_table(d: Path, rids: list[str], dates: list[int]) -> None:
    """What every backend keeps beside its index: record id and record date (days) by record number."""
    (d / "rids.txt").write_text("\n".join(rids) + "\n")
    np.save(d / "dates.npy", np.asarray(dates, np.int64))


def load_record_table(d: Path) -> tuple[np.ndarray, np.ndarray]:
    """Record ids (a string array) and dates by record number. Ids of one width (as the generator
    writes them) are read straight into the array: a list of 10 million str objects first took
    1.18 GB and 13 s at 10M records, the array alone 0.36 GB."""
    data = (d / "rids.txt").read_bytes()
    return _rids(data), np.load(d / "dates.npy")


def _rids(data: bytes) -> np.ndarray:
    lines = np.frombuffer(data, np.uint8)
    width = int(np.argmax(lines == 10)) if len(lines) else 0  # the first line's, newline excluded
    # one width, and ids of printable ASCII only: what str.split() would read the same way
    if width and len(data) % (width + 1) == 0 and (lines[width::width + 1] == 10).all() and \
            ((ids := lines.reshape(-1, width + 1)[:, :width]) > 32).all() and (ids < 127).all():
        rows = np.frombuffer(data, np.dtype([("rid", f"S{width}"), ("nl", "S1")]))
        return rows["rid"].astype(f"U{width}")
    return np.asarray(data.decode().split())


RECORD_TABLE_VERSION = 1


def corpus_record_table(corpus: Corpus, progress: Callable[[int], None] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The record table of a backend that keeps no index of its own (a service holds the
    records): read from the corpus once, kept in corpus/index/records-v1/ and read from there
    while the corpus's checksum matches, rather than every record parsed again at each run."""
    d = corpus.root / "index" / f"records-v{RECORD_TABLE_VERSION}"
    meta = d / "meta.json"
    if not (meta.is_file() and json.loads(meta.read_text()).get("corpus_checksum") == corpus.checksum):
        with atomic_dir(d) as tmp:
            rids, dates = [], []
            for i, rec in enumerate(corpus.records()):
                rids.append(rec["rid"])
                dates.append(F.days(rec["date"]))
                if progress and i % 10_000 == 9_999:
                    progress(10_000)
            save_record_table(tmp, rids, dates)
            (tmp / "meta.json").write_text(json.dumps({"corpus_checksum": corpus.checksum, "records": len(rids)}))
    return load_record_table(d)


def within_radius(lat_e6: np.ndarray, lon_e6: np.ndarray, g: GeoRadius) -> np.ndarray:
    """Haversine distance test, vectorised; coordinates stored as integer micro-degrees."""
    return distances_m(g.lat, g.lon, lat_e6 / 1e6, lon_e6 / 1e6) <= g.radius_m


def bounding_box(g: GeoRadius) -> tuple[int, int, int, int]:
    dlat = g.radius_m / 111_320.0
    dlon = g.radius_m / (111_320.0 * max(0.01, math.cos(math.radians(g.lat))))
    return (round((g.lat - dlat) * 1e6), round((g.lat + dlat) * 1e6),
            round((g.lon - dlon) * 1e6), round((g.lon + dlon) * 1e6))


def _grouped(h: Hits, key: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Records one candidate at a time: candidates by their best record's key (descending), each
    candidate's records by key, ties by record number. A record of no group (-1) is an entry of
    its own. Returns the records, their scores and where each entry starts."""
    g = h.groups.astype(np.int64).copy()
    alone = g < 0
    g[alone] = g.max(initial=-1) + 1 + np.arange(int(alone.sum()))
    _, g = np.unique(g, return_inverse=True)
    best = np.full(g.max(initial=-1) + 1, -np.inf)
    np.maximum.at(best, g, key)
    first_rec = np.full(len(best), np.iinfo(np.int64).max)
    np.minimum.at(first_rec, g, h.rnums)
    order = np.lexsort((h.rnums, -key, g, first_rec[g], -best[g]))
    g = g[order]
    starts = np.flatnonzero(np.concatenate(([True], g[1:] != g[:-1]))) if len(g) else np.empty(0, np.int64)
    return h.rnums[order], h.scores[order], starts


def _descending_then_ascending(key: np.ndarray, rnums: np.ndarray) -> bool:
    """True when records are already ordered by key descending, ties by record number: one
    linear pass, against a sort of the whole list."""
    if len(key) < 2:
        return True
    k0, k1 = key[:-1], key[1:]
    return bool(np.all((k1 < k0) | ((k1 == k0) & (rnums[1:] > rnums[:-1]))))
