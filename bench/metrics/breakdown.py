"""Why a profile misses: recall by corruption kind, by source system and by kind of need; the
cells where recall collapses against the baseline; the entity view for person needs; and the
missed records of the worst needs, as they were written. Reads the query stage's judgements
(kinds, source, written form of each relevant record), never the corpus truth itself."""

from __future__ import annotations

import heapq
from array import array
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from bench.metrics.stats import means_ci, ratios_ci
from bench.queries.instance import NeedIds

COLLAPSE_DROP = 0.10  # a cell collapses when recall falls by >= 0.10 and the CIs do not overlap
PERSON_KINDS = ("person", "sar")
WORST = 5


class _Cells:
    """Relevant records and those each profile found, counted per cell (corruption kind, or source
    system) and need as the details go by, one entry a (need, cell) the need has records in: the
    counts are all that recall per cell needs, not each record's cells (24 bytes a record and cell,
    and as much again while laid out as arrays). An entry is (3 + profiles) int32 numbers: the
    need's column (its place among the needs in id order), the cell, the relevant records, and
    what each profile found. With a `work` folder the entries go to a file there as they come, and
    the (cell x need) matrices recall is bootstrapped from are mapped from files there (pages the
    kernel writes back and reclaims): nothing of them is held a need on the heap. The arithmetic
    is the same either way."""

    FLUSH = 1 << 14  # entries kept before they are written out

    def __init__(self, n: int, profiles: list[str], work: Path | None = None, name: str = "cells"):
        self.n, self.profiles, self.names = n, profiles, {}
        self.width = 3 + len(profiles)
        self.rows = array("i")
        self.path = work / f"{name}.i4" if work is not None else None
        self._file = open(self.path, "wb") if self.path is not None else None

    def add(self, i: int, rel: dict[str, dict], got: dict[str, set[int]], key) -> None:
        """One need's relevant records (`i`: its column), and what each profile whose search
        succeeded found of them (`got`)."""
        total: dict[int, int] = {}
        hits: dict[str, dict[int, int]] = {p: {} for p in got}
        for d in rel.values():
            for c in key(d):
                j = self.names.setdefault(c, len(self.names))
                total[j] = total.get(j, 0) + 1
                for p, found in got.items():
                    if d["rnum"] in found:
                        hits[p][j] = hits[p].get(j, 0) + 1
        for j, n in total.items():
            self.rows.extend((i, j, n))
            self.rows.extend(hits[p].get(j, 0) if p in hits else 0 for p in self.profiles)
        if self._file is not None and len(self.rows) >= self.FLUSH * self.width:
            self.rows.tofile(self._file)
            self.rows = array("i")

    def entries(self) -> np.ndarray:
        """Every entry, an (entries x width) int32 matrix (mapped from the file, if there is one)."""
        if self._file is not None:
            self.rows.tofile(self._file)
            self.rows = array("i")
            self._file.close()
            self._file = None
        if self.path is not None:
            size = self.path.stat().st_size
            return np.memmap(self.path, np.int32, "r").reshape(-1, self.width) if size \
                else np.zeros((0, self.width), np.int32)
        return np.frombuffer(self.rows, np.int32).reshape(-1, self.width) if len(self.rows) \
            else np.zeros((0, self.width), np.int32)

    @classmethod
    def by_kind_and_source(cls, details: Details, needs: "_Needs", found: Mapping[str, Mapping[str, set[int]]],
                           work: Path | None = None) -> tuple["_Cells", "_Cells"]:
        """The counts by corruption kind and by source system, from one pass over the details."""
        by_kind = cls(len(needs), list(found), work, "cells-kind")
        by_source = cls(len(needs), list(found), work, "cells-source")
        for q, rel in details.items():
            i = needs.column(q)
            if i < 0:
                continue
            got = {p: f[q] for p, f in found.items() if q in f}
            by_kind.add(i, rel, got, corruption_cells)
            by_source.add(i, rel, got, _source)
        return by_kind, by_source

    def recall(self, profile: str, ok: np.ndarray) -> dict[str, dict]:
        """Recall (found / relevant, pooled over the needs whose columns are `ok`, ascending) per
        cell, CI by resampling needs. The (cell x need) matrices of found and relevant records are
        what the bootstrap reads, 16 bytes a cell and need while it does; laid out only for the
        cells these needs have records in, and as the floats it reads (not copied from counts),
        the entries gone through a block at a time."""
        entries = self.entries()
        p = 3 + self.profiles.index(profile)
        cols = np.full(self.n, -1, np.int32)
        cols[ok] = np.arange(len(ok), dtype=np.int32)
        present = np.zeros(len(self.names), bool)
        for b in range(0, len(entries), _ENTRY_BLOCK):
            e = entries[b: b + _ENTRY_BLOCK]
            present[e[cols[e[:, 0]] >= 0, 1]] = True
        cells = [(c, j) for c, j in sorted(self.names.items()) if present[j]]
        row = np.full(len(self.names), -1)
        row[[j for _, j in cells]] = np.arange(len(cells))
        total, hits = _matrix(self.path, "total", len(cells), len(ok)), _matrix(self.path, "hits", len(cells), len(ok))
        for b in range(0, len(entries), _ENTRY_BLOCK):
            e = entries[b: b + _ENTRY_BLOCK]
            need = cols[e[:, 0]]
            keep = need >= 0
            r, c = row[e[keep, 1]], need[keep]
            total[r, c] = e[keep, 2]
            hits[r, c] = e[keep, p]
        del cols, entries
        estimates = ratios_ci(hits, total)
        out = {c: {**e.as_dict(), "relevant": int(total[i].sum()), "found": int(hits[i].sum())}
               for i, ((c, _), e) in enumerate(zip(cells, estimates))}
        for m in (total, hits):
            if isinstance(m, np.memmap):
                Path(m.filename).unlink(missing_ok=True)
        return out

    def remove(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
        if self.path is not None:
            self.path.unlink(missing_ok=True)


_ENTRY_BLOCK = 1 << 16  # entries laid out at a time while the matrices are filled


def _matrix(beside: Path | None, name: str, rows: int, cols: int) -> np.ndarray:
    """A (rows x cols) float64 matrix of zeros: mapped from a new file beside `beside` if given."""
    if beside is None or not rows * cols:
        return np.zeros((rows, cols))
    return np.memmap(beside.with_name(f"{beside.stem}.{name}.f8"), np.float64, "w+", shape=(rows, cols))


class _Needs:
    """The needs a breakdown is over, in id order (the order of the bootstrap's columns and of the
    entity view): a column per need, found by its id. Over a query set's NeedIds the columns are
    an int32 array a need; a dict of needs is laid out as NeedIds first."""

    def __init__(self, kinds_of: Mapping[str, str]):
        self.kinds_of = kinds_of
        ids = getattr(kinds_of, "ids", None)
        self.ids: NeedIds = ids if isinstance(ids, NeedIds) else NeedIds(kinds_of)
        self.by_column = self.ids.sorted_places()  # column -> place
        self.columns = np.empty(len(self.ids), np.int32)  # place -> column
        self.columns[self.by_column] = np.arange(len(self.ids), dtype=np.int32)

    def __len__(self) -> int:
        return len(self.ids)

    def column(self, q: str) -> int:
        i = self.ids.place(q)
        return -1 if i < 0 else int(self.columns[i])

    def qid(self, column: int) -> str:
        return self.ids[int(self.by_column[column])]

    def ok(self, found: Mapping[str, set[int]]) -> np.ndarray:
        """The columns, ascending, of the needs whose search succeeded (that are in `found`)."""
        return np.flatnonzero(np.fromiter((self.qid(c) in found for c in range(len(self))), bool, len(self))
                              ).astype(np.int32)


class _Qids(Sequence):
    """The ids of some needs, given by their columns (read from the ids when asked for)."""

    def __init__(self, needs: _Needs, columns: np.ndarray):
        self.needs, self.columns = needs, columns

    def __len__(self) -> int:
        return len(self.columns)

    def __getitem__(self, k):  # type: ignore[override]
        return self.needs.qid(int(self.columns[k]))

    def __iter__(self) -> Iterator[str]:
        return (self.needs.qid(c) for c in self.columns.tolist())


def corruption_cells(d: dict) -> list[str]:
    kinds = d["kinds"]
    return ["clean"] if not kinds else list(kinds) + (["combined"] if len(kinds) > 1 else [])


def _source(d: dict) -> list[str]:
    return [d["source"]]


class Details(Protocol):
    """need -> its relevant records' details by record id: a dict, or the query set's file read
    need by need each time it is gone through (bench.queries.instance.Details)."""

    def items(self) -> Iterable[tuple[str, dict[str, dict]]]: ...


class Exclusions:
    """Per profile and cell (by corruption kind and by source system), how many missed relevant
    records each criterion of the plan excluded (a record failing two criteria counts for both),
    counted need by need as the run finds out, so that what excluded each record is not kept."""

    def __init__(self) -> None:
        self.counts: dict[str, dict[str, dict[str, dict[str, int]]]] = {}

    def add(self, profile: str, why: Mapping[int, list[str]], rel: dict[str, dict]) -> None:
        """why: missed record number -> the criteria it fails, for one need; rel: its relevant
        records' details."""
        if not why:
            return
        cells = self.counts.setdefault(profile, {"kind": defaultdict(lambda: defaultdict(int)),
                                                 "source": defaultdict(lambda: defaultdict(int))})
        for d in rel.values():
            for reason in why.get(d["rnum"], ()):
                for by, key in (("kind", corruption_cells), ("source", _source)):
                    for c in key(d):
                        cells[by][c][reason] += 1

    @classmethod
    def of(cls, excluded: Mapping[str, Mapping[str, Mapping[int, list[str]]]], details: Details) -> "Exclusions":
        """From excluded[profile][qid][rnum] = the criteria a missed record fails."""
        out = cls()
        for q, rel in details.items():
            for p, by_need in excluded.items():
                out.add(p, by_need.get(q) or {}, rel)
        return out

    def cells(self, profile: str, by: str) -> dict[str, dict[str, int]] | None:
        """None where nothing was said of the profile (a union of profiles: its members' reasons stand)."""
        return self.counts[profile][by] if profile in self.counts else None


def breakdown(found: Mapping[str, Mapping[str, set[int]]], lists: Mapping[str, Mapping[str, np.ndarray]],
              details: Details, subjects: np.ndarray, kinds_of: Mapping[str, str],
              lost: dict[str, dict[str, list[dict]]], baseline: str, excluded: Exclusions | None = None,
              work: Path | None = None) -> dict:
    """found[profile][qid] = record numbers of the relevant records returned; lists[profile][qid]
    = the ranked record numbers; subjects = a true person's number per record number (-1: none);
    kinds_of: need -> its kind (a dict, or a query set's bench.queries.instance.Kinds);
    excluded: what excluded the missed records, counted; work: a folder for the counts and the
    bootstrap's matrices (removed after), instead of memory. The details are gone through three
    times whatever the number of profiles, never held whole."""
    needs = _Needs(kinds_of)
    out: dict = {"profiles": {}, "collapses": []}
    by_kind, by_source = _Cells.by_kind_and_source(details, needs, found, work)
    try:
        oks = {p: needs.ok(found[p]) for p in found}
        worst = _worst(found, details, lost, _lowest_recall(found, details, needs))
        excluded = excluded or Exclusions()
        person = np.fromiter((needs.kinds_of[needs.qid(c)] in PERSON_KINDS for c in range(len(needs))), bool,
                             len(needs))
        for p in found:
            ok = oks[p]
            block = {
                "kind": _excluded(by_kind.recall(p, ok), excluded.cells(p, "kind")),
                "source": _excluded(by_source.recall(p, ok), excluded.cells(p, "source")),
                "entity": _entity_view(lists[p], found[p], subjects, _Qids(needs, ok[person[ok]])),
                "worst": worst[p],
            }
            out["profiles"][p] = block
    finally:
        by_kind.remove()
        by_source.remove()
    base = out["profiles"].get(baseline, {}).get("kind", {})
    for p, block in out["profiles"].items():
        if p == baseline:
            continue
        for cell, e in block["kind"].items():
            b = base.get(cell)
            if b and b["value"] is not None and e["value"] is not None and \
                    b["value"] - e["value"] >= COLLAPSE_DROP and e["hi"] < b["lo"]:
                out["collapses"].append({"profile": p, "kind": cell, "recall": e["value"], "baseline": b["value"]})
    return out


def _lowest_recall(found: Mapping[str, Mapping[str, set[int]]], details: Details,
                   needs: _Needs) -> dict[str, list[tuple[float, str]]]:
    """Per profile, the WORST needs of lowest recall (ties by need id), with their recall, in one
    pass over the details for every profile, keeping no more than those."""
    scored: dict[str, list[tuple[float, str]]] = {p: [] for p in found}
    for q, rel in details.items():
        if not rel or needs.column(q) < 0:
            continue
        for p in found:
            if q in found[p]:
                got = found[p][q]
                heap = scored[p]  # the kept needs as a max-heap of (-recall, need)
                item = (-(sum(d["rnum"] in got for d in rel.values()) / len(rel)), _Desc(q))
                if len(heap) < WORST:
                    heapq.heappush(heap, item)
                elif item > heap[0]:
                    heapq.heapreplace(heap, item)
    return {p: sorted((-r, d.q) for r, d in heap) for p, heap in scored.items()}


class _Desc:
    """A need id that orders the other way round, so that a max-heap keeps the smallest ids on a tie."""

    __slots__ = ("q",)

    def __init__(self, q: str):
        self.q = q

    def __lt__(self, other: "_Desc") -> bool:
        return self.q > other.q

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Desc) and self.q == other.q


