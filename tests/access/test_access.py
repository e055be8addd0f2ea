"""Right of access on a small hand-built corpus: what each profile's SAR finds and wrongly
includes, erasure that only hides versus erasure that purges (on tantivy, for real), and one
audit line per search."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench.access.erase import WORK_FILE, cleanup, erase
from bench.access.sar import sar_instance, sar_summary
from bench.backends.embedded import INDEX_VERSION
from bench.corpus.importer import import_records
from bench.corpus.store import Corpus, claim
from bench.errors import PolebenchError
from bench.profiles.model import ProfileSet
from bench.queries.instantiate import instance_dir, write_instance
from bench.run.runner import RunSettings, run_benchmark

ROOT = Path(__file__).resolve().parents[2]
PROFILES = ["crimint", "connect", "iip", "connect+iip", "iip-naive"]
HEADER = "rec_id,given_name,surname,date_of_birth,street_number,address_1,address_2,suburb,postcode,phone_number\n"
# Subject 1, William Smith born 1985-03-04, has four records: one clean, one as "Bill", one as
# "Smyth" with day and month transposed, one with no DOB. Person 2 is another William (Jones);
# person 3 another Smith (Mary). Their records are what a careless SAR would disclose.
ROWS = """\
rec-1-org,william,smith,19850304,12,high street,,hackney,E8 1AB,
rec-1-dup-0,bill,smith,19850304,12,high street,,hackney,E8 1AB,
rec-1-dup-1,william,smyth,19850403,12,high street,,hackney,E8 1AB,
rec-1-dup-2,william,smith,,12,high street,,hackney,E8 1AB,
rec-2-org,william,jones,19700101,3,park road,,ealing,W5 1AA,
rec-2-dup-0,william,jones,19700101,3,park road,,ealing,W5 1AA,
rec-3-org,mary,smith,19990909,8,mill lane,,croydon,CR0 2XY,
"""


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Corpus:
    d = tmp_path_factory.mktemp("access")
    (d / "rows.csv").write_text(HEADER + ROWS)
    import_records(d / "rows.csv", ROOT / "corpora" / "import-example.yaml", "access", d / "access")
    return Corpus(d / "access")


@pytest.fixture(scope="module")
def sar_run(corpus, tmp_path_factory):
    inst = sar_instance(corpus, subject="P1")
    d = instance_dir(corpus, inst.meta["query_set"])
    write_instance(d, inst)
    return run_benchmark(RunSettings(corpus=corpus.root, instance=d, profiles=PROFILES,
                                     results=tmp_path_factory.mktemp("results")))


def test_sar_completeness_and_false_inclusions_match_a_hand_count(sar_run):
    s = sar_summary(sar_run.run)
    # CRIMINT: nickname (Bill) and phonetic + transposition (Smyth, 04/03) found; the no-DOB record
    # by the requester's address (E8 1AB, a Soundex Smith there). Mary Smith lives elsewhere.
    assert s["crimint"].completeness.value == pytest.approx(4 / 4)
    assert s["crimint"].false_inclusions.value == 0
    # CONNECT: exact name and DOB (rec-1-org), and exactly "smith" at E8 1AB (dup-0, dup-2); not Smyth.
    assert s["connect"].completeness.value == pytest.approx(3 / 4)
    assert s["connect"].false_inclusions.value == 0
    # IIP, every criterion must match: records holding both "william" and "smith" - 2 of his, no one else's.
    assert s["iip"].completeness.value == pytest.approx(2 / 4)
    assert s["iip"].false_inclusions.value == 0
    # IIP with every word ORed (the upper bound): every William and every Smith: all 4 of his,
    # and 3 records of two other people.
    assert s["iip-naive"].completeness.value == 1
    assert s["iip-naive"].false_inclusions.value == 3
    # the totals the report's table shows: records missed of those held, over the one request
    assert [(s[n].requests, s[n].missed_total, s[n].relevant_total) for n in ("crimint", "connect", "iip")] == \
        [(1, 0, 4), (1, 1, 4), (1, 2, 4)]


def test_the_reports_subject_access_tables_show_the_hand_counted_figures(sar_run):
    from bench.cli.report import write_reports
    html, md = write_reports(sar_run.dir)
    text = md.read_text()
    assert "## Subject access requests" in text
    label = sar_run.run.label("connect")
    row = next(line for line in text.splitlines() if line.startswith(f"| {label} | 75% "))
    assert "| 1/4 | 0.0 [0.0, 0.0] |" in row
    page = html.read_text()
    assert "1 of 4" in page and "2 of 4" in page and "0 of 4" in page


def test_one_audit_line_per_search(sar_run):
    lines = [json.loads(x) for x in (sar_run.dir / "audit.jsonl").read_text().splitlines()]
    # and one per search of a free-text profile's narrowing twin, which reformulating readers read
    twins = [f"{p}~narrows" for p in sar_run.run.aggregates.behaviour.reformulating]
    assert twins == ["connect+iip~narrows", "iip~narrows"]
    assert len(lines) == (len(PROFILES) + len(twins)) * sar_run.run.query_set.queries
    assert {x["profile"] for x in lines} == set(PROFILES) | set(twins)
    first = lines[0]
    assert first["event"] == "search" and first["operation"] == "consultation" and first["user"]
    assert first["query"]["person"]["surname"] == "smith" and "targets" not in first["query"]
    assert isinstance(first["returned"], int)


def test_hide_is_detected_and_purge_passes(corpus):
    inst = sar_instance(corpus, subject="P1")
    profiles = ProfileSet(PROFILES)
    hidden = erase(corpus, inst, "connect", profiles)  # CONNECT hides (papers)
    # exact name and DOB, and exactly "smith" at the requester's postcode: not Smyth
    assert hidden.deletion == "hide" and hidden.erased == ["rec-1-org", "rec-1-dup-0", "rec-1-dup-2"]
    assert hidden.present_before == 3 and hidden.present_after == 3
    assert "hidden, not deleted" in hidden.verdict
    assert hidden.never_erased == ["rec-1-dup-1"]  # what the SAR search missed is never erased
    # "william smyth" holds both words only for every-word-ORed IIP; all-criteria IIP needs "smith"
    assert hidden.still_findable["iip-naive"] == ["rec-1-dup-1"] and hidden.still_findable["connect"] == []
    assert hidden.still_findable["iip"] == []
    purged = erase(corpus, inst, "crimint", profiles)
    assert purged.deletion == "purge" and len(purged.erased) == 4
    assert purged.present_before == 4 and purged.present_after == 0
    assert purged.still_findable["crimint"] == [] and purged.still_findable["iip"] == []
    assert purged.verdict.startswith("purged: every record")


def test_erasure_never_touches_the_shared_index(corpus):
    idx = corpus.root / "index" / f"embedded-v{INDEX_VERSION}" / "record"
    before = sorted((p.name, p.stat().st_size) for p in idx.iterdir())
    erase(corpus, sar_instance(corpus, subject="P1"), "crimint", ProfileSet(PROFILES))
    assert sorted((p.name, p.stat().st_size) for p in idx.iterdir()) == before


def test_bad_subjects_and_profiles(corpus, write):
    with pytest.raises(PolebenchError, match="unknown subject"):
        sar_instance(corpus, subject="P999")
    no_rule = write("p.yaml", "schema_version: 1\nname: nodel\nlabel: x\nkind: structured\n"
                              "fields:\n  person.surname: {modes: [exact]}\n")
    with pytest.raises(PolebenchError, match="no deletion rule"):
        erase(corpus, sar_instance(corpus, subject="P1"), "nodel", ProfileSet([str(no_rule)]))


def test_hide_and_purge_on_a_real_opensearch_node(corpus, opensearch_url):
    inst = sar_instance(corpus, subject="P1")
    profiles = ProfileSet(PROFILES)
    hidden = erase(corpus, inst, "connect", profiles, backend="opensearch", url=opensearch_url)
    assert hidden.erased == ["rec-1-org", "rec-1-dup-0", "rec-1-dup-2"] and hidden.present_after == 3
    assert "hidden" in hidden.verdict and hidden.still_findable["iip-naive"] == ["rec-1-dup-1"] and hidden.still_findable["iip"] == []
    purged = erase(corpus, inst, "crimint", profiles, backend="opensearch", url=opensearch_url)
    assert len(purged.erased) == 4 and purged.present_after == 0
    assert purged.still_findable["iip"] == []


KILLED_ERASE = """
import os, signal, sys
from bench.access import erase as E
from bench.access.sar import sar_instance
from bench.corpus.store import Corpus
from bench.profiles.model import ProfileSet
corpus = Corpus(sys.argv[1])
def die(self, rnums):  # kill -9 with the copy made and nothing yet deleted from it
    print("copy made", flush=True)
    os.kill(os.getpid(), signal.SIGKILL)
