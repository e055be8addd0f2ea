"""Nothing is dropped silently and no profile property is a dead knob.

1. For every criterion of the need model and any need holding it: where the criterion's value
   makes no difference to the plan a profile runs, that profile lists it as lost.
2. For every property of the profile model that is about searching: changing it changes the
   plan (root, order or cap) of some need. The other properties are named with what reads them.
"""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any, Callable

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from bench.profiles.compile import compile_need
from bench.profiles.model import FIELD_MODES, FieldSpec, FreeText, Profile, ProfileSet
from bench.queries.model import (AssociationCriteria, EventCriteria, LocationCriteria, Need, PersonCriteria,
                                 PhoneCriteria, Point, VehicleCriteria)

SHIPPED = ProfileSet(["crimint", "connect", "iip", "connect+iip", "reference"])

# ---- 1. every criterion is used or listed lost

# Need fields that are not search criteria, and why.
NOT_CRITERIA = {
    "id": "names the need",
    "description": "prose for the reader",
    "kind": "groups needs in the report",
    "targets": "the judge's: which true entities the need is about (engines never see the truth)",
    "subject_access": "marks a SAR for the report; its search is its person details and addresses",
}

# Each criterion (a path of keys into the need) -> the Lost.criterion names that account for it.
PERSON = {"forename": ("person.forename",), "surname": ("person.surname",), "dob": ("person.dob",),
          "dob_tolerance_days": ("person.dob",), "dob_from": ("person.dob",), "dob_to": ("person.dob",),
          "age_min": ("person.dob",), "age_max": ("person.dob",), "sex": ("person.sex",), "alias": ("person.alias",)}
CRITERIA: dict[tuple, tuple[str, ...]] = {
    **{("person", k): v for k, v in PERSON.items()},
    **{("association", "of", k): v for k, v in PERSON.items()},
    ("association", "hops"): ("links",),
    ("association", "include"): ("association.include",),
    ("vehicle", "vrm"): ("vehicle.vrm",), ("vehicle", "make"): ("vehicle.make",),
    ("vehicle", "colour"): ("vehicle.colour",),
    ("phone", "number"): ("phone.number",),
    ("location", "postcode"): ("location.postcode",), ("location", "district"): ("location.district",),
    ("location", "street"): ("location.street",), ("location", "point"): ("location.point",),
    ("location", "radius_m"): ("location.point",),
    ("event", "types"): ("event.type",), ("event", "date_from"): ("event.date",),
    ("event", "date_to"): ("event.date",), ("event", "terms"): ("event.terms",),
    ("addresses",): ("addresses",),
}
SUB_MODELS = {"person": PersonCriteria, "vehicle": VehicleCriteria, "phone": PhoneCriteria,
              "location": LocationCriteria, "event": EventCriteria, "association": AssociationCriteria,
              ("association", "of"): PersonCriteria}


def _leaves(model: type[BaseModel], prefix: tuple = ()) -> set[tuple]:
    out: set[tuple] = set()
    for name in model.model_fields:
        path = prefix + (name,)
        sub = SUB_MODELS.get(path if len(path) > 1 else name)
        if sub is not None:
            out |= _leaves(sub, path)
        else:
            out.add(path)
    return out


def test_every_field_of_the_need_model_is_a_named_criterion_or_named_as_none():
    """A criterion added to the need model must be added here, and so to the properties below."""
    leaves = _leaves(Need)
    assert leaves == set(CRITERIA) | {(k,) for k in NOT_CRITERIA}


