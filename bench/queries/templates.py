"""Query templates: sample targets from a corpus with a seed and phrase a need for each as an
analyst would know it: from the true details, or from the way one record wrote them down.
A template is one function in TEMPLATES; its params are validated by its own small model."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Mapping
from typing import Callable, Literal

from pydantic import BaseModel, ConfigDict, Field

from bench.queries.judge import association_targets
from bench.queries.model import (AssociationCriteria, EventCriteria, LocationCriteria, Need,
                                 PersonCriteria, PhoneCriteria, Point, VehicleCriteria)
from bench.corpus.corrupt import nicknames_of
from bench.fields import swapped
from bench.queries.judge import REFERENCE_DATE
from bench.queries.truth import Truth


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

    def __init__(self, truth: Truth, records: Mapping[str, dict], rng: random.Random):
        self.truth, self.records, self.rng = truth, records, rng
        self.stratum = truth.strata

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
    return ctx.truth.recorded_events()


def _eligible_people(ctx: Context, min_records: int) -> list[dict]:
    """People with enough records and a name to ask for them by (an imported person may have none)."""
    return ctx.truth.eligible_people(min_records)


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


class MinRecordsParams(Params):
    """Only how many records a target must have (a need about one record says little about search)."""

    min_records: int = Field(2, ge=1)


def _person_needs(ctx: Context, n: int, pool: list[dict], what: str, prefix: str,
                  phrase: Callable[[dict], tuple[PersonCriteria, str]]) -> list[Need]:
    """N people sampled from a pool, each phrased as (criteria, description)."""
    out = []
    for i, p in enumerate(ctx.pick(pool, n, what)):
        crit, description = phrase(p)
        out.append(Need(id=f"{prefix}-{i + 1:03d}", kind="person", targets=(p["id"],), person=crit,
                        description=description))
    return out


def person_alias(ctx: Context, n: int, prm: MinRecordsParams, prefix: str) -> list[Need]:
    """People the analyst knows only by an alias or street name."""
    def phrase(p: dict) -> tuple[PersonCriteria, str]:
        if p.get("alias"):
            return (PersonCriteria(forename=p["alias"][0], surname=p["alias"][1]),
                    "Find the records of a person known to the analyst by an alias.")
        return (PersonCriteria(alias=p["moniker"], surname=p["surname"]),
                "Find the records of a person known to the analyst by a street name and surname.")
    pool = [p for p in _eligible_people(ctx, prm.min_records) if p.get("alias") or p.get("moniker")]
    return _person_needs(ctx, n, pool, "people with an alias or street name", prefix, phrase)


class NicknameParams(Params):
    dob_tolerance_days: int = Field(366, ge=0, le=3660, description="'born about' a year: the middle of the "
                                                                   "true year of birth, give or take this")
    min_records: int = Field(2, ge=1)


def person_nickname(ctx: Context, n: int, prm: NicknameParams, prefix: str) -> list[Need]:
    """A person the analyst knows by a nickname of their forename and a year of birth: "Billy
    Jones, born about 1990", where every record may say William."""
    def phrase(p: dict) -> tuple[PersonCriteria, str]:
        about = _true_dob(p).replace(month=7, day=1)
        return (PersonCriteria(forename=ctx.rng.choice(nicknames_of(p["forename"])), surname=p["surname"],
                               dob=about, dob_tolerance_days=prm.dob_tolerance_days),
                f"Find the records of a person known to the analyst only by a nickname and surname, "
                f"born about {about.year}.")
    pool = [p for p in _eligible_people(ctx, prm.min_records)
            if p["forename"] and p["surname"] and p.get("dob") and nicknames_of(p["forename"])]
    return _person_needs(ctx, n, pool, "people whose forename has a nickname", prefix, phrase)


def person_dob_swapped(ctx: Context, n: int, prm: MinRecordsParams, prefix: str) -> list[Need]:
    """A person known by their true name and a date of birth with day and month swapped (the
    analyst read 04/03 as 3 April): found only where a search folds the transposition."""
    def phrase(p: dict) -> tuple[PersonCriteria, str]:
        return (PersonCriteria(forename=p["forename"], surname=p["surname"], dob=swapped(_true_dob(p))),
                "Find the records of a person known by name and a date of birth written with day and month swapped.")
    pool = [p for p in _eligible_people(ctx, prm.min_records)
            if p["forename"] and p["surname"] and p.get("dob") and swapped(_true_dob(p))]
    return _person_needs(ctx, n, pool, "people with a date of birth whose day and month can be swapped", prefix, phrase)


