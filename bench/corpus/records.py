"""Source systems write the true world down: each record carries mentions of true entities as
a clerk wrote them, with corruptions drawn at the system's rates, and a truth entry per mention."""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter
from functools import lru_cache
from typing import Any, Callable

from bench.corpus import corrupt, vocab
from bench.corpus.spec import Corruption
from bench.corpus.world import Address, Event, Person, World

_ELIGIBLE = corrupt.ELIGIBLE


RECORD_TYPES = {"intel": "intelligence_report", "crime": "crime_report", "custody": "custody_record",
                "stop_search": "stop_and_search", "property": "property_record"}


MO_WRITTEN_BY = ("intel", "crime")  # the narratives that give the modus operandi (see _narrative)
# Days from an event to its record, at most (the record date is drawn uniformly up to it).
LAG_DAYS = {"custody": 1, "crime": 3, "intel": 30, "stop_search": 0, "property": 10}


@lru_cache(maxsize=None)
def _iso(ordinal: int) -> str:
    """A day's ISO date (a corpus spans a few thousand days; each is formatted once)."""
    return dt.date.fromordinal(ordinal).isoformat()


class Tally:
    """Per source system and kind: mentions where the kind could apply, where it did, and
    where a later kind then overwrote it (so the text as written no longer shows it)."""

    def __init__(self) -> None:
        self.eligible: Counter = Counter()
        self.applied: Counter = Counter()
        self.hidden: Counter = Counter()

    def merge(self, other: "Tally") -> None:
        self.eligible.update(other.eligible)
        self.applied.update(other.applied)
        self.hidden.update(other.hidden)


