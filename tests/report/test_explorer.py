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
    trec: dict[tuple[str, str], list[str]] = {}
    for f in (run_dir / "runs").glob("*.run"):
        for line in f.read_text().splitlines():
            q, _, rid, rank, _, p = line.split()
            trec.setdefault((p, q), []).append(rid)
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
