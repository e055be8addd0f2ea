"""The benchmark run: every need of an instantiated query set through every profile on one
backend, then measures, aggregates and the results folder. The library returns values; the CLI
prints."""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import functools
import hashlib
import importlib.metadata as md
import os
import platform
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from collections.abc import Iterable, Iterator, Mapping
from typing import Callable

import numpy as np
import orjson

import bench
from bench.analyst.model import Behaviour, behaviour_checksum, load_behaviour
from bench.analyst.reader import gain_curve, over_behaviours, wss
from bench.backends.base import Backend, Result
from bench.backends.registry import backend_class, open_backend
from bench.corpus.store import Corpus, atomic_dir, clean_abandoned, gc_paused, gz_writer, sha256_file, write_json_atomic
from bench.errors import PolebenchError, Unreachable
from bench.metrics.aggregate import aggregate_table
from bench.metrics.breakdown import Exclusions, breakdown, missed_by_kind
from bench.metrics.measures import Judgements, inflation
from bench.metrics.registry import PER_QUERY_COLUMNS
from bench.plans import Plan, Sequence
from bench.profiles.compile import compile_plans
from bench.profiles.model import Profile, ProfileSet
from bench.queries.instance import QRELS, InstanceFiles
from bench.queries.model import Need
from bench.redact import redact
from bench.run import audit
from bench.run.excluded import excluded_by
from bench.run.results import RUN_FILE, RunResults, read_results
from bench.run.listed import ListedFile
from bench.run.rows import RowFile
from bench.run.store import Lists, Outcomes, Partial, is_complete, partial_dir, run_key, run_lock
from bench.run.trec import RunStream, RunWriter

CSV_COLUMNS = PER_QUERY_COLUMNS
GAIN_BUDGETS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000)  # records read
# Searches in a row that could not reach the engine at all before the run stops (each recorded;
# --resume takes up from there). One or two may be a blip that the backend's own retries did not
# outlast; three in a row, each after those retries, is an engine that is down.
BREAKER_FAILURES = 3
LIBRARIES = ("tantivy", "numpy", "scipy", "ir_measures", "pydantic", "opensearch-py", "rank-bm25", "httpx", "jmespath",
             "jinja2")


@dataclass
class RunSettings:
    corpus: Path
    instance: Path
    profiles: list[str]
    backend: str = "embedded"
    baseline: str = "crimint"
    seconds_per_record: float = 30.0
    results: Path = Path("results")
    resume: bool = False
    force: bool = False
    seed: int = 0
    backend_options: dict = field(default_factory=dict)
    behaviour: Path | None = None  # the analyst's reading behaviour; None: the shipped one


@dataclass
class RunResult:
    dir: Path
    run: RunResults
    reused: bool
    failed: int


Progress = Callable[[str, int], Callable[[int], None]]


def _versions() -> dict[str, str]:
    out = {"polebench": bench.__version__, "python": platform.python_version()}
    for lib in LIBRARIES:
        try:
            out[lib] = md.version(lib)
        except md.PackageNotFoundError:
            pass
    return out


def _profile_checksum(profiles: ProfileSet, name: str) -> str:
    p = profiles[name]
    members = "".join(_profile_checksum(profiles, m) for m in p.union_of)
    # the colour is how charts draw the profile, not what is measured: a new colour reuses the run
    return hashlib.sha256((p.model_dump_json(exclude={"colour"}) + members).encode()).hexdigest()


def plan_inputs(s: RunSettings, corpus: Corpus, inst: InstanceFiles, profiles: ProfileSet) -> dict:
    return {"corpus_checksum": corpus.checksum, "set_checksum": inst.meta["set_checksum"],
            "profiles": {n: _profile_checksum(profiles, n) for n in profiles.order},
            "profile_order": profiles.order,
        "backend": s.backend, "baseline": s.baseline, "seconds_per_record": s.seconds_per_record,
            "seed": s.seed, "version": bench.__version__,
            "behaviour": behaviour_checksum(load_behaviour(s.behaviour)),
            # the adapter says what the service is asked: another adapter is another run
            **({"backend_config": sha256_file(Path(str(s.backend_options["config"])))}
               if s.backend_options.get("config") else {})}


