"""The generator: determinism, truth completeness, observed rates, bad input, atomicity."""

import math
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bench.corpus.generate import generate, load_spec
from bench.corpus.store import Corpus
from bench.errors import SpecError

ROOT = Path(__file__).resolve().parents[2]

TINY = """\
schema_version: 1
name: tiny
seed: 7
people: 300
vehicles: 100
phones: 100
addresses: 200
events: 500
records: 45000
dates: {start: 2020-01-01, end: 2021-01-01}
sources:
  intel: {share: 0.5, corruption: {typo: 0.2, nickname: 0.3}}
  custody: {share: 0.5}
"""


def test_same_spec_same_bytes_whatever_the_worker_count(write, tmp_path):
    spec = load_spec(write("tiny.yaml", TINY))
    a = generate(spec, tmp_path / "a", workers=1)
    b = generate(spec, tmp_path / "b", workers=2)
    assert a.files == b.files
    for f in ("records.jsonl.gz", "truth/mentions.jsonl.gz", "truth/entities.jsonl.gz", "manifest.json"):
        assert (tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes()


def test_every_mention_resolves_to_a_true_entity(ci_corpus):
    ids = {e["id"] for e in ci_corpus.truth_entities()}
    n = 0
    for rec, truth in zip(ci_corpus.records(), ci_corpus.truth_mentions()):
        assert rec["rid"] == truth["rid"] and truth["event"] in ids
        mids = {m["mid"] for k in ("people", "vehicles", "phones", "locations") for m in rec[k]}
        assert mids == {m["mid"] for m in truth["mentions"]}
        for m in truth["mentions"]:
            assert m["entity"] in ids
            n += 1
    assert n > ci_corpus.manifest.counts["records"]


def test_records_carry_no_truth(ci_corpus):
    rec = next(ci_corpus.records())
    text = str(rec)
    assert "entity" not in text and "kinds" not in text and rec["synthetic"] is True


def test_observed_rates_match_configured_rates(ci_corpus):
    """Applied / eligible is a binomial proportion: within 4 standard errors of the rate."""
    spec = ci_corpus.manifest.spec
    checked = 0
    for source, kinds in ci_corpus.manifest.corruption.items():
        for kind, c in kinds.items():
            rate = spec["sources"][source]["corruption"][kind]
            if c.eligible < 200:
                continue
            se = math.sqrt(rate * (1 - rate) / c.eligible)
            assert abs(c.applied / c.eligible - rate) <= 4 * se + 1e-9, (source, kind)
            checked += 1
    assert checked >= 40


def test_truth_kinds_agree_with_the_tally(ci_corpus):
    from collections import Counter
    seen = Counter()
    for rec, truth in zip(ci_corpus.records(), ci_corpus.truth_mentions()):
        for k in [k for m in truth["mentions"] for k in m["kinds"]] + truth["record_kinds"]:
            seen[(rec["source"], k)] += 1
    for source, kinds in ci_corpus.manifest.corruption.items():
        for kind, c in kinds.items():
            assert seen[(source, kind)] == c.applied - c.hidden


def test_skewed_surnames(ci_corpus):
    from collections import Counter
    counts = Counter(e["surname"] for e in ci_corpus.truth_entities() if e["kind"] == "person")
    top = counts.most_common(10)
    assert top[0][1] >= 10 * sorted(counts.values())[len(counts) // 2]


@pytest.mark.parametrize("patch, field, line", [
    ("people: 300", "people", 4),
    ("  intel: {share: 0.5, corruption: {typo: 1.2, nickname: 0.3}}", "sources.intel.corruption.typo", 12),
    ("  gossip: {share: 0.5}", "sources", 11),
    ("colour: blue", "colour", None),
])
def test_bad_spec_names_file_line_and_field(write, patch, field, line):
    lines = TINY.splitlines()
    if patch.startswith("people"):
        text = TINY.replace("people: 300", "people: -3")
    elif "typo" in patch:
        text = TINY.replace(lines[11], patch)
    elif "gossip" in patch:
        text = TINY.replace(lines[12], patch)
    else:
        text = TINY + patch + "\n"
    path = write("bad.yaml", text)
    with pytest.raises(SpecError) as e:
        load_spec(path)
    msg = str(e.value)
    assert str(path) in msg and field in msg
    if line:
        assert f"bad.yaml:{line}:" in msg


def test_cli_error_is_one_line_not_a_traceback(write):
    path = write("bad.yaml", TINY.replace("area: greater_london\n", "") + "area: atlantis\n")
    r = subprocess.run([sys.executable, "-m", "bench.cli.main", "generate", str(path)],
                       capture_output=True, text=True)
    assert r.returncode == 2
    assert "Traceback" not in r.stderr and "atlantis" in r.stderr and "bad.yaml:" in r.stderr


def test_failed_generation_leaves_nothing(write, tmp_path, monkeypatch):
    spec = load_spec(write("tiny.yaml", TINY))
    out = tmp_path / "corpus"
    import bench.corpus.generate as g

    def boom(*a, **k):
        raise RuntimeError("disk full")
    monkeypatch.setattr(g, "_entities", boom)
    with pytest.raises(RuntimeError):
        generate(spec, out, workers=1)
    assert not out.exists() and list(tmp_path.glob(".corpus*")) == []


def test_shipped_specs_load():
    for name in ("ci", "default", "large"):
        spec = load_spec(ROOT / "corpora" / f"{name}.yaml")
        assert spec.name == name


def test_corpus_reader_rejects_non_corpus(tmp_path):
    from bench.errors import PolebenchError
    with pytest.raises(PolebenchError, match="not a corpus folder"):
        Corpus(tmp_path)


def test_surnames_follow_the_sources_ranks(ci_corpus):
    """The commonest generated surnames are the source's commonest (Faker en_GB's ONS-derived
    weights): before minority lists kept their alphabetical order as a rank, Achison came first."""
    from collections import Counter

    from faker.providers.person.en_GB import Provider as GB
    source = [n for n, _ in sorted(GB.last_names.items(), key=lambda x: -x[1])]
    counts = Counter(e["surname"] for e in ci_corpus.truth_entities() if e["kind"] == "person")
    top10 = [n for n, _ in counts.most_common(10)]
    assert top10[0] == source[0] == "Smith"
    assert set(top10) <= set(source[:25]), top10


def test_pool_weights_keep_source_order_and_give_unranked_lists_no_rank():
    import numpy as np

    from faker.providers.person.en_GB import Provider as GB
    from bench.corpus.pools import build_pools, minority_surnames, rank_weights
    pools = build_pools(7)
    w = dict(zip(pools.surnames, pools.surname_p))
    gb = sorted(GB.last_names.items(), key=lambda x: -x[1])
    assert [w[n] for n, _ in gb] == sorted((w[n] for n, _ in gb), reverse=True)
    extra = minority_surnames(set(GB.last_names))
    assert "Achison" in extra and len({w[n] for n in extra}) == 1  # equal weights: no rank known
    assert w["Achison"] < w[gb[99][0]]
    assert len(set(rank_weights(["Aaron", "Adam", "Zed"]))) == 1  # alphabetical: no rank
    assert rank_weights(["Jakub", "Jan", "Adam"])[0] > rank_weights(["Jakub", "Jan", "Adam"])[2]
    assert np.isclose(sum(pools.forename_p["M"]), 1)


def test_london_street_names_use_british_descriptors(ci_corpus):
    """Street names end in a descriptor from the cited table (Road, Close, Street ...), at
    about its share; none of Faker's US suffixes (Stream, Underpass, Fort)."""
    from collections import Counter

    from bench.corpus.pools import street_types
    kinds, share = street_types()
    ends = Counter(e["address"].rsplit(" ", 1)[-1] for e in ci_corpus.truth_entities() if e["kind"] == "address")
    assert set(ends) <= set(kinds), set(ends) - set(kinds)
    assert ends.most_common(1)[0][0] == "Road"
    assert {"Stream", "Underpass", "Fort"}.isdisjoint(ends)


def test_records_hold_the_date_written_and_the_event_date_with_its_errors(ci_corpus):
    """Each record holds when it was written (never before the event) and the event's date as
    it gives it; where that differs from the true date, or is missing, the truth says so."""
    events = {e["id"]: e["date"] for e in ci_corpus.truth_entities() if e["kind"] == "event"}
    later = off = missing = 0
    for rec, truth in zip(ci_corpus.records(), ci_corpus.truth_mentions()):
        true = events[truth["event"]]
        assert rec["date"] >= true
        later += rec["date"] > true
        kinds = set(truth["record_kinds"])
        assert ("event_date_missing" in kinds) == (rec["event_date"] is None)
        assert ("event_date_off" in kinds) == (rec["event_date"] not in (None, true))
        off += "event_date_off" in kinds
        missing += "event_date_missing" in kinds
        assert ("offence_missing" in kinds) == (rec["offence"] == "")
    assert later > 5000 and 200 < off < 2000 and 100 < missing < 2000, (later, off, missing)


def test_associates_form_a_sparse_clustered_network_where_hop_two_reaches_further(ci_corpus):
    """The block model's ties: few per person, dense inside groups (clustering far above the
    density), and bridges between groups, so for most people with associates the two-hop set
    holds people the one-hop set does not (with closed groups it never did)."""
    people = {e["id"]: set(e["associates"]) for e in ci_corpus.truth_entities() if e["kind"] == "person"}
    assert all(b in people and a in people[b] for a, near in people.items() for b in near)  # symmetric
    tied = [p for p, near in people.items() if near]
    one = [len(people[p]) for p in tied]
    two = [len(set().union(people[p], *(people[a] for a in people[p])) - {p}) for p in tied]
    assert sum(b > a for a, b in zip(one, two)) > 0.8 * len(tied)
    assert 2 < sum(one) / len(one) < 8  # sparse: a handful of ties each
    density = sum(one) / (len(people) * (len(people) - 1))
    triangles = [sum(c in people[b] for b in people[p] for c in people[p] if b < c) / (len(people[p]) * (len(people[p]) - 1) / 2)
                 for p in tied if len(people[p]) > 1]
    assert sum(triangles) / len(triangles) > 100 * density


def test_the_network_is_seeded_and_reproducible():
    import numpy as np

    from bench.corpus.pools import build_pools
    from bench.corpus.world import build_world
    spec = load_spec(ROOT / "corpora" / "ci.yaml").model_copy(update={"people": 600, "events": 50, "vehicles": 10,
                                                                       "phones": 10, "addresses": 50})
    worlds = [build_world(spec, build_pools(spec.seed), np.random.default_rng(spec.seed)) for _ in range(2)]
    ties = [[w.associates.of(i) for i in range(w.n_people)] for w in worlds]
    assert ties[0] == ties[1] and sum(map(len, ties[0])) > 0


# What the TINY spec's files hold once decompressed, as the generator wrote them before it was
# made faster (commit a3d276c: clerks looking up rates, world arrays read element by element,
# zlib): the speed-ups keep every record, truth line and entity, byte for byte. The gzip bytes
# themselves (ISA-L since) and so the manifest's file checksums are not pinned.
TINY_CONTENT = {
    "records.jsonl.gz": "a6edecf1d698eab7996daf9f75b050dad212f4a3e0f114e8d133787e7ae4c077",
    "truth/mentions.jsonl.gz": "5fc7baad94f0cc8f654de7b58af7140cd22dbffb320f2ae6422306fce8f73c87",
    "truth/entities.jsonl.gz": "1ed2b3d1591498a8213d8a3923b6b3f623d793473feb4966dd7041511bec2d7b",
}


def test_faster_generator_writes_the_same_content(write, tmp_path):
    import gzip
    import hashlib
    generate(load_spec(write("tiny.yaml", TINY)), tmp_path / "t", workers=2)
    got = {f: hashlib.sha256(gzip.decompress((tmp_path / "t" / f).read_bytes())).hexdigest() for f in TINY_CONTENT}
    assert got == TINY_CONTENT


def test_entities_are_written_in_bounded_memory(write, monkeypatch):
    """The truth's entity rows go out a batch at a time: the memory writing them takes does not
    grow with the world (it did when every row was built first: about 1 GB for 1M records)."""
    import tracemalloc

    import numpy as np

    from bench.corpus import generate as g
    from bench.corpus.pools import build_pools
    from bench.corpus.world import build_world

    class Sink:
        def write(self, b: bytes) -> None:
            pass

    monkeypatch.setattr(g, "CHUNK", 500)
    tiny, peaks = load_spec(write("tiny.yaml", TINY)), []
    for scale in (1, 4):
        spec = tiny.model_copy(update={
            "people": 2000 * scale, "vehicles": 500 * scale, "phones": 500 * scale,
            "addresses": 1000 * scale, "events": 3000 * scale})
        world = build_world(spec, build_pools(spec.seed, spec.surname_skew), np.random.default_rng(spec.seed))
        tracemalloc.start()
        g._write_entities(world, Sink())
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
    assert peaks[1] < 1.3 * peaks[0], peaks


# The `ci` corpus's content as the generator wrote it while the world was held as a Python
# object per entity (GENERATOR_REVISION 5, before the world became columns): the compact world
# must give every record, truth line, entity and manifest count the same, byte for byte. Any
# change to the world's draws, its links or the order they are read in shows here.
CI_CONTENT = {
    "records.jsonl.gz": "88d2fe26a335d19c8307229cee3c60ba4382b7c712525facd3d190ffd40edae6",
    "truth/mentions.jsonl.gz": "35cb5ad9eeb6d2fe3ae27c82c88db0400d9d41e0bff97084ba4e5af179a55f1f",
    "truth/entities.jsonl.gz": "4502e0fa0be033a218176f50fa89254e8b3df98332ccc6d4281321af68adeec2",
    "manifest counts and corruption": "e502cacfa728a14e8ffe9ad53d5e06357b6030088be3e6ebb5a2c0b7ba315e4b",
}


def test_compact_world_writes_what_the_object_world_wrote(ci_corpus):
    import gzip
    import hashlib

    import orjson
    m = ci_corpus.manifest
    got = {f: hashlib.sha256(gzip.decompress((ci_corpus.root / f).read_bytes())).hexdigest()
           for f in CI_CONTENT if f.endswith(".gz")}
    got["manifest counts and corruption"] = hashlib.sha256(orjson.dumps(
        {"counts": m.counts, "corruption": {s: {k: c.model_dump() for k, c in kinds.items()}
                                            for s, kinds in m.corruption.items()}},
        option=orjson.OPT_SORT_KEYS)).hexdigest()
    assert got == CI_CONTENT


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(0.0, 10.0), min_size=1, max_size=50).filter(lambda w: sum(w) > 0),
       st.integers(0, 5000), st.integers(1, 700), st.integers(0, 2**32))