EXCLUDED_TOP = 3  # criteria kept per cell, the most common first


def _excluded(cells: dict[str, dict], counts: dict[str, dict[str, int]] | None) -> dict[str, dict]:
    """Each cell with the criteria that most often excluded its missed records: `excluded_by`
    lists [criterion, records it excluded] (a record failing two criteria counts for both) out of
    `missed`; absent where the run could not say (a union of profiles)."""
    if counts is None:
        return cells
    for c, e in cells.items():
        e["missed"] = e["relevant"] - e["found"]
        e["excluded_by"] = sorted(([r, n] for r, n in counts.get(c, {}).items()), key=lambda x: (-x[1], x[0]))[:EXCLUDED_TOP]
    return cells


def _entity_view(lists: Mapping[str, np.ndarray], found: Mapping[str, set[int]], subjects: np.ndarray,
                 qids: Sequence[str]) -> dict:
    """Person needs: is the person found at all; how many different true people head the
    returned records (the John Smiths to tell apart); records returned per true person. The
    three numbers of each need go straight into the matrix the bootstrap reads."""
    m = np.empty((3, len(qids)))
    for k, q in enumerate(qids):
        rnums = lists.get(q, np.empty(0, np.int64))
        m[0, k] = float(bool(found.get(q)))
        heads = subjects[rnums]
        distinct = int(np.count_nonzero(np.bincount(heads[heads >= 0]))) if len(heads) else 0
        m[1, k] = distinct
        m[2, k] = len(rnums) / distinct if distinct else 0.0
    person, distinct, per = means_ci(m)
    return {"needs": len(qids), "person_found": person.as_dict(),
            "distinct_people": distinct.as_dict(), "records_per_person": per.as_dict()}