def run_benchmark(s: RunSettings, progress: Progress | None = None) -> RunResult:
    backend_class(s.backend).check_run(s.backend_options, s.profiles)  # before anything is read or run
    corpus = Corpus(s.corpus)
    corpus.verify()  # what the run reads, and the checksum it records, are the corpus's own
    inst = InstanceFiles.open(s.instance)  # read need by need from here on, never held whole
    if inst.meta["corpus_checksum"] != corpus.checksum:
        raise PolebenchError(f"{s.instance} was instantiated for another version of the corpus; "
                             f"run `polebench queries` again")
    profiles = ProfileSet(s.profiles)
    if s.baseline not in profiles.order:
        raise PolebenchError(f"baseline profile {s.baseline!r} is not among --profiles ({', '.join(profiles.order)})")
    refuse_unsupported(s.backend, inst.needs(), profiles)
    inputs = plan_inputs(s, corpus, inst, profiles)
    run_id = f"{inst.meta['query_set']}-{corpus.name}-{s.backend}-{run_key(inputs)}"
    with run_lock(s.results, run_id):  # one process per run folder, from here to the audit line
        return _run_locked(s, corpus, inst, profiles, inputs, run_id, progress)


def _plans(inst: InstanceFiles, profiles: ProfileSet) -> Iterator[Plan]:
    """Every need's plan for every profile, compiled as the backend asks for them (not held)."""
    return (plan for need in inst.needs() for plan in compile_plans(need, profiles.order, profiles).values())