DATES = st.dates(dt.date(1950, 1, 1), dt.date(2005, 12, 31))
EVENT_DATES = st.dates(dt.date(2018, 1, 1), dt.date(2024, 6, 30))
VALUES: dict[str, st.SearchStrategy] = {
    "forename": st.sampled_from(["John", "Bill", "William", "Jo*", "J?hn", "Mohammed", "Ann"]),
    "surname": st.sampled_from(["Smith", "Smyth", "Jones", "Sm*", "O'Brien", "Lee"]),
    "dob": DATES, "dob_tolerance_days": st.sampled_from([7, 30, 366]),
    "dob_from": DATES, "dob_to": DATES, "age_min": st.integers(16, 40), "age_max": st.integers(41, 90),
    "sex": st.sampled_from(["M", "F"]), "alias": st.sampled_from(["Tiny", "Billy Kidd", "Smudge", "Ann Lee"]),
    "hops": st.integers(1, 3), "include": st.sampled_from(["people", "vehicles", "phones"]),
    "vrm": st.sampled_from(["AB12CDE", "AB12 CDF", "AB12*", "*CDE", "AB?2CDE", "LK05OBC"]),
    "make": st.sampled_from(["Ford", "Vauxhall", "BMW"]), "colour": st.sampled_from(["red", "blue", "silver"]),
    "number": st.sampled_from(["07700900123", "07700900456", "*900123", "0770*"]),
    "postcode": st.sampled_from(["NW1 2AB", "E1 6AN", "NW1*"]), "district": st.sampled_from(["NW1", "E1", "SE15"]),
    "street": st.sampled_from(["Camden Road", "High Street"]),
    "point": st.builds(dict, lat=st.floats(51.3, 51.7).map(lambda x: round(x, 4)),
                       lon=st.floats(-0.4, 0.2).map(lambda x: round(x, 4))),
    "radius_m": st.sampled_from([100.0, 300.0, 1000.0]),
    "types": st.lists(st.sampled_from(["burglary", "robbery", "drugs_supply"]), min_size=1, max_size=2, unique=True),
    "date_from": EVENT_DATES, "date_to": EVENT_DATES,
    "terms": st.lists(st.sampled_from(["knifepoint", "side gate", "moped"]), min_size=1, max_size=2, unique=True),
    "addresses": st.lists(st.sampled_from(["12 High Street, NW1 2AB", "3 Mill Lane, E1 6AN"]), min_size=1,
                          max_size=2, unique=True),
}
DOB_GROUPS = ((), ("dob",), ("dob", "dob_tolerance_days"), ("dob_from",), ("dob_to",), ("dob_from", "dob_to"),
              ("age_min",), ("age_max",), ("age_min", "age_max"))


@st.composite
def persons(draw) -> dict:
    p = {k: draw(VALUES[k]) for k in ("forename", "surname", "sex", "alias") if draw(st.booleans())}
    if not any(k in p for k in ("forename", "surname", "alias")):
        p["surname"] = draw(VALUES["surname"])
    # one way of knowing the date of birth at a time: an age bound can make a DOB bound moot
    p.update({k: draw(VALUES[k]) for k in draw(st.sampled_from(DOB_GROUPS))})
    return p


@st.composite
def needs(draw) -> dict:
    d: dict[str, Any] = {"id": "n", "description": "d"}
    kind = draw(st.sampled_from(["person", "association", "vehicle", "phone", "place", "combined", "sar"]))
    if kind in ("person", "combined", "sar"):
        d["person"] = draw(persons())
    if kind == "sar":
        d["addresses"] = draw(VALUES["addresses"])
    if kind == "association":
        d["association"] = {"of": draw(persons()), "hops": draw(VALUES["hops"]), "include": draw(VALUES["include"])}
    if kind in ("vehicle", "combined"):
        d["vehicle"] = {k: draw(VALUES[k]) for k in ("vrm", "make", "colour") if draw(st.booleans())} or {"vrm": "AB12CDE"}
    if kind == "phone":
        d["phone"] = {"number": draw(VALUES["number"])}
    if kind in ("place", "combined"):
        loc = {k: draw(VALUES[k]) for k in ("postcode", "district", "street") if draw(st.booleans())}
        if draw(st.booleans()) or not loc:
            loc.update(point=draw(VALUES["point"]), radius_m=draw(VALUES["radius_m"]))
        d["location"] = loc
        d["event"] = {k: draw(VALUES[k]) for k in ("types", "date_from", "date_to", "terms") if draw(st.booleans())}
        if not d["event"]:
            del d["event"]
    return d


def _get(d: dict, path: tuple) -> Any:
    for k in path:
        if not isinstance(d, dict) or k not in d:
            return None
        d = d[k]
    return d


def _set(d: dict, path: tuple, value: Any) -> dict:
    out = {**d}
    if len(path) == 1:
        out[path[0]] = value
    else:
        out[path[0]] = _set(d[path[0]], path[1:], value)
    return out


def _plan_key(plan) -> tuple:
    return (plan.root, plan.order, plan.cap, plan.narrower, plan.narrow_above)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(st.data())
