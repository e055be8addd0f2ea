"""The embedded backend on the generated ci corpus: each CRIMINT capability finds a corrupted
variant that CONNECT misses; IIP's volume; index reuse; agreement with the rank-bm25 oracle."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.backends.registry import open_backend
from bench.plans import Plan, Scoped, Text
from bench.profiles.compile import compile_need
from bench.profiles.model import ProfileSet
from bench.queries.model import Need

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def engine(ci_corpus):
    b = open_backend("embedded", ci_corpus)
    b.prepare()
    return b


@pytest.fixture(scope="module")
def profiles():
    return ProfileSet(["crimint", "connect", "iip", "connect+iip"])


@pytest.fixture(scope="module")
def written(ci_corpus):
    """Records and truth side by side, to find mentions carrying one corruption kind."""
    rows = []
    for rec, truth in zip(ci_corpus.records(), ci_corpus.truth_mentions()):
        rows.append((rec, truth))
    ents = {e["id"]: e for e in ci_corpus.truth_entities()}
    return rows, ents


def _find(written, kind: str, scope: str = "people", pred=lambda rec, m, e: True):
    rows, ents = written
    for rec, truth in rows:
        for m in truth["mentions"]:
            if m["kinds"] == [kind]:
                w = next((x for x in rec[scope] if x["mid"] == m["mid"]), None)
                if w is not None and pred(rec, w, ents[m["entity"]]):
                    return rec, w, ents[m["entity"]]
    raise AssertionError(f"no mention with only {kind!r}")


def _hits(engine, profiles, name, need: Need) -> list[str]:
    return engine.search(compile_need(need, profiles[name], profiles)).rids


def _person_need(e: dict, **over) -> Need:
    import datetime as dt
    crit = {"forename": e["forename"], "surname": e["surname"], "dob": dt.date.fromisoformat(e["dob"]), **over}
    return Need(id="t", description="test", person=crit)


@pytest.mark.parametrize("kind, pred", [
    ("phonetic", lambda rec, w, e: w["surname"] != e["surname"] and w["dob"] == e["dob"]),
    ("nickname", lambda rec, w, e: w["dob"] == e["dob"]),
    ("dob_transposed", lambda rec, w, e: True),
])
def test_crimint_sees_through_a_person_corruption_that_connect_misses(engine, profiles, written, kind, pred):
    rec, w, e = _find(written, kind, pred=pred)
    need = _person_need(e)
    assert rec["rid"] in _hits(engine, profiles, "crimint", need)
    assert rec["rid"] not in _hits(engine, profiles, "connect", need)


def test_crimint_dob_tolerance_finds_an_off_by_a_year_dob(engine, profiles, written):
    rec, w, e = _find(written, "dob_off_year")
    need = _person_need(e, dob_tolerance_days=366)
    assert rec["rid"] in _hits(engine, profiles, "crimint", need)
    assert rec["rid"] not in _hits(engine, profiles, "connect", need)


def test_crimint_misread_and_wildcard_vrm(engine, profiles, written):
    rec, w, e = _find(written, "vrm_misread", scope="vehicles")
    need = Need(id="t", description="t", vehicle={"vrm": e["vrm"]})
    assert rec["rid"] in _hits(engine, profiles, "crimint", need)
    assert rec["rid"] not in _hits(engine, profiles, "connect", need)
    suffix = Need(id="t", description="t", vehicle={"vrm": "*" + e["vrm"].replace(" ", "")[-3:], "colour": e["colour"]})
    got = _hits(engine, profiles, "crimint", suffix)
    truth_recs = {r["rid"] for r, t in written[0] for m in t["mentions"] if m["entity"] == e["id"] and not m["kinds"]}
    assert truth_recs and truth_recs <= set(got)
    assert compile_need(suffix, profiles["connect"]).lost[0].capability == "wildcard"


def test_crimint_geo_radius_finds_what_connect_cannot_express(engine, profiles, written):
    rows, ents = written
    rec = next(r for r, _ in rows if r["locations"][0]["lat"] is not None)
    loc = rec["locations"][0]
    need = Need(id="t", description="t", location={"point": {"lat": loc["lat"], "lon": loc["lon"]}, "radius_m": 50})
    assert rec["rid"] in _hits(engine, profiles, "crimint", need)
    plan = compile_need(need, profiles["connect"])
    assert plan.root is None and plan.lost[0].capability == "geo_radius"
    assert _hits(engine, profiles, "connect", need) == []


def test_a_date_window_means_when_the_event_happened(engine, profiles, written):
    """A record written up days after its event is found by a window around the event's own
    date: the CRIMINT-like profile searches the date of occurrence the record gives."""
    rows, ents = written
    rec, truth = next((r, t) for r, t in rows if r["date"] > ents[t["event"]]["date"] and not t["record_kinds"]
                      and not t["mentions"][-1]["kinds"] and r["locations"][0]["lat"] is not None)
    ev = ents[truth["event"]]
    loc = rec["locations"][0]
    need = Need(id="t", description="t", location={"point": {"lat": loc["lat"], "lon": loc["lon"]}, "radius_m": 50},
                event={"types": [ev["type"]], "date_from": ev["date"], "date_to": ev["date"]})
    assert rec["rid"] in _hits(engine, profiles, "crimint", need)


def test_crimint_links_reach_associates(engine, profiles, written):
    rows, ents = written
    rec, truth = next((r, t) for r, t in rows if len(r["people"]) >= 2 and r["people"][0]["dob"] and r["source"] == "crime"
                      and all(not m["kinds"] for m in t["mentions"][:2]))
    e = ents[truth["mentions"][0]["entity"]]
    need = Need(id="t", description="t", association={"of": {"forename": e["forename"], "surname": e["surname"],
                                                               "dob": e["dob"]}})
    crim = set(_hits(engine, profiles, "crimint", need))
    assoc = ents[truth["mentions"][1]["entity"]]
    assoc_recs = {r["rid"] for r, t in rows for m in t["mentions"] if m["entity"] == assoc["id"] and not m["kinds"]}
    assert rec["rid"] in crim and len(assoc_recs & crim) >= 1
    assert any(x.capability == "link_hops" for x in compile_need(need, profiles["connect"]).lost)


def test_crimint_second_hop_and_associates_vehicles(engine, profiles, ci_corpus):
    """Two hops reach records one hop does not (the network has bridges); asking for the
    associates' vehicles returns only their records that hold a vehicle."""
    import datetime as dt
    people = [e for e in ci_corpus.truth_entities() if e["kind"] == "person" and e["associates"]]
    grew = 0
    for e in people[:40]:
        of = {"forename": e["forename"], "surname": e["surname"], "dob": dt.date.fromisoformat(e["dob"])}
        one, two, veh = (set(_hits(engine, profiles, "crimint", Need(id="t", description="t", association={
            "of": of, "hops": h, "include": inc}))) for h, inc in ((1, "people"), (2, "people"), (1, "vehicles")))
        assert one <= two and veh <= one
        grew += len(two) > len(one)
        with_vehicle = {r["rid"] for r in _records(ci_corpus, veh) if r["vehicles"]}
        assert veh == with_vehicle
    assert grew >= 10