def test_weighted_choice_is_numpys_choice_in_blocks(weights, size, block, seed):
    """The plan and the events' leads are drawn a block at a time to bound memory: the same
    values as numpy's own choice, whatever the block."""
    import numpy as np

    from bench.corpus.world import weighted_choice
    p = np.array(weights) / sum(weights)
    a, b = np.random.default_rng(seed), np.random.default_rng(seed)
    want = a.choice(len(p), size, p=p)
    got = weighted_choice(b, p, size, np.int64, block=block)
    assert got.tolist() == want.tolist() and a.random() == b.random()  # and the stream left where it was


def test_chunks_in_flight_are_bounded_and_taken_in_order():
    """The parent asks the workers for at most `window` chunks it has not yet taken, so finished
    chunks cannot pile up in its memory, and it takes them in chunk order."""
    from bench.corpus import generate as g

    class Pool:
        def __init__(self):
            self.asked, self.most = [], 0

        def apply_async(self, fn, args):
            self.asked.append(args[0])
            return args[0]

    pool, taken = Pool(), []
    for index in g._chunks(pool, 10, 3):
        pool.most = max(pool.most, len(pool.asked) - len(taken))
        taken.append(index)
    assert taken == pool.asked == list(range(10)) and pool.most == 3


@settings(max_examples=40, deadline=None)
@given(st.lists(st.lists(st.dictionaries(st.text(max_size=5), st.text(max_size=300) | st.integers(-2**63, 2**63 - 1),
                                         max_size=4), max_size=30), max_size=6))
