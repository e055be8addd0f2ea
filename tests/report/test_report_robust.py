"""A report renders what it can from any finished run: searches that failed, a profile that
returned nothing for a whole kind of need, a run with no usable needs; and says what it cannot
compute and why. The runs are real runs of the ci corpus, with searches made to fail or to
return nothing through the runner's own seams."""

from __future__ import annotations

import dataclasses
import json
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import bench.run.runner as runner
from bench.backends.base import Backend
from bench.cli.report import write_reports
from bench.errors import BackendError
from bench.plans import Plan
from bench.queries.instantiate import instance_dir, instantiate, write_instance
from bench.report import charts
from bench.report.model import build

ROOT = Path(__file__).resolve().parents[2]
PROFILES = ["crimint", "connect", "iip", "connect+iip"]


@pytest.fixture(scope="module")
def few(ci_corpus, tmp_path_factory):
    """A small query set of two kinds of need: people by name and DOB, and one location/event need."""
    spec = tmp_path_factory.mktemp("sets") / "few.yaml"
    spec.write_text(
        "schema_version: 1\nname: few\nqueries:\n"
        "  - id: drugs-nw1\n    description: Drugs supply incidents in NW1.\n"
        "    location: {district: NW1}\n"
        "    event: {types: [drugs_supply], date_from: 2019-01-01, date_to: 2024-12-31}\n"
        "templates:\n  - template: person_name_dob\n    id_prefix: person-dob\n    count: 4\n"
        "    params: {with_dob: true, dob_tolerance_days: 0}\n")
    inst = instance_dir(ci_corpus, "few")
    if not (inst / "meta.json").exists():
        write_instance(inst, instantiate(spec, ci_corpus))
    return inst


def _run(ci_corpus, inst, results: Path, monkeypatch, *, empty=lambda p, need: False,
         fail=lambda p, need: False, plan_of: dict[str, str] | None = None) -> Path:
    """A real run in which the runner's compile_plans gives an empty plan where `empty(profile, need)`
    and a plan the backend refuses where `fail(profile, need)` (recorded as a failed search, as an
    engine error is), and a profile named in `plan_of` searches as another does."""
    real = runner.compile_plans
    # the failing plans themselves, not their id(): a run no longer holds its plans, and a freed
    # plan's id is soon another plan's, which then failed too (a flaky count of failed searches)
    failing: list[Plan] = []

    def compile_plans(need, names, profiles):
        searched_as = {name: (plan_of or {}).get(name, name) for name in names}
        plans = real(need, list(dict.fromkeys(searched_as.values())), profiles)
        out = {}
        for name, other in searched_as.items():
            plan = plans[other] if other == name else dataclasses.replace(plans[other])  # its own, as failing
            if empty(name, need):
                plan = Plan(None, plan.order, plan.cap, plan.lost)
            elif fail(name, need):
                failing.append(plan)
            out[name] = plan
        return out

    real_check = Backend.check

    def check(self, plan):
        if any(plan is p for p in failing):
            raise BackendError("simulated engine failure")
        return real_check(self, plan)

    monkeypatch.setattr(runner, "compile_plans", compile_plans)
    monkeypatch.setattr(Backend, "check", check)
    res = runner.run_benchmark(runner.RunSettings(corpus=ci_corpus.root, instance=inst, profiles=PROFILES,
                                                  results=results))
    return res.dir


def _render(run_dir: Path) -> str:
    write_reports(run_dir, partial=True)
    return (run_dir / "report.html").read_text()


def _charts(text: str) -> None:
    for chart in charts.ALL:
        assert f"id='chart-{chart}'" in text


def test_baseline_returning_nothing_for_a_kind(ci_corpus, few, tmp_path, monkeypatch):
    # CRIMINT-like returns nothing for every person need: their inflation has no ratio (it crashed
    # the inflation-by-kind chart); the location need still gives one
    d = _run(ci_corpus, few, tmp_path, monkeypatch, empty=lambda p, n: p == "crimint" and n.derived_kind() == "person")
    text = _render(d)
    _charts(text)
    rep = build(d, partial=True)
    assert rep.agg.profiles["connect"].by_kind["person"].inflation.median.value is None
    chart = text[text.index("id='chart-inflation_by_kind'"):]
    assert "n/a" in chart[:chart.index("</svg>")]
    assert any(h.startswith("CRIMINT-like (legacy baseline) found 19%") or "4 returned nothing" in h for h in rep.headlines)


