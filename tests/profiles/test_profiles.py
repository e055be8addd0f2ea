"""Profiles: shipped files load, bad ones fail with a location, and compiling records exactly
what each profile loses for each kind of need."""

from __future__ import annotations

import pytest

from bench.errors import SpecError
from bench.profiles.compile import compile_need
from bench.profiles.model import ProfileSet, load_profile, shipped_names
from bench.queries.model import Need

ALL = ProfileSet(["crimint", "connect", "iip", "connect+iip"])


def lost(profile: str, need: Need) -> set[tuple[str, str, str]]:
    return {(x.criterion, x.capability, x.effect) for x in compile_need(need, ALL[profile], ALL).lost}


NEEDS = {
    "person": Need(id="p", description="d", person={"forename": "William", "surname": "Smith",
                                                      "dob": "1990-03-04", "dob_tolerance_days": 366}),
    "vehicle": Need(id="v", description="d", vehicle={"vrm": "*CDE", "colour": "silver"}),
    "location": Need(id="l", description="d", location={"point": {"lat": 51.5, "lon": -0.1}, "radius_m": 300},
                     event={"types": ["burglary"], "date_from": "2023-01-01", "date_to": "2023-01-31"}),
    "event": Need(id="e", description="d", event={"types": ["robbery"], "terms": ["knifepoint"]}),
    "association": Need(id="a", description="d", association={"of": {"forename": "Ann", "surname": "Lee"}}),
}

EXPECTED = {
    ("crimint", "person"): set(),
    ("connect", "person"): {("person.surname", "phonetic", "weakened"), ("person.forename", "phonetic", "weakened"),
                            ("person.forename", "nickname", "weakened"), ("person.dob", "tolerance", "weakened"),
                            ("person.dob", "transposition", "weakened")},
    ("iip", "person"): {("scope", "field_scope", "weakened"), ("person.dob", "field_scope", "dropped"),
                        ("person.surname", "phonetic", "weakened"), ("person.forename", "phonetic", "weakened"),
                        ("person.forename", "nickname", "weakened")},
    # CONNECT searches the DOB exactly and IIP not at all: the union has no tolerance or transposition
    ("connect+iip", "person"): {("person.surname", "phonetic", "weakened"), ("person.forename", "phonetic", "weakened"),
                                ("person.forename", "nickname", "weakened"), ("person.dob", "tolerance", "weakened"),
                                ("person.dob", "transposition", "weakened")},
    ("crimint", "vehicle"): set(),
    ("connect", "vehicle"): {("vehicle.vrm", "wildcard", "dropped")},
    ("iip", "vehicle"): {("scope", "field_scope", "weakened"), ("vehicle.vrm", "wildcard", "weakened")},
    ("connect+iip", "vehicle"): {("vehicle.vrm", "wildcard", "weakened")},
    ("crimint", "location"): set(),
    ("connect", "location"): {("location.point", "geo_radius", "dropped")},
    ("iip", "location"): {("scope", "field_scope", "weakened"), ("location.point", "geo_radius", "dropped"),
                          ("event.date", "range", "dropped")},
    ("connect+iip", "location"): {("location.point", "geo_radius", "dropped")},
    ("crimint", "event"): set(),
    ("connect", "event"): {("event.terms", "text", "dropped")},
    ("iip", "event"): {("scope", "field_scope", "weakened")},
    ("connect+iip", "event"): set(),
    ("crimint", "association"): set(),
    ("connect", "association"): {("links", "link_hops", "dropped"), ("person.surname", "phonetic", "weakened"),
                                 ("person.forename", "phonetic", "weakened"), ("person.forename", "nickname", "weakened")},
    ("iip", "association"): {("scope", "field_scope", "weakened"), ("links", "link_hops", "dropped"),
                             ("person.surname", "phonetic", "weakened"), ("person.forename", "phonetic", "weakened"),
                             ("person.forename", "nickname", "weakened")},
    ("connect+iip", "association"): {("links", "link_hops", "dropped"), ("person.surname", "phonetic", "weakened"),
                                     ("person.forename", "phonetic", "weakened"), ("person.forename", "nickname", "weakened")},
}


@pytest.mark.parametrize("profile, kind", sorted(EXPECTED))
def test_lost_list_per_profile_and_kind(profile, kind):
    assert lost(profile, NEEDS[kind]) == EXPECTED[(profile, kind)]


