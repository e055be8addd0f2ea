"""Speed benchmarks (pytest-benchmark). Each records its figures in extra_info, as ratios where a
target is a ratio. Targets (2 cores): generate `large` (1M records) <= 20 s; index it <= 20 s;
1,000 needs x 4 profiles <= 60 s; harness <= 1.5x bare engine; run bookkeeping <= 20% of engine."""

from __future__ import annotations

import shutil
import time
from pathlib import Path


from bench.backends.registry import open_backend
from bench.corpus.generate import generate, load_spec
from bench.corpus.store import Corpus
from bench.profiles.compile import compile_need
from bench.profiles.model import ProfileSet
from bench.queries.instantiate import instance_dir, instantiate, write_instance
from bench.run.runner import RunSettings, run_benchmark

ROOT = Path(__file__).resolve().parents[1]
PROFILES = ["crimint", "connect", "iip", "connect+iip"]
_state: dict = {}


def test_generate(benchmark, scale, bench_root):
    spec = load_spec(ROOT / "corpora" / f"{scale}.yaml")
    out = bench_root / scale
    benchmark.pedantic(generate, args=(spec, out), rounds=1, iterations=1)
    secs = benchmark.stats.stats.mean
    benchmark.extra_info.update(records=spec.records, records_per_s=spec.records / secs,
                                target_s_for_1M=20, projected_s_for_1M=1e6 / (spec.records / secs))
    _state["corpus"] = Corpus(out)


def _corpus(scale: str, bench_root: Path) -> Corpus:
    if "corpus" not in _state:
        out = bench_root / scale
        try:
            _state["corpus"] = Corpus(out)
        except Exception:
            generate(load_spec(ROOT / "corpora" / f"{scale}.yaml"), out)
            _state["corpus"] = Corpus(out)
    return _state["corpus"]


def test_index(benchmark, scale, bench_root):
    corpus = _corpus(scale, bench_root)

    def build():
        shutil.rmtree(corpus.root / "index", ignore_errors=True)
        b = open_backend("embedded", corpus)
        b.prepare()
        return b
    _state["backend"] = benchmark.pedantic(build, rounds=1, iterations=1)
    secs = benchmark.stats.stats.mean
    n = corpus.manifest.counts["records"]
    benchmark.extra_info.update(records=n, records_per_s=n / secs, target_s_for_1M=20,
                                projected_s_for_1M=1e6 / (n / secs))


def _build_resolver(root: str, out: str, q) -> None:
    """In a process of its own, so that its peak resident memory is the build's alone."""
    import resource

    from bench.backends.resolver.index import build
    t0 = time.perf_counter()
    build(Path(root), Path(out))
    q.put((time.perf_counter() - t0, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024))


def test_resolver_index(benchmark, scale, bench_root, tmp_path):
    """The reference profile's entity-resolution index (mentions and n-gram TF-IDF over names),
    built from the records: time and the building process's peak resident memory (MB, including
    the interpreter and its libraries, about 150 MB before any record is read)."""
    import multiprocessing as mp
    corpus = _corpus(scale, bench_root)
    ctx = mp.get_context("spawn")
    out: list[tuple[float, float]] = []

    def build() -> None:
        q = ctx.Queue()
        p = ctx.Process(target=_build_resolver, args=(str(corpus.root), str(tmp_path / "resolver"), q))
        p.start()
        out.append(q.get())
        p.join()
    benchmark.pedantic(build, rounds=1, iterations=1)
    secs, peak_mb = out[0]
    n = corpus.manifest.counts["records"]
    benchmark.extra_info.update(records=n, build_s=secs, peak_rss_mb=peak_mb, records_per_s=n / secs)


class _Recorder:
    """Stands in for a tantivy searcher and notes every call the harness makes, so that the
    same engine work can be replayed bare: the queries, the hits taken out, the fast-field
    reads and stored-document fetches on them, and nothing else."""

    def __init__(self, searcher, kind: str, calls: list):
        self.s, self.kind, self.calls = searcher, kind, calls
        self.num_docs = searcher.num_docs

    def search(self, query, **kw):
        self.calls.append(("search", self.kind, query, kw))
        return self.s.search(query, **kw)

    def fast_field_values(self, field, addrs):
        self.calls.append(("fast", self.kind, field))
        return self.s.fast_field_values(field, addrs)

    def doc(self, addr):
        if self.calls[-1][0] != "docs":
            self.calls.append(("docs", self.kind))
        return self.s.doc(addr)