def _run_locked(s: RunSettings, corpus: Corpus, inst: InstanceFiles, profiles: ProfileSet, inputs: dict, run_id: str,
                progress: Progress | None) -> RunResult:
    out_dir = s.results / run_id
    if is_complete(out_dir) and not s.force:
        previous = read_results(out_dir)
        # A run killed after its results were moved in, before it tidied up, left what this one,
        # reusing them, would otherwise never write past to remove: the claim on the folder they
        # were written in, the failed results a resume set aside, and its work in progress.
        clean_abandoned(s.results, run_id)
        if not previous.failed:
            shutil.rmtree(partial_dir(s.results, run_id), ignore_errors=True)
        if not (s.resume and previous.failed):
            return RunResult(out_dir, previous, True, previous.failed)

    t0 = time.perf_counter()
    backend = open_backend(s.backend, corpus, **s.backend_options)
    backend.prepare(progress("indexing", corpus.manifest.counts["records"]) if progress else None,
                    _plans(inst, profiles))
    t_prepare = time.perf_counter() - t0

    partial = Partial(s.results, run_id, s.resume, s.force)
    runs = RunWriter(backend.rids, inst.ids, inst.index)
    behaviour = load_behaviour(s.behaviour)
    # Readers who reformulate read a free-text profile's narrowing twin: searched here, measured
    # only through the behaviour range, written nowhere else.
    twins = profiles.narrowing(behaviour.narrow_above) if behaviour.formulations else {}
    searched = _search_all(backend, inst, profiles, [*profiles.order, *twins.values()], partial, runs,
                           s.backend, progress)
    outcomes, lists = searched.outcomes, searched.lists

    # The measures hold many small objects; the cyclic GC would walk them again and again while
    # the statistics allocate. Nothing here makes reference cycles worth collecting.
    with gc_paused():
        t1 = time.perf_counter()
        per_query = partial.dir / "per_query.csv"
        agg, failed, timings = _summarise(outcomes, lists, inst, profiles, twins, len(backend.rids), s, behaviour,
                                          per_query, lambda found: _exclusions(backend, inst, profiles, outcomes, found))
        run = {
            "schema_version": 1, "run_id": run_id, "synthetic": corpus.manifest.synthetic,
            "created_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            "versions": _versions(), "inputs": inputs,
            "corpus": {"path": str(s.corpus), "name": corpus.name, "checksum": corpus.checksum,
                       "seed": corpus.manifest.seed, "origin": corpus.manifest.origin,
                       "synthetic": corpus.manifest.synthetic, "licence": corpus.manifest.licence,
                       "source_file": corpus.manifest.files.get("source_file"),
                       "counts": corpus.manifest.counts,
                       "corruption": {src: {k: v.model_dump() for k, v in kinds.items()}
                                      for src, kinds in corpus.manifest.corruption.items()},
                       "rates": {src: v.get("corruption", {}) for src, v in corpus.manifest.spec.get("sources", {}).items()}},
            "query_set": {**inst.meta, "queries": len(inst), "kinds": sorted(set(inst.kinds.values()))},
            "profiles": {n: {"label": profiles[n].label, "kind": profiles[n].kind,
                             "description": profiles[n].description, "assumptions": profiles[n].assumptions,
                             "union_of": list(profiles[n].union_of), "deletion": profiles[n].deletion,
                             "audit_s62": list(profiles[n].audit_s62),
                             "upper_bound": profiles.upper_bound(n),
                             **({"upper_bound_of": profiles[n].upper_bound_of} if profiles[n].upper_bound_of else {}),
                             **({"colour": profiles[n].colour} if profiles[n].colour else {})}
                         for n in profiles.order},
            "profile_order": profiles.order,
            "backend": s.backend, "baseline": s.baseline, "seconds_per_record": s.seconds_per_record,
            "bootstrap_seed": s.seed, "failed": failed,
            "aggregates": agg,
        }
        # Logged before the results are moved in: a run that finds them written reuses them and logs
        # nothing, so a kill after they were moved in must not be the end of the run's line.
        audit.append(s.results / "audit.jsonl", "run", run_id=run_id, corpus=corpus.name,
                     corpus_checksum=corpus.checksum, query_set=inst.meta["query_set"],
                     set_checksum=inst.meta["set_checksum"], profiles=profiles.order, backend=s.backend,
                     searches=len(inst) * (len(profiles.order) + len(twins)), failed=failed)
        with atomic_dir(out_dir) as tmp:
            t2 = time.perf_counter()
            os.replace(per_query, tmp / "per_query.csv")
            _write(tmp, outcomes, lists, inst, profiles.order, runs,
                   {p: partial.dir / f"{p}.run" for p in searched.streamed})
            if (partial.dir / "audit.jsonl").is_file():  # every search issued, DPA 2018 s62 style
                shutil.copyfile(partial.dir / "audit.jsonl", tmp / "audit.jsonl")
            timings["write_s"] = time.perf_counter() - t2
            # Bookkeeping is what the run adds to compiling and searching: around each search
            # (recording it for --resume, the audit line, the run file) and after the last one.
            # Searching each criterion alone to say what excluded a missed record (excluded_s)
            # is engine work of its own and is left out of it.
            run["timings"] = {"prepare_s": t_prepare, "compile_s": searched.compile_s, "engine_s": searched.engine_s,
                              "search_loop_s": searched.loop_s, **timings,
                              "bookkeeping_s": searched.loop_s - searched.compile_s - searched.engine_s
                              + time.perf_counter() - t1 - timings["excluded_s"]}
            results = RunResults.model_validate(run)  # the one definition of run.json, checked as written
            write_json_atomic(tmp / RUN_FILE, results.dump())
    if not failed:  # kept while searches failed, so that --resume can retry just those
        shutil.rmtree(partial.dir, ignore_errors=True)
    return RunResult(out_dir, results, False, failed)


