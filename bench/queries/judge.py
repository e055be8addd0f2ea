"""Relevance from truth: a record is relevant when it truly concerns what the need describes,
however badly it was written down. Reads the truth only, never a record's written fields."""

from __future__ import annotations

import datetime as dt
import fnmatch

import numpy as np

from bench.fields import days, words
from bench.geo import distances_m, haversine_m
from bench.queries.model import EventCriteria, LocationCriteria, Need, PersonCriteria
from bench.queries.truth import Truth, norm_name as _norm

REFERENCE_DATE = dt.date(2024, 7, 1)  # ages are computed as at this date, as the generator does


def person_matches(p: dict, c: PersonCriteria) -> bool:
    """Does a *true* person fit the criteria exactly (true name or alias, true DOB)?"""
    names = [(p["forename"], p["surname"])]
    if p.get("alias"):
        names.append(tuple(p["alias"]))
    def name_ok(f: str, s: str) -> bool:
        return ((not c.forename or _norm(c.forename) == _norm(f))
                and (not c.surname or _norm(c.surname) == _norm(s)))
    if (c.forename or c.surname) and not any(name_ok(f, s) for f, s in names):
        return False
    if c.alias and _norm(c.alias) not in {_norm(" ".join(n)) for n in names[1:]} | (
            {_norm(p["moniker"])} if p.get("moniker") else set()):
        return False
    if not p.get("dob"):  # an imported person whom no record gave a date of birth fits no date criterion
        if c.dob or c.dob_from or c.dob_to or c.age_min is not None or c.age_max is not None:
            return False
        return not c.sex or c.sex == p["sex"]
    dob = dt.date.fromisoformat(p["dob"])
    if c.dob and abs((dob - c.dob).days) > c.dob_tolerance_days:
        return False
    if (c.dob_from and dob < c.dob_from) or (c.dob_to and dob > c.dob_to):
        return False
    age = (REFERENCE_DATE - dob).days // 365.25
    if (c.age_min is not None and age < c.age_min) or (c.age_max is not None and age > c.age_max):
        return False
    return not c.sex or c.sex == p["sex"]


def people_matching(truth: Truth, c: PersonCriteria) -> list[str]:
    """The ids of the true people who fit the criteria, in corpus order."""
    return [e["id"] for e in truth.person_candidates(c.forename, c.surname) if person_matches(e, c)]


def on_street(address: str, street: str) -> bool:
    """The street's words run, whole and in order, through the address ('Ann Road' is not in
    '4 Joann Road', which a letter-level test said it was and no word search would find)."""
    want, have = words(street), words(address)
    return bool(want) and any(have[i:i + len(want)] == want for i in range(len(have) - len(want) + 1))


def vrm_matches(vrm: str, pattern: str) -> bool:
    return fnmatch.fnmatchcase(vrm.replace(" ", "").upper(), pattern.replace(" ", "").upper())


def _event_ok(ev: dict, addr: dict, loc: LocationCriteria | None, evc: EventCriteria | None) -> bool:
    if loc:
        if loc.point and haversine_m(loc.point.lat, loc.point.lon, addr["lat"], addr["lon"]) > loc.radius_m:
            return False
        pc = addr["postcode"].replace(" ", "").upper()
        if loc.postcode and not fnmatch.fnmatchcase(pc, loc.postcode.replace(" ", "").upper()):
            return False
        if loc.district and addr["postcode"].split()[0].upper() != loc.district.upper():
            return False
        if loc.street and not on_street(addr["address"], loc.street):
            return False
    if evc:
        d = dt.date.fromisoformat(ev["date"])
        if (evc.date_from and d < evc.date_from) or (evc.date_to and d > evc.date_to):
            return False
        if evc.types and ev["type"] not in evc.types:
            return False
        if evc.terms and not all(t.lower() in {m.lower() for m in ev["mo"]} for t in evc.terms):
            return False
    return True