def _worst(found: Mapping[str, Mapping[str, set[int]]], details: Details, lost: dict[str, dict[str, list[dict]]],
           scored: dict[str, list[tuple[float, str]]]) -> dict[str, list[dict]]:
    """Per profile, the needs with the lowest recall, each missed record as written, its
    corruptions, and what the profile's plan could not express. Their details are read in one
    more pass, for every profile at once."""
    chosen = {p: c[:next((i for i, (r, _) in enumerate(c) if r >= 1), len(c))] for p, c in scored.items()}
    wanted = {q for c in chosen.values() for _, q in c}
    rels = {q: rel for q, rel in details.items() if q in wanted} if wanted else {}
    out: dict[str, list[dict]] = {}
    for p, c in chosen.items():
        out[p] = []
        for recall, q in c:
            missed = [{"rid": r, "written": d["written"], "kinds": d["kinds"] or ["clean"], "source": d["source"]}
                      for r, d in sorted(rels[q].items()) if d["rnum"] not in found[p][q]]
            out[p].append({"qid": q, "recall": recall, "missed": missed[:20], "missed_total": len(missed),
                           "lost": [x["reason"] for x in lost.get(p, {}).get(q, [])]})
    return out


def missed_by_kind(found: set[int], rel: dict[str, dict]) -> str:
    """For per_query.csv: 'nickname:2;typo:1' - relevant records missed, by corruption kind."""
    c: dict[str, int] = defaultdict(int)
    for d in rel.values():
        if d["rnum"] not in found:
            for k in corruption_cells(d):
                c[k] += 1
    return ";".join(f"{k}:{v}" for k, v in sorted(c.items()))