def refuse_unsupported(backend: str, needs: Iterable[Need], profiles: ProfileSet) -> None:
    """Refuse, before any index is built or search made, a backend that cannot run some
    profile's plans: otherwise every such search fails one by one and the run ends with a table
    of failures instead of a measurement. The needs are gone through once (they may be read from
    disk as they come); no plan is kept."""
    cls = backend_class(backend)
    kinds: dict[str, set[str]] = {name: set() for name in profiles.order}
    counts = dict.fromkeys(profiles.order, 0)
    total = 0
    for need in needs:
        total += 1
        for name, plan in compile_plans(need, profiles.order, profiles).items():
            missing = cls.lacks(plan)
            kinds[name] |= missing
            counts[name] += bool(missing)
    lacking = {name: (kinds[name], counts[name]) for name in profiles.order if kinds[name]}
    if lacking:
        lines = [f"profile {name!r}: {count} of {total} needs compile to plan nodes backend {backend!r} "
                 f"cannot run ({', '.join(sorted(kinds))})" for name, (kinds, count) in lacking.items()]
        raise PolebenchError("\n".join(lines) + f"\nbackend {backend!r} runs only "
                             f"{', '.join(sorted(cls.SUPPORTS))}; choose another --backend or leave these "
                             f"profiles out of --profiles. Nothing was run.")


@dataclass
class _Searched:
    outcomes: dict[str, Outcomes]  # profile -> need -> recorded search, read from disk when asked
    lists: dict[str, Lists]  # profile -> need -> ranked record numbers, read from disk when asked
    streamed: set[str]  # profiles whose run file was written as their searches finished
    engine_s: float = 0.0
    compile_s: float = 0.0
    loop_s: float = 0.0


def _search_all(backend: Backend, inst: InstanceFiles, profiles: ProfileSet, order: list[str], partial: Partial,
                runs: RunWriter, backend_name: str, progress: Progress | None) -> _Searched:
    """Every need through every profile not already done, each search recorded as it finishes
    (for --resume), logged, and its run lines handed to a writer thread."""
    t_loop = time.perf_counter()
    out = _Searched({}, {}, set())
    down = 0  # searches in a row that could not reach the engine
    done: dict[str, set[str]] = {}
    advance: dict[str, Callable[[int], None]] = {}
    stream = RunStream(runs)
    with contextlib.ExitStack() as stack:
        stack.callback(stream.close)
        writers = {}
        ids = inst.index  # shared by every profile's record of where things are
        for name in order:
            out.outcomes[name], out.lists[name] = partial.load(name, ids)
            if not out.outcomes[name]:  # a fresh profile: its lines arrive in need order
                out.streamed.add(name)
                stream.start(partial.dir / f"{name}.run")
            done[name] = {q for q in out.outcomes[name] if out.outcomes[name].ok(q)}
            advance[name] = progress(f"profile {name}", len(inst)) if progress else (lambda n: None)
            advance[name](len(done[name]))
            writers[name] = stack.enter_context(partial.writer(name))
        log = stack.enter_context(open(partial.dir / "audit.jsonl", "ab"))
        backend.on_request = functools.partial(_audit_request, partial.dir / "audit.jsonl")
        # Need by need, every profile in turn: a union profile then merges the lists its
        # members have just returned for the same need instead of searching for them again.
        for need in inst.needs():
            known: dict[Plan, Result] = {}
            took: dict[Plan, float] = {}  # latency of each, ms
            t_c = time.perf_counter()
            plans = {name: backend.adapt(plan, need) for name, plan in
                     compile_plans(need, [n for n in order if need.id not in done[n]], profiles).items()}
            out.compile_s += time.perf_counter() - t_c
            t_b = time.perf_counter()
            backend.context = {"need": need.id}
            backend.begin_need(plans.values())  # engine time, and each search's latency as it borrows
            out.engine_s += time.perf_counter() - t_b
            for name, plan in plans.items():
                backend.context = {"profile": name, "need": need.id}
                row, res, err = _search_one(backend, need, plan, known, took)
                if not _reads_entries(profiles[name]):  # grouped, but read record by record
                    row.pop("entry_starts", None)
                rnums = res.rnums if res is not None else np.empty(0, np.int64)
                if res is not None:
                    known[plan], took[plan] = res, row["latency_ms"]
                # Logged before it is recorded: a search recorded is never searched again on
                # --resume, so a kill between the two must cost a second audit line (the search
                # was issued twice), never a search issued without one.
                log.write(orjson.dumps(audit.search_entry(name, backend_name, need, row)) + b"\n")
                log.flush()
                start, line = writers[name].add(row, rnums)
                out.outcomes[name].record(need.id, line, bool(row["error"]))
                out.lists[name].at[need.id] = (start, len(rnums))
                out.engine_s += row["search_ms"] / 1000
                if name in out.streamed and not row["error"]:
                    stream.add(partial.dir / f"{name}.run", name, need.id, rnums)
                advance[name](1)
                down = down + 1 if isinstance(err, Unreachable) else 0
                if down >= BREAKER_FAILURES:
                    raise _stopped(err, out, len(inst) * len(order))
        backend.begin_need(())
    out.loop_s = time.perf_counter() - t_loop
    return out


