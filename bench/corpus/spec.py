"""The corpus spec (corpora/<name>.yaml): what world to build and how each source system
writes it down. Every rate is a probability per eligible mention, drawn independently."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

from bench.specio import NAME_MAX

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


def _invalid(model: str, field: str, message: str, value: object) -> ValidationError:
    """An error at one field, from a validator of the model that holds it (whose own errors would
    name only the model): a file's line then points at the field."""
    return ValidationError.from_exception_data(model, [InitErrorDetails(
        type=PydanticCustomError("value_error", message.replace("{", "{{").replace("}", "}}")), loc=(field,),
        input=value)])


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


# The generator draws a coin for every pair of people in a group (world._communities): 10-25 ns a
# pair (measured on 200k people in groups of 100, 300 and 1,000 with p_within 0.01 and 0.001, where
# the coins are nearly all the cost). At MAX_GROUP_SIZE with MAX_ENTITIES people all in groups that
# is 5 * 10^9 coins, one to two CPU-minutes: groups larger still would make the coins alone a large
# share of generating such a world, for groups far past the small ones the model stands for. It
# also bounds the slowest draw of ties across groups: when one group holds nearly every member and
# ties_between asks for every pair across, the last pairs are found by uniform draws of all pairs
# (world._distinct_ties), rounds growing with the group's pairs: 188,000 rounds and 47 CPU-s at
# 1,001 people, a group of 1,000 and one person alone, with ties_between 20 (measured).
MAX_GROUP_SIZE = 1_000
# Ties held while the network is built: about 150-190 bytes and 3.5 CPU-us a tie at peak (the pairs
# drawn, both directions as sorted keys, each person's offsets; measured with 1.4M-18M ties on 200k
# people). MAX_TIES is about twice the 10.3M ties the shipped communities (groups of 3-8, p_within
# 0.6, ties_between 0.4, 60% in groups) make at MAX_ENTITIES people, so that they pass at every
# size; it is 3-4 GB and about 70 CPU-s. Without it, groups of 3-1,000 at MAX_ENTITIES people asked
# for 1.2 * 10^9 ties (about 200 GB), and ties_between 20 for 69M (about 12 GB).
MAX_TIES = 20_000_000


class Communities(Strict):
    """Who offends with whom: a stochastic block model (Holland, Laskey & Leinhardt 1983,
    'Stochastic blockmodels: first steps', Social Networks 5:109-137) with planted groups
    (Condon & Karp 2001): ties are dense inside a group and sparse between groups, so a few
    members bridge to other groups and a second hop reaches people the first does not.
    Every number here is assumed; co-offending studies (Reiss 1988; Sarnecki 2001) describe
    small dense groups joined by few ties, without giving these parameters."""

    size_min: int = Field(3, ge=2, le=MAX_GROUP_SIZE)
    size_max: int = Field(8, ge=2, le=MAX_GROUP_SIZE)
    share_in_community: float = Field(0.6, ge=0, le=1)
    p_within: float = Field(0.6, gt=0, le=1, description="probability of a tie between two members of a group")
    ties_between: float = Field(0.4, ge=0, le=20, description="mean ties a group member has outside the group")

    @model_validator(mode="after")
    def _order(self) -> "Communities":
        if self.size_max < self.size_min:
            raise ValueError("size_max must be >= size_min")
        return self

    def expected_ties(self, people: int) -> float:
        """Ties the generator is expected to make among `people`: groups drawn of sizes uniform in
        size_min..size_max (the last cut to the members left) until every member has one, each pair
        in a group tied with p_within, and ties_between per member across groups (a tie joins two)."""
        members = int(people * self.share_in_community)
        if members < 2:
            return 0.0
        sizes = [min(s, members) for s in range(self.size_min, self.size_max + 1)]
        groups = members * len(sizes) / sum(sizes)
        within = groups * self.p_within * sum(g * (g - 1) / 2 for g in sizes) / len(sizes)
        return within + members * self.ties_between / 2


# The generator writes dates either side of the spec's range: an event's date up to
# corrupt.EVENT_DATE_SHIFT_DAYS out, a record's date up to the longest of records.LAG_DAYS after its
# event (tests hold the margin to both). Python's dates stop at years 1 and 9999: a range nearer
# than this failed deep inside the generator (OverflowError, ValueError).
DATE_MARGIN_DAYS = 31


class DateRange(Strict):
    start: dt.date
    end: dt.date

    @model_validator(mode="after")
    def _order(self) -> "DateRange":
        if self.end <= self.start:
            raise ValueError("end must be after start")
        first, last = dt.date.min + dt.timedelta(DATE_MARGIN_DAYS), dt.date.max - dt.timedelta(DATE_MARGIN_DAYS)
        why = f"records are written with dates up to {DATE_MARGIN_DAYS} days either side of the range"
        if self.start < first:
            raise _invalid("DateRange", "start", f"must be on or after {first}: {why}, and none before year 1",
                           self.start)
        if self.end > last:
            raise _invalid("DateRange", "end", f"must be on or before {last}: {why}, and none after year 9999",
                           self.end)
        return self


# Sizes a machine can generate (the 1M-record `large` corpus takes 37 s on 2 cores); beyond them,
# a typo (records: 10^12) asked numpy for terabytes and failed deep inside the generator.
MAX_RECORDS = 20_000_000
MAX_ENTITIES = 10_000_000


class CorpusSpec(Strict):
    """A corpus spec. Example: corpora/ci.yaml (loaded by the tests)."""

    schema_version: Literal[1] = 1
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$", max_length=NAME_MAX)
    description: str = ""
    # The manifest keeps the spec as JSON written by orjson, whose integers are 64 bits: a larger
    # seed failed as the manifest was written, after the whole corpus.
    seed: int = Field(ge=0, le=2**64 - 1)
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

    @field_validator("communities")
    @classmethod
    def _ties(cls, v: Communities, info: ValidationInfo) -> Communities:
        people = info.data.get("people")  # absent when people itself is invalid (named on its own)
        ties = v.expected_ties(people) if people else 0.0
        if ties > MAX_TIES:
            raise ValueError(
                f"about {ties:,.0f} ties expected among {int(people * v.share_in_community):,} people in groups "
                f"(people x share_in_community), more than the {MAX_TIES:,} the generator may hold (150-190 bytes "
                f"each while it builds them): lower p_within, the group sizes, ties_between, share_in_community "
                f"or people")
        return v

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