def _candidate_events(truth: Truth, loc: LocationCriteria | None, evc: EventCriteria | None) -> list[str]:
    """The events that may pass _event_ok, by vector tests on place and day; each is then
    judged in full, so the radius test here only needs to keep every event it might pass."""
    t = truth.events
    keep = np.ones(len(t.ids), bool)
    if loc and loc.point:  # with a metre to spare: the array form may round differently
        keep &= distances_m(loc.point.lat, loc.point.lon, t.lat, t.lon) <= loc.radius_m + 1.0
    if evc and evc.date_from:
        keep &= t.day >= days(evc.date_from)
    if evc and evc.date_to:
        keep &= t.day <= days(evc.date_to)
    return [t.ids[i] for i in np.flatnonzero(keep)]


def within_hops(truth: Truth, people: list[str], hops: int) -> set[str]:
    """The people up to `hops` true ties away from any of `people`, not those people."""
    seen, frontier = set(people), set(people)
    for _ in range(hops):
        frontier = {a for p in frontier for a in truth.entities[p]["associates"]} - seen
        seen |= frontier
    return seen - set(people)


def unrecorded_targets(need: Need, truth: Truth) -> set[str]:
    """The targets of an association need that no chain of records links to the person within
    its hops: associates never written in a record with the chain before them, or objects none of
    whose holders is so linked. Their records are relevant, and no link search can reach them."""
    a = need.association
    if not a:
        return set()
    people = people_matching(truth, a.of)
    seen, frontier = set(people), set(people)
    for _ in range(a.hops):
        frontier = {b for p in frontier for b in truth.recorded_ties.get(p, ())} - seen
        seen |= frontier
    linked = seen - set(people)
    targets = set(need.targets or association_targets(truth, people, a.hops, a.include))
    if a.include == "people":
        return targets - linked
    key = "address" if a.include == "addresses" else a.include
    reached = set()
    for p in linked & within_hops(truth, people, a.hops):
        held = truth.entities[p][key]
        reached |= {held} if isinstance(held, str) else set(held)
    return targets - reached


def association_targets(truth: Truth, people: list[str], hops: int, include: str) -> tuple[str, ...]:
    """What an association need is about: the associates themselves, or their vehicles, phones or
    home addresses (never the person's own, unless an associate holds them too)."""
    near = sorted(within_hops(truth, people, hops))
    if include == "people":
        return tuple(near)
    if include == "addresses":
        held = {truth.entities[p]["address"] for p in near}
    else:
        held = {x for p in near for x in truth.entities[p][include]}
    return tuple(sorted(held))


def resolve_targets(need: Need, truth: Truth) -> tuple[str, ...]:
    """The true entities a need is about: named by a template, or every true entity that fits."""
    if need.targets:
        return need.targets
    if need.association:
        a = need.association
        people = people_matching(truth, a.of)
        return association_targets(truth, people, a.hops, a.include)
    out: list[str] = []
    if need.person:
        out += people_matching(truth, need.person)
    if need.vehicle:
        v = need.vehicle
        out += [e["id"] for e in truth.of_kind("vehicle")
                if (not v.vrm or vrm_matches(e["vrm"], v.vrm))
                and (not v.make or v.make.lower() == e["make"].lower())
                and (not v.colour or v.colour.lower() == e["colour"].lower())]
    if need.phone:
        pat = need.phone.number.replace(" ", "")
        out += [e["id"] for e in truth.of_kind("phone") if fnmatch.fnmatchcase(e["number"], pat)]
    return tuple(out)


def judge(need: Need, truth: Truth) -> dict[str, int]:
    """rid -> grade (1 relevant, 2 the target is the record's main subject) for one need."""
    entity_need = any((need.person, need.vehicle, need.phone, need.association))
    rel: dict[str, int] = {}
    if entity_need:
        for t in resolve_targets(need, truth):
            for rid, g in truth.records_of(t).items():
                rel[rid] = max(rel.get(rid, 0), g)
    if need.location or need.event:
        keep = {}
        events = ({truth.record_event[r] for r in rel} if entity_need
                  else _candidate_events(truth, need.location, need.event))
        for eid in events:
            ev = truth.entities[eid]
            if _event_ok(ev, truth.entities[ev["address"]], need.location, need.event):
                for rid in truth.event_records[eid]:
                    if not entity_need:
                        keep[rid] = 1
                    elif rid in rel:
                        keep[rid] = rel[rid]
        rel = keep
    return rel