class Clerk:
    """Writes mentions for one source system, applying its corruption rates.

    Every kind is tried on every mention it could apply to with one draw (so the stream of draws
    does not depend on which kinds happen to apply); the corruptor itself runs only when the
    draw hits. Each kind's attempt is a closure made once per clerk, holding its rate, its
    corruptor and its tally keys: about twenty attempts are made per record, and looking these
    up on every attempt was most of the cost of generating a corpus."""

    def __init__(self, source: str, rates: Corruption, rng: random.Random, tally: Tally):
        self.source, self.rates, self.rng, self.tally = source, rates.model_dump(), rng, tally
        self.random = rng.random
        fixed = {"alias": None, "name_swap": None, "dob_missing": None, "missing_field": None,
                 "event_date_missing": None}
        fns = {"typo": corrupt.typo, "phonetic": corrupt.phonetic, "nickname": corrupt.nickname,
               "initials": corrupt.initials, "hyphen_variant": corrupt.hyphen_variant,
               "dob_transposed": corrupt.dob_transposed, "dob_off_year": corrupt.dob_off_year,
               "vrm_partial": corrupt.vrm_partial, "vrm_misread": corrupt.vrm_misread,
               "postcode_variant": corrupt.postcode_variant, "event_date_off": corrupt.event_date_off}
        self.attempt = {k: self._attempt(k, fn) for k, fn in fns.items()}
        self.hits = {k: self._hit(k) for k in fixed}

    def _attempt(self, kind: str, fn: Callable) -> Callable[[Any, list[str]], Any]:
        """value, kinds -> the value as written: corrupted by `fn` when the draw hits (and the
        kind then appended to `kinds`), else as it was."""
        rate, key, check = self.rates[kind], (self.source, kind), _ELIGIBLE.get(kind)
        rng, random, eligible, applied = self.rng, self.rng.random, self.tally.eligible, self.tally.applied

        def attempt(value: Any, kinds: list[str]) -> Any:
            u = random()
            if value is None or value == "" or (check is not None and not check(value)):
                return value
            eligible[key] += 1
            if u >= rate:
                return value
            out = fn(rng, value)
            if out is None:  # a rare value the corruptor could not change after all
                return value
            applied[key] += 1
            kinds.append(kind)
            return out
        return attempt

    def _hit(self, kind: str) -> Callable[[list[str]], bool]:
        """For kinds that apply to any value present and need no draw of their own (dropping a
        field, using the alias, swapping names): kinds -> whether the draw hit."""
        rate, key, random = self.rates[kind], (self.source, kind), self.rng.random
        eligible, applied = self.tally.eligible, self.tally.applied

        def hit(kinds: list[str]) -> bool:
            u = random()
            eligible[key] += 1
            if u >= rate:
                return False
            applied[key] += 1
            kinds.append(kind)
            return True
        return hit

    def _unlabel(self, kinds: list[str], *stale: str) -> None:
        """A later corruption overwrote what these did: the text as finally written no longer
        shows them: they are no longer labels, and are counted as hidden."""
        for kind in stale:
            if kind in kinds:
                kinds.remove(kind)
                self.tally.hidden[(self.source, kind)] += 1

    def person(self, p: Person) -> tuple[dict, list[str]]:
        kinds: list[str] = []
        attempt, hits = self.attempt, self.hits
        fore, sur = p.forename, p.surname
        if p.alias:
            if hits["alias"](kinds):
                fore, sur = p.alias
            if p.alias == (p.forename, p.surname):  # an alias drawn the same as the true name
                self._unlabel(kinds, "alias")
        pre_nick = fore
        fore = attempt["nickname"](fore, kinds)
        part = self.random() < 0.6  # phonetic/typo hit the surname 60% of the time
        steps: list[tuple[str, str]] = []  # (kind, the value before it) on the part they hit
        for kind in ("phonetic", "typo"):
            before = sur if part else fore
            after = attempt[kind](before, kinds)
            if after != before:
                steps.append((kind, before))
            if part:
                sur = after
            else:
                fore = after
        sur = attempt["hyphen_variant"](sur, kinds)
        if part and "hyphen_variant" in kinds:  # the half kept may not hold the earlier change
            self._unlabel(kinds, *(k for k, before in steps if sur in corrupt.hyphen_forms(before)))
        fore = attempt["initials"](fore, kinds)
        if "initials" in kinds:  # only the first letter is left, which spelling errors never touch
            if not part:
                self._unlabel(kinds, *(k for k, before in steps if before[:1].upper() == fore))
            if pre_nick[:1].upper() == fore:
                self._unlabel(kinds, "nickname")
        if hits["name_swap"](kinds):
            fore, sur = sur, fore
            if fore == sur:
                self._unlabel(kinds, "name_swap")
        dob = attempt["dob_transposed"](p.dob, kinds)
        dob = attempt["dob_off_year"](dob, kinds)
        if hits["dob_missing"](kinds):
            dob = None
            self._unlabel(kinds, "dob_transposed", "dob_off_year")
        if hits["missing_field"](kinds):
            return ({"forename": fore, "middle": "", "surname": sur,
                     "dob": dob.isoformat() if dob else None, "sex": None}, kinds)
        return ({"forename": fore, "middle": p.middle, "surname": sur,
                 "dob": dob.isoformat() if dob else None, "sex": p.sex}, kinds)

    def vehicle(self, vrm: str, make: str, model: str, colour: str) -> tuple[dict, list[str]]:
        kinds: list[str] = []
        true = vrm.replace(" ", "")
        vrm = self.attempt["vrm_misread"](vrm, kinds)
        vrm = self.attempt["vrm_partial"](vrm, kinds)
        if "vrm_partial" in kinds and true.startswith(vrm.replace(" ", "")):
            self._unlabel(kinds, "vrm_misread")  # the misread character was cut off
        if self.hits["missing_field"](kinds):
            make, model = "", ""
        return {"vrm": vrm, "make": make, "model": model, "colour": colour}, kinds

    def event_date(self, d: dt.date) -> tuple[str | None, list[str]]:
        """The date of the event as the record gives it, apart from the date it was written."""
        kinds: list[str] = []
        out = self.attempt["event_date_off"](d, kinds)
        if self.hits["event_date_missing"](kinds):
            self._unlabel(kinds, "event_date_off")
            return None, kinds
        return out.isoformat(), kinds

    def phone(self, number: str) -> tuple[dict, list[str]]:
        kinds: list[str] = []
        return {"number": self.attempt["typo"](number, kinds)}, kinds

    def address(self, a: Address) -> tuple[dict, list[str]]:
        kinds: list[str] = []
        pc = self.attempt["postcode_variant"](a.postcode, kinds)
        out = {"address": f"{a.number} {a.street}", "borough": a.borough, "postcode": pc,
               "lat": a.lat, "lon": a.lon}
        if self.hits["missing_field"](kinds):
            out["lat"] = out["lon"] = None
        return out, kinds


def _name(m: dict) -> str:
    return " ".join(x for x in (m["forename"], m["surname"]) if x)


