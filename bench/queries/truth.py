"""The corpus truth held in memory for judging and for sampling template targets.
Only the query stage reads this; engines and profiles never import it."""

from __future__ import annotations

import datetime as dt
import functools
import re
import sys
from collections import Counter, defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
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


def norm_name(s: str) -> str:
    """A name as the judge compares names: lower case, letters and digits only."""
    return re.sub(r"[^a-z0-9]", "", s.lower())


class Truth:
    """What the query stage reads of the truth, and what it derives from it, written once over
    the mappings below. TruthIndex holds them as dicts (the reference form, and what tests build by
    hand); bench.queries.compact.TruthStore holds them as numpy columns read on demand, for large
    corpora, and overrides the derivations that would walk every entity with vector code."""

    entities: Mapping[str, Mapping]
    mentions: Mapping[str, Sequence[Mention]]
    record_event: Mapping[str, str]
    event_records: Mapping[str, Sequence[str]]
    # record id -> what the record as a whole got wrong or left out about its event
    # (event_date_off, event_date_missing, offence_missing, mo_not_recorded)
    record_kinds: Mapping[str, tuple[str, ...]]

    def of_kind(self, kind: str) -> Sequence[Mapping]:
        """Every true entity of a kind, in corpus order."""
        raise NotImplementedError

    def record_count(self, entity: str) -> int:
        """How many records mention a true entity."""
        raise NotImplementedError

    @functools.cached_property
    def recorded_ties(self) -> Mapping[str, Collection[str]]:
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

    def subject_numbers(self, rnum_of: Mapping[str, int]) -> np.ndarray:
        """Per record number, a number for the true person the record is mainly about (-1: none).
        Only equality matters: the entity view counts distinct people."""
        out = np.full(len(rnum_of), -1, np.int32)
        code: dict[str, int] = {}
        for rid, ent in self.subjects().items():
            out[rnum_of[rid]] = code.setdefault(ent, len(code))
        return out

    def event_date(self, event: str) -> dt.date:
        return dt.date.fromisoformat(self.entities[event]["date"])

    @functools.cached_property
    def strata(self) -> Mapping[str, str]:
        """person id -> how common their surname is: the most frequent third of people "common",
        then "middling", then "rare" (ties broken by id)."""
        people = self.of_kind("person")
        freq = Counter(p["surname"] for p in people)
        ranked = sorted(people, key=lambda p: (-freq[p["surname"]], p["id"]))
        third = max(1, len(ranked) // 3)
        return {p["id"]: ("common" if i < third else "middling" if i < 2 * third else "rare")
                for i, p in enumerate(ranked)}

    def with_records(self, kind: str, min_records: int) -> list[Mapping]:
        """The entities of a kind that at least `min_records` records mention, in corpus order."""
        return [e for e in self.of_kind(kind) if self.record_count(e["id"]) >= min_records]

    def eligible_people(self, min_records: int) -> list[Mapping]:
        """People with enough records and a name to ask for them by (an imported person may have none)."""
        return [p for p in self.with_records("person", min_records) if p["forename"] or p["surname"]]

    def recorded_events(self) -> list[Mapping]:
        """The events some record is about, in corpus order."""
        return [e for e in self.of_kind("event") if self.event_records.get(e["id"])]

    def person_candidates(self, forename: str | None, surname: str | None) -> Iterable[Mapping]:
        """People that may have this name (true or alias; compared as norm_name compares), in
        corpus order: every person here; a store may narrow them down first."""
        return self.of_kind("person")

    def named_people(self) -> "NamedPeople":
        """The people some record mentions and a requester could name (eligible_people(1)), with
        what subject sampling reads of each as arrays."""
        people = self.eligible_people(1)
        codes: dict[object, int] = {}
        return NamedPeople(people, np.array([codes.setdefault(p["surname"], len(codes)) for p in people], np.int64),
                           np.array([bool(p.get("alias")) for p in people], bool),
                           np.array([self.record_count(p["id"]) for p in people], np.int64))

    def distinct(self, kind: str, key: str) -> set:
        """The values a field takes over every entity of a kind (None for an entity without it),
        and where it holds lists, their items (a list adds none of its own)."""
        out: set = set()
        for e in self.of_kind(kind):
            v = e.get(key)
            if isinstance(v, list):
                out.update(v)
            else:
                out.add(v)
        return out


@dataclass(frozen=True)
class NamedPeople:
    """Truth.named_people: people in corpus order and, row for row, arrays to draw strata from."""

    people: Sequence[Mapping]
    surname: np.ndarray  # a number per surname: equal numbers, equal surnames (None is one surname)
    alias: np.ndarray  # bool: has an alias
    records: np.ndarray  # how many records mention them


@dataclass
class TruthIndex(Truth):
    """The truth as dicts, built whole in memory: the reference form (tests build it by hand and
    bench.queries.compact.TruthStore is held to it). About 1.7 GB a million records."""

    entities: dict[str, dict]
    mentions: dict[str, list[Mention]] = field(default_factory=lambda: defaultdict(list))
    record_event: dict[str, str] = field(default_factory=dict)
    event_records: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    record_kinds: dict[str, tuple[str, ...]] = field(default_factory=dict)  # few records have any

    @classmethod
    def load(cls, corpus: Corpus) -> "TruthIndex":
        corpus.verify()  # what relevance is judged from is the corpus's own (queries, sar, erase)
        return cls.from_rows(corpus.truth_entities(), corpus.truth_mentions())

    @classmethod
    def from_rows(cls, entities: Iterable[dict], mentions: Iterable[dict]) -> "TruthIndex":
        """From the rows of truth/entities.jsonl.gz and truth/mentions.jsonl.gz."""
        kinds: dict[tuple[str, ...], tuple[str, ...]] = {}  # one tuple per distinct list of kinds
        with gc_paused():
            t = cls({sys.intern(e["id"]): {k: _shared(v) for k, v in e.items()} for e in entities})
            for row in mentions:
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
        return self._by_kind.get(kind, ())

    @functools.cached_property
    def _by_kind(self) -> dict[str, tuple[dict, ...]]:
        out: dict[str, list[dict]] = defaultdict(list)
        for e in self.entities.values():
            out[e["kind"]].append(e)
        return {k: tuple(v) for k, v in out.items()}

    def record_count(self, entity: str) -> int:
        return self._record_counts.get(entity, 0)

    @functools.cached_property
    def _record_counts(self) -> dict[str, int]:
        return {e: len({m.rid for m in ms}) for e, ms in self.mentions.items()}


@dataclass(frozen=True)
class EventTable:
    """Every true event as arrays (place and day), so that a place-and-time need is narrowed
    down by vector tests before each remaining event is judged in full."""

    ids: Sequence[str]
    lat: np.ndarray
    lon: np.ndarray
    day: np.ndarray  # days since the epoch, as bench.fields counts them

    @classmethod
    def build(cls, truth: Truth) -> "EventTable":
        events = truth.of_kind("event")
        addr = [truth.entities[e["address"]] for e in events]
        return cls(tuple(e["id"] for e in events), np.array([a["lat"] for a in addr], float),
                   np.array([a["lon"] for a in addr], float), np.array([days(e["date"]) for e in events], np.int64))
