"""The report and gates on a real run of the ci corpus; demo end to end is in tests/test_cli.py."""

from __future__ import annotations

import copy
import json
import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import pytest
from junitparser import JUnitXml

from bench.cli.main import main
from bench.cli.report import write_reports
from bench.errors import SpecError
from bench.gates.rules import evaluate, load_gates
from bench.queries.instantiate import instance_dir, instantiate, write_instance
from bench.report import markdown
from bench.report.model import band_position, build, x
from bench.run.results import RunResults, read_results
from bench.run.runner import RunSettings, run_benchmark

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def run_dir(ci_corpus, tmp_path_factory, shipped_instance):
    res = run_benchmark(RunSettings(corpus=ci_corpus.root, instance=shipped_instance(ci_corpus, "standard"),
                                    profiles=["crimint", "connect", "iip", "connect+iip", "iip-naive",
                                              "connect+iip-naive"],
                                    results=tmp_path_factory.mktemp("results")))
    write_reports(res.dir)
    return res.dir


def test_the_lead_headline_says_effort_found_and_volume_with_their_ranges(run_dir):
    """The first headline is the one an officer reads: records read and share found under the
    modelled analyst, as a median and 10-90% range over behaviours and a CI over needs; returned
    volume beside the every-word-ORed upper bound, each labelled; the figures are run.json's."""
    rep = build(run_dir)
    agg = rep.agg
    beh = agg.behaviour.profiles["connect+iip"]
    eff = agg.profiles["connect+iip"].effort
    lead, volume = rep.headlines[0], rep.headlines[1]
    ex = beh.examined_ratio
    assert lead.startswith("To find what they were looking for, an analyst using CONNECT+IIP (union) reads "
                           f"{x(ex.median)} as many records as on the legacy system, CRIMINT-like")
    assert f"range {x(ex.p10)}–{x(ex.p90)} over 200 reading behaviours, some of them narrowing a " \
           "free-text search a criterion at a time while it returns more than 200 records" in lead
    assert f"at the central behaviour {x(eff.examined_ratio_of_totals.value)} (95% CI" in lead
    assert f"finds {beh.found_ratio.median * 100:.0f}% of what the legacy system found" in lead
    up = agg.profiles["connect+iip-naive"].inflation.ratio_of_totals.value
    central = agg.profiles["connect+iip"].inflation.ratio_of_totals.value
    assert volume.startswith(f"Returned volume: {x(central)} (95% CI")
    assert f"; {x(up)} (95% CI" in volume and "an upper bound" in volume
    assert up >= central  # every word ORed returns at least what every criterion required returns
    # the upper-bound profiles are labelled so wherever they appear
    assert all("upper bound" in rep.label(p) for p in rep.profiles if rep.upper_bound(p))
    assert {p for p in rep.profiles if rep.upper_bound(p)} == {"iip-naive", "connect+iip-naive"}


