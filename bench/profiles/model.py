"""Engine profiles: what a modelled system's search can do, declared in YAML.
Shipped profiles live beside this module; a user's may live anywhere. Adding one needs no code."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Callable, Iterable, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from bench.errors import SpecError
from bench.profiles.reference import ReferenceRules
from bench.specio import NAME_MAX, load_yaml, locate, validate

# Which match modes make sense for which searchable field: capabilities as data.
FIELD_MODES: dict[str, frozenset[str]] = {
    "person.forename": frozenset({"exact", "prefix", "wildcard", "fuzzy", "phonetic", "nickname", "initial"}),
    "person.surname": frozenset({"exact", "prefix", "wildcard", "fuzzy", "phonetic"}),
    "person.dob": frozenset({"exact", "tolerance", "transposition", "range"}),
    "person.sex": frozenset({"exact"}),
    "vehicle.vrm": frozenset({"exact", "prefix", "wildcard", "misread", "fuzzy"}),
    "vehicle.make": frozenset({"exact"}),
    "vehicle.colour": frozenset({"exact"}),
    "phone.number": frozenset({"exact", "prefix", "wildcard"}),
    "location.postcode": frozenset({"exact", "prefix"}),
    "location.district": frozenset({"exact"}),
    "location.street": frozenset({"text"}),
    "location.point": frozenset({"geo_radius"}),
    "event.type": frozenset({"exact"}),
    "event.date": frozenset({"range"}),
    "event.terms": frozenset({"text"}),
    "links": frozenset({"link_hops"}),
}
MODES = sorted(set().union(*FIELD_MODES.values()))
# Properties that profiles once declared and no plan ever read: named, so that an old profile is
# told what to write instead of only "unknown key".
REMOVED = {
    "default_operator": "removed: it changed no plan. A structured profile requires every criterion given; "
                        "how a free-text profile's users combine words is free_text.strategy",
    "scoped_by_entity": "removed: it changed no plan. A structured profile matches each criterion on its own "
                        "entity (person, vehicle, phone, place); a free-text profile (kind: free_text) on whole records",
}


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FieldSpec(Strict):
    modes: tuple[str, ...] = Field(min_length=1)
    phonetic: Literal["soundex", "metaphone", "nysiis"] | None = None
    fuzzy_distance: int | None = Field(None, ge=1, le=2)
    max_hops: int | None = Field(None, ge=1, le=3)
    date_of: Literal["event", "record"] | None = Field(
        None, description="event.date only: which date a date window searches - when the event "
                          "happened as the record gives it, or when the record was written")

    @field_validator("modes")
    @classmethod
    def _known(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        for m in v:
            if m not in MODES:
                raise ValueError(f"unknown mode {m!r}; known: {', '.join(MODES)}")
        return v

    @model_validator(mode="after")
    def _params(self) -> "FieldSpec":
        if "phonetic" in self.modes and not self.phonetic:
            raise ValueError("mode 'phonetic' needs `phonetic: soundex|metaphone|nysiis`")
        if "fuzzy" in self.modes and not self.fuzzy_distance:
            raise ValueError("mode 'fuzzy' needs `fuzzy_distance: 1|2`")
        if "link_hops" in self.modes and not self.max_hops:
            raise ValueError("mode 'link_hops' needs `max_hops`")
        return self


class FreeText(Strict):
    """How the profile's users turn a need into a free-text search (the formulation).

    naive: every word the analyst knows ORed, one search, every hit returned - an upper bound on
      volume, labelled so wherever it appears;
    all_criteria: every criterion must match (its words ANDed), variants the analyst knows of one
      criterion (an alias, several offence types) ORed among themselves; one search;
    incremental: the first criterion alone (a name, a plate), then, while a search returns more
      than `narrow_above` records, the next criterion added and searched again."""

    field: Literal["all_text", "narrative"] = "all_text"
    strategy: Literal["naive", "all_criteria", "incremental"] = "all_criteria"
    narrow_above: int | None = Field(None, gt=0)

    @model_validator(mode="after")
    def _narrowing(self) -> "FreeText":
        if (self.strategy == "incremental") != (self.narrow_above is not None):
            raise ValueError("`narrow_above` goes with `strategy: incremental`, and only with it")
        return self


class Profile(Strict):
    """A profile file. Example: bench/profiles/crimint.yaml (loaded by the tests)."""

    schema_version: Literal[1] = 1
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_+-]*$", max_length=NAME_MAX)
    label: str
    description: str = ""
    kind: Literal["structured", "free_text", "union", "reference"]
    union_of: tuple[str, ...] = ()
    upper_bound_of: str | None = Field(None, description=(
        "the profile this one bounds from above: the same system with its free text searched every word ORed "
        "(strategy naive, itself or a union member); reports give its volume beside that profile's"))
    order: Literal["relevance", "date_desc"] = "date_desc"
    result_cap: int | None = Field(None, gt=0)
    page_size: int | None = Field(None, gt=0, le=10_000, description=(
        "records the system shows on one results page; when given, every modelled reader pages "
        "this profile's lists by it instead of the behaviour's page_size (say its source in assumptions)"))
    fields: dict[str, FieldSpec] = Field(default_factory=dict)
    free_text: FreeText | None = None
    reference: ReferenceRules | None = Field(None, description="kind: reference only - the entity-resolution "
                                                               "rules and thresholds, each with its source")
    deletion: Literal["purge", "hide"] | None = None
    audit_s62: tuple[str, ...] = ()
    assumptions: dict[str, str] = Field(default_factory=dict,
                                        description="property -> why it is assumed (no source says)")
    colour: str | None = Field(None, pattern=r"^#[0-9a-fA-F]{6}$", description=(
        "the profile's colour in every chart (#rrggbb); without one it takes a colour of the palette "
        "that no other profile of the run or sweep has. Presentation only: not part of the run's key"))

    @field_validator("fields")
    @classmethod
    def _fields(cls, v: dict[str, FieldSpec]) -> dict[str, FieldSpec]:
        for name, spec in v.items():
            if name not in FIELD_MODES:
                raise ValueError(f"unknown field {name!r}; known: {', '.join(FIELD_MODES)}")
            bad = [m for m in spec.modes if m not in FIELD_MODES[name]]
            if bad:
                raise ValueError(f"{name}: mode {bad[0]!r} does not apply; allowed: "
                                 f"{', '.join(sorted(FIELD_MODES[name]))}")
            if (spec.date_of is None) == (name == "event.date"):
                raise ValueError("event.date needs `date_of: event|record` (which date a date window searches)"
                                 if name == "event.date" else f"{name}: date_of applies to event.date only")
        return v

    @model_validator(mode="after")
    def _kind(self) -> "Profile":
        if self.kind == "union" and len(self.union_of) < 2:
            raise ValueError("a union profile needs union_of with at least two profiles")
        if self.kind == "free_text" and not self.free_text:
            raise ValueError("a free_text profile needs a free_text section")
        if (self.kind == "reference") != (self.reference is not None):
            raise ValueError("a reference profile needs a reference section, and only it takes one")
        return self

    def has(self, field: str, mode: str) -> bool:
        spec = self.fields.get(field)
        return bool(spec and mode in spec.modes)


def shipped_dir() -> Path:
    return Path(str(resources.files("bench.profiles")))


def shipped_names() -> list[str]:
    return sorted(p.stem for p in shipped_dir().glob("*.yaml"))


def load_profile(name_or_path: str) -> Profile:
    """A shipped profile by name, or a user's profile from a YAML path."""
    path = Path(name_or_path)
    if path.suffix not in (".yaml", ".yml"):
        path = shipped_dir() / f"{name_or_path}.yaml"
        if not path.is_file():
            raise SpecError.single("--profiles", name_or_path,
                                   f"no such profile; shipped: {', '.join(shipped_names())}, or give a .yaml path")
    data, pos = load_yaml(path)
    problems = []
    for key, why in REMOVED.items():
        if isinstance(data, dict) and key in data:
            problems.append((locate(path, pos, (key,)), why))
    fields = data.get("fields") if isinstance(data, dict) else None
    for name, spec in (fields or {}).items():
        if name not in FIELD_MODES:
            problems.append((locate(path, pos, ("fields", name)),
                             f"unknown field; known: {', '.join(FIELD_MODES)}"))
            continue
        for i, mode in enumerate((spec or {}).get("modes") or ()):
            if mode not in FIELD_MODES[name]:
                problems.append((locate(path, pos, ("fields", name, "modes", i)),
                                 f"mode {mode!r} does not apply to {name}; allowed: "
                                 f"{', '.join(sorted(FIELD_MODES[name]))}"))
    if problems:
        raise SpecError(problems)
    return validate(Profile, data, path, pos)