def _reads_entries(profile: Profile) -> bool:
    """Does the analyst read this profile's list one candidate entry at a time?"""
    return profile.reference is not None and profile.reference.read_as == "entries"


def _audit_request(log: Path, entry: dict) -> None:
    """A request a backend made of a search service, appended to the run's audit log as it is
    made: during the searches, and after them while the run says which criterion excluded a
    missed record (those searches are logged too)."""
    with open(log, "ab") as f:
        f.write(orjson.dumps(audit.request_entry(entry)) + b"\n")


def _stopped(err: Unreachable, out: _Searched, searches: int) -> Unreachable:
    done = sum(o.done() for o in out.outcomes.values())
    return Unreachable(f"stopped after {BREAKER_FAILURES} searches in a row could not reach the engine ({err}); "
                       f"{done} of {searches} searches are done and kept: when the engine is back, run the same "
                       f"command with --resume. No results were written.")


def _exclusions(backend: Backend, inst: InstanceFiles, profiles: ProfileSet, outcomes: dict[str, Outcomes],
                found: Mapping[str, Mapping[str, set[int]]]) -> Exclusions:
    """Which criteria of each profile's plan excluded the relevant records it missed, counted by
    cell need by need (what excluded each record is not kept)."""
    out = Exclusions()
    for judged in inst:
        need, rel = judged.need, judged.details
        if not rel:
            continue
        rnums = np.fromiter((d["rnum"] for d in rel.values()), np.int64, len(rel))
        cache: dict = {}  # a criterion's matches, shared by the profiles that search it alike
        missed: dict[str, np.ndarray] = {}
        for name in profiles.order:
            got = found[name].get(need.id)
            if got is None:  # the search failed
                continue
            m = rnums[~np.isin(rnums, np.fromiter(got, np.int64, len(got)))]
            if len(m):
                missed[name] = m
        for name, plan in compile_plans(need, list(missed), profiles).items():
            plan = backend.adapt(plan, need)  # the plan as searched
            backend.context = {"profile": name, "need": need.id, "purpose": "excluded_by"}
            why = excluded_by(backend, plan, int(outcomes[name][need.id].get("searches") or 1), missed[name], cache,
                              rnums)
            out.add(name, why, rel)  # none for a union of profiles: its members' reasons stand
    return out