def test_lost_reasons_are_plain_english():
    plan = compile_need(NEEDS["person"], ALL["iip"], ALL)
    assert any("no DOB field in free text" in x.reason for x in plan.lost)


def test_shipped_profiles_load_with_assumptions_marked():
    assert {"crimint", "connect", "iip", "connect+iip"} <= set(shipped_names())
    for name in shipped_names():
        p = load_profile(name)
        assert p.assumptions, f"{name}: every shipped profile marks its assumptions"


def test_user_profile_from_a_path_needs_no_code(write):
    path = write("strict.yaml", "schema_version: 1\nname: strict\nlabel: Strict\nkind: structured\n"
                                "fields:\n  person.surname: {modes: [exact]}\n")
    ps = ProfileSet([str(path)])
    plan = compile_need(Need(id="x", description="d", person={"surname": "Smith", "forename": "Jo"}), ps["strict"], ps)
    assert any(x.criterion == "person.forename" and x.effect == "dropped" for x in plan.lost)


def test_only_a_profile_that_searches_every_word_ored_bounds_another(write):
    ors = write("ors.yaml", "schema_version: 1\nname: ors\nlabel: ORs\nkind: union\nunion_of: [connect, iip-naive]\n"
                            "upper_bound_of: mine\n")
    assert ProfileSet([str(ors)]).upper_bound("ors")  # a union with a naive member bounds
    ands = write("ands.yaml", "schema_version: 1\nname: ands\nlabel: ANDs\nkind: union\nunion_of: [connect, iip]\n"
                              "upper_bound_of: mine\n")
    with pytest.raises(SpecError, match="upper_bound_of: mine: profile 'ands' searches no free text every word ORed"):
        ProfileSet([str(ands)])
    assert load_profile("connect+iip-naive").upper_bound_of == "connect+iip"
    assert load_profile("iip-naive").upper_bound_of == "iip"


@pytest.mark.parametrize("body, line, field, msg", [
    ("fields:\n  person.shoe: {modes: [exact]}\n", 5, "fields.person.shoe", "unknown field"),
    ("fields:\n  person.surname: {modes: [exact, telepathic]}\n", 5, "fields.person.surname.modes[1]", "does not apply"),
    ("result_cap: -5\n", 4, "result_cap", "greater than 0"),
    ("fields:\n  person.surname: {modes: [phonetic]}\n", 5, "fields.person.surname", "needs `phonetic"),
    ("fields:\n  event.date: {modes: [range]}\n", 5, "fields", "needs `date_of"),
])
def test_bad_profile_names_file_line_and_field(write, body, line, field, msg):
    path = write("bad.yaml", f"schema_version: 1\nname: bad\nlabel: Bad\nkind: structured\n{body}".replace(
        "kind: structured\nresult_cap", "kind: structured\nresult_cap"))
    text = path.read_text().splitlines()
    with pytest.raises(SpecError) as e:
        load_profile(str(path))
    assert f"bad.yaml:{line + 0}" in str(e.value) or f"bad.yaml:{line + 1}" in str(e.value), (str(e.value), text)
    assert field in str(e.value) and msg in str(e.value)


def test_unknown_profile_name():
    with pytest.raises(SpecError, match="no such profile"):
        load_profile("palantir")


def test_which_date_a_window_searches_is_a_profile_property(write):
    """A need's window is when the event happened. A profile searching the date of occurrence
    ranges over `event_date`; one searching the date records were written ranges over `date`
    and lists the window as weakened."""
    from bench.plans import Range, Scoped
    need = NEEDS["location"]

    def ranges(plan):
        return [p.clause for p in plan.root.parts if isinstance(p, Scoped) and isinstance(p.clause, Range)]
    assert [r.field for r in ranges(compile_need(need, ALL["crimint"], ALL))] == ["event_date"]
    path = write("written.yaml", "schema_version: 1\nname: written\nlabel: W\nkind: structured\nfields:\n"
                                 "  location.point: {modes: [geo_radius]}\n  event.type: {modes: [exact]}\n"
                                 "  event.date: {modes: [range], date_of: record}\n")
    ps = ProfileSet([str(path)])
    plan = compile_need(need, ps["written"], ps)
    assert [r.field for r in ranges(plan)] == ["date"]
    assert ("event.date", "event_date", "weakened") in {(x.criterion, x.capability, x.effect) for x in plan.lost}


