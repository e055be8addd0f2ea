"""The corpus spec (corpora/<name>.yaml): what world to build and how each source system
writes it down. Every rate is a probability per eligible mention, drawn independently."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Rate = float
# Each kind of data-entry error and what it garbles: an entity's details (a person's name or date
# of birth, a plate, a phone number: what an entity search works on), a place's, an event's, or
# any mention's (a field left out).
CORRUPTS: dict[str, Literal["entity", "place", "event", "any"]] = {
    "typo": "entity", "phonetic": "entity", "nickname": "entity", "initials": "entity", "name_swap": "entity",
    "hyphen_variant": "entity", "alias": "entity", "dob_transposed": "entity", "dob_off_year": "entity",
    "dob_missing": "entity", "vrm_partial": "entity", "vrm_misread": "entity",
    "postcode_variant": "place", "missing_field": "any", "event_date_off": "event", "event_date_missing": "event",
}
CORRUPTION_KINDS = tuple(CORRUPTS)
ENTITY_ERRORS = tuple(k for k, what in CORRUPTS.items() if what == "entity")
SOURCE_SYSTEMS = ("intel", "crime", "custody", "stop_search", "property")
AREAS = ("greater_london",)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Corruption(Strict):
    """Per-mention probabilities of each kind of data-entry error for one source system."""

    typo: Rate = Field(0.0, ge=0, le=1)
    phonetic: Rate = Field(0.0, ge=0, le=1)
    nickname: Rate = Field(0.0, ge=0, le=1)
    initials: Rate = Field(0.0, ge=0, le=1)
    name_swap: Rate = Field(0.0, ge=0, le=1)
    hyphen_variant: Rate = Field(0.0, ge=0, le=1)
    alias: Rate = Field(0.0, ge=0, le=1)
    dob_transposed: Rate = Field(0.0, ge=0, le=1)
    dob_off_year: Rate = Field(0.0, ge=0, le=1)
    dob_missing: Rate = Field(0.0, ge=0, le=1)
    vrm_partial: Rate = Field(0.0, ge=0, le=1)
    vrm_misread: Rate = Field(0.0, ge=0, le=1)
    postcode_variant: Rate = Field(0.0, ge=0, le=1)
    missing_field: Rate = Field(0.0, ge=0, le=1)
    event_date_off: Rate = Field(0.0, ge=0, le=1, description="the event's date written days out")
    event_date_missing: Rate = Field(0.0, ge=0, le=1, description="no date of the event written")

    def scaled(self, factor: float) -> "Corruption":
        return Corruption(**{k: min(1.0, v * factor) for k, v in self.model_dump().items()})


class Source(Strict):
    share: float = Field(gt=0, le=1, description="share of all records written by this system")
    corruption: Corruption = Corruption()


class Communities(Strict):
    """Who offends with whom: a stochastic block model (Holland, Laskey & Leinhardt 1983,
    'Stochastic blockmodels: first steps', Social Networks 5:109-137) with planted groups
    (Condon & Karp 2001): ties are dense inside a group and sparse between groups, so a few
    members bridge to other groups and a second hop reaches people the first does not.
    Every number here is assumed; co-offending studies (Reiss 1988; Sarnecki 2001) describe
    small dense groups joined by few ties, without giving these parameters."""

    size_min: int = Field(3, ge=2)
    size_max: int = Field(8, ge=2)
    share_in_community: float = Field(0.6, ge=0, le=1)
    p_within: float = Field(0.6, gt=0, le=1, description="probability of a tie between two members of a group")
    ties_between: float = Field(0.4, ge=0, le=20, description="mean ties a group member has outside the group")

    @model_validator(mode="after")
    def _order(self) -> "Communities":
        if self.size_max < self.size_min:
            raise ValueError("size_max must be >= size_min")
        return self


class DateRange(Strict):
    start: dt.date
    end: dt.date

    @model_validator(mode="after")
    def _order(self) -> "DateRange":
        if self.end <= self.start:
            raise ValueError("end must be after start")
        return self


# Sizes a machine can generate (the 1M-record `large` corpus takes 37 s on 2 cores); beyond them,
# a typo (records: 10^12) asked numpy for terabytes and failed deep inside the generator.
MAX_RECORDS = 20_000_000
MAX_ENTITIES = 10_000_000


class CorpusSpec(Strict):
    """A corpus spec. Example: corpora/ci.yaml (loaded by the tests)."""

    schema_version: Literal[1] = 1
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    description: str = ""
    seed: int = Field(ge=0)
    area: str = "greater_london"
    people: int = Field(gt=0, le=MAX_ENTITIES)
    vehicles: int = Field(ge=0, le=MAX_ENTITIES)
    phones: int = Field(ge=0, le=MAX_ENTITIES)
    addresses: int = Field(gt=0, le=MAX_ENTITIES)
    events: int = Field(gt=0, le=MAX_ENTITIES)
    records: int = Field(gt=0, le=MAX_RECORDS)
    alias_share: float = Field(0.15, ge=0, le=1, description="people who have an alias")
    moniker_share: float = Field(0.1, ge=0, le=1, description="people with a street nickname")
    double_barrelled_share: float = Field(0.03, ge=0, le=1)
    surname_skew: float = Field(1.0, ge=0, le=4, description="exponent on surname frequencies")
    communities: Communities = Communities()
    dates: DateRange
    sources: dict[str, Source]

    @field_validator("area")
    @classmethod
    def _area(cls, v: str) -> str:
        if v not in AREAS:
            raise ValueError(f"unknown area {v!r}; known: {', '.join(AREAS)}")
        return v

    @field_validator("sources")
    @classmethod
    def _sources(cls, v: dict[str, Source]) -> dict[str, Source]:
        unknown = sorted(set(v) - set(SOURCE_SYSTEMS))
        if unknown:
            raise ValueError(f"unknown source system {unknown[0]!r}; known: {', '.join(SOURCE_SYSTEMS)}")
        if not v:
            raise ValueError("at least one source system is needed")
        return v