def _summarise(outcomes: dict[str, Outcomes], lists: dict[str, Lists], inst: InstanceFiles, profiles: ProfileSet,
               twins: dict[str, str], n_records: int, s: RunSettings, behaviour: Behaviour, per_query: Path,
               explain: Callable[[Mapping[str, Mapping[str, set[int]]]], Exclusions] | None = None
               ) -> tuple[dict, int, dict[str, float]]:
    """The per-query rows written to `per_query` as they are measured (and to a fixed-width copy,
    RowFile), then the aggregates read back from the copy a profile and a column at a time, with
    the error breakdown; how many searches failed (the narrowing twins'
    too), and how long each step took. No step holds a row per (profile, need) in memory: a run's
    memory grows with its needs by what the statistics need of each (a few numbers), not by a
    dict each. `explain(found)`: which criterion excluded each relevant record missed (needs the
    engine)."""
    order = profiles.order
    t1 = time.perf_counter()
    page_sizes = {n: p.page_size for n, p in profiles.by_name.items() if p.page_size}
    # what the run keeps on disk while it measures and aggregates (the partial folder), gone after
    table = RowFile(per_query.parent, inst.index, inst.ids)
    listed = {name: _Listed(inst.index, per_query.with_name(f"listed.{i}"))
              for i, name in enumerate([*order, *twins.values()])}
    with contextlib.ExitStack() as tidy:
        tidy.callback(table.remove)
        for x in listed.values():
            tidy.callback(x.remove)
        failed = _measure(outcomes, lists, Judgements({}, n_records), inst, order, list(twins.values()), s,
                          behaviour, page_sizes, per_query, table, listed)
        # the narrowing twins too: the breakdown's collapses have always listed theirs
        found = {name: _Found(listed[name]) for name in listed}
        timings = {"measure_s": time.perf_counter() - t1}
        agg = aggregate_table(table, order, s.baseline, s.seed, work=per_query.parent)
        agg["behaviour"] = {"central": behaviour.central.model_dump(), "purpose_by_kind": behaviour.purpose_by_kind,
                            "ranges": {k: v.model_dump(exclude_none=True) for k, v in behaviour.ranges.items()},
                            "samples": behaviour.samples, "sources": behaviour.sources,
                            "narrow_above": behaviour.narrow_above, "reformulating": sorted(twins),
                            "profiles": over_behaviours(listed, s.baseline, behaviour.sample(s.seed), twins,
                                                        page_sizes)}
        for name in order:
            agg["profiles"][name]["gain_curve"] = {"budgets": list(GAIN_BUDGETS),
                                                   "recall": gain_curve(listed[name], GAIN_BUDGETS)}
            w, unreached = wss(listed[name], n_records)
            if _reads_entries(profiles[name]):
                w = None  # its list is read in candidate entities, but the sampling it is set against is of records
            agg["profiles"][name]["wss_95"] = {"value": w, "never": unreached}
        t_x = time.perf_counter()
        excluded = explain(found) if explain else None
        timings["excluded_s"] = time.perf_counter() - t_x
        # the narrowing twins are read by sampled readers only: no breakdown, collapse or worst need of theirs
        bd = breakdown(found={p: found[p] for p in order}, lists=lists, excluded=excluded,  # read only for needs in `found`
                       details=inst.details(), subjects=inst.subjects, kinds_of=inst.kinds,
                       lost={p: _Lost(outcomes[p]) for p in order}, baseline=s.baseline, work=per_query.parent)
        for name in order:
            agg["profiles"][name]["breakdown"] = {k: v for k, v in bd["profiles"][name].items() if k != "worst"}
            agg["profiles"][name]["worst"] = bd["profiles"][name]["worst"]
        agg["collapses"] = bd["collapses"]
        timings["aggregate_s"] = time.perf_counter() - t1 - timings["measure_s"] - timings["excluded_s"]
        return agg, failed, timings


class _Found(Mapping):
    """Need -> record numbers of the relevant records its search returned, for the needs whose
    search succeeded: read from the lists' flat columns when asked for (a set a need, made anew)."""

    def __init__(self, listed: "_Listed"):
        self.listed = listed

    def __getitem__(self, qid: str) -> set[int]:
        at = self.listed.entry(qid)
        if at < 0:
            raise KeyError(qid)
        return set(self.listed.columns[at].records.tolist())

    def __contains__(self, qid: object) -> bool:
        return self.listed.entry(qid) >= 0  # type: ignore[arg-type]

    def __iter__(self) -> Iterator[str]:
        return (q for q in self.listed.index if self.listed.entry(q) >= 0)

    def __len__(self) -> int:
        return len(self.listed.columns)


