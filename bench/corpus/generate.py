"""Generate a corpus folder from a spec: world, then records in seeded chunks (in parallel on
the available cores; each chunk's seed depends only on its index, so the bytes do not depend
on the number of workers), then the manifest."""

from __future__ import annotations

import hashlib
import itertools
import multiprocessing as mp
import os
import random
from collections import Counter, deque
from pathlib import Path
from typing import BinaryIO, Callable, Iterator

import numpy as np
import orjson

import bench
from bench.corpus.pools import build_pools
from bench.corpus.records import Clerk, RecordWriter, Tally
from bench.corpus.spec import CORRUPTION_KINDS, CorpusSpec
from bench.corpus.store import (ENTITIES, GENERATED, MENTIONS, RECORDS, Corpus, GzMember, Manifest, atomic_dir,
                                check_replaceable, gc_paused, release_free_memory, sha256_file, write_json_atomic)
from bench.errors import PolebenchError
from bench.corpus.world import World, build_world, weighted_choice
from bench.specio import load_model

CHUNK = 20_000
BATCH = 1_000  # rows held at once while a chunk's gzip member is written
# Bump when the same spec would generate different records (a change to the world, the clerks
# or the corruptors): corpora made by an older generator are then made again, not reused.
GENERATOR_REVISION = 5


def generator_version() -> str:
    return f"{bench.__version__}+gen{GENERATOR_REVISION}"


def is_current(manifest, spec: CorpusSpec) -> bool:
    """A corpus folder still matches this spec and this generator."""
    return manifest.spec_checksum == spec_checksum(spec) and manifest.generator_version == generator_version()


def current_corpus(spec: CorpusSpec, out: Path) -> Corpus | None:
    """The corpus at `out` if it was generated from this spec by this generator, else None."""
    try:
        corpus = Corpus(out)
    except PolebenchError:
        return None
    return corpus if is_current(corpus.manifest, spec) else None
_STATE: dict = {}  # the world and plan, shared with forked workers


def load_spec(path: str | Path) -> CorpusSpec:
    return load_model(CorpusSpec, path)


def spec_checksum(spec: CorpusSpec) -> str:
    return hashlib.sha256(orjson.dumps(spec.model_dump(mode="json"), option=orjson.OPT_SORT_KEYS)).hexdigest()