class Collect(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags, self.attrs = [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs += [(tag, k, v or "") for k, v in attrs]


def test_html_is_self_contained_and_complete(run_dir):
    text = (run_dir / "report.html").read_text()
    p = Collect()
    p.feed(text)
    assert "script" not in p.tags and "link" not in p.tags and "img" not in p.tags
    assert not re.search(r"https?://|//[a-z0-9.-]+\.[a-z]{2,}/", text, re.I)
    assert not any(k in ("src", "href") and not v.startswith("#") for _, k, v in p.attrs)
    assert "@import" not in text and not re.search(r"url\((?!#)", text)
    assert text.count("<svg") == 8
    for chart in ("volume", "inflation", "precision_recall", "inflation_by_kind", "sift_hours", "gain_curve",
                  "lost_matrix", "recall_by_corruption"):
        assert f"id='chart-{chart}'" in text
    assert text.count("SYNTHETIC") >= 2 and "synthetic data" in text


def test_html_carries_the_headline_numbers(run_dir):
    run = json.loads((run_dir / "run.json").read_text())
    text = (run_dir / "report.html").read_text()
    union = run["aggregates"]["profiles"]["connect+iip"]
    assert x(union["inflation"]["ratio_of_totals"]["value"]) in text
    assert f"{run['aggregates']['profiles']['crimint']['mean']['recall']['value'] * 100:.0f}%" in text
    assert "4–6 times" in text and ("inside" in text or "above" in text or "below" in text)


def test_markdown_matches_the_run_summary(run_dir):
    md = (run_dir / "report.md").read_text()
    rep = build(run_dir)
    assert md == markdown.render(rep)
    for name in rep.profiles:
        p = rep.agg.profiles[name]
        assert f"| {rep.label(name)} | " in md
        assert f"{p.queries_with_lost}/{p.queries}" in md
    assert "SYNTHETIC DATA" in md


def test_ratios_read_as_a_reader_would_say_them():
    # a system returning a seventy-fifth of the baseline's volume must not read "0.0×"
    assert [x(v) for v in (0.0, 0.0133, 0.5, 8.04, 281.3, None)] == ["0.0×", "0.013×", "0.5×", "8.0×", "281×", "n/a"]


def test_band_position():
    assert (band_position(3.9), band_position(4), band_position(6), band_position(6.1)) == ("below", "inside", "inside", "above")


def _gates(write, body: str) -> Path:
    return write("gates.yaml", "schema_version: 1\ngates:\n" + body)


def test_example_gates_pass_on_a_fresh_run(run_dir):
    code = main([ "gate", str(run_dir), "--gates", str(ROOT / "gates.example.yaml"), "--previous", str(run_dir)])
    assert code == 0
    xml = JUnitXml.fromfile(str(run_dir / "junit.xml"))
    suite = next(iter(xml))
    # three gates per profile against the last run, one per profile on failed searches, five others
    assert suite.tests == 3 * 6 + 6 + 5 and suite.failures == 0


def test_gates_fail_on_a_crafted_regression(run_dir, write, tmp_path):
    run = json.loads((run_dir / "run.json").read_text())
    worse = copy.deepcopy(run)
    worse["aggregates"]["profiles"]["connect+iip"]["inflation"]["ratio_of_totals"]["value"] *= 1.25
    worse["aggregates"]["profiles"]["crimint"]["mean"]["recall"]["value"] = 0.4
    d = tmp_path / "worse"
    d.mkdir()
    (d / "run.json").write_text(json.dumps(worse))
    (d / "per_query.csv").write_text((run_dir / "per_query.csv").read_text())
    code = main(["gate", str(d), "--gates", str(ROOT / "gates.example.yaml"), "--previous", str(run_dir)])
    assert code == 1
    root = ET.parse(d / "junit.xml").getroot()
    failed = {c.get("name") for c in root.iter("testcase") if c.find("failure") is not None}
    assert failed == {"baseline still finds most relevant records",
                      "recall does not fall more than 5% below the last run [crimint]",
                      "CONNECT+IIP volume does not rise more than 10% over the last run"}


def test_relative_gate_without_previous_is_skipped(run_dir, write):
    g = _gates(write, "  - {name: rise, profile: iip, metric: volume, max_increase: 0.1}\n")
    run = read_results(run_dir)
    out = evaluate(load_gates(g, run), run, None)
    assert out[0].status == "skipped"


@pytest.mark.parametrize("body, field", [
    ("  - {name: x, profile: palantir, metric: recall, op: '>=', value: 1}\n", "gates[0].profile"),
    ("  - {name: x, profile: crimint, metric: happiness, op: '>=', value: 1}\n", "gates[0].metric"),
    ("  - {name: x, profile: crimint, metric: recall, op: '>='}\n", "gates[0]"),
])
def test_bad_gates_name_the_line_and_field(run_dir, write, body, field):
    run = read_results(run_dir)
    with pytest.raises(SpecError) as e:
        load_gates(_gates(write, body), run)
    assert "gates.yaml:3:" in str(e.value) and field in str(e.value)


def test_a_breakdown_cell_the_run_lacks_is_explained(run_dir, write):
    # an imported corpus labels no errors, so its runs hold no "nickname" cell: say why, not "unknown"
    run = json.loads((run_dir / "run.json").read_text())
    del run["aggregates"]["profiles"]["crimint"]["breakdown"]["kind"]["nickname"]
    with pytest.raises(SpecError) as e:
        load_gates(_gates(write, "  - check: recall[nickname, crimint] >= 0.3\n"), RunResults.model_validate(run))
    assert "no relevant record carries a 'nickname' error (its kind cells: " in str(e.value)
    assert "phonetic" in str(e.value) and "unknown metric" not in str(e.value)


def test_a_sift_saving_is_said_as_fewer_hours_with_its_interval_in_order(run_dir, tmp_path):
    import shutil
    saved = tmp_path / "run"
    shutil.copytree(run_dir, saved)
    run = json.loads((saved / "run.json").read_text())
    run["aggregates"]["profiles"]["connect"]["extra_sift_hours_per_1000"] = {"value": -120.0, "lo": -200.0, "hi": -40.0,
                                                                             "n": 460}
    (saved / "run.json").write_text(json.dumps(run))
    rep = build(saved)
    line = next(h for h in rep.headlines if h.startswith(f"Sifting {rep.label('connect')}"))
    assert "costs 120 fewer analyst-hours per 1,000 searches than the baseline (95% CI 40 to 200)" in line
    more = next(h for h in rep.headlines if h.startswith(f"Sifting {rep.label('iip')}"))
    assert " more analyst-hours " in more


def test_markdown_shows_labels_and_origins_as_text_never_as_html(run_dir, tmp_path):
    import shutil
    saved = tmp_path / "run"
    shutil.copytree(run_dir, saved)
    run = json.loads((saved / "run.json").read_text())
    run["profiles"]["iip"]["label"] = "IIP <script>alert(1)</script> | [x](javascript:y)"
    run["corpus"].update(origin='<link href="https://evil.example/x.css" rel=stylesheet>', synthetic=False,
                         licence="<b>CC</b>")
    (saved / "run.json").write_text(json.dumps(run))
    text = markdown.render(build(saved))
    assert "<script" not in text and "<link" not in text and "<b>" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text and "&lt;link href=" in text
    assert r"\[x\](javascript:y)" in text
    row = next(line for line in text.splitlines() if line.startswith("| IIP"))
    assert row.count(" | ") == len(markdown.MAIN_HEADER) - 1  # the label's | does not add a column


@pytest.fixture(scope="module")
def incomplete_dirs(ci_corpus, tmp_path_factory):
    """Two runs whose searches did not all succeed: every seventh failed, and every one failed."""
    from bench.backends import base
    inst = instance_dir(ci_corpus, "standard")
    real = base.Backend.search
    out = {}
    for every in (7, 1):
        calls = {"n": 0}

        def flaky(self, plan, *args):
            calls["n"] += 1
            if calls["n"] % every == 0:
                raise RuntimeError("engine hiccup")
            return real(self, plan, *args)
        base.Backend.search = flaky
        try:
            out[every] = run_benchmark(RunSettings(corpus=ci_corpus.root, instance=inst, profiles=["crimint", "connect", "iip", "connect+iip"],
                                                   results=tmp_path_factory.mktemp("results"))).dir
        finally:
            base.Backend.search = real
    return out


@pytest.mark.parametrize("every", [7, 1], ids=["some failed", "all failed"])
def test_an_incomplete_run_is_never_reported_or_gated_as_complete(incomplete_dirs, every, capsys, tmp_path):
    d = incomplete_dirs[every]
    run = json.loads((d / "run.json").read_text())
    n = run["query_set"]["queries"]
    missing = run["aggregates"]["profiles"]["crimint"]["failed"]
    assert 0 < missing <= n and (missing == n) == (every == 1)
    assert main(["report", str(d)]) == 2
    err = capsys.readouterr().err
    assert "INCOMPLETE RUN" in err and f"of {n}" in err and "--partial" in err and "--resume" in err
    assert not (d / "report.md").exists()
    assert main(["gate", str(d), "--gates", str(ROOT / "gates.example.yaml")]) == 2
    assert "INCOMPLETE RUN" in capsys.readouterr().err and not (d / "junit.xml").exists()
    assert main(["report", str(d), "--partial"]) == 0
    md = (d / "report.md").read_text()
    head = md[: md.index("## Headline findings")]
    assert "INCOMPLETE RUN" in head and f"{missing} of {n}" in head
    assert "## Headline findings (partial: from an incomplete run)" in md
    assert "INCOMPLETE RUN" in (d / "report.html").read_text()
    if every == 7:  # with every search failed, the error-kind cells the example gates name do not exist
        assert main(["gate", str(d), "--gates", str(ROOT / "gates.example.yaml"), "--partial", "--junit",
                     str(tmp_path / "new" / "folder" / "junit.xml")]) in (0, 1)
        assert "PARTIAL" in (tmp_path / "new" / "folder" / "junit.xml").read_text()


def test_the_run_table_says_what_is_missing_and_exits_non_zero(incomplete_dirs, capsys):
    from bench.cli.run import print_summary
    run = read_results(incomplete_dirs[7])
    print_summary(run)
    out = " ".join(capsys.readouterr().out.split())
    assert "INCOMPLETE" in out and f"of {run.query_set.queries}" in out


def test_a_gate_on_an_undefined_measure_fails_saying_nan(run_dir, write):
    run = json.loads((run_dir / "run.json").read_text())
    run["aggregates"]["profiles"]["iip"]["mean"]["precision"] = {"value": None, "lo": None, "hi": None, "n": 0}
    run = RunResults.model_validate(run)
    gates = load_gates(write("g.yaml", "schema_version: 1\ngates:\n  - {name: p, profile: iip, metric: precision, "
                                       "op: '>=', value: 0.1}\n"), run)
    (o,) = evaluate(gates, run, None)
    assert o.status == "failed" and "= nan" in o.message


@pytest.mark.parametrize("undefined, says", [("now", "undefined in this run"), ("before", "undefined in the previous run"),
                                             ("both", "undefined in both runs")])
def test_a_relative_gate_on_an_undefined_measure_fails_saying_where(run_dir, write, undefined, says):
    """It said '0 -> nan (+inf%)' or '(+nan%)': a change that was not there."""
    data = json.loads((run_dir / "run.json").read_text())
    nan = {"value": None, "lo": None, "hi": None, "n": 0}
    now, before = json.loads(json.dumps(data)), json.loads(json.dumps(data))
    for which, run in (("now", now), ("before", before)):
        if undefined in (which, "both"):
            run["aggregates"]["profiles"]["iip"]["mean"]["precision"] = nan
    now, before = RunResults.model_validate(now), RunResults.model_validate(before)
    gates = load_gates(write("g.yaml", "schema_version: 1\ngates:\n  - {name: p, profile: iip, metric: precision, "
                                       "max_decrease: 0.5}\n"), now)
    (o,) = evaluate(gates, now, before)
    assert o.status == "failed" and f"({says})" in o.message and "%" not in o.message.split(";")[0]


def test_a_truncated_run_json_is_named_by_report_and_gate(run_dir, tmp_path, capsys):
    import shutil
    saved = tmp_path / "run"
    shutil.copytree(run_dir, saved)
    (saved / "run.json").write_bytes((saved / "run.json").read_bytes()[:300])
    assert main(["report", str(saved)]) == 2
    assert main(["gate", str(saved), "--gates", str(ROOT / "gates.example.yaml")]) == 2
    err = capsys.readouterr().err
    assert err.count("run.json: not valid JSON") == 2 and "--force" in err


def _copy_with(run_dir: Path, dest: Path, change) -> Path:
    import shutil
    shutil.copytree(run_dir, dest)
    run = json.loads((dest / "run.json").read_text())
    change(run)
    (dest / "run.json").write_text(json.dumps(run))
    return dest


def test_gate_refuses_a_previous_run_on_other_records(run_dir, tmp_path, capsys):
    other = _copy_with(run_dir, tmp_path / "other", lambda r: r["query_set"].update(corpus_checksum="f" * 64))
    code = main(["gate", str(run_dir), "--gates", str(ROOT / "gates.example.yaml"), "--previous", str(other)])
    err = capsys.readouterr().err
    assert code == 2 and "not a run of the same needs on the same records" in err and "ffffffffffff" in err
    code = main(["gate", str(run_dir), "--gates", str(ROOT / "gates.example.yaml"), "--previous", str(other),
                 "--allow-different-inputs"])
    assert code == 0
    root = ET.parse(run_dir / "junit.xml").getroot()
    relative = [c for c in root.iter("testcase") if "over the last run" in c.get("name") or "below the last" in c.get("name")]
    assert relative and all("DIFFERENT INPUTS (corpus: " in c.find("system-out").text for c in relative)


def _sweep_dir(run_dir: Path, dest: Path, base: dict) -> Path:
    dest.mkdir()
    (dest / "section.html").write_text("<p>The same needs over a grid of corpora.</p>")
    (dest / "sweep.json").write_text(json.dumps({"name": "t", "base": base}))
    return dest


def test_report_refuses_a_sweep_of_other_needs(run_dir, tmp_path):
    from bench.errors import PolebenchError
    from bench.run.results import run_inputs
    mine = run_inputs(read_results(run_dir))
    same = _sweep_dir(run_dir, tmp_path / "same", mine)
    write_reports(run_dir, same)
    assert "NOT THIS RUN'S NEEDS" not in (run_dir / "report.html").read_text()
    other = _sweep_dir(run_dir, tmp_path / "other", {**mine, "query_set": "person", "set_checksum": "a" * 64})
    with pytest.raises(PolebenchError, match=r"did not measure this run's needs .*query set: this run's is standard"):
        write_reports(run_dir, other)
    write_reports(run_dir, other, allow_different=True)
    text = (run_dir / "report.html").read_text()
    assert "<p class='mismatch'>NOT THIS RUN'S NEEDS. This sweep ran on other inputs (query set: " in text
    write_reports(run_dir)


def test_example_gates_catch_a_degraded_profile_by_name(ci_corpus, tmp_path, shipped_instance):
    """A CONNECT-like profile made worse (no date of birth search: more records, fewer of them
    relevant) against the last good run: the example gates fail, each JUnit failure naming it."""
    shipped = (ROOT / "bench" / "profiles" / "connect.yaml").read_text()
    worse = tmp_path / "connect.yaml"
    worse.write_text(shipped.replace("  person.dob: {modes: [exact]}\n", ""))
    inst = shipped_instance(ci_corpus, "person")
    def run(connect: str) -> Path:
        return run_benchmark(RunSettings(corpus=ci_corpus.root, instance=inst,
                                         profiles=["crimint", connect, "iip", "connect+iip"],
                                         results=tmp_path / "results")).dir
    good, bad = run("connect"), run(str(worse))
    assert main(["gate", str(good), "--gates", str(ROOT / "gates.example.yaml"), "--previous", str(good)]) == 0
    code = main(["gate", str(bad), "--gates", str(ROOT / "gates.example.yaml"), "--previous", str(good)])
    assert code == 1
    cases = list(ET.parse(bad / "junit.xml").getroot().iter("testcase"))
    failed = {c.get("name"): c.find("failure").get("message") for c in cases if c.find("failure") is not None}
    assert {"precision does not fall more than 5% below the last run [connect]",
            "records returned per need do not rise more than 10% over the last run [connect]"} <= set(failed)
    # the profiles that did not change are not blamed (the union holds CONNECT's list, so it may be)
    assert all(n.endswith(("[connect]", "[connect+iip]")) or "CONNECT+IIP" in n for n in failed), failed
    assert {c.get("classname") for c in cases if c.get("name") in failed} <= {"polebench.gates.connect",
                                                                              "polebench.gates.connect+iip"}


class Visible(HTMLParser):
    """The text a reader sees outside the charts, whitespace collapsed."""
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.out, self.skip = [], 0

    def handle_starttag(self, tag, attrs):
        self.skip += tag in ("style", "script", "svg")
        self.out.append(" ")

    def handle_endtag(self, tag):
        self.skip -= tag in ("style", "script", "svg")
        self.out.append(" ")

    def handle_data(self, data):
        if not self.skip:
            self.out.append(data)

    @classmethod
    def of(cls, page: str) -> str:
        v = cls()
        v.feed(page)
        return re.sub(r"\s+", " ", "".join(v.out)).strip()


def test_html_shows_a_label_with_markup_as_text_and_changes_nothing_else(run_dir, tmp_path):
    """The templates autoescape: a profile label holding a script tag is shown as text wherever the
    label appears (headlines, tables, charts), and the page's text is otherwise what it was."""
    import shutil
    from bench.report import html
    saved = tmp_path / "run"
    shutil.copytree(run_dir, saved)
    run = json.loads((saved / "run.json").read_text())
    old = run["profiles"]["iip"]["label"]
    new = "IIP <script>alert(1)</script> & co"
    run["profiles"]["iip"]["label"] = new
    (saved / "run.json").write_text(json.dumps(run))
    write_reports(saved)
    page = (saved / "report.html").read_text()
    assert "<script" not in page and page.count("&lt;script&gt;alert(1)&lt;/script&gt; &amp; co") > 5
    assert Visible.of(page) == Visible.of(html.render(build(run_dir))).replace(old, new)
    p = Collect()
    p.feed(page)
    assert "script" not in p.tags


def test_every_template_is_package_data():
    """An installed polebench finds its templates: each file under bench/report/templates matches a
    package-data pattern of bench.report in pyproject.toml."""
    import fnmatch
    import tomllib
    globs = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["bench.report"]
    folder = ROOT / "bench" / "report"
    files = [str(f.relative_to(folder)) for f in (folder / "templates").rglob("*") if f.is_file()]
    assert {"templates/report.html", "templates/explorer.html"} <= set(files)
    assert [f for f in files if not any(fnmatch.fnmatch(f, g) for g in globs)] == []


def test_low_baseline_recall_is_explained_by_the_criterion_that_excluded_the_records(run_dir, ci_corpus):
    """CRIMINT-like finds under half of the custody records on the ci corpus. Custody records are
    written '<name> detained for <offence> following incident at <address>.' (read by hand): they
    never hold an MO word, so every custody record relevant to a need naming MO words fails the
    baseline's narrative-word criterion. The run counts exactly those from the engine, and the
    report says it beside the cell."""
    from bench.queries.instantiate import Instance, instance_dir
    from bench.report.reasons import LOW_RECALL, low_recall_reasons
    from bench.run.excluded import label
    from bench.plans import Scoped, Text
    mo = label(Scoped("record", Text("narrative", "x", "and")))
    inst = Instance.load(instance_dir(ci_corpus, "standard"))
    by_hand = sum(d["source"] == "custody" for n in inst.needs if n.event and n.event.terms
                  for d in inst.details.get(n.id, {}).values())
    rep = build(run_dir)
    cell = rep.agg.profiles["crimint"].breakdown.source["custody"]
    assert cell.value < LOW_RECALL and cell.missed == cell.relevant - cell.found
    assert cell.excluded_by[0] == (mo, by_hand) and by_hand > 100
    assert all(0 < k <= cell.missed for _, k in cell.excluded_by)
    row = next(r for r in low_recall_reasons(rep) if r["profile"] == "crimint" and r["cell"] == "custody")
    assert row["reasons"][0] == (mo, by_hand, by_hand / cell.missed)
    # a union is explained by its members, not given reasons of its own
    assert not any(e.excluded_by for e in rep.agg.profiles["connect+iip"].breakdown.source.values())
    page = Visible.of((run_dir / "report.html").read_text())
    assert (f"CRIMINT-like (legacy baseline) custody records {cell.value * 100:.0f}% {cell.missed:,} "
            f"{mo} ({by_hand:,}, {by_hand / cell.missed * 100:.0f}%)") in page
    assert (f"CRIMINT-like (legacy baseline) found {cell.value * 100:.0f}% of custody records: of the "
            f"{cell.missed:,} relevant ones it missed, {by_hand:,} ({by_hand / cell.missed * 100:.0f}%) "
            f"fail “{mo}”") in page


def test_a_users_own_union_and_its_upper_bound_are_reported_as_the_shipped_ones_are(ci_corpus, tmp_path, write,
                                                                                      shipped_instance):
    """Which profile is the union of today's systems, and which bounds it from above, are profile
    properties (kind: union; upper_bound_of), not names: a union under another name, given before
    its members, leads the report, is set against the board's estimate and orders the per-need table."""
    from bench.report.model import sorted_by
    shipped = ROOT / "bench" / "profiles"
    mine = write("mine.yaml", (shipped / "connect+iip.yaml").read_text()
                 .replace("name: connect+iip", "name: mine").replace("label: CONNECT+IIP (union)", "label: Our union"))
    wide = write("wide.yaml", (shipped / "connect+iip-naive.yaml").read_text()
                 .replace("name: connect+iip-naive", "name: wide").replace("upper_bound_of: connect+iip", "upper_bound_of: mine")
                 .replace("label: CONNECT+IIP, IIP words ORed (upper bound)", "label: Ours ORed (upper bound)"))
    res = run_benchmark(RunSettings(corpus=ci_corpus.root, instance=shipped_instance(ci_corpus, "person"),
                                    profiles=["crimint", str(mine), "connect", "iip", "iip-naive", str(wide)],
                                    results=tmp_path / "results"))
    rep = build(res.dir)
    lead = next(i for i, h in enumerate(rep.headlines) if h.startswith("To find what they were looking for"))
    assert rep.headlines[lead].startswith("To find what they were looking for, an analyst using Our union reads")
    up = rep.agg.profiles["wide"].inflation.ratio_of_totals.value
    assert f"; {x(up)} (95% CI" in rep.headlines[lead + 1]
    assert "(Ours ORed (upper bound): an upper bound, not a behaviour)" in rep.headlines[lead + 1]
    assert "Our union's ratio is" in rep.band_verdict
    assert sorted_by(rep) == "mine"
    assert rep.run.profiles["wide"].upper_bound_of == "mine" and rep.run.bound_of("mine") == "wide"


def test_lists_too_large_for_a_page_get_a_capped_explorer(run_dir, tmp_path, monkeypatch, capsys):
    """A 10M-record run's lists (5 GB of run files) made the explorer take more than 21 GB and be
    killed, so that no report was written at all. Above the limit the report, its Markdown and an
    explorer whose lists are cut are written, the command and the report saying it is capped and
    where the whole lists are; within the limit the page is whole again."""
    import shutil
    from bench.cli.main import main
    from bench.report import explorer
    saved = tmp_path / "run"
    shutil.copytree(run_dir, saved)
    assert (saved / "explorer.html").is_file()
    size = explorer.run_bytes(saved)
    assert size == sum(f.stat().st_size for f in (saved / "runs").iterdir() if f.suffix == ".run") > 0
    monkeypatch.setattr(explorer, "RUN_BYTES_LIMIT", size - 1)
    assert main(["report", str(saved)]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "explorer.html capped" in out and f"first {explorer.CAP:,} records" in out and "(pick a need" in out
    assert "not written" not in out
    assert explorer.read_page((saved / "explorer.html").read_text())["meta"]["cap"] == explorer.CAP
    page = (saved / "report.html").read_text()
    assert "runs/&lt;profile&gt;.run" in page and "<b>explorer.html</b>" in page and "capped" in page
    assert (saved / "report.md").is_file()
    monkeypatch.undo()  # within the limit the page is made whole again
    write_reports(saved)
    assert "cap" not in explorer.read_page((saved / "explorer.html").read_text())["meta"]
    assert "capped" not in (saved / "report.html").read_text()