class _Listed:
    """One profile's lists as the reader model reads them (on disk, ListedFile), and which entry is
    whose (an array over the query set's needs, mapped from a file beside the lists: the entry + 1,
    0 where the search failed)."""

    def __init__(self, index: Mapping[str, int], stem: Path):
        self.index, self.columns, self._path = index, ListedFile(stem), stem.with_name(stem.name + ".at")
        self._entry = np.memmap(self._path, np.int32, "w+", shape=len(index)) if len(index) else np.zeros(0, np.int32)

    def add(self, qid: str, x) -> None:
        self._entry[self.index[qid]] = len(self.columns) + 1
        self.columns.append(x)

    def entry(self, qid: str) -> int:
        i = self.index.get(qid)
        return -1 if i is None else int(self._entry[i]) - 1

    def remove(self) -> None:
        self.columns.remove()
        self._entry = np.zeros(0, np.int32)
        self._path.unlink(missing_ok=True)

    def __iter__(self) -> Iterator:
        return iter(self.columns)


class _Lost(Mapping):
    """Need -> what the plan could not express, for the needs whose search succeeded, read from the
    recorded search when asked for (the breakdown asks for a profile's worst few needs only)."""

    def __init__(self, outcomes: Outcomes):
        self.outcomes = outcomes

    def __getitem__(self, qid: str) -> list[dict]:
        if not self.outcomes.ok(qid):
            raise KeyError(qid)
        return self.outcomes[qid]["lost"]

    def __iter__(self) -> Iterator[str]:
        return (q for q in self.outcomes if self.outcomes.ok(q))

    def __len__(self) -> int:
        return self.outcomes.done()


def _search_one(backend: Backend, need: Need, plan: Plan,
                known: dict[Plan, Result], took: dict[Plan, float]) -> tuple[dict, Result | None, Exception | None]:
    """One search, recorded as a row. `latency_ms` is what getting this profile's list costs:
    for a union profile, its members' searches (made once, shared) plus merging them;
    `search_ms` is this call's own time."""
    row = {"qid": need.id, "kind": need.derived_kind(),
           "lost": [dict(vars(x)) for x in plan.lost], "returned": 0, "total": 0,
           "latency_ms": 0.0, "search_ms": 0.0, "searches": 0, "error": None}
    res, err = None, None
    members = plan.root.plans if isinstance(plan.root, Sequence) else ()
    t = time.perf_counter()
    try:
        res = backend.search(plan, known)
        row.update(returned=len(res.rnums), total=res.total, searches=res.searches)
        if res.entry_starts is not None:  # read one candidate at a time: see Judgements.measure
            row["entry_starts"] = res.entry_starts.tolist()
    except Exception as e:  # recorded, and the run goes on; --resume retries it
        err = e
        row["error"] = redact(f"{type(e).__name__}: {e}")
    row["search_ms"] = (time.perf_counter() - t) * 1000
    row["latency_ms"] = (row["search_ms"] + (res.borrowed_ms if res is not None else 0.0)
                         + sum(took[m] for m in members if m in known))
    return row, res, err


