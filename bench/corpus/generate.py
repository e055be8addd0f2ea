"""Generate a corpus folder from a spec: world, then records in seeded chunks (in parallel on
the available cores; each chunk's seed depends only on its index, so the bytes do not depend
on the number of workers), then the manifest."""

from __future__ import annotations

import hashlib
import itertools
import multiprocessing as mp
import os
import random
from collections import Counter
from pathlib import Path
from typing import BinaryIO, Callable, Iterator

import numpy as np
import orjson

import bench
from bench.corpus.pools import build_pools
from bench.corpus.records import Clerk, RecordWriter, Tally
from bench.corpus.spec import CORRUPTION_KINDS, CorpusSpec
from bench.corpus.store import (ENTITIES, MENTIONS, RECORDS, Corpus, Manifest, atomic_dir, check_replaceable, gc_paused,
                                gz_lines, sha256_file, write_json_atomic)
from bench.errors import PolebenchError
from bench.corpus.world import World, build_world
from bench.specio import load_model

CHUNK = 20_000
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
    src = rng.choice(len(names), spec.records, p=shares / shares.sum())
    # Some events are written up many times, most once or twice.
    w = rng.gamma(0.7, 1.0, len(world.events))
    ev = rng.choice(len(world.events), spec.records, p=w / w.sum())
    return ev, src, names


def _chunk(index: int) -> tuple[bytes, bytes, Tally, Counter]:
    spec: CorpusSpec = _STATE["spec"]
    world: World = _STATE["world"]
    ev, src, names = _STATE["plan"]
    rng = random.Random(f"{spec.seed}:records:{index}")
    tally = Tally()
    clerks = {n: Clerk(n, spec.sources[n].corruption, rng, tally) for n in names}
    writer = RecordWriter(world, clerks, rng)
    recs, truths, counts = [], [], Counter()
    for i in range(index * CHUNK, min(spec.records, (index + 1) * CHUNK)):
        rec, truth = writer.write(f"R{i:08d}", names[src[i]], world.events[ev[i]])
        recs.append(rec)
        truths.append(truth)
        counts[("source", rec["source"])] += 1
        for kind in ("people", "vehicles", "phones", "locations"):
            counts[("mentions", kind)] += len(rec[kind])
    return gz_lines(recs), gz_lines(truths), tally, counts


def _entities(world: World) -> Iterator[dict]:
    """The truth's entity rows, one at a time (a million-record world has about a million)."""
    for p in world.people:
        yield {"kind": "person", "id": p.id, "forename": p.forename, "middle": p.middle,
                     "surname": p.surname, "dob": p.dob.isoformat(), "sex": p.sex,
                     "nationality": p.nationality, "alias": list(p.alias) if p.alias else None,
                     "moniker": p.moniker, "community": p.community,
                     "address": world.addresses[p.address].id,
                     "vehicles": [world.vehicles[v].id for v in p.vehicles],
                     "phones": [f"T{t:07d}" for t in p.phones],
                     "associates": [world.people[a].id for a in p.associates]}
    for v in world.vehicles:
        yield {"kind": "vehicle", "id": v.id, "vrm": v.vrm, "make": v.make, "model": v.model, "colour": v.colour}
    for i, n in enumerate(world.phones):
        yield {"kind": "phone", "id": f"T{i:07d}", "number": n}
    for a in world.addresses:
        yield {"kind": "address", "id": a.id, "address": f"{a.number} {a.street}", "borough": a.borough,
               "postcode": a.postcode, "lat": a.lat, "lon": a.lon}
    for e in world.events:
        yield {"kind": "event", "id": e.id, "type": e.type, "date": e.date.isoformat(),
               "address": world.addresses[e.address].id, "people": [world.people[i].id for i in e.people],
               "victim": world.people[e.victim].id if e.victim is not None else None,
               "vehicle": world.vehicles[e.vehicle].id if e.vehicle is not None else None,
               "phone": f"T{e.phone:07d}" if e.phone is not None else None,
               "weapon": e.weapon, "mo": list(e.mo)}


def _write_entities(world: World, out: BinaryIO) -> None:
    """In gzip members of CHUNK rows, so that memory does not grow with the world's size."""
    rows = _entities(world)
    while batch := list(itertools.islice(rows, CHUNK)):
        out.write(gz_lines(batch))


def generate(spec: CorpusSpec, out_dir: Path, workers: int | None = None,
             progress: Callable[[int], None] | None = None, force: bool = False) -> Manifest:
    """Write the corpus folder for `spec` at `out_dir` atomically and return its manifest. What
    `out_dir` holds is replaced only if it is a corpus of the same name (or `force`)."""
    check_replaceable(out_dir, spec.name, force)
    with gc_paused():  # the forked workers inherit the pause
        return _generate(spec, out_dir, workers, progress)


def _generate(spec: CorpusSpec, out_dir: Path, workers: int | None,
              progress: Callable[[int], None] | None) -> Manifest:
    rng = np.random.default_rng(spec.seed)
    pools = build_pools(spec.seed, spec.surname_skew)
    world = build_world(spec, pools, rng)
    _STATE.update(spec=spec, world=world, plan=_plan(spec, world, rng))
    n_chunks = -(-spec.records // CHUNK)
    workers = workers or min(os.cpu_count() or 1, n_chunks)
    tally, counts = Tally(), Counter()
    with atomic_dir(out_dir) as tmp:
        (tmp / "truth").mkdir()
        with open(tmp / RECORDS, "wb") as rf, open(tmp / MENTIONS, "wb") as tf:
            chunks = range(n_chunks)
            if workers > 1:
                pool = mp.get_context("fork").Pool(workers)
                results = pool.imap(_chunk, chunks)
            else:
                pool, results = None, map(_chunk, chunks)
            # The parent would only wait on the workers: write the truth's entities meanwhile.
            with open(tmp / ENTITIES, "wb") as ef:
                _write_entities(world, ef)
            try:
                for rgz, tgz, t, c in results:
                    rf.write(rgz)
                    tf.write(tgz)
                    tally.merge(t)
                    counts.update(c)
                    if progress:
                        progress(sum(v for (k, _), v in c.items() if k == "source"))
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
        name=spec.name, synthetic=True, generator="polebench", generator_version=generator_version(),
        seed=spec.seed, spec=spec.model_dump(mode="json"), spec_checksum=spec_checksum(spec),
        counts={"records": spec.records,
                "per_source": {k: v for (t, k), v in sorted(counts.items()) if t == "source"},
                "mentions": {k: v for (t, k), v in sorted(counts.items()) if t == "mentions"},
                "entities": {"people": len(world.people), "vehicles": len(world.vehicles),
                             "phones": len(world.phones), "addresses": len(world.addresses),
                             "events": len(world.events)}},
        corruption=corruption,
        files={f: sha256_file(tmp / f) for f in (RECORDS, MENTIONS, ENTITIES)})
