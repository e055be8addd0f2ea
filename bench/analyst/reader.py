"""How far an analyst reads a result list, and the effort measures that follow from it.

A real reader sees each record's relevance only as they read it: they cannot know when the
last relevant record has gone by. So every stop rule here reads the list in presented order, a
page at a time, and decides from what has been read so far:

- identify: stop at the first relevant record (or at the read cap, having found nothing);
- everything: stop after `empty_pages` pages in a row with nothing relevant, or at the read cap;
- read_all: read every record returned (a subject access request must be complete).

Everything is computed from the 0-based positions of the relevant records in the list (`hits`),
so a reader costs O(relevant records), whatever the list's length."""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass

import numpy as np

from bench.analyst.model import Purpose, Reader


@dataclass(frozen=True)
class Reading:
    examined: int  # records read before stopping
    found: int  # relevant records recognised among them


def _uniform(records: np.ndarray, key: int) -> np.ndarray:
    """A fixed draw in [0, 1) for each (need, record): splitmix64 of the record number and the
    need's key. The same record is missed alike on every profile (comparisons stay paired), and
    a higher miss rate misses a superset of what a lower one misses."""
    with np.errstate(over="ignore"):
        z = records.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15) + np.uint64(key)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z ^= z >> np.uint64(31)
    return (z >> np.uint64(11)).astype(np.float64) / float(1 << 53)


def recognised(hits: np.ndarray, records: np.ndarray, miss_rate: float, key: int) -> np.ndarray:
    """The relevant records a reader recognises: each is missed with probability miss_rate.
    hits: their positions in the list; records: their record numbers."""
    if miss_rate <= 0 or not len(hits):
        return hits
    return hits[_uniform(records, key) >= miss_rate]


def read(hits: np.ndarray, n: int, purpose: Purpose, r: Reader) -> Reading:
    """Where a reader of a list of n records with relevant records at `hits` (sorted, 0-based,
    as the reader recognises them) stops."""
    if purpose == "read_all":
        return Reading(n, len(hits))
    cap = min(n, r.read_cap)
    seen = hits[hits < cap]
    if purpose == "identify":
        return Reading(int(seen[0]) + 1, 1) if len(seen) else Reading(cap, 0)
    examined = min(cap, (_stop_page(seen, r.page_size, r.empty_pages) + 1) * r.page_size)
    return Reading(examined, int(np.count_nonzero(seen < examined)))


def rbp(hits: np.ndarray, p: float) -> float:
    """Rank-biased precision (Moffat and Zobel 2008): (1 - p) * sum over relevant ranks i of p^(i-1)."""
    # unique: in a list read by entries, several relevant records may share one rank
    return float((1 - p) * np.sum(np.power(p, np.unique(hits).astype(np.float64))))


def esl(hits: np.ndarray) -> float | None:
    """Cooper's (1968) expected search length for one wanted record, on a strict ordering: the
    non-relevant records read before the first relevant one. None: the list holds none."""
    return float(hits[0]) if len(hits) else None


def effort_to_recall(hits: np.ndarray, n_relevant: int, level: float) -> float | None:
    """Records read, in presented order, until `level` of the relevant records are found. None
    ("never") when the list does not hold that many."""
    if n_relevant <= 0:
        return None
    need = math.ceil(level * n_relevant - 1e-9)
    return float(hits[need - 1]) + 1 if len(hits) >= need else None


def measures(x: "Listed", r: Reader, seconds_per_record: float) -> dict[str, float | None]:
    """The analyst-effort measures of one list under one reader."""
    hits, n_relevant = x.hits, x.n_relevant
    reading = read(recognised(hits, x.records, r.miss_rate, x.key), x.n, x.purpose, r)
    return {"examined": float(reading.examined),
            "recall_at_stop": reading.found / n_relevant if n_relevant else 0.0,
            "sift_hours": reading.examined * seconds_per_record / 3600.0,
            "esl": esl(hits), "rbp": rbp(hits, r.persistence),
            "effort_r80": effort_to_recall(hits, n_relevant, 0.8),
            "effort_r95": effort_to_recall(hits, n_relevant, 0.95)}


@dataclass(frozen=True)
class Listed:
    """What the reader model needs of one (profile, need) list."""

    hits: np.ndarray  # 0-based positions of the relevant records, ascending
    records: np.ndarray  # their record numbers
    n: int  # the list's length
    n_relevant: int  # relevant records for the need in the corpus
    purpose: Purpose
    key: int  # the need's, for the reader's misses