def test_association_hops_and_include_change_the_plan_or_are_listed_lost():
    """`hops` and `include` reach the plan (CRIMINT-like: hops followed, the associates' vehicles
    asked of their records) or the lost list (CONNECT-like, IIP-like, and their union)."""
    from bench.plans import Intersect, Linked

    def a(hops=1, include="people"):
        return Need(id="a", description="d", association={"of": {"forename": "Ann", "surname": "Lee"},
                                                            "hops": hops, "include": include})
    plans = {(h, i): compile_need(a(h, i), ALL["crimint"], ALL) for h in (1, 2) for i in ("people", "vehicles")}
    assert len({p.root for p in plans.values()}) == 4
    assert isinstance(plans[(2, "people")].root, Linked) and plans[(2, "people")].root.hops == 2
    assert isinstance(plans[(1, "vehicles")].root, Intersect)
    assert ("association.include", "link_objects", "weakened") in lost("crimint", a(include="vehicles"))
    assert ("association.include", "link_objects", "weakened") in lost("crimint", a(include="addresses"))
    for p in ("connect", "iip", "connect+iip"):
        assert ("association.include", "link_hops", "dropped") in lost(p, a(include="phones"))
        assert ("association.include", "link_hops", "dropped") not in lost(p, a())


def test_a_misspelt_profile_key_is_answered_with_the_closest_known_one(write):
    path = write("p.yaml", "schema_version: 1\nname: x\nlabel: X\nkind: structured\nresult_cpa: 3\n"
                           "fields:\n  person.surname: {modes: [exact], phonetik: soundex}\n")
    with pytest.raises(SpecError) as e:
        load_profile(str(path))
    assert "p.yaml:5:1: result_cpa: unknown key; did you mean 'result_cap'?" in str(e.value)
    assert "fields.person.surname.phonetik: unknown key; did you mean 'phonetic'?" in str(e.value)


def test_compile_plans_compiles_each_profile_once_and_unions_hold_their_members_plans():
    from bench.profiles.compile import compile_plans
    ps = ProfileSet(["crimint", "connect+iip", "connect+iip-naive", "connect"])
    need = Need(id="x", description="d", person={"surname": "Smith", "forename": "Jo", "dob": "1990-01-02"})
    plans = compile_plans(need, ["connect+iip", "connect+iip-naive", "connect"], ps)
    assert list(plans) == ["connect+iip", "connect+iip-naive", "connect"]
    for name, plan in plans.items():
        assert plan == compile_need(need, ps[name], ps)  # the same plans as compiled one by one
    assert plans["connect+iip"].root.plans[0] is plans["connect"] is plans["connect+iip-naive"].root.plans[0]


def test_compile_plans_leaves_nothing_for_the_cyclic_collector():
    """A run pauses the cyclic garbage collector while it measures, and compiles every need's
    plans again to say what excluded a missed record: plans that only the collector could free
    (a reference cycle, such as a closure that calls itself) piled up a few KB a need until the
    run's end. Reference counting alone must free them."""
    import gc
    from bench.profiles.compile import compile_plans
    ps = ProfileSet(["crimint", "connect+iip", "connect+iip-naive", "connect", "iip"])
    need = Need(id="x", description="d", person={"surname": "Smith", "forename": "Jo", "dob": "1990-01-02"})
    was = gc.isenabled()
    gc.disable()
    try:
        gc.collect()
        for _ in range(3):
            plans = compile_plans(need, ["connect+iip", "connect+iip-naive", "crimint"], ps)
            del plans
        assert gc.collect() == 0
    finally:
        if was:
            gc.enable()


def test_a_union_that_holds_itself_is_refused_and_a_union_of_a_union_compiles(write):
    from bench.profiles.compile import compile_plans
    loop = write("loop.yaml", "schema_version: 1\nname: loop\nlabel: Loop\nkind: union\nunion_of: [loop, iip]\n")
    with pytest.raises(SpecError, match=r"--profiles: loop: union_of: loop -> loop: a union cannot hold itself"):
        ProfileSet([str(loop)])
    nested = write("nested.yaml", "schema_version: 1\nname: nested\nlabel: Nested\nkind: union\n"
                                  "union_of: [connect+iip, crimint]\n")
    ps = ProfileSet([str(nested)])  # connect and iip, connect+iip's members, are loaded too
    need = Need(id="x", description="d", person={"surname": "Smith", "forename": "Jo"})
    plan = compile_plans(need, ["nested"], ps)["nested"]
    assert plan.root.plans[0] == compile_need(need, ps["connect+iip"], ps)