def test_a_criterion_that_changes_no_plan_is_listed_lost(data):
    """Take any need and any criterion it holds; give that criterion another value. Where the
    plan a profile runs stays the same, the criterion did nothing there: the profile must say so
    in the lost list of one of the two. (Before: `addresses` and `association.include` changed nothing and were
    never listed.)"""
    raw = data.draw(needs())
    present = [p for p in CRITERIA if _get(raw, p) is not None]
    path = data.draw(st.sampled_from(present))
    other = data.draw(VALUES[path[-1]])
    assume(other != _get(raw, path))
    try:
        need, varied = Need.model_validate(raw), Need.model_validate(_set(raw, path, other))
    except ValidationError:
        assume(False)
    for name in SHIPPED.order:
        plan, other_plan = compile_need(need, SHIPPED[name], SHIPPED), compile_need(varied, SHIPPED[name], SHIPPED)
        if _plan_key(plan) == _plan_key(other_plan):
            # one plan for two values: at least one of them is not what the plan searches for
            named = {x.criterion for x in plan.lost + other_plan.lost}
            assert named & set(CRITERIA[path]), (name, path, raw, plan.lost)


# ---- 2. no dead knob

# Profile properties that do not shape a search, and what reads them instead.
NOT_PLAN = {
    "schema_version": "the file format",
    "name": "the run's profile names and run key",
    "label": "report labels",
    "description": "report text",
    "deletion": "polebench erase (hide or purge)",
    "audit_s62": "the report's s62 table",
    "assumptions": "the report's list of assumptions",
    "page_size": "the modelled reader's pages (bench/analyst/reader.py over_behaviours, the run's measures)",
    "upper_bound_of": "the report's lead: the volume of the profile an upper bound bounds (RunResults.bound_of)",
    "colour": "the charts of a report or sweep (bench.report.charts.Palette)",
}

# Needs that between them exercise every criterion and every capability.
POOL = [Need.model_validate(d) for d in (
    {"id": "a", "description": "d", "person": {"forename": "Bill", "surname": "Smith", "dob": "1990-03-04",
                                                 "dob_tolerance_days": 366, "sex": "M", "alias": "Tiny"}},
    {"id": "b", "description": "d", "person": {"forename": "J*", "surname": "Sm*", "dob_from": "1980-01-01",
                                                 "age_max": 40}},
    {"id": "c", "description": "d", "person": {"forename": "J?hn", "surname": "Sm?th"}},
    {"id": "d", "description": "d", "person": {"forename": "Ann", "surname": "Lee", "alias": "Billy Kidd"},
     "addresses": ["3 Mill Lane, E1 6AN"], "subject_access": True},
    {"id": "e", "description": "d", "association": {"of": {"forename": "Ann", "surname": "Lee"}, "hops": 2}},
    {"id": "f", "description": "d", "vehicle": {"vrm": "AB12CDE", "make": "Ford", "colour": "red"}},
    {"id": "g", "description": "d", "vehicle": {"vrm": "AB?2*"}},
    {"id": "h", "description": "d", "vehicle": {"vrm": "LK05*"}},
    {"id": "i", "description": "d", "phone": {"number": "*900123"}},
    {"id": "i2", "description": "d", "phone": {"number": "07700900123"}},
    {"id": "e2", "description": "d", "association": {"of": {"surname": "Lee"}, "hops": 3, "include": "vehicles"}},
    {"id": "j", "description": "d", "phone": {"number": "0770*"}},
    {"id": "k", "description": "d", "location": {"postcode": "NW1*", "district": "NW1", "street": "Camden Road",
                                                   "point": {"lat": 51.5, "lon": -0.1}, "radius_m": 300},
     "event": {"types": ["burglary"], "date_from": "2023-01-01", "date_to": "2023-01-31", "terms": ["side gate"]}},
    {"id": "l", "description": "d", "location": {"postcode": "NW1 2AB"}},
)]


def _plans(profile: Profile) -> list[tuple]:
    members = ProfileSet(["crimint", "connect", "iip"])
    members.by_name[profile.name] = profile
    return [_plan_key(compile_need(n, profile, members)) for n in POOL]


def _with_field(p: Profile, field: str, spec: FieldSpec | None) -> Profile:
    fields = {k: v for k, v in p.fields.items() if k != field}
    if spec is not None:
        fields[field] = spec
    return p.model_copy(update={"fields": fields})


def _spec(field: str, modes: tuple[str, ...], **params: Any) -> FieldSpec:
    kw: dict[str, Any] = {"phonetic": "soundex" if "phonetic" in modes else None,
                          "fuzzy_distance": 1 if "fuzzy" in modes else None,
                          "max_hops": 1 if "link_hops" in modes else None}
    kw.update(params)
    return FieldSpec(modes=modes, **kw)


BASES = [SHIPPED["crimint"], SHIPPED["connect"]]


