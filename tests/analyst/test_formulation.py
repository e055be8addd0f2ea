"""How a need becomes a free-text search: the strategies compile as their definitions say, and a
search narrowed on the ci corpus returns fewer records and counts the searches issued."""

from __future__ import annotations

import pytest

from bench.backends.registry import open_backend
from bench.plans import All, Any, Scoped, Text
from bench.profiles.compile import compile_need
from bench.profiles.model import ProfileSet, load_profile
from bench.queries.model import Need
from bench.sweep.cells import variant

NEED = Need(id="n", description="d", person={"forename": "Ann", "surname": "Lee", "alias": "Nan Lee"},
            location={"district": "NW1"}, event={"types": ["burglary", "drugs_supply"]})
IIP = load_profile("iip")


def test_naive_ors_every_word():
    plan = compile_need(NEED, load_profile("iip-naive"))
    assert plan.root == Scoped("record", Text("all_text", "Ann Lee Nan Lee NW1 burglary drugs supply", "or"))


def test_all_criteria_ands_criteria_and_ors_known_variants():
    plan = compile_need(NEED, IIP)
    t = lambda s: Text("all_text", s, "and")  # noqa: E731
    assert plan.root == Scoped("record", All((Any((t("Ann Lee"), t("Nan Lee"))), t("NW1"),
                                              Any((t("burglary"), t("drugs supply"))))))
    assert plan.narrower is None


def test_incremental_adds_one_criterion_per_search():
    p = variant(IIP, {"free_text": {"field": "all_text", "strategy": "incremental", "narrow_above": 50}})
    plan, steps = compile_need(NEED, p), []
    while plan is not None:
        steps.append(plan)
        plan = plan.narrower
    assert len(steps) == 3
    assert [s.narrow_above for s in steps] == [50, 50, None]
    assert steps[-1].root == compile_need(NEED, IIP).root  # ends as all criteria


def test_strategy_and_threshold_go_together():
    with pytest.raises(ValueError):
        variant(IIP, {"free_text": {"strategy": "incremental"}})


@pytest.fixture(scope="module")
def engine(ci_corpus):
    b = open_backend("embedded", ci_corpus)
    b.prepare()
    return b


def test_a_narrowed_search_is_narrower_and_counted(engine, ci_corpus):
    person = next(e for e in ci_corpus.truth_entities() if e["kind"] == "person")
    need = Need(id="x", description="d", person={"forename": person["forename"], "surname": person["surname"]},
                event={"types": ["burglary"]})
    one = variant(IIP, {"free_text": {"field": "all_text", "strategy": "incremental", "narrow_above": 1}})
    never = variant(IIP, {"free_text": {"field": "all_text", "strategy": "incremental", "narrow_above": 10**9}})
    first = engine.search(compile_need(need, never))  # the name alone: never narrowed
    narrowed = engine.search(compile_need(need, one))
    assert first.searches == 1 and first.total > 1
    assert narrowed.searches == 2
    assert set(narrowed.rnums) <= set(first.rnums) and narrowed.total <= first.total


def test_a_union_counts_its_members_searches(engine, ci_corpus):
    ps = ProfileSet(["connect", "iip", "connect+iip"])
    need = Need(id="x", description="d", person={"forename": "Ann", "surname": "Lee"})
    res = engine.search(compile_need(need, ps["connect+iip"], ps))
    assert res.searches == 2


def test_narrowing_twins_of_free_text_profiles_and_their_unions():
    ps = ProfileSet(["crimint", "connect", "iip", "iip-naive", "connect+iip"])
    twins = ps.narrowing(120)
    # structured forms and the naive upper bound keep their formulation
    assert twins == {"iip": "iip~narrows", "connect+iip": "connect+iip~narrows"}
    ft = ps["iip~narrows"].free_text
    assert (ft.strategy, ft.narrow_above) == ("incremental", 120)
    assert ps["connect+iip~narrows"].union_of == ("connect", "iip~narrows")
    assert ps.order == ["crimint", "connect", "iip", "iip-naive", "connect+iip"]  # twins are not run rows
    need = NEED.model_copy(update={"location": None})
    plan = compile_need(need, ps["iip~narrows"], ps)
    assert plan.narrower is not None and plan.narrow_above == 120
