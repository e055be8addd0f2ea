"""The corpus truth held in memory for judging and for sampling template targets.
Only the query stage reads this; engines and profiles never import it."""

from __future__ import annotations

import datetime as dt
import functools
import sys
from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np

from bench.corpus.store import Corpus, gc_paused
from bench.fields import days


@dataclass(slots=True)
class Mention:
    rid: str
    mid: str
    kinds: tuple[str, ...]


def _shared(v: object) -> object:
    """A truth value with its strings interned: ids, dates, names and codes recur across entities
    and mentions (an address id in every person living there, a date in many events), and one
    object each instead of a copy per row is most of what the truth costs in memory."""
    if isinstance(v, str):
        return sys.intern(v)
    if isinstance(v, list):
        return [sys.intern(x) if isinstance(x, str) else x for x in v]
    return v


@dataclass
class TruthIndex:
    entities: dict[str, dict]
    mentions: dict[str, list[Mention]] = field(default_factory=lambda: defaultdict(list))
    record_event: dict[str, str] = field(default_factory=dict)
    event_records: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    # record id -> what the record as a whole got wrong or left out about its event
    # (event_date_off, event_date_missing, offence_missing, mo_not_recorded); few records have any
    record_kinds: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @classmethod
    def load(cls, corpus: Corpus) -> "TruthIndex":
        corpus.verify()  # what relevance is judged from is the corpus's own (queries, sar, erase)
        kinds: dict[tuple[str, ...], tuple[str, ...]] = {}  # one tuple per distinct list of kinds
        with gc_paused():
            t = cls({sys.intern(e["id"]): {k: _shared(v) for k, v in e.items()} for e in corpus.truth_entities()})
            for row in corpus.truth_mentions():
                rid, event = row["rid"], sys.intern(row["event"])
                t.record_event[rid] = event
                t.event_records[event].append(rid)
                if row.get("record_kinds"):
                    t.record_kinds[rid] = tuple(row["record_kinds"])
                for m in row["mentions"]:
                    k = tuple(m["kinds"])
                    t.mentions[sys.intern(m["entity"])].append(Mention(rid, sys.intern(m["mid"]), kinds.setdefault(k, k)))
        return t

    def of_kind(self, kind: str) -> tuple[dict, ...]:
        """Every true entity of a kind, in corpus order."""
        return self._by_kind.get(kind, ())

    @functools.cached_property
    def _by_kind(self) -> dict[str, tuple[dict, ...]]:
        out: dict[str, list[dict]] = defaultdict(list)
        for e in self.entities.values():
            out[e["kind"]].append(e)
        return {k: tuple(v) for k, v in out.items()}

    def record_count(self, entity: str) -> int:
        """How many records mention a true entity (counted once for all entities)."""
        return self._record_counts.get(entity, 0)

    @functools.cached_property
    def _record_counts(self) -> dict[str, int]:
        return {e: len({m.rid for m in ms}) for e, ms in self.mentions.items()}

    @functools.cached_property
    def recorded_ties(self) -> dict[str, set[str]]:
        """person -> the people written in the same records: the links a system can see, which
        are not all of the true ties (a tie no record shows cannot be followed)."""
        by_record: dict[str, set[str]] = defaultdict(set)
        for e, ms in self.mentions.items():
            if self.entities.get(e, {}).get("kind") == "person":
                for m in ms:
                    by_record[m.rid].add(e)
        ties: dict[str, set[str]] = defaultdict(set)
        for people in by_record.values():
            for p in people:
                ties[p] |= people - {p}
        return ties

    @functools.cached_property
    def events(self) -> "EventTable":
        return EventTable.build(self)

    def records_of(self, entity: str) -> dict[str, int]:
        """Records mentioning a true entity, graded 2 where it is the record's main subject."""
        out: dict[str, int] = {}
        for m in self.mentions.get(entity, ()):
            grade = 2 if m.mid in ("p0", "v0", "t0") else 1
            out[m.rid] = max(out.get(m.rid, 0), grade)
        return out

    def subjects(self) -> dict[str, str]:
        """record id -> the true person it is mainly about (its first person mention)."""
        return {m.rid: e for e, ms in self.mentions.items() if self.entities.get(e, {}).get("kind") == "person"
                for m in ms if m.mid == "p0"}

    def event_date(self, event: str) -> dt.date:
        return dt.date.fromisoformat(self.entities[event]["date"])


@dataclass(frozen=True)
class EventTable:
    """Every true event as arrays (place and day), so that a place-and-time need is narrowed
    down by vector tests before each remaining event is judged in full."""

    ids: tuple[str, ...]
    lat: np.ndarray
    lon: np.ndarray
    day: np.ndarray  # days since the epoch, as bench.fields counts them

    @classmethod
    def build(cls, truth: TruthIndex) -> "EventTable":
        events = truth.of_kind("event")
        addr = [truth.entities[e["address"]] for e in events]
        return cls(tuple(e["id"] for e in events), np.array([a["lat"] for a in addr], float),
                   np.array([a["lon"] for a in addr], float), np.array([days(e["date"]) for e in events], np.int64))