class PartialNameParams(Params):
    forename_letters: int = Field(1, ge=1, le=5)
    surname_letters: int = Field(3, ge=1, le=8)
    min_records: int = Field(2, ge=1)


def person_partial_name(ctx: Context, n: int, prm: PartialNameParams, prefix: str) -> list[Need]:
    """A person known by the first letters of their names and their date of birth ("J* Smi*, born
    4 March 1985"), from a half-legible note or a caller's spelling."""
    def phrase(p: dict) -> tuple[PersonCriteria, str]:
        return (PersonCriteria(forename=p["forename"][: prm.forename_letters] + "*",
                               surname=p["surname"][: prm.surname_letters] + "*", dob=_true_dob(p)),
                "Find the records of a person known by the first letters of their names and their date of birth.")
    pool = [p for p in _eligible_people(ctx, prm.min_records)
            if len(p["forename"] or "") > prm.forename_letters and len(p["surname"] or "") > prm.surname_letters
            and p.get("dob")]
    return _person_needs(ctx, n, pool, "people with names longer than the letters kept", prefix, phrase)


class DescriptionParams(Params):
    age_band: int = Field(5, ge=1, le=30, description="years either side of the true age")
    min_records: int = Field(2, ge=1)


def person_description(ctx: Context, n: int, prm: DescriptionParams, prefix: str) -> list[Need]:
    """A person known by surname, sex and an age band ("a man of about 35 called Jones"), as a
    witness describes a suspect."""
    def phrase(p: dict) -> tuple[PersonCriteria, str]:
        age = int((REFERENCE_DATE - _true_dob(p)).days // 365.25)
        return (PersonCriteria(surname=p["surname"], sex=p["sex"], age_min=max(0, age - prm.age_band),
                               age_max=min(120, age + prm.age_band)),
                f"Find the records of a {'man' if p['sex'] == 'M' else 'woman'} known by surname and an age "
                f"of about {age}.")
    pool = [p for p in _eligible_people(ctx, prm.min_records) if p["surname"] and p.get("dob") and p.get("sex")]
    return _person_needs(ctx, n, pool, "people with a surname, sex and date of birth", prefix, phrase)


class VehicleParams(Params):
    partial: dict[Literal["full", "prefix", "suffix"], float] = {"full": 1, "prefix": 1, "suffix": 1}
    min_records: int = Field(2, ge=1)


def vehicle_vrm(ctx: Context, n: int, prm: VehicleParams, prefix: str) -> list[Need]:
    """Vehicles by registration mark, in full or as a witness's partial mark."""
    pool = ctx.truth.with_records("vehicle", prm.min_records)
    out = []
    for i, v in enumerate(ctx.pick(pool, n, "vehicles with enough records")):
        form = ctx.weighted_pick(prm.partial)
        compact = v["vrm"].replace(" ", "")
        vrm = {"full": v["vrm"], "prefix": compact[:4] + "*", "suffix": "*" + compact[-3:]}[form]
        out.append(Need(id=f"{prefix}-{i + 1:03d}", kind="vehicle", targets=(v["id"],),
                        vehicle=VehicleCriteria(vrm=vrm, colour=v["colour"] if form != "full" else None),
                        description=f"Find records of a {v['colour']} vehicle from a {form} registration mark."))
    return out


class MisreadParams(Params):
    misread_share: float = Field(0.5, ge=0, le=1, description="share of marks with one visible character "
                                                               "written as its look-alike (0/O, 1/I, 8/B, 5/S, 2/Z)")
    min_records: int = Field(2, ge=1)


LOOK_ALIKE = {"0": "O", "O": "0", "1": "I", "I": "1", "8": "B", "B": "8", "5": "S", "S": "5", "2": "Z", "Z": "2"}


def vehicle_misread(ctx: Context, n: int, prm: MisreadParams, prefix: str) -> list[Need]:
    """A witness's mark with the middle unread ("LK?? ?BC") and, for some, one character read as
    its look-alike (an O for a 0), with the make and colour."""
    pool = ctx.truth.with_records("vehicle", prm.min_records)
    out = []
    for i, v in enumerate(ctx.pick(pool, n, "vehicles with enough records")):
        chars = list(v["vrm"])
        places = [j for j, ch in enumerate(chars) if ch != " "]
        for j in places[2:-2]:  # the first two and last two characters seen, the rest not
            chars[j] = "?"
        seen = [j for j in places[:2] + places[-2:] if chars[j] in LOOK_ALIKE]
        misread = bool(seen) and ctx.rng.random() < prm.misread_share
        if misread:
            j = ctx.rng.choice(seen)
            chars[j] = LOOK_ALIKE[chars[j]]
        mark = "".join(chars)
        out.append(Need(id=f"{prefix}-{i + 1:03d}", kind="vehicle", targets=(v["id"],),
                        vehicle=VehicleCriteria(vrm=mark, make=v["make"], colour=v["colour"]),
                        description=f"Find records of a {v['colour']} {v['make']} seen as '{mark}'"
                                    f"{' (one character possibly misread)' if misread else ''}."))
    return out


class PhoneParams(Params):
    partial: dict[Literal["full", "last6"], float] = {"full": 1, "last6": 1}


def phone_number(ctx: Context, n: int, prm: PhoneParams, prefix: str) -> list[Need]:
    """Phones by number, in full or only the last six digits (as read off a screen)."""
    pool = ctx.truth.with_records("phone", 1)
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
    by: Literal["point", "postcode_district", "postcode", "postcode_sector", "street"] = "point"
    with_type: bool = True


def _place(a: dict, prm: LocationParams) -> tuple[LocationCriteria, str]:
    """The incident's place as the analyst knows it, and how that reads in a description."""
    pc = a["postcode"]
    if prm.by == "point":
        return (LocationCriteria(point=Point(lat=a["lat"], lon=a["lon"]), radius_m=prm.radius_m),
                f"within {prm.radius_m:.0f} m of a point")
    if prm.by == "postcode":
        return LocationCriteria(postcode=pc), "at a postcode"
    if prm.by == "postcode_sector":  # NW1 2AB -> NW1 2*: the sector, as a caller half-remembers it
        return LocationCriteria(postcode=pc.split()[0] + " " + pc.split()[1][:1] + "*"), "in a postcode sector"
    if prm.by == "street":
        return LocationCriteria(street=_street(a["address"])), "in a street"
    return LocationCriteria(district=pc.split()[0]), "in a postcode district"


def _street(address: str) -> str:
    """'12 Camden Road' -> 'Camden Road': the street without its house number."""
    words = address.split()
    return " ".join(words[1:]) if len(words) > 1 and any(ch.isdigit() for ch in words[0]) else address


def location_window(ctx: Context, n: int, prm: LocationParams, prefix: str) -> list[Need]:
    """Events near a true incident's place within a date window (a series of crimes)."""
    events = ctx.pick(_recorded_events(ctx), n, "recorded events")
    out = []
    for i, ev in enumerate(events):
        a = ctx.truth.entities[ev["address"]]
        d = dt.date.fromisoformat(ev["date"])
        w = dt.timedelta(days=prm.window_days)
        loc, where = _place(a, prm)
        evc = EventCriteria(types=(ev["type"],) if prm.with_type else (), date_from=d - w, date_to=d + w)
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
            and any(ctx.truth.record_count(t) for t in targets(p))]
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


def sar_need(p: dict, truth: Truth, need_id: str, why: str = "") -> Need:
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
    "person_alias": (person_alias, MinRecordsParams),
    "person_nickname": (person_nickname, NicknameParams),
    "person_dob_swapped": (person_dob_swapped, MinRecordsParams),
    "person_partial_name": (person_partial_name, PartialNameParams),
    "person_description": (person_description, DescriptionParams),
    "vehicle_vrm": (vehicle_vrm, VehicleParams),
    "vehicle_misread": (vehicle_misread, MisreadParams),
    "phone_number": (phone_number, PhoneParams),
    "location_window": (location_window, LocationParams),
    "mo_terms": (mo_terms, MoParams),
    "associates": (associates, AssocParams),
    "subject_access": (subject_access, SarParams),
}