getattr(E, sys.argv[2]).delete = die
E.erase(corpus, sar_instance(corpus, subject="P1"), "crimint", ProfileSet(["crimint"]),
        backend=sys.argv[3], url=sys.argv[4] if len(sys.argv) > 4 else None)
"""


def _killed_erase(corpus: Corpus, backend: str = "embedded", url: str | None = None) -> Path:
    """An erasure killed -9 half way; returns the work folder it left."""
    cls = {"embedded": "_TantivyCopy", "opensearch": "_OpenSearchCopy"}[backend]
    p = subprocess.run([sys.executable, "-c", KILLED_ERASE, str(corpus.root), cls, backend, *([url] if url else [])],
                       env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True, timeout=300)
    assert p.returncode == -9 and "copy made" in p.stdout, p.stderr
    left = sorted((corpus.root / "index").glob(".erase-*"))
    assert len(left) == 2 and left[1].name == left[0].name + ".owner"  # the folder, and who held it
    return left[0]


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bench.cli.main", *args], env={**os.environ, "PYTHONPATH": str(ROOT)},
                          capture_output=True, text=True, timeout=300)


def test_a_killed_erasure_leaves_only_its_work_folder_and_the_next_one_removes_it(corpus, tmp_path):
    left = _killed_erase(corpus)
    assert (left / "index").is_dir()  # a full copy, the subject's records still in it
    erase(corpus, sar_instance(corpus, subject="P1"), "crimint", ProfileSet(PROFILES))
    assert not list((corpus.root / "index").glob(".erase-*"))


def test_erase_cleanup_removes_what_a_killed_erasure_left_and_nothing_live(corpus, tmp_path):
    left = _killed_erase(corpus)
    live, fd = claim(corpus.root / "index", ".erase-")  # an erasure still running (this process)
    try:
        r = _cli("erase", "--corpus", str(corpus.root), "--cleanup", "--results", str(tmp_path))
        assert r.returncode == 0, r.stderr
        assert f"removed {left}" in r.stdout.replace("\n", "") and not left.exists()
        assert live.is_dir()
        assert _cli("erase", "--corpus", str(corpus.root), "--cleanup").stdout.startswith("nothing")
    finally:
        os.close(fd)
    assert cleanup(corpus) == [f"removed {live} (an erasure's work folder)"]


def test_an_erasure_that_fails_half_way_removes_its_copy(corpus, monkeypatch):
    from bench.access import erase as E

    def fails(self, rnums):
        raise RuntimeError("disk full")
    monkeypatch.setattr(E._TantivyCopy, "delete", fails)
    with pytest.raises(RuntimeError, match="disk full"):
        erase(corpus, sar_instance(corpus, subject="P1"), "crimint", ProfileSet(PROFILES))
    assert not list((corpus.root / "index").glob(".erase-*"))


def test_erase_without_a_subject_is_refused(corpus):
    r = _cli("erase", "--corpus", str(corpus.root), "--profile", "crimint")
    assert r.returncode == 2 and "--subject" in r.stderr and "--cleanup" in r.stderr


def test_a_killed_erasure_on_opensearch_never_touches_the_shared_index(corpus, opensearch_url, tmp_path):
    """Killed with the copies made: the shared indexes are as they were (read-only since they
    were built, so nothing had to block them), the copies are listed in the work folder, and
    --cleanup deletes them; with --backend opensearch it also deletes erasure copies of this
    corpus no work folder claims (what an older polebench left), and nothing else."""
    from bench.backends.opensearch import OpenSearchBackend
    shared = OpenSearchBackend(corpus, url=opensearch_url)
    shared.prepare()
    c = shared.client

    def state() -> dict:
        return {n: (c.indices.get_settings(index=n)[n]["settings"]["index"].get("blocks"),
                    c.count(index=n)["count"]) for n in shared.index.values()}
    before = state()
    assert all(b == {"write": "true"} for b, _ in before.values())
    left = _killed_erase(corpus, "opensearch", opensearch_url)
    copies = json.loads((left / WORK_FILE).read_text())["indexes"]
    assert all(c.indices.exists(index=n) for n in copies) and state() == before
    orphan = shared.index["record"] + "-erase-older"
    c.indices.create(index=orphan)
    other = "polebench-not-an-erasure-copy"
    c.indices.create(index=other)
    try:
        r = _cli("erase", "--corpus", str(corpus.root), "--cleanup", "--backend", "opensearch",
                 "--opensearch-url", opensearch_url, "--results", str(tmp_path))
        assert r.returncode == 0, r.stderr
        assert not any(c.indices.exists(index=n) for n in [*copies, orphan]) and not left.exists()
        assert c.indices.exists(index=other) and state() == before
    finally:
        c.indices.delete(index=[other, orphan], params={"ignore_unavailable": "true"})


def test_the_readme_erase_example_names_a_subject_with_records(ci_corpus):
    import re

    from bench.queries.truth import TruthIndex
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    (subject,) = re.findall(r"erase --corpus corpora/ci --subject (\S+)", readme)
    assert TruthIndex.load(ci_corpus).mentions.get(subject), f"{subject} has no records on the ci corpus"


def test_the_reference_profile_sees_what_an_erasure_deleted_as_gone_and_finds_what_it_missed(corpus):
    """Its entity-resolution cache is shared and read-only: on an erasure's copy it returns only what
    the copy's record index still holds. CONNECT's SAR missed Smyth (DOB transposed); the reference
    still finds it, and its own SAR (purge) finds and erases all four."""
    inst = sar_instance(corpus, subject="P1")
    profiles = ProfileSet(PROFILES + ["reference"])
    hidden = erase(corpus, inst, "connect", profiles)
    assert hidden.still_findable["reference"] == ["rec-1-dup-1"]
    own = erase(corpus, inst, "reference", profiles)
    assert own.deletion == "purge" and sorted(own.erased) == ["rec-1-dup-0", "rec-1-dup-1", "rec-1-dup-2", "rec-1-org"]
    assert own.still_findable["reference"] == [] and own.present_after == 0