def test_failed_searches_are_said_and_the_rest_reported(ci_corpus, few, tmp_path, monkeypatch):
    d = _run(ci_corpus, few, tmp_path, monkeypatch, fail=lambda p, n: p == "iip" or n.id == "drugs-nw1")
    text = _render(d)
    _charts(text)
    rep = build(d, partial=True)
    assert "IIP-like (free text)'s volume against the baseline cannot be computed: every one of IIP-like " \
           "(free text)'s 5 searches failed." in rep.headlines
    assert any(h.startswith("CONNECT-like found ") and "1 of its searches failed and is left out" in h
               for h in rep.headlines)
    assert "INCOMPLETE RUN" in text
    md = (d / "report.md").read_text()
    assert "cannot be computed" in md and "INCOMPLETE RUN" in md


def test_a_run_where_every_search_failed_still_reports(ci_corpus, few, tmp_path, monkeypatch):
    d = _run(ci_corpus, few, tmp_path, monkeypatch, fail=lambda p, n: True)
    text = _render(d)
    _charts(text)
    rep = build(d, partial=True)
    assert rep.headlines == ["Nothing could be measured: every search of the 5 needs failed (20 searches in "
                             "per_query.csv; 10 more by the readers who reformulate); rerun with --resume."]
    assert "cannot be compared with that estimate: no search was measured" in rep.band_verdict
    assert text.count("Cannot be drawn: ") == len(charts.ALL)


def test_a_union_that_returns_one_members_list_is_said_once(ci_corpus, few, tmp_path, monkeypatch):
    d = _run(ci_corpus, few, tmp_path, monkeypatch, plan_of={"connect+iip": "connect"})
    rep = build(d, partial=True)
    union = rep.label("connect+iip")
    assert (f"{union} returned exactly what CONNECT-like returned for every need: its figures are CONNECT-like's "
            f"and are not repeated below.") in rep.headlines
    assert [h for h in rep.headlines if h.startswith(union)] == [
        h for h in rep.headlines if h.startswith(f"{union} returned exactly what")]


def test_few_needs_are_warned_of(ci_corpus, few, tmp_path, monkeypatch):
    d = _run(ci_corpus, few, tmp_path, monkeypatch)
    rep = build(d, partial=True)
    assert rep.headlines[0].startswith(f"Few needs: these figures rest on as few as 5 needs")
    assert "It rests on 5 needs only, too few for the comparison to mean much." in rep.band_verdict
    from bench.report import markdown
    assert "baseline CRIMINT-like (legacy baseline) · " in markdown.render(rep)  # its label, not its id


@pytest.fixture(scope="module")
def plain(ci_corpus, few, tmp_path_factory):
    return runner.run_benchmark(runner.RunSettings(corpus=ci_corpus.root, instance=few, profiles=PROFILES,
                                                   results=tmp_path_factory.mktemp("plain"))).dir


def _estimates(node, path=()):
    """Every estimate in run.json's aggregates: a dict with value, lo and hi."""
    if isinstance(node, dict):
        if {"value", "lo", "hi"} <= node.keys():
            yield node
            return
        for v in node.values():
            yield from _estimates(v)
    elif isinstance(node, list):
        for v in node:
            yield from _estimates(v)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.randoms(use_true_random=False))
def test_any_estimate_undefined_still_renders(plain, tmp_path, rnd):
    # whichever estimates are undefined (null in run.json, as NaN is written), both reports render
    d = Path(tempfile.mkdtemp(dir=tmp_path)) / "run"
    shutil.copytree(plain, d)
    run = json.loads((d / "run.json").read_text())
    for e in _estimates(run["aggregates"]):
        if rnd.random() < 0.3:
            e.update(value=None, lo=None, hi=None)
    for t in run["aggregates"]["comparisons"]:
        if rnd.random() < 0.3:
            t.update(mean_diff=None, p=None, p_adjusted=None)
    (d / "run.json").write_text(json.dumps(run))
    write_reports(d)
    _charts((d / "report.html").read_text())