def _stop_page(hits: np.ndarray, s: int, k: int) -> int:
    """The last page an 'everything' reader reads (0-based), before any cap: the page k after the
    last page holding something relevant that is followed by k empty pages."""
    pages = np.unique(hits // s)
    if not len(pages):
        return k - 1
    prev = np.concatenate(([-1], pages[:-1]))
    gap = pages - prev - 1 >= k
    return int(prev[np.argmax(gap)] + k) if gap.any() else int(pages[-1] + k)


def readings(lists: list[Listed], readers: list[Reader]) -> tuple[np.ndarray, np.ndarray]:
    """Records examined and relevant records found, summed over the lists, for every reader: what
    `read` gives reader by reader, computed once per distinct (miss rate, page size, empty pages)
    and vectorised over the readers' caps (200 readers over a run's lists in well under a second)."""
    cap = np.array([r.read_cap for r in readers], np.int64)
    examined, found = np.zeros(len(readers)), np.zeros(len(readers))
    members: dict[tuple[float, int, int], list[int]] = defaultdict(list)
    for i, r in enumerate(readers):
        members[(r.miss_rate, r.page_size, r.empty_pages)].append(i)
    groups = {g: np.asarray(ix) for g, ix in members.items()}
    for x in lists:
        for (miss, s, k), ix in groups.items():
            hits = recognised(x.hits, x.records, miss, x.key)
            if x.purpose == "read_all":
                examined[ix] += x.n
                found[ix] += len(hits)
                continue
            c = np.minimum(cap[ix], x.n)
            if x.purpose == "identify":
                first = int(hits[0]) if len(hits) else x.n
                hit = first < c
                examined[ix] += np.where(hit, first + 1, c)
                found[ix] += hit
                continue
            e = np.minimum(c, (_stop_page(hits, s, k) + 1) * s)
            examined[ix] += e
            found[ix] += np.searchsorted(hits, e)  # relevant records before the stop
    return examined, found


def gain_curve(lists: list[Listed], budgets: tuple[int, ...]) -> list[float]:
    """Mean recall over needs after reading the first b records, for each budget b (the gain
    curve of TREC Total Recall, averaged over needs with relevant records)."""
    if not any(x.n_relevant for x in lists):
        return [float("nan")] * len(budgets)
    # a pass over the lists per budget: `lists` may be read back from flat columns (ListedColumns)
    return [float(np.mean([np.count_nonzero(x.hits < b) / x.n_relevant for x in lists if x.n_relevant]))
            for b in budgets]


def wss(lists: list[Listed], corpus_size: int, level: float = 0.95) -> tuple[float | None, int]:
    """Work saved over sampling at a recall level (Cohen et al. 2006), averaged over the needs
    whose list reaches that level, and how many do not: 1 - read/N - (1 - level)."""
    vals = []
    for x in lists:
        e = effort_to_recall(x.hits, x.n_relevant, level)
        if e is not None:
            vals.append(1 - e / corpus_size - (1 - level))
    return (float(np.mean(vals)) if vals else None), sum(1 for x in lists if x.n_relevant) - len(vals)


def _spread(values: list[float]) -> dict[str, float | None]:
    v = np.asarray([x for x in values if x == x], dtype=np.float64)
    if not len(v):
        return {"median": None, "p10": None, "p90": None, "n": 0}
    p10, p50, p90 = np.percentile(v, [10, 50, 90]).tolist()
    return {"median": p50, "p10": p10, "p90": p90, "n": int(len(v))}


def over_behaviours(lists: dict[str, list[Listed]], baseline: str, readers: list[Reader],
                    twins: dict[str, str] | None = None, page_sizes: dict[str, int] | None = None) -> dict[str, dict]:
    """Per profile, over the sampled readers: records examined and relevant records found, each as
    a ratio of the baseline's totals under the same reader (median and 10-90% range). Both
    profiles are read by the same reader in each draw, so each ratio compares like with like.

    twins: profile -> its narrowing twin, whose lists a reader who reformulates reads instead
    (lists holds both); page_sizes: profiles whose system fixes the page size every reader pages by."""
    twins, page_sizes = twins or {}, page_sizes or {}
    shown = [n for n in lists if n not in set(twins.values())]

    def read_by_all(name: str) -> tuple[np.ndarray, np.ndarray]:
        rs = readers
        if name in page_sizes:
            rs = [r.model_copy(update={"page_size": page_sizes[name]}) for r in readers]
        ex, fd = readings(lists.get(name, []), rs)
        narrows = np.array([r.reformulate for r in rs], bool)
        if name in twins and narrows.any():
            ex[narrows], fd[narrows] = readings(lists[twins[name]], [r for r, on in zip(rs, narrows) if on])
        return ex, fd

    be, bf = read_by_all(baseline)
    out: dict[str, dict] = {}
    with np.errstate(divide="ignore", invalid="ignore"):
        for name in shown:
            ex, fd = read_by_all(name)
            out[name] = {"examined_ratio": _spread(np.where(be > 0, ex / np.where(be > 0, be, 1), np.nan).tolist()),
                         "found_ratio": _spread(np.where(bf > 0, fd / np.where(bf > 0, bf, 1), np.nan).tolist())}
    return out