class RecordWriter:
    """Makes one record (and its truth) for an event, in the shape of its source system."""

    def __init__(self, world: World, clerks: dict[str, Clerk], rng: random.Random):
        self.w, self.clerks, self.rng = world, clerks, rng

    def write(self, rid: str, source: str, event: Event) -> tuple[dict, dict]:
        clerk = self.clerks[source]
        rec: dict[str, Any] = {"rid": rid, "source": source, "type": RECORD_TYPES[source],
                               "synthetic": True}
        truth: dict[str, Any] = {"rid": rid, "event": event.id, "mentions": []}
        # Two dates, as police records hold them: when the record was written, and when the
        # event happened as the record gives it (with errors of its own).
        rec["date"] = _iso(event.date.toordinal() + self.rng.randrange(LAG_DAYS[source] + 1))
        rec["event_date"], record_kinds = clerk.event_date(event.date)
        people = self._people_for(source, event)
        rec["people"] = []
        for i, (pidx, role) in enumerate(people):
            person = self.w.person(pidx)
            m, kinds = clerk.person(person)
            rec["people"].append({"mid": f"p{i}", "role": role, **m})
            truth["mentions"].append({"mid": f"p{i}", "entity": person.id, "kinds": kinds})
        rec["vehicles"], rec["phones"] = [], []
        if event.vehicle is not None and source in ("intel", "crime", "stop_search", "property"):
            v = self.w.vehicle(event.vehicle)
            m, kinds = clerk.vehicle(v.vrm, v.make, v.model, v.colour)
            rec["vehicles"].append({"mid": "v0", **m})
            truth["mentions"].append({"mid": "v0", "entity": v.id, "kinds": kinds})
        if event.phone is not None and source in ("intel", "custody", "property"):
            m, kinds = clerk.phone(self.w.phone(event.phone))
            rec["phones"].append({"mid": "t0", **m})
            truth["mentions"].append({"mid": "t0", "entity": f"T{event.phone:07d}", "kinds": kinds})
        a = self.w.address(event.address)
        m, kinds = clerk.address(a)
        rec["locations"] = [{"mid": "l0", **m}]
        truth["mentions"].append({"mid": "l0", "entity": a.id, "kinds": kinds})
        rec["offence"] = event.type if source != "intel" or self.rng.random() < 0.7 else ""
        # Record-level facts the judge knows and a search may not see, labelled like corruptions.
        if not rec["offence"]:
            record_kinds.append("offence_missing")
        if source not in MO_WRITTEN_BY:
            record_kinds.append("mo_not_recorded")
        truth["record_kinds"] = record_kinds
        rec["objects"] = [{"kind": "weapon", "description": event.weapon}] if event.weapon else []
        rec["text"] = self._narrative(source, rec, event)
        if source == "intel":
            rec["grading"] = (self.rng.choice(vocab.GRADES_SOURCE) + self.rng.choice(vocab.GRADES_INTEL)
                              + self.rng.choice(vocab.GRADES_HANDLING))
        return rec, truth

    def _people_for(self, source: str, e: Event) -> list[tuple[int, str]]:
        if source == "custody":
            return [(self.rng.choice(e.people), "detained")]
        if source == "stop_search":
            return [(e.people[0], "stopped")] + [(p, "with") for p in e.people[1:2]]
        if source == "property":
            return [(e.people[0], "owner")]
        out = [(e.people[0], "subject" if source == "intel" else "suspect")]
        out += [(p, "associate" if source == "intel" else "suspect") for p in e.people[1:]]
        if e.victim is not None and source == "crime":
            out.append((e.victim, "victim"))
        return out

    def _narrative(self, source: str, rec: dict, e: Event) -> str:
        ppl = rec["people"]
        loc = rec["locations"][0]
        place = f"{loc['address']}, {loc['borough']} {loc['postcode']}"
        veh = rec["vehicles"][0] if rec["vehicles"] else None
        vtext = f" in a {veh['colour']} {veh['make']} {veh['model']} {veh['vrm']}".replace("  ", " ") if veh else ""
        mo = ", ".join(e.mo)
        first = _name(ppl[0])
        others = ", ".join(_name(p) for p in ppl[1:] if p["role"] != "victim")
        if source == "intel":
            moniker = self.w.person(e.people[0]).moniker
            aka = f" (known as {moniker})" if moniker and self.rng.random() < 0.5 else ""
            txt = f"Intelligence indicates {first}{aka} is involved in {e.type.replace('_', ' ')} ({mo}) around {place}."
            if others:
                txt += f" Associates seen with {others}."
            if veh:
                txt += f" Seen driving{vtext}."
            if rec["phones"]:
                txt += f" Uses phone {rec['phones'][0]['number']}."
            return txt
        if source == "crime":
            victim = next((_name(p) for p in ppl if p["role"] == "victim"), "unknown")
            txt = f"Report of {e.type.replace('_', ' ')} at {place}. MO: {mo}. Victim {victim}."
            txt += f" Suspect {first}" + (f" with {others}" if others else "") + f"{vtext}."
            return txt + (f" Weapon: {e.weapon}." if e.weapon else "")
        if source == "custody":
            return f"{first} detained for {e.type.replace('_', ' ')} following incident at {place}."
        if source == "stop_search":
            grounds = self.rng.choice(vocab.STOP_GROUNDS)
            outcome = self.rng.choice(vocab.STOP_OUTCOMES)
            return f"{first} stopped at {place}{vtext}. Grounds: {grounds}. Outcome: {outcome}."
        item = f"{veh['make']} {veh['model']} {veh['vrm']}" if veh else (e.weapon or "mobile phone")
        return f"Property: {item} linked to {first} at {place}."