def test_one_colour_per_profile_in_every_chart(plain):
    from bench.profiles.model import ProfileSet
    from bench.sweep.report import line_chart
    rep = build(plain)
    shipped = ProfileSet(["crimint", "connect", "iip", "connect+iip", "iip-naive", "connect+iip-naive", "reference"])
    pal = charts.Palette({n: shipped[n].colour for n in shipped.order})
    assert [pal.colour(n) for n in shipped.order] == [shipped[n].colour for n in shipped.order]
    assert len({pal.colour(n) for n in shipped.order}) == len(shipped.order)
    assert all(rep.run.profiles[n].colour == shipped[n].colour for n in PROFILES)  # run.json keeps them
    for chart in (charts.volume, charts.precision_recall, charts.gain_curve):
        svg = chart(rep).lower()
        assert all(shipped[n].colour.lower() in svg for n in PROFILES)
    rows = [{"axis": "size", "value": v, "profile": p, "ratio": r, "ratio_lo": r / 2, "ratio_hi": r * 2}
            for p, r in (("crimint", 1.0), ("connect+iip", 5.0)) for v in (1000, 2000)]
    svg = line_chart(rows, "size", "size", pal).lower()
    assert pal.colour("crimint").lower() in svg and pal.colour("connect+iip").lower() in svg


def test_profiles_without_a_colour_get_ones_nobody_else_has():
    """Two profiles of a user's beside the shipped ones were drawn alike (both took the one colour
    no shipped profile has): each now takes the next palette colour no profile declares."""
    declared = {"crimint": "#0072B2", "mine": None, "connect": "#D55E00", "theirs": None, "odd": "#123456"}
    pal = charts.Palette(declared)
    assert pal.colour("mine") == "#009E73" and pal.marker("mine") == "^"  # the third palette place, first free
    assert pal.colour("theirs") == "#CC79A7" and pal.marker("theirs") == "D"
    assert pal.colour("odd") == "#123456" and pal.colour("crimint") == "#0072B2" and pal.marker("crimint") == "o"


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.none(), st.sampled_from(charts.OKABE_ITO), st.from_regex(r"\A#[0-9a-f]{6}\Z")),
                max_size=30).filter(lambda cs: len({c.lower() for c in cs if c}) == sum(1 for c in cs if c)))
def test_no_two_profiles_are_drawn_alike(colours):
    pal = charts.Palette({f"p{i}": c for i, c in enumerate(colours)})
    styles = [(pal.colour(f"p{i}").lower(), pal.marker(f"p{i}")) for i in range(len(colours))]
    assert len(set(styles)) == len(styles)
    assert all(pal.colour(f"p{i}") == c for i, c in enumerate(colours) if c)


def test_a_sweep_draws_the_union_in_its_colour():
    from bench.sweep.report import tornado
    pal = charts.Palette({"crimint": "#0072B2", "connect+iip": "#CC79A7"})
    # an axis that does not move the ratio still shows (a zero-width bar was invisible)
    flat = [{"axis": a, "value": 1, "profile": "connect+iip", "ratio": r} for a, r in (("flat", 3.0), ("flat", 3.0),
                                                                                       ("wide", 2.0), ("wide", 9.0))]
    svg, bars = tornado(flat, "connect+iip", "CONNECT+IIP", pal)
    assert [b[0] for b in bars] == ["flat", "wide"] and "#cc79a7" in svg.lower()
    assert svg.count("<use") > tornado(flat[2:], "connect+iip", "CONNECT+IIP", pal)[0].count("<use")  # the flat axis is drawn as a mark


def test_tables_scroll_on_screen_and_print_with_page_numbers_and_marking(plain, tmp_path):
    import re
    text = _render(plain)
    # every table sits in its own sideways-scrolling box, with a header row print repeats
    assert text.count("<table") == text.count("<div class='wide'><table><thead><tr>") > 10
    css = text[text.index("<style>"):text.index("</style>")]
    assert re.search(r"\.wide \{ overflow-x: auto;", css)
    page = css[css.index("@page"):css.index("body {")]
    assert 'counter(page) " of " counter(pages)' in page and '"SYNTHETIC DATA · polebench"' in page
    # the per-need table names profiles by label, never by id
    per_need = text[text.index("<h2>Every need, worst first</h2>"):]
    assert "recall<br>CONNECT+IIP (union)" in per_need and "recall<br>connect+iip<" not in per_need
    # an imported, not synthetic, corpus is marked so on every printed page
    d = tmp_path / "imported"
    shutil.copytree(plain, d)
    run = json.loads((d / "run.json").read_text())
    run["corpus"].update(origin="an extract", synthetic=False)
    (d / "run.json").write_text(json.dumps(run))
    assert '"NOT SYNTHETIC · polebench"' in _render(d)