def test_a_gzip_member_written_in_batches_is_gzip_compress_of_all_the_lines(batches):
    """Chunks and entity batches are compressed a batch of rows at a time, never held whole:
    the bytes are what compressing all the lines at once gave, wherever the batches cut them."""
    import gzip

    import orjson

    from bench.corpus.store import GzMember
    member = GzMember()
    for rows in batches:
        member.write(rows)
    lines = b"".join(orjson.dumps(r, option=orjson.OPT_SORT_KEYS) + b"\n" for rows in batches for r in rows)
    assert member.close() == gzip.compress(lines, compresslevel=1, mtime=0)



def _ties_as_a_set_drew_them(members, block, want, rng):
    """The ties across groups as the generator drew them before they were keys in arrays (a set
    of pairs, filled draw by draw): the reference the array form is held to."""
    import numpy as np
    n, got = len(members), set()
    while len(got) < want:
        a = members[rng.integers(n, size=2 * (want - len(got)) + 8)]
        b = members[rng.integers(n, size=len(a))]
        for x, y in zip(a.tolist(), b.tolist()):
            if block[x] != block[y] and len(got) < want:
                got.add((min(x, y), max(x, y)))
    return np.array(sorted(got), np.int64).reshape(-1, 2)


@settings(max_examples=150, deadline=None)
@given(st.integers(1, 60), st.integers(0, 60), st.integers(1, 8), st.floats(0, 1), st.integers(0, 2**32))
def test_ties_across_groups_are_the_ones_a_set_drew(people, in_groups, groups, share, seed):
    """Same ties and the random stream left where it was, for any group sizes (one person a
    group, nobody in a group) and any number of ties, up to every pair across groups."""
    import numpy as np

    from bench.corpus.world import _distinct_ties
    setup = np.random.default_rng(seed)
    members = setup.permutation(people)[:in_groups]
    block = np.full(people, -1, np.int32)
    block[members] = setup.integers(groups, size=len(members))
    across = sum(block[x] != block[y] for i, x in enumerate(members.tolist()) for y in members.tolist()[i + 1:])
    want = int(share * across)
    a, b = np.random.default_rng(seed + 1), np.random.default_rng(seed + 1)
    expect = _ties_as_a_set_drew_them(members, block, want, a)
    got = _distinct_ties(members, block, want, b)
    assert got.dtype == expect.dtype and got.shape == expect.shape == (want, 2) and got.tolist() == expect.tolist()
    assert a.random() == b.random()