def _plan(spec: CorpusSpec, world: World, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Which event and which source system each record belongs to."""
    names = sorted(spec.sources)
    shares = np.array([spec.sources[n].share for n in names])
    # Narrowed to what the values need (5 bytes a record): held for the whole run, shared by
    # the workers.
    src = weighted_choice(rng, shares / shares.sum(), spec.records, np.int8)
    # Some events are written up many times, most once or twice.
    w = rng.gamma(0.7, 1.0, world.n_events)
    w /= w.sum()
    ev = weighted_choice(rng, w, spec.records, np.int32)
    return ev, src, names


def _chunk(index: int) -> tuple[bytes, bytes, Tally, Counter]:
    spec: CorpusSpec = _STATE["spec"]
    world: World = _STATE["world"]
    ev, src, names = _STATE["plan"]
    rng = random.Random(f"{spec.seed}:records:{index}")
    tally = Tally()
    clerks = {n: Clerk(n, spec.sources[n].corruption, rng, tally) for n in names}
    writer = RecordWriter(world, clerks, rng)
    rz, tz = GzMember(), GzMember()
    recs, truths = [], []
    sources: Counter = Counter()
    mentions = dict.fromkeys(("people", "vehicles", "phones", "locations"), 0)
    lo, hi = index * CHUNK, min(spec.records, (index + 1) * CHUNK)
    # The chunk's slice of the plan as lists: a numpy scalar read costs several list reads.
    for i, e, s in zip(range(lo, hi), ev[lo:hi].tolist(), src[lo:hi].tolist()):
        rec, truth = writer.write(f"R{i:08d}", names[s], world.event(e))
        recs.append(rec)
        truths.append(truth)
        sources[rec["source"]] += 1
        for kind in mentions:
            mentions[kind] += len(rec[kind])
        if len(recs) == BATCH:
            rz.write(recs)
            tz.write(truths)
            recs, truths = [], []
    rz.write(recs)
    tz.write(truths)
    counts = Counter({("source", k): v for k, v in sources.items()})
    counts.update({("mentions", k): v for k, v in mentions.items()})
    return rz.close(), tz.close(), tally, counts


def _entities(world: World) -> Iterator[dict]:
    """The truth's entity rows, one at a time (a million-record world has about a million)."""
    for i in range(world.n_people):
        p = world.person(i)
        yield {"kind": "person", "id": p.id, "forename": p.forename, "middle": p.middle,
               "surname": p.surname, "dob": p.dob.isoformat(), "sex": p.sex,
               "nationality": p.nationality, "alias": list(p.alias) if p.alias else None,
               "moniker": p.moniker, "community": p.community,
               "address": f"L{p.address:07d}",
               "vehicles": [f"V{v:07d}" for v in world.vehicles_of.of(i)],
               "phones": [f"T{t:07d}" for t in world.phones_of.of(i)],
               "associates": [f"P{a:07d}" for a in world.associates.of(i)]}
    for i in range(world.n_vehicles):
        v = world.vehicle(i)
        yield {"kind": "vehicle", "id": v.id, "vrm": v.vrm, "make": v.make, "model": v.model, "colour": v.colour}
    for i in range(world.n_phones):
        yield {"kind": "phone", "id": f"T{i:07d}", "number": world.phone(i)}
    for i in range(world.n_addresses):
        a = world.address(i)
        yield {"kind": "address", "id": a.id, "address": f"{a.number} {a.street}", "borough": a.borough,
               "postcode": a.postcode, "lat": a.lat, "lon": a.lon}
    for i in range(world.n_events):
        e = world.event(i)
        yield {"kind": "event", "id": e.id, "type": e.type, "date": e.date.isoformat(),
               "address": f"L{e.address:07d}", "people": [f"P{p:07d}" for p in e.people],
               "victim": f"P{e.victim:07d}" if e.victim is not None else None,
               "vehicle": f"V{e.vehicle:07d}" if e.vehicle is not None else None,
               "phone": f"T{e.phone:07d}" if e.phone is not None else None,
               "weapon": e.weapon, "mo": list(e.mo)}


def _entity_members(world: World) -> Iterator[bytes]:
    """The truth's entities in gzip members of CHUNK rows, made BATCH rows at a time, so that
    memory does not grow with the world's size."""
    rows = _entities(world)
    while True:
        member, n = GzMember(), 0
        while n < CHUNK and (batch := list(itertools.islice(rows, min(BATCH, CHUNK - n)))):
            member.write(batch)
            n += len(batch)
        if not n:
            return
        yield member.close()


def _write_entities(world: World, out: BinaryIO) -> None:
    for member in _entity_members(world):
        out.write(member)


class _Here:
    """A chunk made in this process when it is asked for (a run without workers)."""

    def __init__(self, index: int):
        self.index = index

    def ready(self) -> bool:
        return True

    def get(self) -> tuple[bytes, bytes, Tally, Counter]:
        return _chunk(self.index)


def _chunks(pool: "mp.pool.Pool | None", n_chunks: int, window: int) -> Iterator:
    """Each chunk's pending result, in order, with at most `window` chunks asked for and not yet
    taken: a pool's workers otherwise run ahead of the parent that writes their output, and
    every chunk made and not yet written (about 4 MB of gzip) waits in the parent's memory (at
    10M records, while the parent wrote the entities first, that grew to gigabytes)."""
    if pool is None:
        yield from map(_Here, range(n_chunks))
        return
    pending: deque = deque()
    asked = 0
    while asked < n_chunks or pending:
        while asked < n_chunks and len(pending) < window:
            pending.append(pool.apply_async(_chunk, (asked,)))
            asked += 1
        yield pending.popleft()


def generate(spec: CorpusSpec, out_dir: Path, workers: int | None = None,
             progress: Callable[[int], None] | None = None, force: bool = False) -> Manifest:
    """Write the corpus folder for `spec` at `out_dir` atomically and return its manifest. What
    `out_dir` holds is replaced only if it is a generated corpus of the same name (or `force`)."""
    check_replaceable(out_dir, spec.name, GENERATED, force)
    with gc_paused():  # the forked workers inherit the pause
        return _generate(spec, out_dir, workers, progress)


def _generate(spec: CorpusSpec, out_dir: Path, workers: int | None,
              progress: Callable[[int], None] | None) -> Manifest:
    rng = np.random.default_rng(spec.seed)
    pools = build_pools(spec.seed, spec.surname_skew)
    world = build_world(spec, pools, rng)
    _STATE.update(spec=spec, world=world, plan=_plan(spec, world, rng))
    release_free_memory()
    n_chunks = -(-spec.records // CHUNK)
    workers = workers or min(os.cpu_count() or 1, n_chunks)
    tally, counts = Tally(), Counter()
    with atomic_dir(out_dir) as tmp:
        (tmp / "truth").mkdir()
        with open(tmp / RECORDS, "wb") as rf, open(tmp / MENTIONS, "wb") as tf:
            pool = mp.get_context("fork").Pool(workers) if workers > 1 else None
            entities = _entity_members(world)
            try:
                with open(tmp / ENTITIES, "wb") as ef:
                    for pending in _chunks(pool, n_chunks, 2 * workers):
                        # The parent would only wait on the workers: it writes the truth's
                        # entities meanwhile.
                        while not pending.ready() and (member := next(entities, None)) is not None:
                            ef.write(member)
                        rgz, tgz, t, c = pending.get()
                        rf.write(rgz)
                        tf.write(tgz)
                        tally.merge(t)
                        counts.update(c)
                        if progress:
                            progress(sum(v for (k, _), v in c.items() if k == "source"))
                    for member in entities:
                        ef.write(member)
            finally:
                if pool:
                    pool.terminate()
        manifest = _manifest(spec, world, tally, counts, tmp)
        write_json_atomic(tmp / "manifest.json", manifest.model_dump(mode="json"))
    _STATE.clear()
    return manifest


def _manifest(spec: CorpusSpec, world: World, tally: Tally, counts: Counter, tmp: Path) -> Manifest:
    corruption = {
        s: {k: {"eligible": tally.eligible[(s, k)], "applied": tally.applied[(s, k)],
                "hidden": tally.hidden[(s, k)]}
            for k in CORRUPTION_KINDS if tally.eligible[(s, k)]}
        for s in sorted(spec.sources)}
    return Manifest(
        name=spec.name, synthetic=True, generator=GENERATED, generator_version=generator_version(),
        seed=spec.seed, spec=spec.model_dump(mode="json"), spec_checksum=spec_checksum(spec),
        counts={"records": spec.records,
                "per_source": {k: v for (t, k), v in sorted(counts.items()) if t == "source"},
                "mentions": {k: v for (t, k), v in sorted(counts.items()) if t == "mentions"},
                "entities": {"people": world.n_people, "vehicles": world.n_vehicles,
                             "phones": world.n_phones, "addresses": world.n_addresses,
                             "events": world.n_events}},
        corruption=corruption,
        files={f: sha256_file(tmp / f) for f in (RECORDS, MENTIONS, ENTITIES)})
