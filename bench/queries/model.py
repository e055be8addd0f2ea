"""Query sets: analyst information needs in neutral, engine-free terms (queries/<set>.yaml).

A need says what the analyst knows and wants; it says nothing about how an engine searches.
Relevance is never written here: it is judged from the corpus truth (see judge.py)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from bench.specio import NAME_MAX

NEED_KINDS = ("person", "vehicle", "phone", "location", "event", "association", "combined", "sar")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PersonCriteria(Strict):
    forename: str | None = None
    surname: str | None = None
    dob: dt.date | None = None
    dob_tolerance_days: int = Field(0, ge=0, le=3660)
    dob_from: dt.date | None = None
    dob_to: dt.date | None = None
    age_min: int | None = Field(None, ge=0, le=120)
    age_max: int | None = Field(None, ge=0, le=120)
    sex: Literal["M", "F"] | None = None
    alias: str | None = Field(None, description="another name the person is known by (alias or street name)")

    def dob_window(self, as_at: dt.date) -> tuple[dt.date | None, dt.date | None]:
        """The dates of birth a range or an age allows, as at a date (None: unbounded that side)."""
        lo, hi = self.dob_from, self.dob_to
        if self.age_max is not None:
            lo = max(lo or dt.date.min, as_at.replace(year=as_at.year - self.age_max - 1))
        if self.age_min is not None:
            hi = min(hi or dt.date.max, as_at.replace(year=as_at.year - self.age_min))
        return lo, hi

    @model_validator(mode="after")
    def _check(self) -> "PersonCriteria":
        if not any((self.forename, self.surname, self.alias)):
            raise ValueError("a person needs at least a forename, a surname or an alias")
        if self.dob_tolerance_days and not self.dob:
            raise ValueError("dob_tolerance_days needs a dob to be tolerant about")
        if self.dob_from and self.dob_to and self.dob_to < self.dob_from:
            raise ValueError("dob_to is before dob_from")
        if self.age_min is not None and self.age_max is not None and self.age_max < self.age_min:
            raise ValueError("age_max is below age_min")
        return self


class VehicleCriteria(Strict):
    vrm: str | None = Field(None, description="registration mark; * for any run, ? for one character")
    make: str | None = None
    colour: str | None = None

    @model_validator(mode="after")
    def _check(self) -> "VehicleCriteria":
        if not any((self.vrm, self.make, self.colour)):
            raise ValueError("a vehicle needs a vrm, a make or a colour")
        if self.vrm and not re.fullmatch(r"[A-Za-z0-9 *?]+", self.vrm):
            raise ValueError("vrm may hold letters, digits, spaces, * and ?")
        return self


class PhoneCriteria(Strict):
    number: str = Field(pattern=r"^[0-9 *?+]+$")


class Point(Strict):
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)


class LocationCriteria(Strict):
    postcode: str | None = None
    district: str | None = None
    street: str | None = None
    point: Point | None = None
    radius_m: float | None = Field(None, gt=0, le=50_000)

    @model_validator(mode="after")
    def _check(self) -> "LocationCriteria":
        if self.radius_m is not None and self.point is None:
            raise ValueError("radius_m needs a point")
        if self.point is not None and self.radius_m is None:
            raise ValueError("a point needs radius_m")
        if not any((self.postcode, self.district, self.street, self.point)):
            raise ValueError("a location needs a postcode, district, street or point")
        return self


class EventCriteria(Strict):
    types: tuple[str, ...] = ()
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    terms: tuple[str, ...] = Field((), description="free-text modus operandi terms")

    @model_validator(mode="after")
    def _check(self) -> "EventCriteria":
        if self.date_from and self.date_to and self.date_to < self.date_from:
            raise ValueError("date_to is before date_from")
        return self


class AssociationCriteria(Strict):
    """The people a person is tied to, up to `hops` ties away (not the person), or what those
    people hold: their vehicles, phones or home addresses (not the person's own)."""

    of: PersonCriteria
    hops: int = Field(1, ge=1, le=3)
    include: Literal["people", "vehicles", "phones", "addresses"] = "people"


class Need(Strict):
    """One information need. `targets` names the true entities it is about (templates fill it
    in; written-out needs may name them or let the judge resolve them from the criteria)."""

    id: str = Field(pattern=r"^[A-Za-z0-9_.:-]+$")
    description: str
    kind: Literal[NEED_KINDS] | None = None  # type: ignore[valid-type]
    person: PersonCriteria | None = None
    vehicle: VehicleCriteria | None = None
    phone: PhoneCriteria | None = None
    location: LocationCriteria | None = None
    event: EventCriteria | None = None
    association: AssociationCriteria | None = None
    subject_access: bool = False
    addresses: tuple[str, ...] = Field((), description="addresses a SAR requester supplies")
    targets: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _check(self) -> "Need":
        if not any((self.person, self.vehicle, self.phone, self.location, self.event, self.association)):
            raise ValueError("a need must have at least one criterion")
        if self.subject_access and not self.person:
            raise ValueError("subject_access needs person details")
        if self.addresses and not self.person:
            raise ValueError("addresses are a person's (a requester's): they need person details")
        return self

    def derived_kind(self) -> str:
        if self.kind:
            return self.kind
        if self.subject_access:
            return "sar"
        parts = [k for k in ("person", "vehicle", "phone", "association") if getattr(self, k)]
        place = bool(self.location)
        if len(parts) > 1 or (parts and parts[0] != "association" and place):
            return "combined"
        if parts:
            return parts[0]
        return "location" if place else "event"


class Template(Strict):
    """A recipe that samples targets from the corpus with a seed and phrases needs for them."""

    template: str
    id_prefix: str = Field(pattern=r"^[A-Za-z0-9_.:-]+$")
    description: str = ""
    count: int = Field(gt=0, le=100_000)
    params: dict = Field(default_factory=dict)


class QuerySet(Strict):
    """queries/<set>.yaml. Example: queries/person.yaml (loaded by the tests)."""

    schema_version: Literal[1] = 1
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$", max_length=NAME_MAX)
    description: str = ""
    seed: int = Field(0, ge=0)
    include: tuple[str, ...] = Field((), description="other query-set files, relative to this one")
    queries: tuple[Need, ...] = ()
    templates: tuple[Template, ...] = ()