def test_large_groups_allowed_by_the_spec_take_memory_only_for_the_groups_drawn():
    """A spec may allow groups of hundreds: the pairs of a group are laid out for the sizes
    drawn, not for every size up to size_max (300: 72 MB before a single group was drawn)."""
    import tracemalloc

    import numpy as np

    from bench.corpus.spec import Communities
    from bench.corpus.world import _communities

    class Spec:
        communities = Communities(size_min=2, size_max=300, share_in_community=0.5)
    people = {"dob": np.zeros(40, np.int32), "community": np.full(40, -1, np.int32), "address": np.arange(40, dtype=np.int32)}
    tracemalloc.start()
    groups, ties = _communities(Spec(), people, np.random.default_rng(7))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert groups >= 1 and (people["community"] >= 0).sum() == 20 and peak < 5_000_000, peak


def test_groups_of_many_large_sizes_hold_the_pairs_of_one_group_at_a_time():
    """Groups of 300 to 1,000 (sizes the spec allows) among 40,000 people: about 60 groups of as
    many sizes, whose pairs, kept for every size drawn, took 199 MB (and 2.7 GB once every
    size up to 1,000 had been drawn); only small groups' pairs are kept, so a group's are made and
    dropped (12.5 MB at 1,000)."""
    import tracemalloc

    import numpy as np

    from bench.corpus.spec import Communities
    from bench.corpus.world import _communities

    class Spec:
        communities = Communities(size_min=300, size_max=1000, share_in_community=1, p_within=0.001,
                                  ties_between=0)
    n = 40_000
    people = {"dob": np.zeros(n, np.int32), "community": np.full(n, -1, np.int32), "address": np.zeros(n, np.int32)}
    tracemalloc.start()
    groups, ties = _communities(Spec(), people, np.random.default_rng(3))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert 40 <= groups <= 135 and (people["community"] >= 0).all() and peak < 40_000_000, (groups, peak)
