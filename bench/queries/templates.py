"""Query templates: sample targets from a corpus with a seed and phrase a need for each as an
analyst would know it: from the true details, or from the way one record wrote them down.
A template is one function in TEMPLATES; its params are validated by its own small model."""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter
from typing import Callable, Literal

from pydantic import BaseModel, ConfigDict, Field

from bench.queries.judge import association_targets
from bench.queries.model import (AssociationCriteria, EventCriteria, LocationCriteria, Need,
                                 PersonCriteria, PhoneCriteria, Point, VehicleCriteria)
from bench.queries.truth import TruthIndex


class TemplateError(ValueError):
    """Raised with the params field at fault; the instantiator adds file and line."""

    def __init__(self, field: str, message: str):
        self.field = field
        super().__init__(message)


class Params(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PersonParams(Params):
    strata: dict[Literal["common", "middling", "rare"], float] = {"common": 1, "middling": 1, "rare": 1}
    phrasing: dict[Literal["true_details", "as_written"], float] = {"true_details": 1, "as_written": 1}
    with_dob: bool = True
    dob_tolerance_days: int = Field(0, ge=0, le=3660)
    min_records: int = Field(2, ge=1)


class Context:
    """What a template may use: the truth (to sample targets) and the written records (to
    phrase a need as one record wrote it)."""

    def __init__(self, truth: TruthIndex, records: dict[str, dict], rng: random.Random):
        self.truth, self.records, self.rng = truth, records, rng
        people = truth.of_kind("person")
        freq = Counter(p["surname"] for p in people)
        ranked = sorted(people, key=lambda p: (-freq[p["surname"]], p["id"]))
        third = max(1, len(ranked) // 3)
        self.stratum = {p["id"]: ("common" if i < third else "middling" if i < 2 * third else "rare")
                        for i, p in enumerate(ranked)}

    def written_person(self, pid: str) -> dict:
        """How one of the person's records wrote them: one that gives a name where any does (a
        need is phrased with a name, and an imported row may give none)."""
        written = [next(x for x in self.records[m.rid]["people"] if x["mid"] == m.mid)
                   for m in self.truth.mentions[pid]]
        return self.rng.choice([w for w in written if w["forename"] or w["surname"]] or written)

    def pick(self, pool: list, count: int, what: str) -> list:
        if len(pool) < count:
            raise TemplateError("count", f"asks for {count} {what} but the corpus holds {len(pool)}")
        return self.rng.sample(pool, count)

    def weighted_pick(self, weights: dict[str, float]) -> str:
        keys = sorted(weights)
        return self.rng.choices(keys, [weights[k] for k in keys])[0]


def _recorded_events(ctx: Context) -> list[dict]:
    return [e for e in ctx.truth.of_kind("event") if ctx.truth.event_records.get(e["id"])]


def _eligible_people(ctx: Context, min_records: int) -> list[dict]:
    """People with enough records and a name to ask for them by (an imported person may have none)."""
    return [p for p in ctx.truth.of_kind("person")
            if ctx.truth.record_count(p["id"]) >= min_records and (p["forename"] or p["surname"])]


def _true_dob(p: dict) -> dt.date | None:
    """A true person's date of birth; None where no record of an imported person gave one."""
    return dt.date.fromisoformat(p["dob"]) if p.get("dob") else None


def _phrase_person(ctx: Context, p: dict, prm: PersonParams, phrasing: str) -> PersonCriteria:
    w = ctx.written_person(p["id"]) if phrasing == "as_written" else {}
    if w.get("forename") or w.get("surname"):
        fore, sur = w["forename"] or None, w["surname"] or None
        dob = dt.date.fromisoformat(w["dob"]) if w["dob"] else None
    else:  # true details, or no record of the person wrote a name
        fore, sur, dob = p["forename"] or None, p["surname"] or None, _true_dob(p)
    if not prm.with_dob:
        dob = None
    return PersonCriteria(forename=fore, surname=sur, dob=dob,
                          dob_tolerance_days=prm.dob_tolerance_days if dob else 0)


def person_name_dob(ctx: Context, n: int, prm: PersonParams, prefix: str) -> list[Need]:
    """People by name (and date of birth), spread over common, middling and rare surnames."""
    pool = _eligible_people(ctx, prm.min_records)
    by_stratum: dict[str, list[dict]] = {}
    for p in pool:
        by_stratum.setdefault(ctx.stratum[p["id"]], []).append(p)
    chosen: list[dict] = []
    seen: set[str] = set()
    if len(pool) < n:
        raise TemplateError("count", f"asks for {n} people but the corpus has {len(pool)} with "
                                     f"at least {prm.min_records} records")
    while len(chosen) < n:
        group = by_stratum.get(ctx.weighted_pick(prm.strata)) or pool
        p = ctx.rng.choice(group)
        if p["id"] not in seen:
            seen.add(p["id"])
            chosen.append(p)
    out = []
    for i, p in enumerate(chosen):
        phrasing = ctx.weighted_pick(prm.phrasing)
        crit = _phrase_person(ctx, p, prm, phrasing)
        what = "name and date of birth" if crit.dob else "name"
        out.append(Need(id=f"{prefix}-{i + 1:03d}", kind="person", targets=(p["id"],), person=crit,
                        description=f"Find every record of a {ctx.stratum[p['id']]}-surname person "
                                    f"known by {what} ({'true details' if phrasing == 'true_details' else 'as one record wrote it'})."))
    return out


class AliasParams(Params):
    min_records: int = Field(2, ge=1)


def person_alias(ctx: Context, n: int, prm: AliasParams, prefix: str) -> list[Need]:
    """People the analyst knows only by an alias or street name."""
    pool = [p for p in _eligible_people(ctx, prm.min_records) if p.get("alias") or p.get("moniker")]
    out = []
    for i, p in enumerate(ctx.pick(pool, n, "people with an alias or street name")):
        if p.get("alias"):
            crit = PersonCriteria(forename=p["alias"][0], surname=p["alias"][1])
            how = "an alias"
        else:
            crit = PersonCriteria(alias=p["moniker"], surname=p["surname"])
            how = "a street name and surname"
        out.append(Need(id=f"{prefix}-{i + 1:03d}", kind="person", targets=(p["id"],), person=crit,
                        description=f"Find the records of a person known to the analyst by {how}."))
    return out


class VehicleParams(Params):
    partial: dict[Literal["full", "prefix", "suffix"], float] = {"full": 1, "prefix": 1, "suffix": 1}
    min_records: int = Field(2, ge=1)


def vehicle_vrm(ctx: Context, n: int, prm: VehicleParams, prefix: str) -> list[Need]:
    """Vehicles by registration mark, in full or as a witness's partial mark."""
    pool = [v for v in ctx.truth.of_kind("vehicle") if ctx.truth.record_count(v["id"]) >= prm.min_records]
    out = []
    for i, v in enumerate(ctx.pick(pool, n, "vehicles with enough records")):
        form = ctx.weighted_pick(prm.partial)
        compact = v["vrm"].replace(" ", "")
        vrm = {"full": v["vrm"], "prefix": compact[:4] + "*", "suffix": "*" + compact[-3:]}[form]
        out.append(Need(id=f"{prefix}-{i + 1:03d}", kind="vehicle", targets=(v["id"],),
                        vehicle=VehicleCriteria(vrm=vrm, colour=v["colour"] if form != "full" else None),
                        description=f"Find records of a {v['colour']} vehicle from a {form} registration mark."))
    return out


class PhoneParams(Params):
    partial: dict[Literal["full", "last6"], float] = {"full": 1, "last6": 1}


def phone_number(ctx: Context, n: int, prm: PhoneParams, prefix: str) -> list[Need]:
    """Phones by number, in full or only the last six digits (as read off a screen)."""
    pool = [t for t in ctx.truth.of_kind("phone") if ctx.truth.record_count(t["id"])]
    out = []
    for i, t in enumerate(ctx.pick(pool, n, "phones with records")):
        form = ctx.weighted_pick(prm.partial)
        num = t["number"] if form == "full" else "*" + t["number"][-6:]
        out.append(Need(id=f"{prefix}-{i + 1:03d}", kind="phone", targets=(t["id"],),
                        phone=PhoneCriteria(number=num),
                        description=f"Find records of a mobile phone from its {form} number."))
    return out


class LocationParams(Params):
    radius_m: float = Field(400, gt=0, le=20_000)
    window_days: int = Field(14, ge=0, le=3650)
    by: Literal["point", "postcode_district"] = "point"
    with_type: bool = True


def location_window(ctx: Context, n: int, prm: LocationParams, prefix: str) -> list[Need]:
    """Events near a true incident's place within a date window (a series of crimes)."""
    events = ctx.pick(_recorded_events(ctx), n, "recorded events")
    out = []
    for i, ev in enumerate(events):
        a = ctx.truth.entities[ev["address"]]
        d = dt.date.fromisoformat(ev["date"])
        w = dt.timedelta(days=prm.window_days)
        loc = (LocationCriteria(point=Point(lat=a["lat"], lon=a["lon"]), radius_m=prm.radius_m)
               if prm.by == "point" else LocationCriteria(district=a["postcode"].split()[0]))
        evc = EventCriteria(types=(ev["type"],) if prm.with_type else (), date_from=d - w, date_to=d + w)
        where = f"within {prm.radius_m:.0f} m of a point" if prm.by == "point" else "in a postcode district"
        out.append(Need(id=f"{prefix}-{i + 1:03d}", kind="location", location=loc, event=evc,
                        description=f"Find {ev['type'].replace('_', ' ') if prm.with_type else 'all'} "
                                    f"incidents {where} within ±{prm.window_days} days."))
    return out


class MoParams(Params):
    window_days: int = Field(90, ge=0, le=3650)


def mo_terms(ctx: Context, n: int, prm: MoParams, prefix: str) -> list[Need]:
    """Incidents of a type with a modus operandi, in a date window."""
    out = []
    for i, ev in enumerate(ctx.pick(_recorded_events(ctx), n, "recorded events")):
        d = dt.date.fromisoformat(ev["date"])
        w = dt.timedelta(days=prm.window_days)
        term = ctx.rng.choice(ev["mo"])
        out.append(Need(id=f"{prefix}-{i + 1:03d}", kind="event",
                        event=EventCriteria(types=(ev["type"],), terms=(term,), date_from=d - w, date_to=d + w),
                        description=f"Find {ev['type'].replace('_', ' ')} incidents with MO '{term}' "
                                    f"within ±{prm.window_days} days."))
    return out


class AssocParams(Params):
    hops: int = Field(1, ge=1, le=3)
    include: Literal["people", "vehicles", "phones", "addresses"] = "people"


def associates(ctx: Context, n: int, prm: AssocParams, prefix: str) -> list[Need]:
    """The associates of a known person (who they offend with, up to `hops` ties away), or what
    those associates hold; targets as the judge resolves them for that one person."""
    def targets(p: dict) -> tuple[str, ...]:
        return association_targets(ctx.truth, [p["id"]], prm.hops, prm.include)
    pool = [p for p in _eligible_people(ctx, 2) if p["associates"]
            and any(ctx.truth.mentions.get(t) for t in targets(p))]
    what = "people" if prm.include == "people" else f"{prm.include} of the people"
    out = []
    for i, p in enumerate(ctx.pick(pool, n, f"people whose associates' {prm.include} are recorded")):
        of = PersonCriteria(forename=p["forename"], surname=p["surname"], dob=_true_dob(p))
        out.append(Need(id=f"{prefix}-{i + 1:03d}", kind="association", targets=targets(p),
                        association=AssociationCriteria(of=of, hops=prm.hops, include=prm.include),
                        description=f"Find the records of the {what} a known person offends with "
                                    f"({prm.hops} hop{'s' if prm.hops > 1 else ''})."))
    return out


class SarParams(Params):
    strata: dict[Literal["common", "middling", "rare"], float] = {"common": 1, "middling": 1, "rare": 1}


def sar_need(p: dict, truth: TruthIndex, need_id: str, why: str = "") -> Need:
    """A subject access request for a true person, from what a requester supplies: full name,
    any alias, date of birth and address."""
    alias = " ".join(p["alias"]) if p.get("alias") else None
    addr = truth.entities.get(p.get("address") or "")
    return Need(id=need_id, kind="sar", subject_access=True, targets=(p["id"],),
                person=PersonCriteria(forename=p["forename"] or None, surname=p["surname"],
                                      dob=_true_dob(p), alias=alias),
                addresses=(f"{addr['address']}, {addr['postcode']}",) if addr else (),
                description=f"Subject access request{f' ({why})' if why else ''}: every record held about the requester.")


def subject_access(ctx: Context, n: int, prm: SarParams, prefix: str) -> list[Need]:
    """A subject access request: every record about one person, from what the requester supplies."""
    pool = _eligible_people(ctx, 1)
    return [sar_need(p, ctx.truth, f"{prefix}-{i + 1:03d}") for i, p in enumerate(ctx.pick(pool, n, "people"))]


TEMPLATES: dict[str, tuple[Callable, type[Params]]] = {
    "person_name_dob": (person_name_dob, PersonParams),
    "person_alias": (person_alias, AliasParams),
    "vehicle_vrm": (vehicle_vrm, VehicleParams),
    "phone_number": (phone_number, PhoneParams),
    "location_window": (location_window, LocationParams),
    "mo_terms": (mo_terms, MoParams),
    "associates": (associates, AssocParams),
    "subject_access": (subject_access, SarParams),
}