def _bare(searchers: dict, calls: list) -> float:
    """The recorded engine calls, with only what any caller of tantivy must write around them."""
    t = time.perf_counter()
    hits: list = []
    for call in calls:
        s = searchers[call[1]]
        if call[0] == "search":
            hits = s.search(call[2], **call[3]).hits
        elif call[0] == "fast":
            s.fast_field_values(call[2], [h[1] for h in hits])
        else:
            for _, addr in hits:
                s.doc(addr)
    del hits
    return time.perf_counter() - t


def test_queries_1000_x_4_profiles(benchmark, scale, bench_root):
    corpus = _corpus(scale, bench_root)
    backend = _state.get("backend") or open_backend("embedded", corpus)
    backend.prepare()
    needs = instantiate(Path(__file__).with_name("queries-1000.yaml"), corpus).needs
    profiles = ProfileSet(PROFILES)
    plans = [[compile_need(n, p, profiles) for p in profiles.selected()] for n in needs]
    real = backend.searchers
    calls: list = []
    backend.searchers = {k: _Recorder(s, k, calls) for k, s in real.items()}

    def search_all():  # as the run issues them: need by need, a union merging its members' lists
        calls.clear()
        for per_need in plans:
            known: dict = {}
            for plan in per_need:
                known[plan] = backend.search(plan, known)
    benchmark.pedantic(search_all, rounds=1, iterations=1)
    backend.searchers = real
    total = benchmark.stats.stats.mean
    bare = _bare(real, calls)
    benchmark.extra_info.update(searches=sum(map(len, plans)), total_s=total, bare_engine_s=bare, engine_calls=len(calls),
                                harness_over_engine=total / bare, target_ratio=1.5, target_total_s=60)


def test_run_bookkeeping(benchmark, scale, bench_root, tmp_path):
    corpus = _corpus(scale, bench_root)
    inst = instance_dir(corpus, "standard")
    write_instance(inst, instantiate(ROOT / "queries" / "standard.yaml", corpus))
    settings = RunSettings(corpus=corpus.root, instance=inst, profiles=PROFILES, results=tmp_path, force=True)
    result = benchmark.pedantic(run_benchmark, args=(settings,), rounds=1, iterations=1)
    t = result.run.timings
    benchmark.extra_info.update(**t, bookkeeping_over_engine=t["bookkeeping_s"] / t["engine_s"], target_ratio=0.2)


def _febrl_like_csv(path: Path, n: int) -> None:
    """Febrl-like rows: three per person, the two duplicates with one error each (a surname typo;
    a different house number and no phone), and an address of each person's own, so most
    written addresses are distinct and the truth holds about one address entity per row, as it
    does on a real record-linkage file."""
    import random
    r = random.Random(1)
    with open(path, "w") as f:
        f.write("rec_id,given_name,surname,date_of_birth,street_number,address_1,address_2,suburb,postcode,phone_number\n")
        for e in range((n + 2) // 3):
            name, surname = f"name{r.randrange(500)}", f"surname{r.randrange(5000)}"
            dob = f"19{r.randrange(40, 99)}0{r.randrange(1, 10)}1{r.randrange(0, 9)}"
            number, street = r.randrange(1, 200), f"street{r.randrange(20000)}"
            place = f"suburb{r.randrange(300)},E{r.randrange(20)} {r.randrange(10)}AB"
            phone = f"07700{r.randrange(900000, 999999)}"
            rows = [(surname, number, phone), (surname[:-1] + "x", number, phone), (surname, number + 1, "")]
            for d, (sn, no, ph) in enumerate(rows[: n - 3 * e]):
                f.write(f"rec-{e}-{'org' if d == 0 else f'dup-{d}'},{name},{sn},{dob},{no},{street},,{place},{ph}\n")


def test_import_rate(benchmark, scale, tmp_path):
    """Import throughput against the time to merely read the same CSV with the csv module. Both
    swing by ±15% between identical runs on a shared 2-core machine, so each round reads the
    file just before importing it, and the ratio is of the two medians over five rounds."""
    import csv as _csv
    import statistics
    from bench.corpus.importer import import_records
    n = {"ci": 50_000, "default": 200_000, "large": 1_000_000}[scale]
    src = tmp_path / "rows.csv"
    _febrl_like_csv(src, n)
    reads: list[float] = []

    def read() -> None:
        t0 = time.perf_counter()
        with open(src, newline="") as f:
            for _ in _csv.DictReader(f):
                pass
        reads.append(time.perf_counter() - t0)

    benchmark.pedantic(import_records, args=(src, ROOT / "corpora" / "import-example.yaml", "bench-import",
                                             tmp_path / "imported"), setup=read, rounds=5, iterations=1)
    secs, read_s = benchmark.stats.stats.median, statistics.median(reads)
    benchmark.extra_info.update(rows=n, rows_per_s=n / secs, csv_read_s=read_s, csv_read_rounds_s=reads,
                                import_over_read=secs / read_s)