def _records(corpus, rids: set[str]) -> list[dict]:
    return [r for r in corpus.records() if r["rid"] in rids]


def test_iip_returns_more_than_crimint_for_a_common_name(engine, profiles, ci_corpus):
    from collections import Counter
    people = [e for e in ci_corpus.truth_entities() if e["kind"] == "person"]
    common = Counter(p["surname"] for p in people).most_common(1)[0][0]
    p = next(p for p in people if p["surname"] == common)
    need = _person_need(p)
    assert len(_hits(engine, profiles, "iip", need)) > 5 * max(1, len(_hits(engine, profiles, "crimint", need)))


def test_union_is_connect_then_iip_without_duplicates(engine, profiles, ci_corpus):
    p = next(e for e in ci_corpus.truth_entities() if e["kind"] == "person")
    need = _person_need(p)
    c, i, u = (_hits(engine, profiles, n, need) for n in ("connect", "iip", "connect+iip"))
    assert u[: len(c)] == c
    assert u == c + [x for x in i if x not in set(c)]
    assert len(u) == len(set(u))



def test_union_merged_from_its_members_results_equals_searching_them_again(engine, profiles, ci_corpus):
    people = [e for e in ci_corpus.truth_entities() if e["kind"] == "person"][:15]
    for p in people:
        need = _person_need(p)
        plans = {n: compile_need(need, profiles[n], profiles) for n in ("connect", "iip", "connect+iip")}
        known = {plans[n]: engine.search(plans[n]) for n in ("connect", "iip")}
        merged = engine.search(plans["connect+iip"], known)
        again = engine.search(plans["connect+iip"])
        assert merged.rids == again.rids and merged.total == again.total
        assert list(merged.scores) == list(again.scores)

def test_index_is_reused_and_rebuilt_when_stale(ci_corpus, engine):
    import json
    meta = engine._index_dir() / "meta.json"
    before = meta.stat().st_mtime_ns
    b = open_backend("embedded", ci_corpus)
    b.prepare()
    assert meta.stat().st_mtime_ns == before  # reused
    m = json.loads(meta.read_text())
    m["corpus_checksum"] = "stale"
    meta.write_text(json.dumps(m))
    b = open_backend("embedded", ci_corpus)
    b.prepare()
    assert json.loads(meta.read_text())["corpus_checksum"] == ci_corpus.checksum  # rebuilt
    assert b.search(Plan(Scoped("record", Text("all_text", "burglary", "or")), "relevance", None)).total > 0