def _mode_changes_some_plan(field: str, mode: str) -> bool:
    """With the mode against without it, beside any non-empty set of the field's other modes; a
    field with one mode only, with it against without the field."""
    others = sorted(FIELD_MODES[field] - {mode})
    for base in BASES:
        for n in range(0 if not others else 1, len(others) + 1):
            for rest in itertools.combinations(others, n):
                without = _with_field(base, field, _spec(field, rest) if rest else None)
                with_ = _with_field(base, field, _spec(field, tuple(rest) + (mode,)))
                if _plans(without) != _plans(with_):
                    return True
    return False


@pytest.mark.parametrize("field,mode", sorted((f, m) for f, ms in FIELD_MODES.items() for m in ms))
def test_every_mode_of_every_field_changes_some_plan(field, mode):
    assert _mode_changes_some_plan(field, mode), f"{field}: mode {mode!r} changes no plan"


PARAM_VARIANTS: dict[str, tuple[str, tuple[str, ...], list[Any]]] = {
    "phonetic": ("person.surname", ("exact", "phonetic"), ["soundex", "metaphone", "nysiis"]),
    "fuzzy_distance": ("person.surname", ("exact", "fuzzy"), [1, 2]),
    "max_hops": ("links", ("link_hops",), [1, 2, 3]),
    "date_of": ("event.date", ("range",), ["event", "record"]),
}


def test_every_field_parameter_changes_some_plan():
    assert set(PARAM_VARIANTS) == set(FieldSpec.model_fields) - {"modes"}
    for param, (field, modes, values) in PARAM_VARIANTS.items():
        plans = [_plans(_with_field(SHIPPED["crimint"], field, _spec(field, modes, **{param: v}))) for v in values]
        assert len({tuple(p) for p in plans}) == len(values), param


TOP_VARIANTS: dict[str, Callable[[], list[Profile]]] = {
    "kind": lambda: [SHIPPED["crimint"], SHIPPED["crimint"].model_copy(
        update={"kind": "free_text", "free_text": FreeText()})],
    "union_of": lambda: [SHIPPED["connect+iip"], SHIPPED["connect+iip"].model_copy(update={"union_of": ("crimint", "iip")})],
    "order": lambda: [SHIPPED["crimint"], SHIPPED["crimint"].model_copy(update={"order": "relevance"})],
    "result_cap": lambda: [SHIPPED["crimint"], SHIPPED["crimint"].model_copy(update={"result_cap": 100})],
    "fields": lambda: [SHIPPED["crimint"], SHIPPED["connect"].model_copy(update={"name": "crimint"})],
    "free_text": lambda: [SHIPPED["iip"], SHIPPED["iip"].model_copy(update={"free_text": FreeText(strategy="naive")}),
                          SHIPPED["iip"].model_copy(update={"free_text": FreeText(strategy="incremental", narrow_above=10)}),
                          SHIPPED["iip"].model_copy(update={"free_text": FreeText(strategy="incremental", narrow_above=20)}),
                          SHIPPED["iip"].model_copy(update={"free_text": FreeText(field="narrative")})],
    "reference": lambda: [SHIPPED["reference"], SHIPPED["reference"].model_copy(
        update={"reference": SHIPPED["reference"].reference.model_copy(update={"dob_swap": False})})],
}


def test_every_profile_property_changes_some_plan_or_is_named_with_its_reader():
    """A profile property that shapes no plan and is read by nothing else is a dead knob
    (`default_operator` and `scoped_by_entity` were: set in every shipped profile, read by none)."""
    assert set(Profile.model_fields) == set(TOP_VARIANTS) | set(NOT_PLAN)
    assert set(FreeText.model_fields) == {"field", "strategy", "narrow_above"}
    for prop, variants in TOP_VARIANTS.items():
        plans = [tuple(_plans(p)) for p in variants()]
        assert len(set(plans)) == len(plans), prop


@pytest.mark.parametrize("key", ["default_operator", "scoped_by_entity"])
def test_a_removed_property_says_what_to_write_instead(write, key):
    from bench.errors import SpecError
    from bench.profiles.model import load_profile
    path = write("old.yaml", f"schema_version: 1\nname: old\nlabel: Old\nkind: structured\n{key}: and\n"
                             "fields:\n  person.surname: {modes: [exact]}\n")
    with pytest.raises(SpecError) as e:
        load_profile(str(path))
    assert f"old.yaml:5:1: {key}: removed: it changed no plan" in str(e.value)
