"""The `reference` profile kind: what good looks like. Person, vehicle and phone criteria are
searched by entity resolution (bench/backends/resolver) rather than by a system's field matching;
everything else a need says (places, events, links, a requester's address) is searched as the
profile's `fields` declare, like a structured profile. Every threshold is a field of
`ReferenceRules`, and the profile file names its source or says "assumed" for each."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from bench import fields as F
from bench.plans import Lost, Node, Resolve
from bench.queries.model import Need, PersonCriteria


class ReferenceRules(BaseModel):
    """The `reference:` section of a reference profile."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    ngram_min: int = Field(2, ge=1, le=5, description="shortest character n-gram of the name index")
    ngram_max: int = Field(3, ge=1, le=5, description="longest character n-gram of the name index")
    name_min_cosine: float = Field(gt=0, le=1, description="candidate names: TF-IDF cosine with the name asked for")
    surname_jw: float = Field(gt=0, le=1, description="a surname agrees at this Jaro-Winkler similarity or above")
    forename_jw: float = Field(gt=0, le=1, description="a forename agrees at this Jaro-Winkler similarity or above")
    phonetic: Literal["soundex", "metaphone", "nysiis", "none"] = Field(
        description="a name also agrees when this phonetic code of both is the same (none: no phonetic agreement)")
    nicknames: bool = Field(description="a forename agrees with a name it may be short for (nicknames package)")
    initials: bool = Field(description="a forename written as an initial agrees with a name of that initial")
    swapped_names: bool = Field(description="forename and surname are also compared the other way round")
    dob_swap: bool = Field(description="a date of birth with day and month swapped agrees")
    dob_year_slip: int = Field(ge=0, le=5, description="a date of birth this many years out (same day and month) agrees")
    dob_missing: Literal["accept", "reject"] = Field(
        description="a record giving no date of birth: kept on its other fields, or left out")
    min_agreeing: int = Field(ge=1, le=3, description="of the surname, forename and date of birth a need "
                                                      "gives, at least this many must agree (not merely be missing)")
    sex_must_agree: bool = Field(description="a record giving the other sex is left out")
    tolerated_score: float = Field(ge=0, le=1, description="ranking: a date of birth, plate or number agreeing "
                                                           "only by a tolerated error (swap, slip, look-alike, edit)")
    missing_score: float = Field(ge=0, le=1, description="ranking: a field the record does not give")
    vrm_lookalikes: bool = Field(description="plates compared with look-alike characters folded (0/O, 1/I, 8/B, 5/S, 2/Z)")
    vrm_max_edits: int = Field(ge=0, le=2, description="a whole plate agrees within this many edits (Damerau)")
    vrm_partial_min: int = Field(ge=2, le=7, description="a partial plate of at least this many characters "
                                                         "agrees with a whole plate it begins")
    phone_max_edits: int = Field(ge=0, le=2, description="a whole number agrees within this many edits (Damerau)")
    read_as: Literal["entries", "records"] = Field(
        description="what the analyst reads one at a time: an entry per candidate, or each record")
    rationale: dict[str, str] = Field(description="each rule -> its source, or 'assumed' and why")

    @model_validator(mode="after")
    def _sourced(self) -> "ReferenceRules":
        if self.ngram_min > self.ngram_max:
            raise ValueError("ngram_min is above ngram_max")
        unsourced = [k for k in type(self).model_fields if k != "rationale" and k not in self.rationale]
        if unsourced:
            raise ValueError(f"rationale: say where {', '.join(unsourced)} come from (or 'assumed')")
        return self

    def pairs(self) -> tuple[tuple[str, object], ...]:
        return tuple(sorted((k, v) for k, v in self.model_dump(exclude={"rationale"}).items()))


def person_query(c: PersonCriteria, as_at: dt.date) -> tuple[tuple[str, object], ...] | None:
    """What a person need gives, as the resolver compares it: names (the alias too, where it is a
    whole name), a date of birth with its tolerance, or a range of dates (an age), and sex."""
    names = [(c.forename or "", c.surname or "")]
    if c.alias and len(c.alias.split()) >= 2:
        names.append(tuple(c.alias.split(" ", 1)))
    names = [n for n in names if any(n)]
    if not names:
        return None
    q: dict[str, object] = {"names": tuple(names)}
    if c.dob:
        q["dob"], q["dob_tolerance_days"] = F.days(c.dob), c.dob_tolerance_days
    elif c.dob_from or c.dob_to or c.age_min is not None or c.age_max is not None:
        lo, hi = c.dob_window(as_at)
        q["dob_lo"], q["dob_hi"] = (F.days(lo) if lo else -10**6), (F.days(hi) if hi else 10**6)
    if c.sex:
        q["sex"] = c.sex
    return tuple(sorted(q.items()))


def resolve_nodes(need: Need, rules: ReferenceRules, as_at: dt.date) -> tuple[dict[str, Node | None], list[Lost]]:
    """The Resolve node for each entity criterion of the need (None where it gives none), and
    what entity resolution cannot use."""
    r = rules.pairs()
    out: dict[str, Node | None] = {"person": None, "vehicle": None, "phone": None}
    lost: list[Lost] = []
    if need.person and (q := person_query(need.person, as_at)):
        out["person"] = Resolve("person", q, r)
        if need.person.alias and len(need.person.alias.split()) < 2:
            lost.append(Lost("person.alias", "alias", "dropped",
                             "street name: a one-word alias is no name to resolve; the other details only"))
    if need.vehicle and need.vehicle.vrm:
        v = need.vehicle
        out["vehicle"] = Resolve("vehicle", tuple(sorted({"vrm": F.wild_norm(v.vrm, upper=True), "make": F.norm(v.make),
                                                          "colour": F.norm(v.colour)}.items())), r)
    if need.phone:
        out["phone"] = Resolve("phone", (("number", F.wild_norm(need.phone.number, digits=True)),), r)
    return out, lost