NARROWING = "~narrows"  # suffix of a profile's narrowing twin; a name no profile file can take


class ProfileSet:
    """Profiles for a run, with the members of any union loaded too."""

    def __init__(self, names: list[str]):
        self.order: list[str] = []
        self.by_name: dict[str, Profile] = {}
        for n in names:
            p = load_profile(n)
            if p.name in self.by_name:
                raise SpecError.single("--profiles", n, f"profile {p.name!r} given twice")
            self.by_name[p.name] = p
            self.order.append(p.name)
        pending = list(self.by_name.values())
        while pending:  # a member may be a union too: its members are loaded as well
            for member in pending.pop().union_of:
                if member not in self.by_name:
                    self.by_name[member] = load_profile(member)
                    pending.append(self.by_name[member])
        for name in self.order:
            self._no_cycle(name, ())
        for p in self.selected():
            if p.upper_bound_of is not None and not self.upper_bound(p.name):
                raise SpecError.single("--profiles", p.name, f"upper_bound_of: {p.upper_bound_of}: profile {p.name!r} "
                                       f"searches no free text every word ORed (strategy naive), so it bounds nothing")

    def _no_cycle(self, name: str, within: tuple[str, ...]) -> None:
        """A union that holds itself, through its members or theirs, would be compiled forever."""
        if name in within:
            raise SpecError.single("--profiles", within[0], f"union_of: {' -> '.join((*within, name))}: a union "
                                   f"cannot hold itself")
        for member in self.by_name[name].union_of:
            self._no_cycle(member, (*within, name))

    def __getitem__(self, name: str) -> Profile:
        return self.by_name[name]

    def upper_bound(self, name: str) -> bool:
        """Does the profile search free text with every word ORed (itself or a union member)?
        Its volume is then an upper bound, and reports say so."""
        p = self.by_name[name]
        return bool(p.free_text and p.free_text.strategy == "naive") or any(self.upper_bound(m) for m in p.union_of)

    def union(self) -> str | None:
        return compared_union(self.order, lambda n: self.by_name[n].kind, self.upper_bound)

    def narrowing(self, narrow_above: int) -> dict[str, str]:
        """Register, for every selected profile whose users type every criterion at once into free
        text (itself or a union member), the same profile searched the narrowing way (a criterion
        at a time while more than `narrow_above` records come back): the lists a reformulating
        reader reads. Returns profile -> its narrowing twin. Naive (upper-bound) and already
        incremental profiles keep their formulation."""
        twins: dict[str, str] = {}

        def twin(name: str) -> str | None:
            if name in twins:
                return twins[name]
            p = self.by_name[name]
            if p.kind == "union":
                members = [twin(m) or m for m in p.union_of]
                if members == list(p.union_of):
                    return None
                t = p.model_copy(update={"name": f"{name}{NARROWING}", "union_of": tuple(members)})
            elif p.free_text is not None and p.free_text.strategy == "all_criteria":
                ft = p.free_text.model_copy(update={"strategy": "incremental", "narrow_above": narrow_above})
                t = p.model_copy(update={"name": f"{name}{NARROWING}", "free_text": ft})
            else:
                return None
            self.by_name[t.name] = t
            twins[name] = t.name
            return t.name

        return {n: t for n in self.order if (t := twin(n))}

    def selected(self) -> list[Profile]:
        return [self.by_name[n] for n in self.order]


def compared_union(order: Iterable[str], kind: Callable[[str], str], upper_bound: Callable[[str], bool]) -> str | None:
    """The profile that stands for what analysts face today, the combined systems the board's
    estimate is about: the first union profile (kind: union) of a run that is not an upper bound,
    whatever its name."""
    return next((n for n in order if kind(n) == "union" and not upper_bound(n)), None)