def test_free_text_top10_agrees_with_rank_bm25(ci_corpus, engine):
    ref = open_backend("bm25-ref", ci_corpus)
    ref.prepare()
    people = [e for e in ci_corpus.truth_entities() if e["kind"] == "person"][:60]
    overlaps, same_total = [], 0
    for p in people:
        plan = Plan(Scoped("record", Text("all_text", f"{p['forename']} {p['surname']}", "or")), "relevance", None)
        a, b = engine.search(plan), ref.search(plan)
        same_total += a.total == b.total
        overlaps.append(len(set(a.rids[:10]) & set(b.rids[:10])) / max(1, min(10, len(a.rids))))
    assert same_total == len(people)  # same matching set: volume agrees exactly
    assert sum(overlaps) / len(overlaps) >= 0.9


def test_documents_added_as_json_index_what_documents_built_field_by_field_do(ci_corpus):
    """The build hands tantivy each document as JSON text (faster than tantivy.Document.from_dict):
    every value of every field of the first records' documents finds the same documents with
    the same scores either way, empty keywords and multi-valued fields included."""
    import itertools

    import orjson
    import tantivy

    from bench import fields as F
    from bench.backends.embedded import KINDS, _schema, docs_for_kind
    recs = list(itertools.islice(ci_corpus.records(), 1500))
    for kind, names in KINDS.items():
        schema = _schema(names)
        docs = [d for rnum, rec in enumerate(recs) for d in docs_for_kind(rec, rnum, kind)]
        searchers = []
        for as_json in (True, False):
            ix = tantivy.Index(schema)
            w = ix.writer(15_000_000, 1)
            for d in docs:
                if as_json:
                    w.add_json(orjson.dumps(d).decode())
                else:
                    w.add_document(tantivy.Document.from_dict(d, schema))
            w.commit()
            ix.reload()
            searchers.append(ix.searcher())
        probes = 0
        for d in docs[:400]:
            for name, value in d.items():
                if name not in names:  # `scope` on record documents: not in their schema, dropped either way
                    continue
                for v in value if isinstance(value, list) else [value]:
                    if F.FIELDS[name] == "int":
                        q = tantivy.Query.range_query(schema, name, tantivy.FieldType.Integer, v, v)
                    elif F.FIELDS[name] == "text":
                        q = tantivy.Query.boolean_query([(tantivy.Occur.Should, tantivy.Query.term_query(schema, name, t))
                                                         for t in F.words(v)])
                    else:
                        q = tantivy.Query.term_query(schema, name, v)
                    a, b = (s.search(q, limit=10_000).hits for s in searchers)
                    assert a == b, (kind, name, v)
                    probes += 1
        assert probes > 1000


def test_person_documents_from_cached_name_fields_agree_with_the_field_functions(ci_corpus):
    """person_docs computes a spelling's fields once and the key from them: each document still
    holds what norm, nickname_set, phonetic_key and person_key give for its mention."""
    import itertools

    from bench import fields as F
    n = 0
    for rnum, rec in enumerate(itertools.islice(ci_corpus.records(), 3000)):
        for p, d in zip(rec["people"], F.person_docs(rec, rnum), strict=True):
            fore, sur = p["forename"] or "", p["surname"] or ""
            assert d["person_key"] == F.person_key(p)
            assert (d["forename"], d["surname"], d["initial"]) == (F.norm(fore), F.norm(sur), F.norm(fore)[:1])
            assert d["forename_nick"] == list(F.nickname_set(fore))
            assert all(d[f"{part}_{a}"] == F.phonetic_key(a, v) for a in F.PHONETIC
                       for part, v in (("forename", fore), ("surname", sur)))
            assert d.get("dob") == F.days(p["dob"])
            n += 1
    assert n > 3000


def test_record_ids_are_an_array_as_declared_that_a_list_of_record_numbers_indexes(engine, ci_corpus):
    import typing

    import numpy as np

    from bench.backends.base import Backend
    assert typing.get_type_hints(Backend)["rids"] is np.ndarray
    assert isinstance(engine.rids, np.ndarray) and len(engine.rids) == ci_corpus.manifest.counts["records"]
    first = next(iter(ci_corpus.records()))["rid"]
    assert engine.rids[np.array([0, 0])].tolist() == [first, first]
    fresh = open_backend("embedded", ci_corpus)  # not prepared yet: empty, of the same type
    assert isinstance(fresh.rids, np.ndarray) and len(fresh.rids) == 0