def _measure(outcomes: dict[str, Outcomes], lists: dict[str, Lists],
             judgements: Judgements, inst: InstanceFiles, order: list[str],
             twins: list[str], s: RunSettings, behaviour: Behaviour, page_sizes: dict[str, int], per_query: Path,
             table: RowFile, listed: dict[str, _Listed]) -> int:
    """One row per (profile, need), written to `per_query` (per_query.csv) and to `table` as it is
    measured; into `listed`, per profile what the reader model needs of each list (the relevant
    records it returned among them); returns how many searches failed or were not run. The narrowing `twins` are measured for
    the readers who reformulate and have no rows. A search recorded with entry starts is a list
    read one candidate entry at a time. The query set is read once, need by need, every profile
    measured on each need in turn; the rows go to a file per profile, joined in profile order at
    the end, so the file lists profile by profile as before."""
    # The baseline's volume for a need is the length of its list, where its search succeeded.
    base_out = outcomes.get(s.baseline)
    base_lists = lists[s.baseline] if base_out else None
    failed = 0
    centrals = {name: behaviour.central.model_copy(update={"page_size": page_sizes[name]})
                if name in page_sizes else behaviour.central for name in listed}  # the system fixes the page
    parts = {name: per_query.with_name(f"{per_query.name}.{i}") for i, name in enumerate(order)}
    with contextlib.ExitStack() as stack:
        writers = {name: csv.DictWriter(stack.enter_context(open(path, "w", newline="")), fieldnames=CSV_COLUMNS,
                                        extrasaction="ignore") for name, path in parts.items()}
        for judged in inst:
            q, details = judged.need.id, judged.details
            kind = inst.kinds[q]
            purpose = behaviour.purpose(kind)
            judgements.only(q, {d["rnum"]: judged.qrels[rid] for rid, d in details.items()})
            base = (float(base_lists.at[q][1]) if base_out.ok(q) else None) if base_out else None
            for name, central in centrals.items():
                o = outcomes[name].get(q)
                row = {"profile": name, "qid": q, "kind": kind,
                       "error": (o or {}).get("error") or ("not run" if o is None else None)}
                if not row["error"]:
                    m, hit, lst = judgements.measure(q, lists[name][q], s.seconds_per_record, purpose, central,
                                                     o.get("entry_starts"))
                    listed[name].add(q, lst)
                    row.update(m, latency_ms=o["latency_ms"], lost=float(len(o["lost"])),
                               searches=float(o.get("searches", 1)), purpose=purpose, total=o["total"],
                               lost_capabilities=sorted({x["capability"] for x in o["lost"]}),
                               inflation=inflation(m["volume"], base) if base is not None else None,
                               missed_by_kind=missed_by_kind(set(hit.tolist()), details))
                failed += bool(row["error"])
                if name in writers:
                    written = {**row, "lost_capabilities": ";".join(row.get("lost_capabilities", ()))}
                    writers[name].writerow(written)
                    table.add(written)
    with open(per_query, "w", newline="") as f:
        csv.DictWriter(f, fieldnames=CSV_COLUMNS).writeheader()
        for path in parts.values():
            with open(path, newline="") as part:
                shutil.copyfileobj(part, f)
            path.unlink()
    table.close()
    return failed


def _write(tmp: Path, outcomes: dict[str, Outcomes], lists: dict[str, Lists], inst: InstanceFiles, order: list[str],
           runs: RunWriter, streamed: dict[str, Path]) -> None:
    (tmp / "runs").mkdir()
    (tmp / "outcomes").mkdir()
    shutil.copyfile(inst.dir / QRELS, tmp / "qrels.txt")  # checked line by line as the needs were measured
    for name in order:
        if name in streamed:  # already written during the searches
            os.replace(streamed[name], tmp / "runs" / f"{name}.run")
        else:  # resumed: lines from before and after the interruption, in need order
            done = [q for q in inst.ids if outcomes[name].ok(q)]
            runs.write(tmp / "runs" / f"{name}.run", name, ((q, lists[name][q]) for q in done))
        # the ranked lists themselves are in runs/<profile>.run; the rows go out one at a time
        with gz_writer(tmp / "outcomes" / f"{name}.jsonl.gz") as out:
            for q in inst.ids:
                if q in outcomes[name]:
                    out.write(orjson.dumps(outcomes[name][q], option=orjson.OPT_SORT_KEYS) + b"\n")
