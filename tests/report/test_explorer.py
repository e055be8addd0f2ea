"""The explorer: one self-contained page per run. Its data against the run's own files and the
corpus truth; then, where Debian's chromium and Playwright are installed, the page in a real browser,
and the report printed to PDF by it."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from bench.cli.report import write_reports
from bench.report import explorer
from bench.report.explorer import PAGE
from bench.run.runner import RunSettings, run_benchmark

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def run_dir(ci_corpus, tmp_path_factory, shipped_instance):
    d = run_benchmark(RunSettings(corpus=ci_corpus.root, instance=shipped_instance(ci_corpus, "person"),
                                  profiles=["crimint", "connect", "iip", "connect+iip", "iip-naive"],
                                  results=tmp_path_factory.mktemp("results"))).dir
    write_reports(d)
    return d


# small enough that the ci run's long lists are cut, more than a page so that the cut page pages
CAP = PAGE + 10


@pytest.fixture(scope="module")
def capped_dir(run_dir, tmp_path_factory):
    """The run reported as if its run files were above the limit, the lists cut at CAP."""
    d = tmp_path_factory.mktemp("capped") / run_dir.name
    shutil.copytree(run_dir, d)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(explorer, "RUN_BYTES_LIMIT", explorer.run_bytes(d) - 1)
        mp.setattr(explorer, "CAP", CAP)
        write_reports(d)
    return d


def _trec(run_dir: Path) -> dict[tuple[str, str], list[str]]:
    out: dict[tuple[str, str], list[str]] = {}
    for f in (run_dir / "runs").glob("*.run"):
        for line in f.read_text().splitlines():
            q, _, rid, rank, _, p = line.split()
            out.setdefault((p, q), []).append(rid)
    return out


def _data(run_dir: Path) -> dict:
    return explorer.read_page((run_dir / "explorer.html").read_text())


def test_the_page_fetches_nothing(run_dir):
    text = (run_dir / "explorer.html").read_text()
    assert not re.search(r"https?://", text) and not re.search(r"\s(src|href)=", text)
    assert "@import" not in text and "url(" not in text and "SYNTHETIC DATA" in text


def test_every_list_is_whole_and_the_runs_own(run_dir, ci_corpus):
    """Decoded as the page's script decodes it, each profile's list is its TREC run file's, whole
    and in rank order (a union's rebuilt from its members' lists); the relevant records are the
    qrels'; each record is as written and a record that is not relevant is named for the people it
    is truly about."""
    data = _data(run_dir)
    meta, table = data["meta"], data["records"]
    qrels: dict[str, set[str]] = {}
    for line in (run_dir / "qrels.txt").read_text().splitlines():
        q, _, rid, g = line.split()
        if int(g) > 0:
            qrels.setdefault(q, set()).add(rid)
    trec = _trec(run_dir)
    entities = {e["id"]: e for e in ci_corpus.truth_entities()}
    about = {m["rid"]: [x["entity"] for x in m["mentions"]] for m in ci_corpus.truth_mentions()}
    written = {r["rid"]: r["text"] for r in ci_corpus.records()}
    checked, rebuilt = 0, 0
    for need, stored in zip(meta["needs"], data["lists"]):
        rel = qrels.get(need["id"], set())
        assert need["relevant"] == len(rel)
        assert {table["ids"][i] for i in explorer.undelta(stored["rel"])} == rel
        lists = explorer.full_lists(stored)
        for p, v in need["profiles"].items():
            full = trec.get((p, need["id"]), [])
            shown = [table["ids"][i] for i in lists[p]]
            assert shown == full and v["total"] == len(full)  # TREC ranks: the presented order
            assert v["rel_total"] == len(rel & set(full))
            rebuilt += isinstance(stored["lists"][p], dict)
            for i in lists[p][:20]:
                rid = table["ids"][i]
                assert table["t"][i] == written[rid]
                if rid in rel:
                    continue
                # a record that is not relevant is named for the people it is truly about
                people = [e for e in about[rid] if entities[e]["kind"] == "person"]
                names = [table["names"][j] for j in table["a"][i]]
                for e in people:
                    assert any(f"({e}, born" in a and entities[e]["surname"] in a for a in names)
                checked += bool(people)
    assert checked > 20 and rebuilt > 20
    # only the records the lists and needs touch are embedded, not the corpus
    assert len(table["ids"]) < ci_corpus.manifest.counts["records"]


def test_above_the_limit_each_list_is_cut_at_its_first_records(capped_dir, run_dir):
    """Above the limit each embedded list is its run file's first CAP records, a union's too (as its
    own list where its members' cut lists no longer rebuild it); the needs still carry each list's
    whole length and relevant count, and a relevant record past the cut is said to be in the list,
    not missed. Within the limit nothing is cut."""
    whole, data = _data(run_dir), _data(capped_dir)
    trec = _trec(capped_dir)
    assert data["meta"]["cap"] == CAP and "cap" not in whole["meta"]
    table = data["records"]["ids"]
    cut = own_union = 0
    for need, stored, was in zip(data["meta"]["needs"], data["lists"], whole["meta"]["needs"]):
        lists = explorer.full_lists(stored)
        beyond = {p: {table[i] for i in explorer.undelta(v)} for p, v in stored.get("beyond", {}).items()}
        rel = {table[i] for i in explorer.undelta(stored["rel"])}
        for p, v in need["profiles"].items():
            full = trec.get((p, need["id"]), [])
            assert [table[i] for i in lists[p]] == full[:CAP]
            assert v["total"] == len(full) == was["profiles"][p]["total"]
            assert v["rel_total"] == len(rel & set(full)) == was["profiles"][p]["rel_total"]
            assert v["stop"] == was["profiles"][p]["stop"]
            if len(full) > CAP:
                cut += 1
                assert v["shown"] == CAP and beyond.get(p, set()) == rel & set(full[CAP:])
                own_union += p == "connect+iip" and isinstance(stored["lists"][p], list)
            else:
                assert "shown" not in v and p not in beyond
    assert cut > 20 and own_union > 0
    assert all(len(v) <= CAP for s in data["lists"] for v in explorer.full_lists(s).values())
    page = (capped_dir / "report.html").read_text()
    assert "<b>explorer.html</b>" in page and "capped" in page and f"first {CAP:,} records" in page
    assert "capped" not in (run_dir / "report.html").read_text()


def test_a_capped_reading_holds_only_the_first_records(tmp_path):
    """A run file of 500,000 lines (20 needs of 25,000 records) read with a cap of 1,000: the lists
    are the first 1,000 of each, the totals whole, the relevant records past the cut found; traced
    memory stays far below what holding the lines takes (measured with 2M lines: a peak of 2.9 MB
    capped against 302 MB read whole; with these 500,000 lines, about 75 MB whole). Fewer lines
    than that because tracing every allocation makes the reading ten times slower."""
    from bench.run.trec import RunWriter
    import numpy as np
    needs, n = [f"need-{i:02d}" for i in range(20)], 25_000
    (tmp_path / "runs").mkdir()
    names = np.array([f"R{i:08d}" for i in range(n + 1)])
    writer = RunWriter(names, needs)
    order = np.arange(n, 0, -1)  # each list in descending record number: rank order is not record order
    writer.write(tmp_path / "runs" / "big.run", "big", ((q, order) for q in needs))
    rel = {q: {"R00000007", f"R{n:08d}", "R99999999"} for q in needs}  # past the cut, first, nowhere
    import tracemalloc
    tracemalloc.start()
    try:
        got = explorer._lists(tmp_path, ["big"], rel, cap=1000)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert all(got.lists["big"][q] == [f"R{i:08d}" for i in range(n, n - 1000, -1)] for q in needs)
    assert got.totals["big"] == dict.fromkeys(needs, n)
    assert got.relevant["big"] == {q: {"R00000007", f"R{n:08d}"} for q in needs}
    assert peak < 20 * 2**20, f"{peak / 2**20:.0f} MB"


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def test_in_a_real_browser(run_dir):
    exe = _chromium()
    if exe is None:
        pytest.skip("no chromium on this machine (Debian: apt-get install chromium; make test installs it as root)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install playwright)")
    data = _data(run_dir)
    at = next(i for i, n in enumerate(data["meta"]["needs"]) if n["profiles"]["iip-naive"]["total"] > 2 * PAGE
              and isinstance(data["lists"][i]["lists"]["connect+iip"], dict))
    long_need, lists = data["meta"]["needs"][at], explorer.full_lists(data["lists"][at])
    ids = {p: [data["records"]["ids"][i] for i in v] for p, v in lists.items()}

    def shown(page, profile: str) -> list[str]:
        return page.locator(f"section.col[data-profile='{profile}'] ol > li > b").all_inner_texts()
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=exe, args=["--no-sandbox"])
        try:
            for width in (390, 1280):
                page = browser.new_page(viewport={"width": width, "height": 900})
                requests: list[str] = []
                page.on("request", lambda r: requests.append(r.url))
                url = (run_dir / "explorer.html").as_uri()
                page.goto(url)
                page.wait_for_selector("body[data-ready='1']", timeout=20000)
                page.select_option("#need", long_need["id"])
                page.wait_for_selector(f"body[data-shown='{long_need['id']}']", timeout=20000)
                col = page.locator("section.col[data-profile='iip-naive']")
                assert col.locator("ol > li.rel, ol > li.not").count() == PAGE
                # the script's lists are the run's: a union rebuilt from its members, the rest undone from differences
                assert shown(page, "connect+iip") == ids["connect+iip"][:PAGE]
                assert shown(page, "iip-naive") == ids["iip-naive"][:PAGE]
                col.locator("button.next").click()
                col = page.locator("section.col[data-profile='iip-naive']")
                assert col.locator("ol").get_attribute("start") == str(PAGE + 1)
                assert shown(page, "iip-naive") == ids["iip-naive"][PAGE:2 * PAGE]
                assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")
                assert requests == [url]  # the page itself, nothing else
                page.close()
                report = browser.new_page(viewport={"width": width, "height": 900})
                report.goto((run_dir / "report.html").as_uri())
                # wide tables scroll in their own boxes: the page itself never scrolls sideways
                assert report.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")
                report.close()
        finally:
            browser.close()


def test_a_capped_page_in_a_real_browser(capped_dir):
    """A cut list says so, pages only through the records embedded, and where the reader stopped
    past them says so at their end rather than marking a record that is not there."""
    exe = _chromium()
    if exe is None:
        pytest.skip("no chromium on this machine (Debian: apt-get install chromium; make test installs it as root)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install playwright)")
    data = _data(capped_dir)
    at, p = next((i, p) for i, n in enumerate(data["meta"]["needs"]) for p, v in n["profiles"].items()
                 if "shown" in v and v["stop"] is not None and v["stop"] > CAP)
    need, v = data["meta"]["needs"][at], data["meta"]["needs"][at]["profiles"][p]
    ids = [data["records"]["ids"][i] for i in explorer.full_lists(data["lists"][at])[p]]
    assert len(ids) == CAP < v["total"]
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=exe, args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto((capped_dir / "explorer.html").as_uri())
            page.wait_for_selector("body[data-ready='1']", timeout=20000)
            page.select_option("#need", need["id"])
            page.wait_for_selector(f"body[data-shown='{need['id']}']", timeout=20000)
            col = page.locator(f"section.col[data-profile='{p}']")
            assert col.locator("div.cut").inner_text() == (f"first {CAP} of {v['total']} records shown; "
                                                           f"the whole list is in runs/{p}.run")
            assert col.locator("div.pager").inner_text().strip().endswith("page 1 of 2 next >")
            assert col.locator("li.stop").count() == 0
            col.locator("button.next").click()
            col = page.locator(f"section.col[data-profile='{p}']")
            assert col.locator("ol > li > b").all_inner_texts() == ids[PAGE:CAP]
            assert col.locator("button.next").is_disabled()
            assert col.locator("li.stop").count() == 1
            assert col.locator("li.stop").inner_text() == (
                f"the modelled analyst read on past the {CAP} records shown, stopping after record {v['stop']} "
                f"({v['examined']} {v['unit']})")
        finally:
            browser.close()


MM = 72 / 25.4  # PDF points per millimetre


def _fragments(page) -> list[tuple[float, float, str]]:
    """(x, y, text) of each piece of text drawn on a PDF page, y from the page's foot."""
    out = []

    def visit(text, cm, tm, font, size):
        if text.strip():
            out.append((cm[0] * tm[4] + cm[2] * tm[5] + cm[4], cm[1] * tm[4] + cm[3] * tm[5] + cm[5], text.strip()))
    page.extract_text(visitor_text=visit)
    return out


def test_the_printed_report(run_dir, tmp_path):
    """report.html printed to PDF by Chromium: every page carries its number, the data's marking and
    the run in its bottom margin and nothing else there; all other text lies inside the printable
    area (nothing runs off the right edge or under a footer); the per-need table prints on landscape
    pages; and every need and profile is in the printed text."""
    exe = _chromium()
    if exe is None:
        pytest.skip("no chromium on this machine (Debian: apt-get install chromium; make test installs it as root)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install playwright)")
    pypdf = pytest.importorskip("pypdf", reason="pypdf is not installed (pip install pypdf)")
    pdf = tmp_path / "report.pdf"
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=exe, args=["--no-sandbox"])
        try:
            page = browser.new_page()
            page.goto((run_dir / "report.html").as_uri())
            page.pdf(path=str(pdf), prefer_css_page_size=True, print_background=True)
        finally:
            browser.close()
    pages = pypdf.PdfReader(pdf).pages
    data = _data(run_dir)
    assert len(pages) > 3
    landscape, text = 0, []
    for i, p in enumerate(pages, 1):
        w, h = float(p.mediabox.width), float(p.mediabox.height)
        landscape += w > h
        frags = _fragments(p)
        foot = sorted((x, t) for x, y, t in frags if y < 18 * MM - 2)
        assert " ".join(t for _, t in foot) == f"SYNTHETIC DATA · polebench run {data['meta']['run']} page {i} of {len(pages)}"
        body = [(x, y, t) for x, y, t in frags if y >= 18 * MM - 2]
        assert body, f"page {i} is empty"
        for x, y, t in body:
            assert 12 * MM - 2 <= x <= w - 12 * MM and y <= h - 14 * MM, f"page {i}: {t!r} at ({x:.0f}, {y:.0f})"
        text.append(p.extract_text())
    assert landscape >= 1
    printed = re.sub(r"\s+", "", "".join(text))
    assert all(n["id"] in printed for n in data["meta"]["needs"])
    assert all(re.sub(r"\s+", "", p["label"]) in printed for p in data["meta"]["profiles"])


def test_the_record_table_does_not_hold_every_entity_as_a_dict(run_dir, ci_corpus, traced_peak):
    """The page names whom each shown record is about from the truth's entities, read in columns:
    as dicts they were every entity of the corpus (at 1M records `polebench report` peaked at 1.36
    GB, in columns 0.37 GB). Traced peaks on ci, a table of 500 records: the entities as dicts 35
    MB; the table with them 36 MB, in columns 21 MB."""
    ids = _data(run_dir)["records"]["ids"][:500]  # what the table holds of its records is not at issue
    at = {rid: i for i, rid in enumerate(ids)}
    dicts = traced_peak(lambda: {e["id"]: e for e in ci_corpus.truth_entities()})
    table = traced_peak(lambda: explorer._table(ci_corpus, ids, at))
    assert table < 0.75 * dicts, (table, dicts)
